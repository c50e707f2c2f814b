"""Writes the models bench/int8.js times: two CNN blocks, each as a QDQ int8 model (the form
PyTorch and onnxruntime's quantizer export: uint8 activations, int8 per-channel weights, int32
biases) and as the float32 model with the same (dequantized) weights:
  resnet_block: 1x64x56x56, conv3x3 64→64 + ReLU, conv3x3 64→64, + input, ReLU (ResNet-18 layer1)
  mobilenet_block: 1x32x56x56, conv1x1 32→192 + ReLU6, depthwise 3x3 + ReLU6, conv1x1 192→32, + input
    (MobileNetV2's inverted residual, expansion 6)
Run: /usr/bin/python3 tools/int8_bench_models.py [OUT_DIR]   (default /tmp/wasmcnn-int8-bench)
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = sys.argv[1] if len(sys.argv) > 1 else '/tmp/wasmcnn-int8-bench'
rng = np.random.default_rng(7)
ACT = 6.0 / 255  # activations in [0, 6) (ReLU / ReLU6 outputs), input zero point 128 for [-3, 3)


class Net:
    def __init__(self, quant):
        self.quant, self.nodes, self.inits, self.n = quant, [], [], 0

    def name(self, b):
        self.n += 1
        return f'{b}_{self.n}'

    def const(self, arr):
        nm = self.name('c')
        self.inits.append(numpy_helper.from_array(np.asarray(arr), nm))
        return nm

    def node(self, op, ins, **attrs):
        out = self.name(op.lower())
        self.nodes.append(helper.make_node(op, ins, [out], name=self.name(op), **attrs))
        return out

    def qdq(self, x, scale, zp):
        """Q then DQ of an activation (identity in the float net)."""
        if not self.quant:
            return x
        q = self.node('QuantizeLinear', [x, self.const(np.float32(scale)), self.const(np.uint8(zp))])
        return self.node('DequantizeLinear', [q, self.const(np.float32(scale)), self.const(np.uint8(zp))])

    def conv(self, x, x_scale, cin, cout, k, group=1, act=None):
        w = rng.integers(-127, 128, size=(cout, cin // group, k, k)).astype(np.int8)
        ws = (rng.uniform(0.5, 1.5, size=cout) * np.sqrt(2.0 / (cin // group * k * k)) / 64).astype(np.float32)
        b = rng.integers(-2000, 2000, size=cout).astype(np.int32)
        bs = (np.float32(x_scale) * ws).astype(np.float32)
        if self.quant:
            wf = self.node('DequantizeLinear', [self.const(w), self.const(ws), self.const(np.zeros(cout, np.int8))], axis=0)
            bf = self.node('DequantizeLinear', [self.const(b), self.const(bs), self.const(np.zeros(cout, np.int32))], axis=0)
        else:
            wf = self.const((w.astype(np.float32) * ws[:, None, None, None]).astype(np.float32))
            bf = self.const((b.astype(np.float32) * bs).astype(np.float32))
        y = self.node('Conv', [x, wf, bf], kernel_shape=[k, k], pads=[k // 2] * 4, group=group)
        if act == 'relu':
            y = self.node('Relu', [y])
        elif act == 'relu6':
            y = self.node('Clip', [y, self.const(np.float32(0)), self.const(np.float32(6))])
        return y

    def save(self, path, shape, y):
        g = helper.make_graph(self.nodes, 'bench', [helper.make_tensor_value_info('x', TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info(y, TensorProto.FLOAT, None)], self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)])
        m.ir_version = 7
        onnx.save(m, path)


def resnet_block(quant):
    net = Net(quant)
    x = net.qdq('x', ACT, 128)
    y = net.qdq(net.conv(x, ACT, 64, 64, 3, act='relu'), ACT, 0)
    y = net.qdq(net.conv(y, ACT, 64, 64, 3), ACT, 128)
    y = net.qdq(net.node('Relu', [net.node('Add', [y, x])]), ACT, 0)
    net.save(os.path.join(OUT, f'resnet_block_{"int8" if quant else "f32"}.onnx'), [1, 64, 56, 56], y)


def mobilenet_block(quant):
    net = Net(quant)
    x = net.qdq('x', ACT, 128)
    y = net.qdq(net.conv(x, ACT, 32, 192, 1, act='relu6'), ACT, 0)
    y = net.qdq(net.conv(y, ACT, 192, 192, 3, group=192, act='relu6'), ACT, 0)
    y = net.qdq(net.conv(y, ACT, 192, 32, 1), ACT, 128)
    y = net.qdq(net.node('Add', [y, x]), ACT, 128)
    net.save(os.path.join(OUT, f'mobilenet_block_{"int8" if quant else "f32"}.onnx'), [1, 32, 56, 56], y)


os.makedirs(OUT, exist_ok=True)
for quant in (True, False):
    rng = np.random.default_rng(7)
    resnet_block(quant)
    mobilenet_block(quant)
print('wrote', sorted(os.listdir(OUT)), 'to', OUT)
