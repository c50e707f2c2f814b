// Where static data ends: the host places weights and activations above this.
export function heap_base(): usize {
  return __heap_base;
}
