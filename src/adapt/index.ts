// NetAdapt (Yang et al., ECCV 2018): channel-pruning graph surgery, latency lookup tables and the
// adaptation loop. Not imported by src/model.ts: it loads only for programs that use it.
export { pruneChannels, pruneGroupChannels, couplingGroups, filterNorms } from './prune';
export type { PrunedGraph, CouplingGroup } from './prune';
export { measureLatencyTable, predictLatency, measureLatency, predictionError, lookupLatency, latencyTableFromJSON } from './latency';
export type { LatencyTable, LatencyEntry, LatencyTableOptions, LatencyPrediction } from './latency';
export { netAdapt } from './netadapt';
export type { NetAdaptOptions, NetAdaptResult, NetAdaptRow, NetAdaptFailure } from './netadapt';
