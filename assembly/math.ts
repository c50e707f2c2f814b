// placeholder: filled in by the kernel work for this family
export const __math_placeholder: i32 = 0;
