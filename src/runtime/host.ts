// The one single-thread kernel instance the host-side helpers run on (image preprocessing,
// detection building blocks, super-resolution colour conversion): created on first use and
// shared, never attached to the thread pool (no copies in the workers). Its memory grows to the
// largest call seen and is reused by the next. A helper copies its inputs in above `base`, runs
// and copies the results out without awaiting in between, so two calls never share scratch.
import type { Kernels } from './kernels';
import type { Mem } from './memory';
import { instantiate } from './wasm';

/** The shared host instance and the start of its free memory. */
export interface HostRuntime {
  mem: Mem;
  k: Kernels;
  base: number;
}

let runtime: Promise<HostRuntime> | undefined;

/** The shared host instance (created once, with init()'s kernels; a failed creation is retried on the next call). */
export function hostRuntime(): Promise<HostRuntime> {
  if (!runtime) {
    const p = (runtime = instantiate({ threaded: false }).then((rt) => {
      rt.mem.setBase(rt.k.heap_base());
      return { mem: rt.mem, k: rt.k, base: rt.mem.mark() };
    }));
    p.catch(() => {
      if (runtime === p) runtime = undefined;
    });
  }
  return runtime;
}
