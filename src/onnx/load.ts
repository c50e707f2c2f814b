// loadOnnx: ONNX bytes (or any source src/io reads: path, URL, hf: reference, Response, stream,
// Blob) to a runnable Model (reader, then the common compile path).
import { ShapeError } from '../errors';
import { loadEvaluator } from '../graph/constEval';
import { readSource } from '../io/read';
import { init, warmKernels } from '../runtime/wasm';
import type { ByteSource, ReadOptions } from '../io/source';
import { compileGraph, type CompileOptions, type Model } from '../model';
import { onnxStream } from './reader';
import type { IntTensor, Tensor } from '../graph/ir';

export interface LoadOnnxOptions extends CompileOptions, ReadOptions {
  /**
   * Shapes to plan inputs for, fixing dims the file leaves symbolic. Without it (or with -1 for
   * a dim), a symbolic or unknown dim (`dim_param`, `dim_value` 0 or absent) stays dynamic: the
   * model runs on whatever size run() is given, planning each new shape once (see planCache).
   */
  inputShapes?: Record<string, number[]>;
  /**
   * Inputs to freeze as constants at load time (e.g. a reshape target or clip bounds that a
   * file declares as graph inputs). They are no longer fed at run time.
   */
  constantInputs?: Record<string, Tensor | IntTensor>;
}

/**
 * Load an ONNX model (opset 7+; float32 CNN operators) from its bytes, a local path (Node, Deno,
 * Bun), a URL (`http(s):`, `file:`, `data:`, `blob:`; in a browser a relative string too), an
 * `hf:owner/repo[@revision][/file]` hub reference (file default `model.onnx`), a fetch Response, a
 * ReadableStream or a Blob. `onProgress(loaded, total)` reports the download; `signal` cancels it.
 *
 * @throws LoadError when the bytes cannot be read (missing file, HTTP status, network, aborted);
 *   FormatError when they are not a valid ONNX model.
 */
export async function loadOnnx(source: ByteSource, options: LoadOnnxOptions = {}): Promise<Model> {
  // while a file downloads, the kernels compile (unless init() has run) and warm up (their
  // optimized code then compiles in the background: the first run does not run baseline code),
  // and the host evaluator loads; a failure there shows again, and is thrown, where compileGraph
  // needs them
  const ready = source instanceof Uint8Array || source instanceof ArrayBuffer ? undefined : Promise.all([init().then(warmKernels), loadEvaluator()]);
  ready?.catch(() => undefined);
  // a stream of known size (Content-Length, Blob) is parsed as it arrives: resnet50's 100 MB
  // take 15-40 ms to parse in a fresh process; what is left at the last byte (building the graph
  // IR) takes 3-19 ms
  const parse = onnxStream();
  const bytes = await readSource(source, { ...options, defaultFile: 'model.onnx', onData: ready && parse.feed });
  const { graph, opset } = parse.finish(bytes);
  graph.opset = opset;
  for (const [name, t] of Object.entries(options.constantInputs ?? {})) {
    if (!graph.inputs.some((i) => i.name === name))
      throw new ShapeError(`constantInputs names '${name}', which is not an input`);
    graph.inputs = graph.inputs.filter((i) => i.name !== name);
    if ('ints' in t) graph.intConstants.set(name, t);
    else graph.initializers.set(name, t);
  }
  const given = options.inputShapes ?? {};
  for (const name of Object.keys(given))
    if (!graph.inputs.some((i) => i.name === name))
      throw new ShapeError(`inputShapes names '${name}', which is not an input (inputs: ${graph.inputs.map((i) => i.name).join(', ')})`);
  for (const i of graph.inputs) {
    const s = given[i.name];
    if (s) {
      if (!Array.isArray(s) || s.some((d) => !Number.isSafeInteger(d) || (d < 1 && d !== -1)))
        throw new ShapeError(`input '${i.name}': inputShapes gives ${JSON.stringify(s)}; dims must be positive integers (or -1 to leave one dynamic)`);
      if (i.shape && i.shape.length && (s.length !== i.shape.length || s.some((d, j) => i.shape![j] > 0 && d > 0 && i.shape![j] !== d)))
        throw new ShapeError(`input '${i.name}': inputShapes gives [${s}], the file declares [${i.shape}]`);
      i.shape = s.map((d, j) => (d > 0 ? d : i.shape?.[j] && i.shape[j] > 0 ? i.shape[j] : -1));
    } else if (i.shape) {
      // symbolic dims stay dynamic (compileGraph plans an unknown batch as 1 at load)
      i.shape = i.shape.map((d) => (d > 0 ? d : -1));
    }
  }
  return compileGraph(graph, options);
}
