// Tests import the TypeScript sources directly, so the wasm is not next to the module file
// as it is in the built package: point the loader at the freshly built artifact.
import { readFileSync } from 'node:fs';
import { init } from '../src/index';
import { useNodePlatform } from '../src/node';

// Node's hooks (file reading; worker threads on the built dist/src/runtime/worker-node.js)
useNodePlatform(new URL('../dist/src/runtime/', import.meta.url));

await init({ wasm: readFileSync(new URL('../dist/wasmcnn.wasm', import.meta.url)) });
