// The contract every operator file fulfils: a shape rule, optional constant folding, the
// layout it computes in, and a plan step that binds kernels to addresses once.
import type { Graph, IntTensor, Node, Tensor } from '../graph/ir';

import type { Kernels } from '../runtime/kernels';
import type { ParallelKernel } from '../runtime/kernels';
import type { Mem } from '../runtime/memory';

/** Physical layout of an activation: 'plain' is logical row-major; 'nhwc' is a 4-D NCHW value stored NHWC. */
export type Layout = 'plain' | 'nhwc';

export interface InferCtx {
  readonly graph: Graph;
  readonly opset: number;
  /** Logical shape of a value (throws GraphError if unknown). */
  shape(name: string): number[];
  /** Integer constant (shape arithmetic), if the value is one. */
  int(name: string): IntTensor | undefined;
  /** Float constant (a weight or folded value), if the value is one. */
  float(name: string): Tensor | undefined;
}

export interface PlanCtx extends InferCtx {
  readonly k: Kernels;
  readonly mem: Mem;
  /** Byte address of an activation's buffer (or of a constant copied into memory). */
  ptr(name: string): number;
  layout(name: string): Layout;
  /** Shape as stored: logical for 'plain', [N,H,W,C] for 'nhwc'. */
  phys(name: string): number[];
  /** A float constant that must exist (throws GraphError naming the node otherwise). */
  weight(name: string): Tensor;
  /** Floats between consecutive pixels of an NHWC activation (> C for a channel slice). */
  stride(name: string): number;
  /** Reserve scratch bytes shared by all nodes; `.ptr` is valid once planning ends. */
  scratch(bytes: number): { ptr: number };
  /** Threads the model runs on; a parallel kernel's scratch holds one part's worth per thread. */
  readonly threads: number;
  /**
   * CompileOptions.weightStorage 'float16': its planners (src/ops/half.ts, a chunk loaded for such
   * models). packWeights / packGemm then store GEMM panels' weights as binary16 (gemm.ts's
   * half-stored form) where every weight fits.
   */
  readonly half?: typeof import('./half');
  /**
   * The step for a kernel that takes (part, parts) last: split over the model's threads, or one
   * call with (0, 1) when single-threaded or when `macs` (its work) is too small to share.
   * Arguments may be scratch handles (read once planning has ended).
   */
  parallel(kernel: ParallelKernel, args: (number | { ptr: number })[], macs: number): Step;
  /**
   * Constant data (packed weights) shared by every plan of a model with dynamic input shapes:
   * `make` packs it with ctx.mem and returns its address, and runs only when no live plan holds
   * data made from the same key (Float32Arrays by identity, small ones by content; strings and
   * numbers name the packing variant). Absent for fixed-shape models: call `make` directly.
   */
  shared?(key: (Tensor | Float32Array | string | number | boolean | undefined)[], make: () => number): number;
}

export type Step = () => void;

export interface OpDef {
  /** ONNX op types this file implements. */
  readonly ops: readonly string[];
  /**
   * 'nhwc': 4-D activations are read and written NHWC; 'plain': logical row-major;
   * 'any': works in whichever layout its first 4-D activation input has.
   */
  readonly layout: 'nhwc' | 'plain' | 'any';
  /** Output shapes from input shapes and attributes; throws ShapeError on mismatch. */
  infer(node: Node, ctx: InferCtx): number[][];
  /** True when output 0 is input 0's buffer reinterpreted (no copy, no step). */
  alias?(node: Node, ctx: InferCtx): boolean;
  /**
   * Overrides `layout` for one node given input 0's current layout: the layout input 0 must
   * be in, the layout of the outputs, and whether output 0 then aliases input 0.
   */
  layoutRule?(node: Node, ctx: InferCtx, inLayout: Layout): { input: Layout; output: Layout; alias?: boolean } | undefined;
  /** Bind kernels to addresses; returns the step run at inference, or undefined for none. */
  plan(node: Node, ctx: PlanCtx): Step | undefined;
  /** Reads NHWC inputs that are channel slices of wider buffers (pixel stride from ctx.stride). */
  readonly stridedIn?: boolean;
  /** Writes output 0 into a channel slice of a wider buffer (pixel stride from ctx.stride). */
  readonly stridedOut?: boolean;
  /**
   * Positions of the inputs read element for element: the kernel reads each such element
   * before it writes the same output element, so output 0 may take the buffer of one of them
   * (same shape and layout) that is read for the last time here (src/graph/memory.ts). Float
   * activations only.
   */
  inPlace?(node: Node): number[];
  /** Multiply-accumulates of one run (for summary()). */
  macs?(node: Node, ctx: InferCtx): number;
}
