"""Writes small quantized ONNX models (opset 13) for test/int8.test.ts, which runs each in
wasmcnn and in onnxruntime-node on the same random float input and compares the outputs:

QOperator form (onnxruntime's quantizer, quant_format=QOperator): float input → QuantizeLinear →
  QLinearConv / QLinearMatMul / QLinearAdd / QLinearGlobalAveragePool (com.microsoft) →
  DequantizeLinear → float output.
QDQ form (PyTorch's and onnxruntime's default): QuantizeLinear/DequantizeLinear pairs around
  float Conv / Gemm / Add / GlobalAveragePool, weights int8 + DequantizeLinear (per channel on
  axis 0), biases int32 + DequantizeLinear with scale x_scale·w_scale.

Also, when torch can export it, a tiny CNN quantized by torch.ao.quantization eager static
quantization (qnnpack engine) and exported by torch.onnx.export: what PyTorch users have.

Every case is named <form>_<what>_<u8|s8>.onnx. Weights and scales come from a fixed seed.
Run: /usr/bin/python3 tools/int8_fixtures.py [OUT_DIR]   (default test/fixtures/int8)
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'int8')
rng = np.random.default_rng(18)


def act_type(signed):
    return TensorProto.INT8 if signed else TensorProto.UINT8


def zp_of(signed, z):
    return np.array(z, dtype=np.int8 if signed else np.uint8)


class Builder:
    def __init__(self):
        self.nodes, self.inits, self.n = [], [], 0

    def name(self, base):
        self.n += 1
        return f'{base}_{self.n}'

    def const(self, base, arr):
        nm = self.name(base)
        self.inits.append(numpy_helper.from_array(np.asarray(arr), nm))
        return nm

    def node(self, op, ins, domain=None, **attrs):
        out = self.name(op.lower())
        kw = {'domain': domain} if domain else {}
        self.nodes.append(helper.make_node(op, ins, [out], name=self.name(op), **kw, **attrs))
        return out

    def q(self, x, scale, zp, signed):
        return self.node('QuantizeLinear', [x, self.const('s', np.float32(scale)), self.const('z', zp_of(signed, zp))])

    def dq(self, x, scale, zp, signed):
        return self.node('DequantizeLinear', [x, self.const('s', np.float32(scale)), self.const('z', zp_of(signed, zp))])

    def save(self, fname, in_shape, out, out_shape=None, ms=False):
        graph = helper.make_graph(
            self.nodes, fname, [helper.make_tensor_value_info('x', TensorProto.FLOAT, in_shape)],
            [helper.make_tensor_value_info(out, TensorProto.FLOAT, out_shape)], self.inits)
        ops = [helper.make_opsetid('', 13)] + ([helper.make_opsetid('com.microsoft', 1)] if ms else [])
        m = helper.make_model(graph, opset_imports=ops)
        m.ir_version = 7
        if not ms and out_shape:
            onnx.checker.check_model(m)
        onnx.save(m, os.path.join(OUT, fname + '.onnx'))


def weights(oc, cin, k):
    """int8 weights with per-channel scales: w_scale[o] · w spans a He-like range."""
    w = rng.integers(-127, 128, size=(oc, cin, k, k)).astype(np.int8)
    s = (rng.uniform(0.5, 1.5, size=oc) * np.sqrt(2.0 / (cin * k * k)) / 64).astype(np.float32)
    return w, s


# activation quantization: x in about [-2, 2] at the input; conv outputs in about [-4, 4]
X_SCALE = 4.0 / 255
Y_SCALE = 8.0 / 255


def zp(signed, z):
    return z - 128 if signed else z


def qlinear_conv(b, xq, xs, xz, signed, oc, cin, k, stride, pad, group, per_channel, ys, yz):
    w, ws = weights(oc, cin // group, k)
    if not per_channel:
        ws = np.float32(ws.mean())
    bias = rng.integers(-3000, 3000, size=oc).astype(np.int32)
    ins = [xq, b.const('xs', np.float32(xs)), b.const('xz', zp_of(signed, xz)), b.const('w', w), b.const('ws', ws),
           b.const('wz', np.zeros(oc if per_channel else (), np.int8)), b.const('ys', np.float32(ys)),
           b.const('yz', zp_of(signed, yz)), b.const('b', bias)]
    return b.node('QLinearConv', ins, kernel_shape=[k, k], strides=[stride, stride], pads=[pad] * 4, group=group)


def qoperator_conv(fname, signed, c, oc, h, w, k, stride, pad, group=1, per_channel=True):
    b = Builder()
    xz, yz = zp(signed, 128), zp(signed, 120)
    xq = b.q('x', X_SCALE, xz, signed)
    y = qlinear_conv(b, xq, X_SCALE, xz, signed, oc, c, k, stride, pad, group, per_channel, Y_SCALE, yz)
    b.save(fname, [1, c, h, w], b.dq(y, Y_SCALE, yz, signed))


def qoperator_conv_wzp(fname, w_type, w_zp, w_lo, w_hi):
    """QLinearConv with a nonzero weight zero point: uint8 weights around 128 (w − zp fits int8:
    run), or int8 weights whose w − zp does not (refused)."""
    b = Builder()
    c, oc, k = 4, 6, 3
    xq = b.q('x', X_SCALE, 128, False)
    w = rng.integers(w_lo, w_hi + 1, size=(oc, c, k, k)).astype(w_type)
    ins = [xq, b.const('xs', np.float32(X_SCALE)), b.const('xz', zp_of(False, 128)), b.const('w', w),
           b.const('ws', np.float32(0.004)), b.const('wz', np.array(w_zp, dtype=w_type)), b.const('ys', np.float32(Y_SCALE)),
           b.const('yz', zp_of(False, 120))]
    y = b.node('QLinearConv', ins, kernel_shape=[k, k], pads=[1] * 4)
    b.save(fname, [1, c, 7, 5], b.dq(y, Y_SCALE, 120, False))


def qdq_fallback(fname, signed):
    """QDQ conv → DQ → Sigmoid → Q → DQ: the Sigmoid is not fused and runs in float between a DQ and a Q."""
    b = Builder()
    xz = zp(signed, 128)
    xq = b.q('x', X_SCALE, xz, signed)
    y = qdq_conv(b, xq, X_SCALE, xz, signed, 6, 4, 3, 1, 1, 1, None, Y_SCALE, zp(signed, 120))
    sg = b.node('Sigmoid', [b.dq(y, Y_SCALE, zp(signed, 120), signed)])
    sq = b.q(sg, 1.0 / 255, zp(signed, 0), signed)
    b.save(fname, [1, 4, 7, 9], b.dq(sq, 1.0 / 255, zp(signed, 0), signed))


def qoperator_misc(fname, signed):
    """QOperator ops wasmcnn runs as DQ → float op → Q: QLinearSigmoid, QLinearMul, QLinearConcat,
    QLinearAveragePool (com.microsoft), after a QLinearConv."""
    b = Builder()
    xz, yz = zp(signed, 128), zp(signed, 120)
    c = 6
    xq = b.q('x', X_SCALE, xz, signed)
    y = qlinear_conv(b, xq, X_SCALE, xz, signed, c, c, 3, 1, 1, 1, True, Y_SCALE, yz)
    sz, mz, cz, az = zp(signed, 0), zp(signed, 128), zp(signed, 125), zp(signed, 130)
    S = lambda v: b.const('s', np.float32(v))
    Z = lambda v: b.const('z', zp_of(signed, v))
    sg = b.node('QLinearSigmoid', [y, S(Y_SCALE), Z(yz), S(1 / 255), Z(sz)], domain='com.microsoft')
    m = b.node('QLinearMul', [sg, S(1 / 255), Z(sz), xq, S(X_SCALE), Z(xz), S(X_SCALE / 2), Z(mz)], domain='com.microsoft')
    cat = b.node('QLinearConcat', [S(Y_SCALE), Z(cz), m, S(X_SCALE / 2), Z(mz), y, S(Y_SCALE), Z(yz)], domain='com.microsoft', axis=1)
    ap = b.node('QLinearAveragePool', [cat, S(Y_SCALE), Z(cz), S(Y_SCALE / 2), Z(az)], domain='com.microsoft',
                kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], count_include_pad=0)
    b.save(fname, [1, c, 9, 11], b.dq(ap, Y_SCALE / 2, az, signed), ms=True)


def qoperator_lenet(fname, signed):
    """QLinearConv → MaxPool and Flatten on the int8 tensor (as QOperator files have them) → QLinearMatMul."""
    b = Builder()
    xz, yz, fz = zp(signed, 128), zp(signed, 120), zp(signed, 128)
    xq = b.q('x', X_SCALE, xz, signed)
    y = qlinear_conv(b, xq, X_SCALE, xz, signed, 5, 3, 3, 1, 1, 1, True, Y_SCALE, yz)
    p = b.node('MaxPool', [y], kernel_shape=[2, 2], strides=[2, 2])
    f = b.node('Flatten', [p], axis=1)
    K, N = 5 * 4 * 3, 10
    wm = rng.integers(-127, 128, size=(K, N)).astype(np.int8)
    ws = (rng.uniform(0.5, 1.5, size=N) * np.sqrt(2.0 / K) / 64).astype(np.float32)
    ins = [f, b.const('as', np.float32(Y_SCALE)), b.const('az', zp_of(signed, yz)), b.const('b', wm), b.const('bs', ws),
           b.const('bz', np.zeros(N, np.int8)), b.const('ys', np.float32(Y_SCALE * 2)), b.const('yz', zp_of(signed, fz))]
    m = b.node('QLinearMatMul', ins)
    b.save(fname, [2, 3, 8, 7], b.dq(m, Y_SCALE * 2, fz, signed))


def qdq_conv_maxpool(fname, signed):
    """QDQ conv + ReLU → DQ → MaxPool 3x3 s2 p1 → Q (same scale and zero point, as quantizers write it)."""
    b = Builder()
    xz, yz = zp(signed, 128), zp(signed, 0)
    xq = b.q('x', X_SCALE, xz, signed)
    y = qdq_conv(b, xq, X_SCALE, xz, signed, 19, 3, 3, 2, 1, 1, 'relu', Y_SCALE, yz)
    p = b.node('MaxPool', [b.dq(y, Y_SCALE, yz, signed)], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    pq = b.q(p, Y_SCALE, yz, signed)
    b.save(fname, [1, 3, 23, 21], b.dq(pq, Y_SCALE, yz, signed))


def qoperator_matmul(fname, signed):
    b = Builder()
    xz, yz = zp(signed, 128), zp(signed, 131)
    xq = b.q('x', X_SCALE, xz, signed)
    K, N = 37, 19
    wm = rng.integers(-127, 128, size=(K, N)).astype(np.int8)
    ws = (rng.uniform(0.5, 1.5, size=N) * np.sqrt(2.0 / K) / 64).astype(np.float32)
    ins = [xq, b.const('as', np.float32(X_SCALE)), b.const('az', zp_of(signed, xz)), b.const('b', wm), b.const('bs', ws),
           b.const('bz', np.zeros(N, np.int8)), b.const('ys', np.float32(Y_SCALE / 4)), b.const('yz', zp_of(signed, yz))]
    y = b.node('QLinearMatMul', ins)
    b.save(fname, [3, K], b.dq(y, Y_SCALE / 4, yz, signed))


def qoperator_add_gap(fname, signed):
    """conv → QLinearAdd(conv output, input) → QLinearGlobalAveragePool (com.microsoft)."""
    b = Builder()
    xz, yz, az, gz = zp(signed, 128), zp(signed, 120), zp(signed, 110), zp(signed, 100)
    c, h, w = 11, 7, 9
    xq = b.q('x', X_SCALE, xz, signed)
    y = qlinear_conv(b, xq, X_SCALE, xz, signed, c, c, 3, 1, 1, 1, True, Y_SCALE, yz)
    ins = [y, b.const('s', np.float32(Y_SCALE)), b.const('z', zp_of(signed, yz)), xq, b.const('s', np.float32(X_SCALE)),
           b.const('z', zp_of(signed, xz)), b.const('s', np.float32(Y_SCALE * 1.25)), b.const('z', zp_of(signed, az))]
    a = b.node('QLinearAdd', ins, domain='com.microsoft')
    ins = [a, b.const('s', np.float32(Y_SCALE * 1.25)), b.const('z', zp_of(signed, az)), b.const('s', np.float32(Y_SCALE / 8)),
           b.const('z', zp_of(signed, gz))]
    g = b.node('QLinearGlobalAveragePool', ins, domain='com.microsoft', channels_last=0)
    b.save(fname, [1, c, h, w], b.dq(g, Y_SCALE / 8, gz, signed), ms=True)


def qdq_conv(b, x, xs, xz, signed, oc, cin, k, stride, pad, group, act, ys, yz):
    """DQ(x) · DQ(w) + DQ(bias) → Conv [→ Relu / Clip] → Q."""
    w, ws = weights(oc, cin // group, k)
    bias = rng.integers(-3000, 3000, size=oc).astype(np.int32)
    wf = b.node('DequantizeLinear', [b.const('w', w), b.const('ws', ws), b.const('wz', np.zeros(oc, np.int8))], axis=0)
    bf = b.node('DequantizeLinear', [b.const('b', bias), b.const('bs', (np.float32(xs) * ws).astype(np.float32)),
                                     b.const('bz', np.zeros(oc, np.int32))], axis=0)
    xf = b.dq(x, xs, xz, signed)
    y = b.node('Conv', [xf, wf, bf], kernel_shape=[k, k], strides=[stride, stride], pads=[pad] * 4, group=group)
    if act == 'relu':
        y = b.node('Relu', [y])
    elif act == 'relu6':
        y = b.node('Clip', [y, b.const('lo', np.float32(0)), b.const('hi', np.float32(6))])
    return b.q(y, ys, yz, signed)


def qdq_conv_model(fname, signed, c, oc, h, w, k, stride, pad, group=1, act=None):
    b = Builder()
    xz, yz = zp(signed, 128), zp(signed, 0 if act else 120)
    xq = b.q('x', X_SCALE, xz, signed)
    y = qdq_conv(b, xq, X_SCALE, xz, signed, oc, c, k, stride, pad, group, act, Y_SCALE, yz)
    b.save(fname, [1, c, h, w], b.dq(y, Y_SCALE, yz, signed))


def qdq_cnn(fname, signed, c=3, h=15, w=13):
    """conv3x3 s2 → relu → depthwise 3x3 → relu6 → conv1x1 → add(residual) → gap → flatten → gemm."""
    b = Builder()
    xq = b.q('x', X_SCALE, zp(signed, 128), signed)
    c1 = 24
    r0 = zp(signed, 0)
    y1 = qdq_conv(b, xq, X_SCALE, zp(signed, 128), signed, c1, c, 3, 2, 1, 1, 'relu', Y_SCALE, r0)
    y2 = qdq_conv(b, y1, Y_SCALE, r0, signed, c1, c1, 3, 1, 1, c1, 'relu6', Y_SCALE, r0)
    y3 = qdq_conv(b, y2, Y_SCALE, r0, signed, c1, c1, 1, 1, 0, 1, None, Y_SCALE, zp(signed, 128))
    s = b.node('Add', [b.dq(y3, Y_SCALE, zp(signed, 128), signed), b.dq(y1, Y_SCALE, r0, signed)])
    sq = b.q(s, Y_SCALE * 1.5, zp(signed, 128), signed)
    g = b.node('GlobalAveragePool', [b.dq(sq, Y_SCALE * 1.5, zp(signed, 128), signed)])
    gq = b.q(g, Y_SCALE / 16, zp(signed, 128), signed)
    f = b.node('Flatten', [b.dq(gq, Y_SCALE / 16, zp(signed, 128), signed)], axis=1)
    fq = b.q(f, Y_SCALE / 16, zp(signed, 128), signed)
    n = 10
    wm = rng.integers(-127, 128, size=(n, c1)).astype(np.int8)
    ws = (rng.uniform(0.5, 1.5, size=n) / 64).astype(np.float32)
    wf = b.node('DequantizeLinear', [b.const('w', wm), b.const('ws', ws), b.const('wz', np.zeros(n, np.int8))], axis=0)
    bias = rng.integers(-300, 300, size=n).astype(np.int32)
    bf = b.node('DequantizeLinear', [b.const('b', bias), b.const('bs', (np.float32(Y_SCALE / 16) * ws).astype(np.float32)),
                                     b.const('bz', np.zeros(n, np.int32))], axis=0)
    y = b.node('Gemm', [b.dq(fq, Y_SCALE / 16, zp(signed, 128), signed), wf, bf], transB=1)
    yq = b.q(y, Y_SCALE / 8, zp(signed, 128), signed)
    b.save(fname, [2, c, h, w], b.dq(yq, Y_SCALE / 8, zp(signed, 128), signed))


def torch_quantized(fname):
    """A tiny CNN through torch.ao.quantization eager static quantization, exported to ONNX."""
    import torch
    import torch.nn as nn
    from torch.ao import quantization as tq

    torch.manual_seed(18)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.quant, self.dequant = tq.QuantStub(), tq.DeQuantStub()
            self.conv1 = nn.Conv2d(3, 16, 3, stride=2, padding=1)
            self.relu1 = nn.ReLU()
            self.conv2 = nn.Conv2d(16, 16, 3, padding=1, groups=16)
            self.relu2 = nn.ReLU()
            self.conv3 = nn.Conv2d(16, 24, 1)
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(24, 10)

        def forward(self, x):
            x = self.quant(x)
            x = self.relu1(self.conv1(x))
            x = self.relu2(self.conv2(x))
            x = self.pool(self.conv3(x))
            x = self.fc(torch.flatten(x, 1))
            return self.dequant(x)

    torch.backends.quantized.engine = 'qnnpack'
    m = Net().eval()
    m.qconfig = tq.get_default_qconfig('qnnpack')
    tq.fuse_modules(m, [['conv1', 'relu1'], ['conv2', 'relu2']], inplace=True)
    tq.prepare(m, inplace=True)
    with torch.no_grad():
        for _ in range(8):
            m(torch.randn(2, 3, 17, 15))
    tq.convert(m, inplace=True)
    torch.onnx.export(m, torch.randn(1, 3, 17, 15), os.path.join(OUT, fname + '.onnx'), opset_version=13,
                      input_names=['x'], output_names=['y'])


os.makedirs(OUT, exist_ok=True)
for signed in (False, True):
    t = 's8' if signed else 'u8'
    qoperator_conv(f'qop_conv3x3_{t}', signed, 5, 7, 9, 7, 3, 1, 1)
    qoperator_conv(f'qop_conv1x1_{t}', signed, 21, 19, 5, 6, 1, 1, 0, per_channel=False)
    qoperator_conv(f'qop_dwconv_s2_{t}', signed, 13, 13, 9, 11, 3, 2, 1, group=13)
    qoperator_conv(f'qop_conv3x3_s2_{t}', signed, 6, 17, 11, 9, 3, 2, 1)
    qoperator_matmul(f'qop_matmul_{t}', signed)
    qoperator_add_gap(f'qop_add_gap_{t}', signed)
    qdq_conv_model(f'qdq_conv3x3_relu_{t}', signed, 5, 9, 9, 7, 3, 1, 1, act='relu')
    qdq_conv_model(f'qdq_dwconv_s2_relu6_{t}', signed, 13, 13, 9, 11, 3, 2, 1, group=13, act='relu6')
    qdq_cnn(f'qdq_cnn_{t}', signed)
qoperator_conv_wzp('qop_conv_wzp_u8', np.uint8, 128, 0, 255)
qoperator_misc('qop_float_forms_u8', False)
qoperator_misc('qop_float_forms_s8', True)
qoperator_lenet('qop_conv_pool_flatten_fc_u8', False)
qoperator_lenet('qop_conv_pool_flatten_fc_s8', True)
qdq_conv_maxpool('qdq_conv_maxpool_u8', False)
qdq_conv_maxpool('qdq_conv_maxpool_s8', True)
qoperator_conv_wzp('bad_wzp', np.int8, -100, 0, 127)
qdq_fallback('qdq_fallback_sigmoid_u8', False)
try:
    torch_quantized('torch_qnnpack_cnn')
except Exception as e:  # torch builds without quantized ONNX export
    print('torch export skipped:', e)
print('wrote', sorted(os.listdir(OUT)))
