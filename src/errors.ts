// Typed errors. Every failure a user can cause (a bad file, a wrong shape, an unsupported op)
// surfaces as one of these, naming what was wrong and where.

/** Base class of every error wasmcnn throws on purpose. */
export class WasmCnnError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A file (ONNX, safetensors) is truncated, corrupted or not what it claims to be. */
export class FormatError extends WasmCnnError {}

/** An operator (or an attribute value of one) that wasmcnn does not implement. */
export class UnsupportedOpError extends WasmCnnError {
  constructor(
    readonly op: string,
    readonly node: string,
    detail = '',
  ) {
    super(`unsupported op ${op} at node '${node}'${detail ? `: ${detail}` : ''}`);
  }
}

/** Shapes that do not fit: an input fed with the wrong shape, or a graph whose shapes disagree. */
export class ShapeError extends WasmCnnError {}

/** A graph that refers to something that is not there (missing initializer, unknown input). */
export class GraphError extends WasmCnnError {}

/** Weights for a zoo model or GraphBuilder network that are missing, extra or mis-shaped. */
export class WeightsError extends WasmCnnError {}

/** A value that makes no sense (NaN in a feed where refused, a bad option). */
export class ValueError extends WasmCnnError {}
