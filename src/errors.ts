// Typed errors. Every failure a user can cause (a bad file, a wrong shape, an unsupported op)
// surfaces as one of these, naming what was wrong and where. Each class sets `name` to a string
// literal (not new.target.name), so `err.name` stays 'ShapeError' etc. in minified bundles,
// where class names are mangled.

/** Base class of every error wasmcnn throws on purpose. */
export class WasmCnnError extends Error {
  override name = 'WasmCnnError';
}

/** A file (ONNX, safetensors) is truncated, corrupted or not what it claims to be. */
export class FormatError extends WasmCnnError {
  override name = 'FormatError';
}

/** An operator (or an attribute value of one) that wasmcnn does not implement. */
export class UnsupportedOpError extends WasmCnnError {
  override name = 'UnsupportedOpError';
  constructor(
    readonly op: string,
    readonly node: string,
    detail = '',
  ) {
    super(`unsupported op ${op} at node '${node}'${detail ? `: ${detail}` : ''}`);
  }
}

/** Shapes that do not fit: an input fed with the wrong shape, or a graph whose shapes disagree. */
export class ShapeError extends WasmCnnError {
  override name = 'ShapeError';
}

/** A graph that refers to something that is not there (missing initializer, unknown input). */
export class GraphError extends WasmCnnError {
  override name = 'GraphError';
}

/** Weights for a zoo model or GraphBuilder network that are missing, extra or mis-shaped. */
export class WeightsError extends WasmCnnError {
  override name = 'WeightsError';
}

/** A value that makes no sense (NaN in a feed where refused, a bad option). */
export class ValueError extends WasmCnnError {
  override name = 'ValueError';
}

/**
 * Bytes that could not be read from where they were asked for: a missing local file, an HTTP
 * error status, a network failure, or a read cancelled through an AbortSignal. `source` names
 * the path or URL, `status` the HTTP status when there was one, `reason` the kind of failure.
 */
export class LoadError extends WasmCnnError {
  override name = 'LoadError';
  constructor(
    message: string,
    readonly source: string,
    readonly reason: 'not-found' | 'http' | 'network' | 'aborted' | 'io' | 'unsupported',
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message);
    if (options && 'cause' in options) (this as { cause?: unknown }).cause = options.cause;
  }
}
