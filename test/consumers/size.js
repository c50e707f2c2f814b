// The size probe: what `import { init, loadOnnx }` costs in a production bundle.
import { init, loadOnnx } from 'wasmcnn';

window.wasmcnn = { init, loadOnnx };
