// Typed errors. Every failure a user can cause (a bad file, a wrong shape, an unsupported op)
// surfaces as one of these, naming what was wrong and where. Each class sets `name` to a string
// literal (not new.target.name), so `err.name` stays 'ShapeError' etc. in minified bundles,
// where class names are mangled.

/** Base class of every error wasmcnn throws on purpose. */
export class WasmCnnError extends Error {
  /** The class name as a literal, so it survives minification; each subclass sets its own. */
  override name = 'WasmCnnError';
}

/** A file (ONNX, safetensors) is truncated, corrupted or not what it claims to be. */
export class FormatError extends WasmCnnError {
  /** Always 'FormatError' (a literal, kept in minified bundles). */
  override name = 'FormatError';
}

/** An operator (or an attribute value of one) that wasmcnn does not implement. */
export class UnsupportedOpError extends WasmCnnError {
  /** Always 'UnsupportedOpError' (a literal, kept in minified bundles). */
  override name = 'UnsupportedOpError';
  constructor(
    /** The operator type, e.g. 'Einsum', or the op whose attribute value is unsupported. */
    readonly op: string,
    /** Name of the graph node that uses it. */
    readonly node: string,
    /** Optional detail appended to the message (which attribute, which value). */
    detail = '',
  ) {
    super(`unsupported op ${op} at node '${node}'${detail ? `: ${detail}` : ''}`);
  }
}

/** Shapes that do not fit: an input fed with the wrong shape, or a graph whose shapes disagree. */
export class ShapeError extends WasmCnnError {
  /** Always 'ShapeError' (a literal, kept in minified bundles). */
  override name = 'ShapeError';
}

/** A graph that refers to something that is not there (missing initializer, unknown input). */
export class GraphError extends WasmCnnError {
  /** Always 'GraphError' (a literal, kept in minified bundles). */
  override name = 'GraphError';
}

/** Weights for a zoo model or GraphBuilder network that are missing, extra or mis-shaped. */
export class WeightsError extends WasmCnnError {
  /** Always 'WeightsError' (a literal, kept in minified bundles). */
  override name = 'WeightsError';
}

/** A value that makes no sense (NaN in a feed where refused, a bad option). */
export class ValueError extends WasmCnnError {
  /** Always 'ValueError' (a literal, kept in minified bundles). */
  override name = 'ValueError';
}

/**
 * Bytes that could not be read from where they were asked for: a missing local file, an HTTP
 * error status, a network failure, or a read cancelled through an AbortSignal. `source` names
 * the path or URL, `status` the HTTP status when there was one, `reason` the kind of failure.
 */
export class LoadError extends WasmCnnError {
  /** Always 'LoadError' (a literal, kept in minified bundles). */
  override name = 'LoadError';
  constructor(
    message: string,
    /** The path or URL that was read (or a description such as 'the response' when it has none). */
    readonly source: string,
    /**
     * The kind of failure: 'not-found' (no such local file), 'http' (an HTTP error status,
     * including 404, or an opaque response), 'network' (fetch failed, or the body ended early),
     * 'aborted' (the AbortSignal fired), 'io' (another read error: a directory, a bad chunk),
     * 'unsupported' (this runtime cannot read that source, e.g. an unknown URL scheme).
     */
    readonly reason: 'not-found' | 'http' | 'network' | 'aborted' | 'io' | 'unsupported',
    /** The HTTP status code when the failure was an HTTP response. */
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message);
    if (options && 'cause' in options) (this as { cause?: unknown }).cause = options.cause;
  }
}
