// Numbers shared by the kernels and the host. This file is valid AssemblyScript and valid
// TypeScript: the kernels compile it, and the host imports the very same file, so there is
// one definition of every op code and every params-block offset.

// ---- Unary ops / activations (unary_f32, and the GEMM/conv epilogue for the clamp family) ----
// p0/p1 are the op's float parameters; their meaning is listed per op.
export const ACT_NONE = 0; // y = x
export const ACT_RELU = 1; // max(x, 0)
export const ACT_CLAMP = 2; // min(max(x, p0), p1)  (ReLU6 is clamp 0..6)
export const ACT_LEAKY = 3; // x >= 0 ? x : p0 * x
export const ACT_SIGMOID = 4; // 1 / (1 + exp(-x))
export const ACT_TANH = 5;
export const ACT_HARDSIGMOID = 6; // max(0, min(1, p0 * x + p1))  (ONNX alpha, beta)
export const ACT_HARDSWISH = 7; // x * max(0, min(1, x / 6 + 0.5))
export const ACT_SILU = 8; // x * sigmoid(x)
export const ACT_GELU_ERF = 9; // 0.5 x (1 + erf(x / sqrt 2))
export const ACT_GELU_TANH = 10; // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
export const ACT_ELU = 11; // x >= 0 ? x : p0 (exp(x) - 1)
export const ACT_SELU = 12; // p1 * (x > 0 ? x : p0 (exp(x) - 1))  (p0 alpha, p1 gamma)
export const ACT_CELU = 13; // max(0, x) + min(0, p0 (exp(x / p0) - 1))
export const ACT_SOFTPLUS = 14; // log(1 + exp(x))
export const ACT_SOFTSIGN = 15; // x / (1 + |x|)
export const ACT_MISH = 16; // x tanh(softplus(x))
export const ACT_THRESHOLDED_RELU = 17; // x > p0 ? x : 0
export const ACT_HARDSHRINK_UNUSED = 18; // reserved
export const ACT_ABS = 19;
export const ACT_NEG = 20;
export const ACT_EXP = 21;
export const ACT_LOG = 22;
export const ACT_SQRT = 23;
export const ACT_ERF = 24;
export const ACT_RECIPROCAL = 25; // 1 / x
export const ACT_FLOOR = 26;
export const ACT_CEIL = 27;
export const ACT_SHRINK = 28; // x < -p0 ? x + p1 : (x > p0 ? x - p1 : 0)  (p0 lambd, p1 bias)
export const ACT_SCALE_SHIFT = 29; // p0 * x + p1
export const ACT_SQUARE = 30; // x * x
export const ACT_POW_SCALAR = 31; // x ^ p0
export const ACT_COUNT = 32;

// ---- Binary ops (binary_f32, binary_rows_f32) ----
export const BIN_ADD = 0;
export const BIN_SUB = 1;
export const BIN_MUL = 2;
export const BIN_DIV = 3;
export const BIN_MAX = 4;
export const BIN_MIN = 5;
export const BIN_POW = 6;
export const BIN_PRELU = 7; // a >= 0 ? a : a * b
export const BIN_COUNT = 8;

// ---- Reductions (reduce_f32) ----
export const RED_SUM = 0;
export const RED_MEAN = 1;
export const RED_MAX = 2;
export const RED_MIN = 3;
export const RED_PROD = 4;
export const RED_SUMSQ = 5;
export const RED_L1 = 6;
export const RED_L2 = 7;
export const RED_LOGSUMEXP = 8;
export const RED_COUNT = 9;

// ---- Pad modes (pad_nd_f32) ----
export const PAD_CONSTANT = 0;
export const PAD_REFLECT = 1;
export const PAD_EDGE = 2;

// ---- Window geometry block: one i32 array shared by conv2d, depthwise and pooling kernels ----
// Activations are NHWC. A tensor may be a channel slice of a wider buffer: its pixels are
// G_IN_STRIDE (input) / G_OUT_STRIDE (output) floats apart and the base pointer points at the
// slice's first channel. Float fields (G_ACT_P0, G_ACT_P1) hold the f32 bit pattern.
export const G_N = 0; // batch
export const G_H = 1; // input height
export const G_W = 2; // input width
export const G_C = 3; // input channels
export const G_OH = 4; // output height
export const G_OW = 5; // output width
export const G_OC = 6; // output channels (pooling and depthwise: equal to G_C)
export const G_KH = 7; // kernel height
export const G_KW = 8; // kernel width
export const G_SH = 9; // stride
export const G_SW = 10;
export const G_PT = 11; // pad top
export const G_PL = 12; // pad left
export const G_PB = 13; // pad bottom (pooling's count_include_pad divisor needs it)
export const G_PR = 14; // pad right
export const G_DH = 15; // dilation
export const G_DW = 16;
export const G_GROUPS = 17; // conv groups (1 for pooling)
export const G_IN_STRIDE = 18; // floats between consecutive input pixels (>= G_C)
export const G_OUT_STRIDE = 19; // floats between consecutive output pixels (>= G_OC)
export const G_ACT = 20; // epilogue activation: ACT_NONE, ACT_RELU or ACT_CLAMP
export const G_ACT_P0 = 21; // f32 bits
export const G_ACT_P1 = 22; // f32 bits
export const G_FLAGS = 23; // bit 0: avg pool counts padding (count_include_pad); bit 1: Winograd F(4x4); bit 2: direct conv; bit 3: half-stored conv weights
export const G_RES_STRIDE = 24; // floats between residual pixels (conv residual epilogue)
export const G_SIZE = 25; // number of i32 fields

export const FLAG_COUNT_INCLUDE_PAD = 1;
export const FLAG_WINO_F4 = 2; // Winograd: F(4x4, 3x3) tiles instead of F(2x2, 3x3)
export const FLAG_CONV_DIRECT = 4; // conv2d: interior pixels read the input in place (conv.ts), no im2col
export const FLAG_CONV_HALF = 8; // conv2d: the packed panels hold binary16 weights (gemm.ts's half-stored form); never with FLAG_CONV_DIRECT
