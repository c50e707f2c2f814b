// The geometry params block offsets of assembly/codes.ts (G_*), read from that very file so the
// benchmark cannot drift from the kernels' ABI.
import { readFileSync } from 'node:fs';

const src = readFileSync(new URL('../assembly/codes.ts', import.meta.url), 'utf8');
export const G = {};
for (const m of src.matchAll(/export const G_(\w+) = (\d+);/g)) G[m[1]] = Number(m[2]);
export const G_SIZE = G.SIZE;
