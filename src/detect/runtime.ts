// The wasm instance the detection kernels (assembly/detect.ts) run on: one single-thread instance,
// created on first use and reused, as the image preprocessing does (src/image/preprocess.ts). Its
// memory grows to the largest call seen and is reused by the next (a call allocates nothing once
// the memory is large enough). Calls copy their inputs in, run and copy the results out without
// awaiting in between, so two concurrent calls never share the scratch space.
import type { Mem } from '../runtime/memory';
import { instantiate } from '../runtime/wasm';

/** The kernel exports of assembly/detect.ts (pointers are byte offsets; sizes in elements). */
export interface DetectKernels {
  heap_base(): number;
  nms_f32(
    n: number, x1: number, y1: number, x2: number, y2: number, area: number, cls: number,
    iou: number, maxKeep: number, dead: number, keep: number,
  ): number;
  roi_align_f32(
    N: number, H: number, W: number, C: number, input: number, K: number, rois: number,
    OH: number, OW: number, scale: number, sampling: number, aligned: number, maxMode: number, output: number,
  ): void;
}

/** A single-thread instance and the start of its free memory. */
export interface DetectRuntime {
  mem: Mem;
  k: DetectKernels;
  base: number;
}

let runtime: Promise<DetectRuntime> | undefined;

/** The shared detection instance (instantiated on the first call; init() options apply). */
export function detectRuntime(): Promise<DetectRuntime> {
  if (!runtime) {
    const p = (runtime = instantiate({ threaded: false }).then((rt) => {
      const k = rt.k as unknown as DetectKernels;
      rt.mem.setBase(k.heap_base());
      return { mem: rt.mem, k, base: rt.mem.mark() };
    }));
    // a failed instantiation is retried on the next call
    p.catch(() => {
      if (runtime === p) runtime = undefined;
    });
  }
  return runtime;
}
