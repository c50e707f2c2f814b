// GraphBuilder: how models/ and users build a network from ops with named weights. Each call
// adds an ONNX-semantics node and checks shapes at once; weights are declared with the shape
// they must have and bound at build(), which lists every missing, extra or mis-shaped name.
import { WeightsError, ShapeError } from './errors';
import { makeInferCtx } from './graph/infer';
import type { AttrValue, Graph, Tensor } from './graph/ir';
import { emptyGraph, numel, reshapedTensor, shapeStr, valueCount } from './graph/ir';
import { compileGraph, type CompileOptions, type Model } from './model';
import { opDef } from './ops';
import { loadSafetensors } from './weights/safetensors';

/** Weights as safetensors bytes or a map from state_dict key to tensor. */
export type WeightsSource = Uint8Array | ArrayBuffer | Map<string, Tensor> | Record<string, Tensor>;

/** Options of {@link GraphBuilder.conv} (torch.nn.Conv2d's arguments). */
export interface ConvOptions {
  /** Output channels. */
  out: number;
  /** Kernel size: square or [height, width]. */
  kernel: number | [number, number];
  /** Stride (default 1). */
  stride?: number | [number, number];
  /** Symmetric padding per spatial dim, or [top, left, bottom, right]. */
  pad?: number | [number, number] | [number, number, number, number];
  /** Dilation (default 1): the gap between kernel taps, as in atrous convolution. */
  dilation?: number | [number, number];
  /** Groups (default 1); equal to the input channels for a depthwise convolution. */
  groups?: number;
  /** Whether the layer has a `${name}.bias` weight (default true). */
  bias?: boolean;
  /**
   * Name of the graph node, when the same weights serve several places (a detection head shared
   * by every pyramid level); default: the weight name.
   */
  node?: string;
}

/** Options of {@link GraphBuilder.maxPool} and {@link GraphBuilder.avgPool} (torch.nn.MaxPool2d / AvgPool2d). */
export interface PoolOptions {
  /** Window size: square or [height, width]. */
  kernel: number | [number, number];
  /** Stride (default: the kernel size, as PyTorch). */
  stride?: number | [number, number];
  /** Padding: symmetric per spatial dim, or [top, left, bottom, right]. */
  pad?: number | [number, number] | [number, number, number, number];
  /** Round the output size up instead of down (PyTorch's ceil_mode). */
  ceilMode?: boolean;
  /** Average pooling: count padded positions in the divisor (PyTorch's count_include_pad). */
  countIncludePad?: boolean;
  /** Max pooling: dilation of the window. */
  dilation?: number | [number, number];
}

const pair = (v: number | number[] | undefined, d: number): [number, number] =>
  v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : [v[0], v[1]];
const pads = (v: ConvOptions['pad']): number[] => {
  if (v === undefined) return [0, 0, 0, 0];
  if (typeof v === 'number') return [v, v, v, v];
  return v.length === 2 ? [v[0], v[1], v[0], v[1]] : v.slice();
};

/** Coerce user weights into a map. */
export function toWeightMap(w: WeightsSource): Map<string, Tensor> {
  if (w instanceof Uint8Array || w instanceof ArrayBuffer) return loadSafetensors(w);
  if (w instanceof Map) return w;
  return new Map(Object.entries(w));
}

/**
 * Builds a network layer by layer with PyTorch module names, then binds weights by those names.
 * Every method returns the name of the value it produced; shapes are checked as layers are added.
 */
export class GraphBuilder {
  /** The graph built so far (ONNX-semantics nodes, NCHW). */
  readonly graph: Graph = emptyGraph();
  private readonly declared = new Map<string, number[]>();
  private readonly fixed = new Map<string, Tensor>();
  private readonly derivedWeights: { name: string; shape: number[]; from: string[]; fn: (ts: Tensor[]) => Float32Array }[] = [];
  private readonly ignored: RegExp[] = [/(^|\.)num_batches_tracked$/];
  private count = 0;

  /** A graph input of a concrete NCHW shape. */
  input(name: string, shape: number[]): string {
    this.graph.inputs.push({ name, shape: shape.slice(), dtype: 'float' });
    this.graph.shapes.set(name, shape.slice());
    return name;
  }

  /** Mark a value as a graph output (renamed to `name` if given). */
  output(value: string, name?: string): string {
    let v = value;
    if (name && name !== value) v = this.node('Identity', [value], {}, 1, name)[0];
    this.graph.outputs.push({ name: v });
    return v;
  }

  /** Declare a weight the caller must supply at build(), with the shape it must have. */
  param(name: string, shape: number[]): string {
    const had = this.declared.get(name);
    if (had && had.join() !== shape.join())
      throw new WeightsError(`weight '${name}' declared twice with shapes ${shapeStr(had)} and ${shapeStr(shape)}`);
    this.declared.set(name, shape.slice());
    this.graph.shapes.set(name, shape.slice());
    return name;
  }

  /**
   * A weight computed at build() from declared weights (e.g. RepVGG's merged 3x3 kernel, a
   * reshaped 1-D conv kernel). `from` must be declared with param(); `fn` returns `shape`'s data.
   */
  derive(name: string, shape: number[], from: string[], fn: (ts: Tensor[]) => Float32Array): string {
    for (const f of from) if (!this.declared.has(f)) throw new WeightsError(`derived weight '${name}' reads undeclared '${f}'`);
    this.derivedWeights.push({ name, shape: shape.slice(), from: from.slice(), fn });
    this.graph.shapes.set(name, shape.slice());
    this.derivedNames.add(name);
    return name;
  }
  private readonly derivedNames = new Set<string>();

  /** A fixed constant that is part of the architecture, not of the weights. */
  constant(data: ArrayLike<number>, shape: number[], name?: string): string {
    const n = name ?? `const_${this.count++}`;
    const t = { data: Float32Array.from(data), shape: shape.slice() };
    this.fixed.set(n, t);
    this.graph.initializers.set(n, t);
    this.graph.shapes.set(n, shape.slice());
    return n;
  }

  /** An integer constant (shapes, axes). */
  ints(values: number[], name?: string): string {
    const n = name ?? `ints_${this.count++}`;
    this.graph.intConstants.set(n, { ints: values.slice(), shape: [values.length] });
    this.graph.shapes.set(n, [values.length]);
    return n;
  }

  /** Ignore supplied weights whose names match (e.g. auxiliary heads not built for inference). */
  ignoreWeights(pattern: RegExp): void {
    this.ignored.push(pattern);
  }

  /** Shape of a value built so far. */
  shape(value: string): number[] {
    const s = this.graph.shapes.get(value);
    if (!s) throw new ShapeError(`unknown value '${value}'`);
    return s.slice();
  }

  /** Add any supported ONNX op; returns its output names. */
  node(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outputs = 1, name?: string): string[] {
    const nodeName = name ?? `${op.toLowerCase()}_${this.count++}`;
    const outs = Array.from({ length: outputs }, (_, i) => (outputs === 1 ? nodeName : `${nodeName}:${i}`));
    const n = { name: nodeName, op, inputs, outputs: outs, attrs };
    const def = opDef(op);
    if (!def) throw new ShapeError(`GraphBuilder: unknown op ${op}`);
    const base = makeInferCtx(this.graph);
    // declared weights count as constants while building; their values arrive at build()
    const ctx = {
      ...base,
      float: (v: string) =>
        base.float(v) ?? (this.declared.has(v) || this.derivedNames.has(v) ? { data: new Float32Array(0), shape: this.graph.shapes.get(v)! } : undefined),
    };
    const shapes = def.infer(n, ctx);
    outs.forEach((o, i) => this.graph.shapes.set(o, shapes[i]));
    this.graph.nodes.push(n);
    return outs;
  }

  // ---- layers with weights (PyTorch module names: `${name}.weight`, `${name}.bias`) ----

  /** nn.Conv2d: weights `${name}.weight` [out, in / groups, kh, kw] and `${name}.bias` [out]. */
  conv(x: string, name: string, o: ConvOptions): string {
    const [kh, kw] = pair(o.kernel, 1);
    const groups = o.groups ?? 1;
    const C = this.shape(x)[1];
    if (C % groups !== 0 || o.out % groups !== 0)
      throw new ShapeError(`conv '${name}': ${C} -> ${o.out} channels do not split into ${groups} groups`);
    const w = this.param(`${name}.weight`, [o.out, C / groups, kh, kw]);
    const ins = [x, w];
    if (o.bias ?? true) ins.push(this.param(`${name}.bias`, [o.out]));
    return this.node('Conv', ins, {
      kernel_shape: [kh, kw], strides: pair(o.stride, 1), pads: pads(o.pad), dilations: pair(o.dilation, 1), group: groups,
    }, 1, o.node ?? name)[0];
  }

  /**
   * torchvision.ops.DeformConv2d (ONNX DeformConv): weights `${name}.weight` [out, in / groups, kh, kw]
   * and `${name}.bias` [out]; `offset` [N, 2·offsetGroups·kh·kw, OH, OW] holds (dy, dx) pairs per
   * offset group and tap, `mask` (v2, optional) [N, offsetGroups·kh·kw, OH, OW] scales each sample.
   */
  deformConv(
    x: string, offset: string, name: string,
    o: ConvOptions & {
      /** Offset groups (torchvision's offset_groups, ONNX offset_group; default 1): channel c uses group c / (in / offsetGroups). */
      offsetGroups?: number;
    },
    mask?: string,
  ): string {
    const [kh, kw] = pair(o.kernel, 1);
    const groups = o.groups ?? 1;
    const C = this.shape(x)[1];
    if (C % groups !== 0 || o.out % groups !== 0)
      throw new ShapeError(`deformConv '${name}': ${C} -> ${o.out} channels do not split into ${groups} groups`);
    const w = this.param(`${name}.weight`, [o.out, C / groups, kh, kw]);
    const b = (o.bias ?? true) ? this.param(`${name}.bias`, [o.out]) : '';
    const ins = [x, w, offset, b];
    if (mask) ins.push(mask);
    return this.node('DeformConv', ins, {
      kernel_shape: [kh, kw], strides: pair(o.stride, 1), pads: pads(o.pad), dilations: pair(o.dilation, 1), group: groups,
      offset_group: o.offsetGroups ?? 1,
    }, 1, o.node ?? name)[0];
  }

  /** nn.BatchNorm2d in eval mode: `${name}.weight`, `.bias`, `.running_mean`, `.running_var`. */
  batchNorm(x: string, name: string, eps = 1e-5): string {
    const C = this.shape(x)[1];
    const p = (s: string) => this.param(`${name}.${s}`, [C]);
    return this.node('BatchNormalization', [x, p('weight'), p('bias'), p('running_mean'), p('running_var')], { epsilon: eps }, 1, name)[0];
  }

  /** nn.LayerNorm over the last axis (`${name}.weight`, `${name}.bias`). */
  layerNorm(x: string, name: string, eps = 1e-5): string {
    const s = this.shape(x);
    const C = s[s.length - 1];
    return this.node('LayerNormalization', [x, this.param(`${name}.weight`, [C]), this.param(`${name}.bias`, [C])], { axis: -1, epsilon: eps }, 1, name)[0];
  }

  /** LayerNorm over the channels of an NCHW map (timm's LayerNorm2d, ConvNeXt). */
  layerNorm2d(x: string, name: string, eps = 1e-6): string {
    const C = this.shape(x)[1];
    return this.node('ChannelLayerNorm', [x, this.param(`${name}.weight`, [C]), this.param(`${name}.bias`, [C])], { epsilon: eps }, 1, name)[0];
  }

  /** nn.Linear over the last axis: y = x W^T + b. */
  linear(x: string, name: string, out: number, bias = true): string {
    const s = this.shape(x);
    const K = s[s.length - 1];
    const w = this.param(`${name}.weight`, [out, K]);
    const ins = [x, w];
    if (bias) ins.push(this.param(`${name}.bias`, [out]));
    if (s.length === 2) return this.node('Gemm', ins, { transB: 1 }, 1, name)[0];
    // rows of any leading dims: free reshapes around one Gemm that reads W as stored
    const rows = this.node('Reshape', [x, this.ints([-1, K])])[0];
    const y = this.node('Gemm', [rows, ...ins.slice(1)], { transB: 1 }, 1, name)[0];
    return this.node('Reshape', [y, this.ints([...s.slice(0, -1), out])])[0];
  }

  /** ReLU. */
  relu(x: string): string { return this.node('Relu', [x])[0]; }
  /** ReLU6: min(max(x, 0), 6). */
  relu6(x: string): string { return this.node('Clip', [x, this.constant([0], []), this.constant([6], [])])[0]; }
  /** Any one-input ONNX activation by op name (e.g. 'Sigmoid', 'HardSwish', 'LeakyRelu' with { alpha }). */
  act(op: string, x: string, attrs: Record<string, AttrValue> = {}): string { return this.node(op, [x], attrs)[0]; }

  /** nn.MaxPool2d. */
  maxPool(x: string, o: PoolOptions): string { return this.pool('MaxPool', x, o); }
  /** nn.AvgPool2d. */
  avgPool(x: string, o: PoolOptions): string { return this.pool('AveragePool', x, o); }
  /** nn.AdaptiveAvgPool2d(1): the mean of each channel. */
  globalAvgPool(x: string): string { return this.node('GlobalAveragePool', [x])[0]; }
  /** torch.flatten(x, axis). */
  flatten(x: string, axis = 1): string { return this.node('Flatten', [x], { axis })[0]; }
  /** Element-wise sum with broadcasting (a residual connection). */
  add(a: string, b: string): string { return this.node('Add', [a, b])[0]; }
  /** Element-wise product with broadcasting (e.g. an attention module's scale). */
  mul(a: string, b: string): string { return this.node('Mul', [a, b])[0]; }
  /** torch.cat along `axis` (channels by default). */
  concat(xs: string[], axis = 1): string { return this.node('Concat', xs, { axis })[0]; }
  /**
   * nn.PixelShuffle(r): [N, C·r², H, W] → [N, C, H·r, W·r], channel c·r² + i·r + j moving to
   * offset (i, j) of each r×r block (ONNX DepthToSpace, mode CRD; the sub-pixel convolution's shuffle).
   */
  pixelShuffle(x: string, r: number): string { return this.node('DepthToSpace', [x], { blocksize: r, mode: 'CRD' })[0]; }
  /**
   * nn.PixelUnshuffle(r), the inverse of {@link GraphBuilder.pixelShuffle}: [N, C, H·r, W·r] →
   * [N, C·r², H, W]. ONNX SpaceToDepth orders the channels (i·r + j)·C + c, so for C > 1 a channel
   * shuffle of r² groups follows it to give torch's c·r² + i·r + j.
   */
  pixelUnshuffle(x: string, r: number): string {
    const C = this.shape(x)[1];
    const y = this.node('SpaceToDepth', [x], { blocksize: r })[0];
    return C > 1 && r > 1 ? this.node('ChannelShuffle', [y], { groups: r * r })[0] : y;
  }

  /**
   * F.interpolate(x, size | scale_factor, mode) on [N, C, H, W] as torch.onnx exports it (ONNX
   * Resize): 'nearest' is asymmetric / floor, 'bilinear' is pytorch_half_pixel, or align_corners
   * with `alignCorners`. Give `size` ([H, W]) or `scale` (one factor or [sh, sw]; the output is
   * floor(in·scale), the coordinates use the factor itself, as torch without recompute_scale_factor).
   */
  interpolate(
    x: string,
    o: { size?: [number, number]; scale?: number | [number, number]; mode?: 'nearest' | 'bilinear'; alignCorners?: boolean },
  ): string {
    const mode = o.mode ?? 'nearest';
    if ((o.size === undefined) === (o.scale === undefined)) throw new ShapeError('interpolate: give exactly one of size and scale');
    if (mode === 'nearest' && o.alignCorners) throw new ShapeError('interpolate: align_corners applies to bilinear only');
    const attrs: Record<string, AttrValue> = mode === 'nearest'
      ? { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }
      : { mode: 'linear', coordinate_transformation_mode: o.alignCorners ? 'align_corners' : 'pytorch_half_pixel' };
    if (o.size) {
      const [N, C] = this.shape(x);
      return this.node('Resize', [x, '', '', this.ints([N, C, o.size[0], o.size[1]])], attrs)[0];
    }
    const [sh, sw] = pair(o.scale, 1);
    return this.node('Resize', [x, '', this.constant([1, 1, sh, sw], [4])], attrs)[0];
  }
  /**
   * nn.MaxPool2d(return_indices=True): the pooled map and its argmax indices (ONNX MaxPool's
   * second output: flat NCHW positions in the input, carried as float32 values).
   */
  maxPoolWithIndices(x: string, o: PoolOptions): [string, string] {
    const [y, i] = this.node('MaxPool', [x], this.poolAttrs('MaxPool', o), 2);
    return [y, i];
  }
  /**
   * nn.MaxUnpool2d(kernel, stride, padding)(x, indices, output_size): each value put back where
   * `indices` (from {@link GraphBuilder.maxPoolWithIndices}) says, zeros elsewhere. The output is
   * (in − 1)·stride − 2·pad + kernel per spatial dim unless `outputSize` ([H, W]) is given.
   */
  maxUnpool(x: string, indices: string, o: { kernel: number | [number, number]; stride?: number | [number, number]; pad?: number | [number, number]; outputSize?: [number, number] }): string {
    const k = pair(o.kernel, 1);
    const attrs: Record<string, AttrValue> = { kernel_shape: k, strides: pair(o.stride ?? o.kernel, 1), pads: pads(o.pad) };
    const inputs = [x, indices];
    if (o.outputSize) {
      const [N, C] = this.shape(x);
      inputs.push(this.ints([N, C, o.outputSize[0], o.outputSize[1]]));
    }
    return this.node('MaxUnpool', inputs, attrs)[0];
  }
  /**
   * nn.LocalResponseNorm(size, alpha, beta, k) (ONNX LRN, across channels):
   * y = x / (k + alpha/size · Σ window x²)^beta; PyTorch's defaults alpha 1e-4, beta 0.75, k 1.
   */
  lrn(x: string, size: number, o: { alpha?: number; beta?: number; k?: number } = {}): string {
    return this.node('LRN', [x], { size, alpha: o.alpha ?? 1e-4, beta: o.beta ?? 0.75, bias: o.k ?? 1 })[0];
  }

  private poolAttrs(op: string, o: PoolOptions): Record<string, AttrValue> {
    const k = pair(o.kernel, 1);
    const attrs: Record<string, AttrValue> = {
      kernel_shape: k, strides: pair(o.stride ?? o.kernel, 1), pads: pads(o.pad), ceil_mode: o.ceilMode ? 1 : 0,
    };
    if (o.dilation !== undefined) attrs.dilations = pair(o.dilation, 1);
    if (op === 'AveragePool') attrs.count_include_pad = o.countIncludePad ?? true ? 1 : 0;
    return attrs;
  }

  private pool(op: string, x: string, o: PoolOptions): string {
    return this.node(op, [x], this.poolAttrs(op, o))[0];
  }

  /** Names and shapes of every weight this network needs. */
  weightShapes(): Map<string, number[]> {
    return new Map(this.declared);
  }

  /** Bind weights (checked by name and shape) and compile. */
  async build(weights: WeightsSource, options: CompileOptions = {}): Promise<Model> {
    const map = toWeightMap(weights);
    const missing: string[] = [];
    const wrong: string[] = [];
    for (const [name, shape] of this.declared) {
      const t = map.get(name);
      if (!t) missing.push(name);
      else if (numel(t.shape) !== numel(shape) || valueCount(t) !== numel(shape) || (t.shape.join() !== shape.join() && !(t.shape.length === 0 && numel(shape) === 1)))
        wrong.push(`${name}: expected ${shapeStr(shape)}, got ${shapeStr(t.shape)}`);
    }
    const extra = [...map.keys()].filter((k) => !this.declared.has(k) && !this.ignored.some((r) => r.test(k)));
    if (missing.length || wrong.length || extra.length) {
      const parts: string[] = [];
      if (missing.length) parts.push(`missing ${missing.length}: ${missing.join(', ')}`);
      if (extra.length) parts.push(`unexpected ${extra.length}: ${extra.join(', ')}`);
      if (wrong.length) parts.push(`wrong shape ${wrong.length}: ${wrong.join('; ')}`);
      throw new WeightsError(`weights do not fit the network (${parts.join(' | ')})`);
    }
    const g: Graph = {
      ...this.graph,
      inputs: this.graph.inputs.map((i) => ({ ...i, shape: i.shape!.slice() })),
      outputs: this.graph.outputs.map((o) => ({ ...o })),
      nodes: this.graph.nodes.map((n) => ({ ...n, inputs: n.inputs.slice(), outputs: n.outputs.slice(), attrs: { ...n.attrs } })),
      initializers: new Map(this.fixed),
      intConstants: new Map(this.graph.intConstants),
      shapes: new Map(),
    };
    for (const name of this.declared.keys()) {
      const t = map.get(name)!;
      g.initializers.set(name, reshapedTensor(t, this.declared.get(name)!));
    }
    for (const d of this.derivedWeights) {
      const data = d.fn(d.from.map((f) => g.initializers.get(f)!));
      if (data.length !== numel(d.shape)) throw new WeightsError(`derived weight '${d.name}': ${data.length} values for ${shapeStr(d.shape)}`);
      g.initializers.set(d.name, { data, shape: d.shape });
    }
    if (this.fixed.size) g.constants = new Set(this.fixed.keys());
    if (this.derivedWeights.length) g.derived = this.derivedWeights.map((d) => ({ ...d, shape: d.shape.slice(), from: d.from.slice() }));
    return compileGraph(g, options);
  }
}
