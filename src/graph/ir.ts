// The graph IR every front-end produces (ONNX import, GraphBuilder, the zoo) and every pass
// consumes. Operators carry ONNX names and ONNX attribute semantics, so an imported file,
// a built network and an exported file are the same thing. Shapes are NCHW (logical, as ONNX).

/** A dense f32 tensor at the public API: NCHW, row-major. */
export interface Tensor {
  /** The values, row-major (the last axis varies fastest). */
  data: Float32Array;
  /** Dimensions; their product is `data.length`. */
  shape: number[];
  /**
   * Set on an output a graph computes as integers or booleans at run time ('int64', 'int32',
   * 'bool', ...; a detector's labels, NonZero's indices): `data` then holds their exact values.
   */
  dtype?: string;
}

/** Attribute values, as ONNX has them (tensors only for Constant/ConstantOfShape; subgraphs for If and Loop). */
export type AttrValue = number | string | number[] | string[] | Tensor | IntTensor | SubGraph;

/**
 * A GRAPH attribute (If's `then_branch`/`else_branch`, Loop's `body`): its inputs, outputs,
 * nodes and constants. Its nodes may read values of the enclosing graphs by name.
 */
export interface SubGraph {
  /** Values fed by the node that runs it, in order (a Loop body: iteration number, condition, carried values). */
  inputs: ValueInfo[];
  /** Values returned, in order. */
  outputs: ValueInfo[];
  /** Nodes in topological order. */
  nodes: Node[];
  /** Float constants by name. */
  initializers?: Map<string, Tensor>;
  /** Integer (and bool, as 0/1) constants by name. */
  intConstants?: Map<string, IntTensor>;
}

/** Integer data travels as float-free int arrays (shape arithmetic, Gather indices). */
export interface IntTensor {
  /** The values, row-major. */
  ints: number[];
  /** Dimensions; their product is `ints.length`. */
  shape: number[];
  /**
   * The ONNX element type of an 8-bit tensor as read from a file ('int8' or 'uint8'): a
   * quantization zero point's type is the type of the values it quantizes. 'int32' marks a
   * quantized bias a graph builds (quantize()); the ONNX writer stores each of these types as
   * such (INT64 otherwise).
   */
  elem?: 'int8' | 'uint8' | 'int32';
}

/** One operator application: ONNX op name, named inputs and outputs, ONNX attributes. */
export interface Node {
  /** Unique within the graph; used in every error message about this node. */
  name: string;
  /** ONNX operator type (Conv, Relu, ...). Passes may introduce wasmcnn-internal ops. */
  op: string;
  /** Tensor names; '' marks an omitted optional input. */
  inputs: string[];
  /** Names of the values it produces, each produced by no other node. */
  outputs: string[];
  /** ONNX attributes by name (kernel_shape, strides, ...). */
  attrs: Record<string, AttrValue>;
}

/** What the graph knows of a value: its logical shape and, once folded, its constant data. */
export interface ValueInfo {
  /** The value's name (an input, an output or a node output). */
  name: string;
  /** Logical (NCHW) shape, when known. */
  shape?: number[];
  /** 'float' for activations and weights; 'int' for shape arithmetic folded at load. */
  dtype?: 'float' | 'int' | 'bool';
}

/** A network: inputs, outputs, nodes in topological order, weights and known shapes. */
export interface Graph {
  /** Graph inputs fed at run time, in order. */
  inputs: ValueInfo[];
  /** Graph outputs returned by run(), in order. */
  outputs: ValueInfo[];
  /** The nodes, each after the producers of its inputs. */
  nodes: Node[];
  /** Float constants (weights) by name. */
  initializers: Map<string, Tensor>;
  /** Integer constants (shapes, indices, axes) by name. */
  intConstants: Map<string, IntTensor>;
  /** Shapes known for every value, filled by shape inference. */
  shapes: Map<string, number[]>;
  /** Default-domain opset the attributes follow (ONNX semantics changed across opsets). */
  opset: number;
  /**
   * Weights a GraphBuilder computes from declared ones at build() (GraphBuilder.derive): the
   * state_dict holds `from`, the graph reads `name`. Training maps gradients back through them.
   */
  derived?: DerivedWeight[];
  /** Initializers that are part of the architecture, not weights (GraphBuilder.constant): never trained, not in a state_dict. */
  constants?: Set<string>;
  /**
   * Activations stored as one byte per element (int8 inference, src/quant/lower.ts): 'u8' or
   * 'i8'. Their scales and zero points travel in the attributes of the steps that read and
   * write them, not here.
   */
  qtypes?: Map<string, 'u8' | 'i8'>;
  /**
   * A quantized graph as it was before the int8 lowering (QDQ / QLinear ops, set by
   * src/quant/lower.ts): the sourceGraph of the models planned from it, so exportOnnx writes it.
   */
  unlowered?: Graph;
}

/** A weight computed from others (e.g. a C4 filter bank from its learned filters). */
export interface DerivedWeight {
  /** The weight the graph reads. */
  name: string;
  /** Its shape. */
  shape: number[];
  /** The declared (state_dict) weights it is computed from. */
  from: string[];
  /** Computes it from `from`'s tensors, in order. */
  fn: (ts: Tensor[]) => Float32Array;
}

/** File bytes behind tensors whose values have not been decoded yet (see fileTensor). */
const fileBytes = new WeakMap<Tensor, Uint8Array>();

/**
 * A float32 tensor whose values still sit in a file's bytes (little-endian float32, any
 * alignment): reading `data` decodes them once into a Float32Array of its own; until then
 * `Mem.putTensor` copies them from the file straight into wasm memory, so a loaded weight is
 * written once (into its packed panel) instead of decoded into a JS array first. `data` is an
 * own enumerable property (spread and structuredClone see it). Writing `data` replaces the values.
 */
export function fileTensor(bytes: Uint8Array, shape: number[]): Tensor {
  const t = { shape } as Tensor;
  let values: Float32Array | undefined;
  Object.defineProperty(t, 'data', {
    enumerable: true,
    configurable: true,
    get(): Float32Array {
      if (!values) {
        const raw = fileBytes.get(t)!;
        values = new Float32Array(raw.length >>> 2);
        new Uint8Array(values.buffer).set(raw);
        fileBytes.delete(t);
      }
      return values;
    },
    set(v: Float32Array) {
      values = v;
      fileBytes.delete(t);
    },
  });
  fileBytes.set(t, bytes);
  return t;
}

/** A tensor of `t`'s values under another shape (a fileTensor's values still undecoded). */
export function reshapedTensor(t: Tensor, shape: number[]): Tensor {
  const raw = fileBytes.get(t);
  return raw ? fileTensor(raw, shape) : { data: t.data, shape };
}

/**
 * What a shared packing's key holds for a tensor (src/model.ts keyOf): its values once decoded
 * (small arrays are keyed by content), the tensor itself while they are still in its file's bytes.
 */
export function packKey(t: Tensor): Tensor | Float32Array {
  return fileBytes.has(t) ? t : t.data;
}

/** How many values a tensor holds (a fileTensor's without decoding them). */
export function valueCount(t: Tensor): number {
  const raw = fileBytes.get(t);
  return raw ? raw.length >>> 2 : t.data.length;
}

/** The file bytes of a fileTensor whose `data` has not been read yet, else undefined. */
export function undecodedBytes(t: Tensor): Uint8Array | undefined {
  return fileBytes.get(t);
}

/** File bytes behind 8-bit tensors whose `ints` have not been read yet (see fileInts). */
const fileInts8 = new WeakMap<IntTensor, Int8Array | Uint8Array>();

/**
 * An int8/uint8 tensor whose values still sit in a file's bytes: reading `ints` decodes them once
 * (an own enumerable property, as fileTensor's `data`); until then `intBytes` hands the int8
 * lowering the bytes themselves, so a quantized weight reaches its packed panel without a JS
 * number per element.
 */
export function fileInts(bytes: Int8Array | Uint8Array, shape: number[], elem: 'int8' | 'uint8'): IntTensor {
  const t = { shape, elem } as IntTensor;
  let ints: number[] | undefined;
  const drop = () => fileInts8.delete(t);
  Object.defineProperty(t, 'ints', {
    enumerable: true,
    configurable: true,
    get: () => ints ?? (drop(), (ints = Array.from(bytes))),
    set: (v: number[]) => (drop(), (ints = v)),
  });
  fileInts8.set(t, bytes);
  return t;
}

/** The values of an 8-bit tensor as a typed view of its file's bytes while undecoded, else its ints. */
export function intBytes(t: IntTensor): ArrayLike<number> {
  return fileInts8.get(t) ?? t.ints;
}

export function emptyGraph(): Graph {
  return {
    inputs: [],
    outputs: [],
    nodes: [],
    initializers: new Map(),
    intConstants: new Map(),
    shapes: new Map(),
    opset: 17,
  };
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapeStr(shape: readonly number[] | undefined): string {
  return shape ? `[${shape.join(', ')}]` : '[?]';
}
