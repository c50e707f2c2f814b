// placeholder: filled in by the kernel work for this family
export const __gemm_placeholder: i32 = 0;
