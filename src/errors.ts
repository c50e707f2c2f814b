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

/**
 * Bytes that could not be read from where they were asked for: a missing local file, an HTTP
 * error status, a network failure, or a read cancelled through an AbortSignal. `source` names
 * the path or URL, `status` the HTTP status when there was one, `reason` the kind of failure.
 */
export class LoadError extends WasmCnnError {
  constructor(
    message: string,
    readonly source: string,
    readonly reason: 'not-found' | 'http' | 'network' | 'aborted' | 'io' | 'unsupported',
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message);
    // set by hand, not from the constructor's name, so it survives minification
    this.name = 'LoadError';
    if (options && 'cause' in options) (this as { cause?: unknown }).cause = options.cause;
  }
}
