// Splitting one kernel call among the worker pool's threads. Every parallel kernel takes
// (part, parts) last and computes part `part` of `parts` contiguous pieces; the pieces' union
// is the whole call and each output element is computed by exactly the same instructions as in
// the single-threaded call (K is never split), so results are bit-identical for any thread
// count. parts = 1 is the single-threaded call.

/**
 * Start of part `part` when `total` items are cut into `parts` contiguous runs whose boundaries
 * are multiples of `unit` (the last run takes the remainder). partStart(.., parts, parts) = total.
 */
// @ts-ignore: decorator
@inline export function partStart(total: i32, unit: i32, part: i32, parts: i32): i32 {
  const units = (total + unit - 1) / unit;
  return min(total, <i32>((<i64>units * <i64>part) / <i64>parts) * unit);
}

/**
 * Whether to cut `rowUnits` row blocks (true) rather than `colUnits` column blocks: rows when
 * there are enough to share evenly (each part then streams its own rows once), otherwise
 * whichever leaves the largest part the smaller share of the work.
 */
// @ts-ignore: decorator
@inline export function splitRows(rowUnits: i32, colUnits: i32, parts: i32): bool {
  if (rowUnits >= 4 * parts) return true;
  const r = (rowUnits + parts - 1) / parts, c = (colUnits + parts - 1) / parts;
  return <i64>r * <i64>colUnits <= <i64>c * <i64>rowUnits;
}
