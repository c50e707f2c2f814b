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
export * from './convGrad';
export * from './poolGrad';
// training: activation gradients, normalisation forward/backward, losses, optimizers, dropout
export * from './eltwiseGrad';
export * from './normGrad';
export * from './loss';
export { sgd_step_f32, adam_step_f32, rmsprop_step_f32, sumsq_f32, scale_f32, dropout_mask_f32 } from './optim';
export * from './augment';
// training: resampling (Resize, MaxUnpool, pooling indices) and LRN, NCHW
export * from './resizeGrad';
export * from './lrnGrad';
export * from './deformGrad';
// int8 (issue 18): GEMM with a requantizing epilogue
export * from './qgemm';
export * from './qconv';
export * from './qwinograd';
// first-run speed: the hot kernels once on small problems (warmup.ts)
export { warm_up, warm_up_bytes } from './warmup';
