// The kernel exports of dist/wasmcnn.wasm as the host calls them. Signatures mirror the
// AssemblyScript sources in assembly/ (pointers are byte offsets; sizes in elements).

export interface Kernels {
  heap_base(): number;
  // warmup.ts: the hot kernels once on small problems (first-run speed), and the bytes it uses
  warm_up(base: number): void;
  warm_up_bytes(): number;
  // parallel.ts: address of the split table the pool writes before a threaded call
  split_table(): number;
  // gemm.ts
  gemm_packed_size(N: number, K: number): number;
  gemm_pack(w: number, N: number, K: number, ldw: number, bias: number, dst: number): void;
  // Kernels ending in (part, parts) compute part `part` of `parts` pieces (threads.ts); (0, 1) is the whole call.
  gemm_f32(
    M: number, N: number, K: number, a: number, lda: number, packed: number,
    c: number, ldc: number, res: number, ldr: number, act: number, p0: number, p1: number, part: number, parts: number,
  ): void;
  // gemm_f32 on half-stored panels (weightStorage 'float16'): scratch holds parts × gemm_half_scratch_size(N, K) bytes
  gemm_f16(
    M: number, N: number, K: number, a: number, lda: number, packed: number, c: number, ldc: number,
    res: number, ldr: number, act: number, p0: number, p1: number, scratch: number, part: number, parts: number,
  ): void;
  gemm_half_packed_bytes(N: number, K: number): number;
  // f32 panels → half-stored ones (round to nearest even); 0 when a weight rounds to ±Infinity or is NaN
  gemm_narrow_panels(src: number, count: number, K: number, dst: number): number;
  gemm_half_scratch_size(N: number, K: number): number;
  gemm_unpack_half(src: number, N: number, K: number, dst: number): void;
  matmul_f32(
    M: number, N: number, K: number, a: number, lda: number, b: number, ldb: number,
    c: number, ldc: number, part: number, parts: number,
  ): void;
  // conv.ts
  conv2d_packed_size(g: number): number;
  conv2d_pack(w: number, bias: number, g: number, dst: number): void;
  conv2d_scratch_size(g: number): number;
  conv2d_f32(g: number, input: number, packed: number, output: number, res: number, scratch: number, part: number, parts: number): void;
  // winograd.ts (F(2x2, 3x3), or F(4x4, 3x3) with FLAG_WINO_F4: groups 1, 3x3, stride 1, dilation 1; act none / ReLU / clamp)
  wino_packed_size(g: number): number;
  wino_pack(w: number, bias: number, g: number, dst: number): void;
  wino_scratch_size(g: number): number;
  wino_conv_f32(g: number, input: number, packed: number, output: number, res: number, scratch: number, part: number, parts: number): void;
  // depthwise.ts
  dwconv_packed_size(g: number): number;
  dwconv_pack(w: number, bias: number, g: number, dst: number): void;
  dwconv_f32(g: number, input: number, packed: number, output: number, part: number, parts: number): void;
  // pool.ts
  maxpool_f32(g: number, input: number, output: number, part: number, parts: number): void;
  avgpool_f32(g: number, input: number, output: number, part: number, parts: number): void;
  global_avgpool_f32(N: number, HW: number, C: number, input: number, inStride: number, output: number, outStride: number, part: number, parts: number): void;
  global_maxpool_f32(N: number, HW: number, C: number, input: number, inStride: number, output: number, outStride: number, part: number, parts: number): void;
  // eltwise.ts
  unary_f32(op: number, x: number, y: number, rows: number, cols: number, ldx: number, ldy: number, p0: number, p1: number, part: number, parts: number): void;
  binary_f32(op: number, out: number, a: number, b: number, rank: number, shape: number, aStrides: number, bStrides: number): void;
  binary_prepare(rank: number, shape: number, aStrides: number, bStrides: number, params: number): number;
  binary_rows_f32(op: number, out: number, a: number, b: number, params: number, part: number, parts: number): void;
  softmax_f32(x: number, y: number, outer: number, axis: number, inner: number, log: number): void;
  layernorm_f32(x: number, y: number, rows: number, n: number, gamma: number, beta: number, eps: number): void;
  channel_affine_f32(
    x: number, y: number, rows: number, C: number, ldx: number, ldy: number, scale: number, shift: number, lo: number, hi: number,
    part: number, parts: number,
  ): void;
  instancenorm_f32(x: number, y: number, N: number, HW: number, C: number, scale: number, bias: number, eps: number): void;
  lrn_f32(x: number, y: number, rows: number, C: number, size: number, alpha: number, beta: number, bias: number): void;
  reduce_f32(op: number, x: number, y: number, outer: number, r: number, inner: number): void;
  fill_f32(dst: number, n: number, value: number): void;
  find_nonfinite_f32(x: number, n: number): number;
  // layout.ts
  copy_nd_f32(dst: number, src: number, rank: number, shape: number, dstStrides: number, srcStrides: number): void;
  pad_nd_f32(dst: number, src: number, rank: number, outShape: number, inShape: number, padBegin: number, mode: number, value: number): void;
  // shuffle.ts (H, W: the small map's size; C: the large map's channels; crd 0 = DCR, 1 = CRD)
  // detection building blocks (assembly/detect.ts; pointers are byte offsets, sizes in elements)
  nms_f32(
    n: number, x1: number, y1: number, x2: number, y2: number, area: number, cls: number,
    iou: number, maxKeep: number, dead: number, keep: number,
  ): number;
  roi_align_f32(
    N: number, H: number, W: number, C: number, input: number, K: number, rois: number,
    OH: number, OW: number, scale: number, sampling: number, aligned: number, maxMode: number, output: number,
    channelsFirst: number, acc: number,
  ): void;
  depth_to_space_f32(dst: number, src: number, N: number, H: number, W: number, C: number, r: number, crd: number): void;
  space_to_depth_f32(dst: number, src: number, N: number, H: number, W: number, C: number, r: number, crd: number): void;
  // transposed.ts
  convt_packed_size(g: number): number;
  convt_pack(w: number, bias: number, g: number, dst: number): void;
  convt_scratch_size(g: number): number;
  convt_f32(g: number, input: number, packed: number, output: number, scratch: number): void;
  // deform.ts (weights packed with conv2d_pack)
  deform_scratch_size(g: number): number;
  deform_conv_f32(
    g: number, input: number, offset: number, mask: number, offsetGroups: number, packed: number,
    output: number, scratch: number,
  ): void;
  // unpool.ts
  maxpool_with_indices_f32(g: number, input: number, output: number, indices: number, storageOrder: number): void;
  maxunpool_f32(g: number, input: number, indices: number, output: number, IH: number, IW: number, perPlane: number): void;
  // resize.ts
  resize_f32(
    N: number, H: number, W: number, C: number, OH: number, OW: number,
    input: number, output: number, tabY: number, tabX: number, linear: number,
  ): void;
  // image.ts (preprocessing: 8-bit pixels -> resized, cropped, normalised NCHW floats)
  image_resample_h(
    src: number, stride: number, srcC: number, rows: number, nRows: number,
    OW: number, start: number, count: number, weights: number, K: number, dst: number,
  ): void;
  image_resample_v(
    src: number, OW: number, OH: number, start: number, count: number, weights: number, K: number,
    gray: number, mean: number, std: number, outC: number, dst: number,
  ): void;
  // training: convGrad.ts / poolGrad.ts
  mm_scratch_bytes(M: number, N: number, K: number, transA: number, transB: number, parts: number): number;
  mm_f32(
    transA: number, transB: number, M: number, N: number, K: number, a: number, lda: number, b: number, ldb: number,
    c: number, ldc: number, accumulate: number, scratch: number, part: number, parts: number,
  ): void;
  im2col_f32(
    x: number, C: number, H: number, W: number, KH: number, KW: number, SH: number, SW: number,
    PT: number, PL: number, DH: number, DW: number, OH: number, OW: number, cols: number,
  ): void;
  col2im_f32(
    cols: number, C: number, H: number, W: number, KH: number, KW: number, SH: number, SW: number,
    PT: number, PL: number, DH: number, DW: number, OH: number, OW: number, x: number,
  ): void;
  dw_fwd_f32(
    x: number, w: number, bias: number, y: number, N: number, C: number, H: number, W: number, KH: number, KW: number,
    SH: number, SW: number, PT: number, PL: number, DH: number, DW: number, OH: number, OW: number, part: number, parts: number,
  ): void;
  dw_grad_input_f32(
    dy: number, w: number, dx: number, N: number, C: number, H: number, W: number, KH: number, KW: number,
    SH: number, SW: number, PT: number, PL: number, DH: number, DW: number, OH: number, OW: number, part: number, parts: number,
  ): void;
  dw_grad_weight_f32(
    x: number, dy: number, dw: number, N: number, C: number, H: number, W: number, KH: number, KW: number,
    SH: number, SW: number, PT: number, PL: number, DH: number, DW: number, OH: number, OW: number, part: number, parts: number,
  ): void;
  bias_grad_f32(dy: number, N: number, C: number, HW: number, db: number): void;
  maxpool_fwd_f32(
    x: number, y: number, idx: number, NC: number, H: number, W: number, KH: number, KW: number, SH: number, SW: number,
    PT: number, PL: number, DH: number, DW: number, OH: number, OW: number, part: number, parts: number,
  ): void;
  maxpool_grad_f32(dy: number, idx: number, dx: number, NC: number, HW: number, OHW: number, part: number, parts: number): void;
  avgpool_fwd_f32(
    x: number, y: number, NC: number, H: number, W: number, KH: number, KW: number, SH: number, SW: number,
    PT: number, PL: number, PB: number, PR: number, OH: number, OW: number, countIncludePad: number, part: number, parts: number,
  ): void;
  avgpool_grad_f32(
    dy: number, dx: number, NC: number, H: number, W: number, KH: number, KW: number, SH: number, SW: number,
    PT: number, PL: number, PB: number, PR: number, OH: number, OW: number, countIncludePad: number, part: number, parts: number,
  ): void;
  global_avgpool_grad_f32(dy: number, dx: number, NC: number, HW: number): void;
  // training: eltwiseGrad.ts / normGrad.ts / loss.ts / optim.ts
  unary_grad_f32(op: number, x: number, y: number, dy: number, dx: number, n: number, p0: number, p1: number, part: number, parts: number): void;
  prelu_grad_f32(x: number, slope: number, dy: number, dx: number, dslope: number, N: number, C: number, HW: number, perChannel: number): void;
  bn_train_fwd_f32(
    x: number, y: number, N: number, C: number, HW: number, gamma: number, beta: number, eps: number, momentum: number,
    mean: number, invstd: number, runMean: number, runVar: number,
  ): void;
  bn_train_bwd_f32(
    x: number, dy: number, dx: number, N: number, C: number, HW: number, gamma: number, mean: number, invstd: number,
    dgamma: number, dbeta: number,
  ): void;
  bn_eval_bwd_f32(dy: number, dx: number, N: number, C: number, HW: number, gamma: number, runVar: number, eps: number): void;
  layernorm_train_fwd_f32(
    x: number, y: number, rows: number, n: number, gamma: number, beta: number, eps: number, mean: number, invstd: number,
  ): void;
  layernorm_bwd_f32(
    x: number, dy: number, dx: number, rows: number, n: number, gamma: number, mean: number, invstd: number,
    dgamma: number, dbeta: number,
  ): void;
  softmax_xent_f32(logits: number, N: number, C: number, targets: number, weights: number, smoothing: number, ignore: number, dlogits: number): number;
  bce_logits_f32(x: number, t: number, n: number, posWeight: number, dx: number): number;
  mse_f32(x: number, t: number, n: number, dx: number): number;
  smooth_l1_f32(x: number, t: number, n: number, beta: number, dx: number): number;
  sgd_step_f32(
    n: number, w: number, g: number, buf: number, lr: number, momentum: number, dampening: number, weightDecay: number,
    nesterov: number, first: number,
  ): void;
  adam_step_f32(
    n: number, w: number, g: number, m: number, v: number, vmax: number, lr: number, beta1: number, beta2: number, eps: number,
    weightDecay: number, decoupled: number, amsgrad: number, step: number,
  ): void;
  rmsprop_step_f32(
    n: number, w: number, g: number, sq: number, buf: number, gavg: number, lr: number, alpha: number, eps: number,
    weightDecay: number, momentum: number, centered: number,
  ): void;
  sumsq_f32(x: number, n: number): number;
  scale_f32(x: number, n: number, s: number): void;
  dropout_mask_f32(mask: number, n: number, p: number, seed: number, offset: number): void;
  // training: augment.ts (NCHW float batches; per-image parameter arrays of N entries; byte pointers)
  aug_affine_f32(
    N: number, C: number, H: number, W: number, OH: number, OW: number,
    x: number, y: number, mats: number, fill: number, part: number, parts: number,
  ): void;
  aug_resized_crop_f32(
    N: number, C: number, H: number, W: number, OH: number, OW: number,
    x: number, y: number, boxes: number, part: number, parts: number,
  ): void;
  aug_hflip_f32(N: number, C: number, H: number, W: number, x: number, y: number, flags: number): void;
  aug_brightness_f32(N: number, CHW: number, x: number, y: number, factors: number): void;
  aug_contrast_f32(N: number, C: number, HW: number, x: number, y: number, factors: number): void;
  aug_saturation_f32(N: number, HW: number, x: number, y: number, factors: number): void;
  aug_hue_f32(N: number, HW: number, x: number, y: number, factors: number): void;
  // the noise stream: hash (returned as a signed i32; >>> 0 for the unsigned value) and value k of stream `seed`
  aug_hash_u32(seed: number, counter: number): number;
  aug_normal_f32(seed: number, k: number): number;
  aug_noise_f32(N: number, CHW: number, x: number, y: number, stds: number, seed: number, clip: number): void;
  aug_normalize_f32(N: number, C: number, HW: number, x: number, y: number, mean: number, std: number): void;
  // training: resizeGrad.ts (NCHW planes; resize tables as assembly/resize.ts; unpool indices flat NCHW floats)
  resize_fwd_f32(
    x: number, y: number, NC: number, H: number, W: number, OH: number, OW: number, tabY: number, tabX: number, linear: number,
    part: number, parts: number,
  ): void;
  resize_grad_f32(
    dy: number, dx: number, NC: number, H: number, W: number, OH: number, OW: number, tabY: number, tabX: number, linear: number,
    part: number, parts: number,
  ): void;
  maxunpool_fwd_f32(x: number, idx: number, y: number, NC: number, HW: number, GH: number, GW: number, OH: number, OW: number, part: number, parts: number): void;
  maxunpool_grad_f32(dy: number, idx: number, dx: number, NC: number, HW: number, GH: number, GW: number, OH: number, OW: number, part: number, parts: number): void;
  maxpool_indices_f32(idx: number, out: number, NC: number, HW: number, OHW: number): void;
  // training: lrnGrad.ts (NCHW; s: the bases the forward keeps)
  lrn_fwd_f32(
    x: number, y: number, s: number, N: number, C: number, HW: number, size: number, alpha: number, beta: number, bias: number,
    part: number, parts: number,
  ): void;
  lrn_grad_f32(
    dy: number, x: number, y: number, s: number, dx: number, N: number, C: number, HW: number, size: number, alpha: number,
    beta: number, part: number, parts: number,
  ): void;
  // training: deformGrad.ts (NCHW, one image's C channels; offset/mask torchvision layout; byte pointers)
  deform_im2col_f32(
    x: number, offset: number, mask: number, C: number, H: number, W: number, KH: number, KW: number, SH: number, SW: number,
    PT: number, PL: number, DH: number, DW: number, OH: number, OW: number, OG: number, cols: number, part: number, parts: number,
  ): void;
  deform_col2im_f32(
    dcols: number, offset: number, mask: number, C: number, H: number, W: number, KH: number, KW: number, SH: number, SW: number,
    PT: number, PL: number, DH: number, DW: number, OH: number, OW: number, OG: number, dx: number, part: number, parts: number,
  ): void;
  deform_grad_offset_f32(
    x: number, dcols: number, offset: number, mask: number, C: number, H: number, W: number, KH: number, KW: number,
    SH: number, SW: number, PT: number, PL: number, DH: number, DW: number, OH: number, OW: number, OG: number,
    doffset: number, dmask: number, accumulate: number, part: number, parts: number,
  ): void;
  // int8: qgemm.ts (weights int8 [N][K] with zero point 0; packed size in bytes; activations and outputs uint8/int8
  // by their flags; y = clamp(roundHalfEven(f32(Σ(a − za)·w + bias) · scale) + zy, lo, hi), onnxruntime's rule)
  qgemm_packed_size(N: number, K: number): number;
  qgemm_pack(w: number, N: number, K: number, dst: number): void;
  /** Relaxed build's packing mode (0 i8 k-pairs widened to i16; 1, 2 i8 k-quads for relaxed dots, see qgemm.ts); returns the mode in force (0 in the baseline build). */
  qgemm_relaxed_dots(on: number): number;
  /** Scratch bytes one part of qgemm_q8 / qgemm_i32 needs for depth K (the k-pair panels it widens to i16). */
  qgemm_scratch_size(K: number): number;
  qgemm_q8(
    M: number, N: number, K: number, a: number, lda: number, aSigned: number, za: number, packed: number, bias: number,
    scale: number, perChannel: number, zy: number, lo: number, hi: number, y: number, ldy: number, ySigned: number,
    scratch: number, post: number, part: number, parts: number,
  ): void;
  // the exact i32 sums Σ(a − za)·w + bias (MatMulInteger / ConvInteger), y row stride ldy i32s
  qgemm_i32(
    M: number, N: number, K: number, a: number, lda: number, aSigned: number, za: number, packed: number, bias: number,
    y: number, ldy: number, scratch: number, part: number, parts: number,
  ): void;
  // post (qgemm_q8, qdwconv_q8, qwino_q8): 0, or a 32-byte block of a fused residual QLinearAdd
  // (assembly/qpost.ts) run in place on each strip of output rows
  // qconv.ts (int8 CNN kernels, NHWC; bytes uint8/int8 by their flags; requantization as qgemm_q8)
  // g: 15 i32 [N, H, W, C, inStride, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW]
  qim2col_q8(g: number, x: number, za: number, dst: number, part: number, parts: number): void;
  qdwconv_packed_size(C: number, T: number): number;
  qdwconv_pack(w: number, C: number, KH: number, KW: number, bias: number, zx: number, xSigned: number, dst: number): void;
  // bytes of one part's scratch of qdwconv_q8 / qdwconv_i32 (the packed weight pairs widened to i16)
  qdwconv_scratch_size(g: number): number;
  qdwconv_q8(
    g: number, x: number, xSigned: number, zx: number, wp: number, bias: number, scale: number, perChannel: number,
    zy: number, lo: number, hi: number, y: number, outStride: number, ySigned: number, scratch: number, post: number, part: number, parts: number,
  ): void;
  qmaxpool_q8(g: number, x: number, signed: number, y: number, part: number, parts: number): void;
  // qwinograd.ts: exact integer Winograd F(2x2, 3x3) for dense 3x3 stride-1 convs (C <= 1827), qgemm_q8's bytes
  qwino_packed_size(C: number, OC: number): number;
  qwino_pack(w: number, C: number, OC: number, dst: number): void;
  qwino_stream_size(C: number, OC: number): number;
  qwino_stream_pack(w: number, C: number, OC: number, dst: number): void;
  qwino_scratch_size(g: number, OC: number, streamed: number): number;
  qwino_q8(
    g: number, x: number, xSigned: number, zx: number, packed: number, streamed: number, OC: number, bias: number, scale: number,
    perChannel: number, zy: number, lo: number, hi: number, y: number, outStride: number, ySigned: number,
    scratch: number, post: number, part: number, parts: number,
  ): void;
  // y[i] = table[x[i]] (a 256-byte table indexed by the unsigned byte)
  qlut_q8(x: number, n: number, table: number, y: number, part: number, parts: number): void;
  quantize_f32_q8(x: number, n: number, scale: number, zp: number, ySigned: number, y: number): void;
  dequantize_q8_f32(x: number, n: number, xSigned: number, zp: number, scale: number, y: number): void;
  // DynamicQuantizeLinear's range: out = [min(0, min x), max(0, max x), 1 if NaN/inf else 0] (f32)
  range_f32(x: number, n: number, out: number): void;
  // in place: i32 sums (+ corr[r·cr + n·cn]·factor) → f32(acc)·scale[n] (+ bias[n]), rows x N
  // depthwise i32 sums (ConvInteger with group = C), output pixels outStride bytes apart
  qdwconv_i32(g: number, x: number, zx: number, wp: number, bias: number, y: number, outStride: number, scratch: number, part: number, parts: number): void;
  dequant_i32_f32(y: number, rows: number, N: number, scale: number, bias: number, corr: number, cr: number, cn: number, factor: number): void;
  // out[m] = Σ_k (a[m·lda + k] − za), uint8 rows
  rowsum_u8(a: number, M: number, K: number, lda: number, za: number, out: number): void;
  qadd_q8(
    a: number, b: number, n: number, signed: number, ra: number, rb: number, fixed: number, lo: number, hi: number,
    y: number, part: number, parts: number,
  ): void;
  // QLinearMul: d0·d1·d2 rows of L bytes of a against b broadcast by element strides (s0, s1, s2, s3)
  qmul_q8(
    a: number, b: number, y: number, d0: number, d1: number, d2: number, L: number, s0: number, s1: number, s2: number,
    s3: number, signed: number, za: number, zb: number, ratio: number, zc: number, lo: number, hi: number, part: number, parts: number,
  ): void;
  qgap_q8(
    N: number, HW: number, C: number, inStride: number, x: number, xSigned: number, zx: number, scale: number,
    zy: number, ySigned: number, y: number,
  ): void;
}

/**
 * Kernels that take (part, parts) as their last two arguments: the thread pool (threads.ts) splits
 * these; the plan (model.ts) names them by index. Here, not in threads.ts, so a model that never
 * runs threaded does not load the pool's code.
 */
export const PARALLEL_KERNELS = [
  'gemm_f32', 'matmul_f32', 'conv2d_f32', 'wino_conv_f32', 'dwconv_f32', 'maxpool_f32', 'avgpool_f32',
  'unary_f32', 'channel_affine_f32', 'binary_rows_f32', 'global_avgpool_f32', 'global_maxpool_f32', 'gemm_f16',
  // training (src/train): each splits rows or channels of its output only, so any thread count gives the same bits
  'mm_f32', 'dw_fwd_f32', 'dw_grad_input_f32', 'dw_grad_weight_f32', 'maxpool_fwd_f32', 'maxpool_grad_f32',
  'avgpool_fwd_f32', 'avgpool_grad_f32', 'unary_grad_f32',
  'resize_fwd_f32', 'resize_grad_f32', 'maxunpool_fwd_f32', 'maxunpool_grad_f32', 'lrn_fwd_f32', 'lrn_grad_f32',
  'deform_im2col_f32', 'deform_col2im_f32', 'deform_grad_offset_f32',
  // int8 inference (src/quant): bands of output rows or panels, never a split sum
  'qgemm_q8', 'qim2col_q8', 'qdwconv_q8', 'qadd_q8', 'qmaxpool_q8', 'qwino_q8', 'qlut_q8', 'qmul_q8',
] as const;
export type ParallelKernel = (typeof PARALLEL_KERNELS)[number];
