// Every operator wasmcnn runs, in one list. Adding an op means adding its file and a line here.
import { batchnorm } from './batchnorm';
import { binary } from './binary';
import { concat } from './concat';
import { conv } from './conv';
import { convTranspose, convTransposeGeometry } from './convTranspose';
import { deformConv, deformGeometry } from './deformConv';
import { blockShuffle, depthToSpace } from './depthToSpace';
import { expand, gather, gatherIndices } from './gather';
import { gemm } from './gemm';
import { channelShuffle, layoutConvert } from './layout';
import { matmul } from './matmul';
import { channelLayerNorm, instancenorm, layernorm, lrn, lrnSize } from './norm';
import { pad } from './pad';
import { globalPool, pool } from './pool';
import { reduce } from './reduce';
import { reshape } from './reshape';
import { resize, resizeSource, resolveResize } from './resize';
import { slice } from './slice';
import { softmax } from './softmax';
import { split } from './split';
import { transpose } from './transpose';
import type { OpDef } from './types';
import { unary } from './unary';
import { maxUnpool, unpoolShapes } from './unpool';
import { planRare, RARE_OPS, setRareLib } from './rare';
import { attrFloat, broadcastStrides, denseStrides, input, planCopy } from './util';
import { geomBlock, packWeights } from './window';

export const OPS: readonly OpDef[] = [
  conv, pool, globalPool, gemm, matmul, unary, binary, batchnorm, layernorm, channelLayerNorm, instancenorm, lrn,
  softmax, reduce, concat, split, slice, pad, gather, expand, reshape, transpose,
  layoutConvert, channelShuffle, convTranspose, deformConv, maxUnpool, resize,
  depthToSpace,
];

// the rare ops, whose planners load as a chunk of their own (src/ops/rare.ts), and the helpers they take
for (const d of OPS) if (d.plan === planRare) for (const op of d.ops) RARE_OPS.add(op);
setRareLib(() => ({
  deformGeometry, unpoolShapes, convTransposeGeometry, blockShuffle, lrnSize, gatherIndices, geomBlock, packWeights, planCopy, broadcastStrides, denseStrides, input, attrFloat,
  resolveResize, resizeSource,
}));

const BY_OP = new Map<string, OpDef>();
addOps(OPS);

/**
 * Adds op definitions to the table: this module's own, and those of a lazily loaded module
 * (src/quant's int8 ops), which its loader adds after the import.
 */
export function addOps(defs: readonly OpDef[]): void {
  for (const d of defs) for (const op of d.ops) BY_OP.set(op, d);
}

/** The definition implementing an op type, if any. */
export function opDef(op: string): OpDef | undefined {
  return BY_OP.get(op);
}

export type { OpDef } from './types';
