"""Writes two QLinearMatMul models (ONNX opset 13) with every operand a graph input and symbolic
M, K, N, for bench/qgemm-ort.js, which runs them in onnxruntime-node against qgemm_q8:
  qlmm_u8s8.onnx: uint8 A, int8 B with per-column scale (zero point 0), uint8 Y
  qlmm_s8s8.onnx: int8 A, int8 B with per-column scale (zero point 0), int8 Y
Run: /usr/bin/python3 tools/qgemm_ort_model.py OUT_DIR
"""
import sys
import onnx
from onnx import TensorProto, helper


def model(a_type, y_type):
    inputs = [
        helper.make_tensor_value_info('a', a_type, ['M', 'K']),
        helper.make_tensor_value_info('a_scale', TensorProto.FLOAT, []),
        helper.make_tensor_value_info('a_zp', a_type, []),
        helper.make_tensor_value_info('b', TensorProto.INT8, ['K', 'N']),
        helper.make_tensor_value_info('b_scale', TensorProto.FLOAT, ['N']),
        helper.make_tensor_value_info('b_zp', TensorProto.INT8, ['N']),
        helper.make_tensor_value_info('y_scale', TensorProto.FLOAT, []),
        helper.make_tensor_value_info('y_zp', y_type, []),
    ]
    out = helper.make_tensor_value_info('y', y_type, ['M', 'N'])
    node = helper.make_node('QLinearMatMul', [i.name for i in inputs], ['y'])
    graph = helper.make_graph([node], 'qlmm', inputs, [out])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)])
    m.ir_version = 7
    onnx.checker.check_model(m)
    return m


out = sys.argv[1]
onnx.save(model(TensorProto.UINT8, TensorProto.UINT8), f'{out}/qlmm_u8s8.onnx')
onnx.save(model(TensorProto.INT8, TensorProto.INT8), f'{out}/qlmm_s8s8.onnx')
