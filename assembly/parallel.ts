// Splitting one kernel call among the worker pool's threads. Every parallel kernel takes
// (part, parts) last and computes part `part` of `parts` contiguous pieces; the pieces' union
// is the whole call and each output element is computed by exactly the same instructions as in
// the single-threaded call (K is never split), so results are bit-identical for any thread
// count. parts = 1 is the single-threaded call.

/** Most parts an uneven split describes (the pool's threads). */
const SPLIT_MAX: i32 = 64;

/**
 * The pool's split for its threaded calls, in the one memory every thread's instance shares:
 * word 0 the number of parts it is for (0: none), word p (1..parts-1) where part p starts, as a
 * fraction of 2^16. The pool makes the parts uneven when its threads run at uneven speeds
 * (src/runtime/threads.ts); calls with another part count (single-threaded calls, the specs)
 * cut evenly.
 */
const splitTable = memory.data(4 * (SPLIT_MAX + 1), 16);

/** Address of the split table (the host writes it before a threaded call). */
export function split_table(): usize {
  return splitTable;
}

/**
 * Start of part `part` when `total` items are cut into `parts` contiguous runs whose boundaries
 * are multiples of `unit` (the last run takes the remainder). partStart(.., parts, parts) = total.
 * Even runs, or the pool's split table when it was written for `parts` parts.
 */
// @ts-ignore: decorator
@inline export function partStart(total: i32, unit: i32, part: i32, parts: i32): i32 {
  const units = (total + unit - 1) / unit;
  if (part > 0 && part < parts && load<i32>(splitTable) == parts) {
    // to the nearest unit: flooring gave a part 0 of 2 units at a share of 0.499
    return min(total, <i32>((<i64>units * <i64>load<i32>(splitTable + (<usize>part << 2)) + 0x8000) >> 16) * unit);
  }
  return min(total, <i32>((<i64>units * <i64>part) / <i64>parts) * unit);
}

/**
 * Whether to cut `rowUnits` row blocks (true) rather than `colUnits` column blocks: rows when
 * there are enough to share evenly (each part then streams its own rows once), otherwise
 * whichever leaves the largest part the smaller share of the work, on a tie the finer cut
 * (uneven shares, split_table, need small units: 2 row blocks against 256 panels left one
 * thread all the work).
 */
// @ts-ignore: decorator
@inline export function splitRows(rowUnits: i32, colUnits: i32, parts: i32): bool {
  if (rowUnits >= 4 * parts) return true;
  const r = (rowUnits + parts - 1) / parts, c = (colUnits + parts - 1) / parts;
  const rowLoad = <i64>r * <i64>colUnits, colLoad = <i64>c * <i64>rowUnits;
  return rowLoad < colLoad || (rowLoad == colLoad && rowUnits >= colUnits);
}
