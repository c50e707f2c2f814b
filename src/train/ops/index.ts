// The training rules by ONNX op type: every op a network must contain to be trained here.
import type { TrainRule } from '../program';
import { conv, convTranspose } from './conv';
import { deformConv } from './deform';
import { dropPath } from './dropPath';
import { gemm } from './dense';
import { binary, expand, prelu, unary } from './elementwise';
import { softmax } from './softmax';
import { batchNorm, channelLayerNorm, layerNorm } from './norm';
import { globalAvgPool, globalMaxPool, pool } from './pool';
import { reduce } from './reduce';
import { depthToSpace, lrn, maxPool, maxUnpool, resize } from './resample';
import { channelShuffle, concat, dropout, passThrough, split, transpose } from './shape';

export const RULES: Record<string, TrainRule> = {
  Conv: conv,
  ConvTranspose: convTranspose,
  DeformConv: deformConv,
  Gemm: gemm,
  MatMul: gemm,
  BatchNormalization: batchNorm,
  MaxPool: maxPool,
  AveragePool: pool,
  GlobalAveragePool: globalAvgPool,
  GlobalMaxPool: globalMaxPool,
  Relu: unary, Clip: unary, LeakyRelu: unary, Sigmoid: unary, Tanh: unary, HardSigmoid: unary,
  HardSwish: unary, Silu: unary, Gelu: unary, Elu: unary,
  Add: binary, Sub: binary, Mul: binary, PRelu: prelu, Expand: expand,
  Softmax: softmax, LogSoftmax: softmax,
  Reshape: passThrough, Flatten: passThrough, Squeeze: passThrough, Unsqueeze: passThrough, Identity: passThrough,
  Dropout: dropout,
  DropPath: dropPath,
  Concat: concat,
  Split: split,
  Transpose: transpose,
  ChannelShuffle: channelShuffle,
  LayerNormalization: layerNorm,
  ChannelLayerNorm: channelLayerNorm,
  ReduceMean: reduce,
  ReduceSum: reduce,
  ReduceMax: reduce,
  Resize: resize,
  Upsample: resize,
  DepthToSpace: depthToSpace,
  SpaceToDepth: depthToSpace,
  MaxUnpool: maxUnpool,
  LRN: lrn,
};
