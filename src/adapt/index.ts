// NetAdapt (Yang et al., ECCV 2018): channel-pruning graph surgery, latency lookup tables and the
// adaptation loop; latency-aware NAS (MnasNet's reward, regularized evolution) over per-block
// lookup tables. Not imported by src/model.ts: it loads only for programs that use it.
export { pruneChannels, pruneGroupChannels, couplingGroups, filterNorms } from './prune';
export type { PrunedGraph, CouplingGroup } from './prune';
export { measureLatencyTable, predictLatency, measureLatency, predictionError, lookupLatency, latencyTableFromJSON } from './latency';
export type { LatencyTable, LatencyEntry, LatencyTableOptions, LatencyPrediction } from './latency';
export { netAdapt } from './netadapt';
export type { NetAdaptOptions, NetAdaptResult, NetAdaptRow, NetAdaptFailure } from './netadapt';
export {
  nasSpace, archInSpace, archKey, spaceSize, randomArch, mutateArch, archTableKeys, nasTableKeys, measureNasTable, nasTableFromJSON, predictNasLatency,
  buildCandidate, candidateModel, nasPredictionError, mnasReward, paretoFront, proxyEvaluator, nasSearch, paretoSvg,
} from './nas';
export type {
  NasSpace, NasStageSpace, NasStageChoice, NasArch, NasLatencyTable, NasTableOptions, NasLatencyCheck, NasPredictionReport, MnasObjective, ParetoPoint,
  NasProxyOptions, NasCandidate, NasSearchOptions, NasSearchResult, SvgPoint, ParetoSvgOptions,
} from './nas';
