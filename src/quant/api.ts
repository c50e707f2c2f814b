// quantize(): post-training static quantization of a float model into an int8 QDQ model. This file
// is the eager part (the options and a thin async wrapper); the calibration and the graph rewrite
// (src/quant/quantize.ts) load on the first call, so programs that never quantize do not carry them.
import { provideKit } from '../lazy/supply';
import { compileGraph, type CompileOptions, type Feeds, type Model, type Tensor } from '../model';

/** Options of {@link quantize}. */
export interface QuantizeOptions {
  /**
   * Representative inputs (an array or any iterable, sync or async): each a Feeds object, or one
   * Tensor for a model with a single input, shaped as the model's inputs. The float model runs on
   * each (twice for 'percentile' and 'entropy': the values are collected first). Must not be empty.
   */
  calibration: Iterable<Feeds | Tensor> | AsyncIterable<Feeds | Tensor>;
  /** Weight scales per output channel (default true) or one per weight tensor. */
  perChannel?: boolean;
  /** Activation type: 'uint8' (default, asymmetric) or 'int8'. */
  activations?: 'int8' | 'uint8';
  /** int8 activations only: zero point 0 and scale max|x|/127 (default false: asymmetric). */
  symmetric?: boolean;
  /**
   * How each activation's range is taken from the calibration values: 'minmax' (default: the
   * observed min and max), 'percentile' (of |x|, see `percentile`) or 'entropy' (the clipping
   * threshold minimising the KL divergence between the 2048-bin histogram of |x| and its
   * quantized form, as TensorRT calibrates).
   */
  method?: 'minmax' | 'percentile' | 'entropy';
  /** The percentile of |x| kept by method 'percentile', in (0, 100] (default 99.99). */
  percentile?: number;
  /** Options for compiling the int8 model (threads, dynamicAxes, ...). */
  compile?: CompileOptions;
}

/**
 * Post-training static quantization: runs `model` (float) on the calibration inputs, records the
 * range of every activation that becomes int8 (the graph input and the inputs and outputs of each
 * Conv, Gemm, MatMul with a constant weight, Add, GlobalAveragePool and MaxPool; after a Relu or
 * Clip that follows them), and returns a new compiled Model whose source graph is the QDQ form
 * (QuantizeLinear → DequantizeLinear on activations, DequantizeLinear of int8 weights and int32
 * biases; BatchNormalization folded into the Conv before it). It runs on wasmcnn's fused int8
 * steps, and `exportOnnx` writes that QDQ graph, which onnxruntime runs. The float model is not
 * changed. Throws ValueError naming the option for bad options or empty calibration.
 */
export async function quantize(model: Model, options: QuantizeOptions): Promise<Model> {
  const impl = await import('./quantize');
  provideKit();
  return impl.quantizeModel(model, options, compileGraph);
}
