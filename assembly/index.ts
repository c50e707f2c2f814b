// wasmcnn kernels: every exported function is a leaf kernel working on raw pointers into the
// one linear memory the host owns. Nothing here allocates; shapes are decided by the host.
export { heap_base } from './memory';
export * from './gemm';
export * from './conv';
export * from './depthwise';
export * from './pool';
export * from './eltwise';
export * from './layout';
export * from './shuffle';
export * from './transposed';
export * from './deform';
export * from './unpool';
export * from './resize';
export * from './winograd';
export { split_table } from './parallel';
export * from './image';
export * from './detect';
export * from './augment';
