// placeholder: filled in by the kernel work for this family
export const __depthwise_placeholder: i32 = 0;
