// int8 inference, loaded on demand: model.ts imports this chunk only for a graph holding a
// quantized op (QuantizeLinear, DequantizeLinear, QLinear*), so a program that never loads an
// int8 model does not carry it. lower.ts rewrites the graph, ops.ts plans its steps.
export { checkByteValues, lowerQuantized, LOWERED_OPS, QUANT_OPS } from './lower';
export { bindQuantLib, QUANT_OPDEFS } from './ops';
