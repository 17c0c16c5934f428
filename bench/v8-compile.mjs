// Times V8's own compile of a module (`new WebAssembly.Module`), apart from
// anything a shim does around it: the Node rows of `make bench` compare
// libdl's work with this too. V8 compiles lazily (functions on first call),
// so this is mostly decoding and validation.
//   node v8-compile.mjs FILE   prints "v8-compile US"
import fs from 'node:fs';

const bytes = fs.readFileSync(process.argv[2]);
const t0 = process.hrtime.bigint();
new WebAssembly.Module(bytes);
const t1 = process.hrtime.bigint();
console.log(`v8-compile ${Number(t1 - t0) / 1000}`);
