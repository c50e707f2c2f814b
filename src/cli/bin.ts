#!/usr/bin/env node
// The `wasmcnn` executable (package.json `bin`): runs the CLI and exits with its code.
import { main } from './main';

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
