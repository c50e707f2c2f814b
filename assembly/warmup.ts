// warm_up: runs each hot float kernel once on a small problem, so that the engine compiles its
// optimized code before a model's first run needs it.
//
// V8 (Node, Chrome, Deno; other engines similarly) first runs a wasm function as baseline
// (Liftoff) code and compiles the optimized (TurboFan) form in the background only once that
// function has run for a while; a call already running keeps its baseline code to its end. So
// without this a model's first run() executes its GEMM, depthwise and Winograd kernels as
// baseline code, several times slower (in a new Node 20 process, quiet machine: MobileNetV2's
// first run 29-31 ms against a steady 12 ms; 16-25 ms after a warm-up). The host calls warm_up in
// a throwaway instance of the same compiled module (compiled code is shared by every instance)
// while a model file downloads (loadOnnx of anything but bytes; src/runtime/wasm.ts
// warmKernels): the background compile then overlaps the download. Each problem is about the
// smallest that used up V8 11's tier-up budget when measured (a 64x64x64 GEMM did, 32³ did not).
import {
  G_N, G_H, G_W, G_C, G_OH, G_OW, G_OC, G_KH, G_KW, G_SH, G_SW, G_PT, G_PL, G_PB, G_PR,
  G_DH, G_DW, G_GROUPS, G_IN_STRIDE, G_OUT_STRIDE, G_RES_STRIDE, G_FLAGS, G_SIZE, FLAG_WINO_F4, FLAG_CONV_DIRECT,
} from './codes';
import { gemm, gemm_pack, gemm_segmented } from './gemm';
import { conv2d_f32, conv2d_pack } from './conv';
import { dwconv_f32, dwconv_pack } from './depthwise';
import { wino_conv_f32, wino_pack } from './winograd';
import { maxpool_f32 } from './pool';

/** Bytes of memory warm_up uses from `base` (the host sizes the throwaway memory by it). */
export function warm_up_bytes(): i32 {
  return REGION * 6;
}

/** Bytes of each of warm_up's regions: geometry, input, weights, packed weights, output, scratch. */
const REGION: i32 = 256 * 1024;

/** A geometry block (codes.ts): N=1, H×W×C input, OC outputs, K×K kernel, stride S, pad P, dense. */
function geometry(g: usize, H: i32, W: i32, C: i32, OC: i32, K: i32, S: i32, P: i32, flags: i32): void {
  memory.fill(g, 0, G_SIZE * 4);
  const OH = (H + 2 * P - K) / S + 1, OW = (W + 2 * P - K) / S + 1;
  store<i32>(g + (<usize>G_N << 2), 1);
  store<i32>(g + (<usize>G_H << 2), H);
  store<i32>(g + (<usize>G_W << 2), W);
  store<i32>(g + (<usize>G_C << 2), C);
  store<i32>(g + (<usize>G_OH << 2), OH);
  store<i32>(g + (<usize>G_OW << 2), OW);
  store<i32>(g + (<usize>G_OC << 2), OC);
  store<i32>(g + (<usize>G_KH << 2), K);
  store<i32>(g + (<usize>G_KW << 2), K);
  store<i32>(g + (<usize>G_SH << 2), S);
  store<i32>(g + (<usize>G_SW << 2), S);
  store<i32>(g + (<usize>G_PT << 2), P);
  store<i32>(g + (<usize>G_PL << 2), P);
  store<i32>(g + (<usize>G_PB << 2), P);
  store<i32>(g + (<usize>G_PR << 2), P);
  store<i32>(g + (<usize>G_DH << 2), 1);
  store<i32>(g + (<usize>G_DW << 2), 1);
  store<i32>(g + (<usize>G_GROUPS << 2), 1);
  store<i32>(g + (<usize>G_IN_STRIDE << 2), C);
  store<i32>(g + (<usize>G_OUT_STRIDE << 2), OC);
  store<i32>(g + (<usize>G_RES_STRIDE << 2), OC);
  store<i32>(g + (<usize>G_FLAGS << 2), flags);
}

/**
 * Runs gemm, gemm_segmented, conv2d_f32 (im2col and direct), dwconv_f32, wino_conv_f32 and
 * maxpool_f32 once each on zeros in warm_up_bytes() bytes of memory from `base`.
 */
export function warm_up(base: usize): void {
  const R = <usize>REGION;
  const g = base, x = base + R, w = x + R, packed = w + R, y = packed + R, scratch = y + R;
  memory.fill(x, 0, REGION * 2);
  // 1x1 convs and fully connected layers
  gemm_pack(w, 64, 64, 64, 0, packed);
  gemm(64, 64, 64, x, 64, packed, y, 64, 0, 0, 0, 0, 0);
  // direct stems: four 16-float runs per row
  gemm_segmented(64, 64, 4, 16, 64, x, 64, packed, y, 64, 0, 0, 0, 0, 0);
  // im2col convs (stride 2) and the direct path's driver
  geometry(g, 16, 16, 16, 32, 3, 2, 1, 0);
  conv2d_pack(w, 0, g, packed);
  conv2d_f32(g, x, packed, y, 0, scratch, 0, 1);
  geometry(g, 32, 32, 3, 16, 3, 2, 1, FLAG_CONV_DIRECT);
  conv2d_f32(g, x, packed, y, 0, scratch, 0, 1);
  // depthwise 3x3
  geometry(g, 32, 32, 32, 32, 3, 1, 1, 0);
  dwconv_pack(w, 0, g, packed);
  dwconv_f32(g, x, packed, y, 0, 1);
  // Winograd F(4x4) (the same function holds F(2x2))
  geometry(g, 16, 16, 32, 32, 3, 1, 1, FLAG_WINO_F4);
  wino_pack(w, 0, g, packed);
  wino_conv_f32(g, x, packed, y, 0, scratch, 0, 1);
  geometry(g, 32, 32, 32, 32, 3, 2, 1, 0);
  maxpool_f32(g, x, y, 0, 1);
}
