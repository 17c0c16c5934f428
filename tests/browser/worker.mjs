// Runs a wasmdl program in a Web Worker and posts its output to the page.
//
// Why a worker: the host ABI's `module_compile` is a synchronous call from
// the guest, so the shim compiles with `new WebAssembly.Module(bytes)`.
// Chromium limits that on the main thread, where it wants the asynchronous
// `WebAssembly.compile`; Chromium 156 says, for a 9 MB module: "WebAssembly.
// Compile is disallowed on the main thread, if the buffer size is larger
// than 8MB. Use WebAssembly.compile, compile on a worker thread, ...".
// (Firefox ESR 153 compiles 9 MB on the main thread; test.mjs prints what
// each browser does.) In a worker, blocking is allowed and neither browser
// has a limit, so the whole process (libdl, the program, its plugins) runs
// here, whatever the plugins' size.
//
// This is the demo page's worker (index.html), with the files fetched
// before the program starts (wasi.mjs's MemoryFs). runner.mjs runs programs
// in a Worker of its own (remote.mjs), over the host's files.
//
// Message in:  { libdl, program, args, env, dirs: { guest: tree } }, a tree
//               being { name: url (a file) or tree (a subdirectory) }; two
//               names with one url are one file (a link: one inode)
// Messages out: { stdout: text } / { stderr: text } as output arrives, then
//               { status } or { error } at the end.

import { runProcess, ProcessFailure } from './wasmdl.mjs';
import { BrowserWasi } from './wasi.mjs';

async function fetchBytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`cannot fetch ${url}: ${response.status} ${response.statusText}`);
  return new Uint8Array(await response.arrayBuffer());
}

self.onmessage = async ({ data: config }) => {
  try {
    const [libdl, program] = await Promise.all([fetchBytes(config.libdl), fetchBytes(config.program)]);
    // The preopened directories, with every file fetched up front: the
    // program reads them synchronously through WASI. One fetch per url.
    const fetched = new Map();
    const tree = async (files) => {
      const dir = {};
      for (const [name, entry] of Object.entries(files)) {
        if (typeof entry !== 'string') dir[name] = await tree(entry);
        else {
          if (!fetched.has(entry)) fetched.set(entry, fetchBytes(entry));
          dir[name] = await fetched.get(entry);
        }
      }
      return dir;
    };
    const preopens = {};
    for (const [guest, files] of Object.entries(config.dirs)) preopens[guest] = await tree(files);
    const stream = (key) => {
      const decoder = new TextDecoder();
      return (bytes) => self.postMessage({ [key]: decoder.decode(bytes, { stream: true }) });
    };
    const wasi = new BrowserWasi({
      args: config.args,
      env: config.env ?? {},
      preopens,
      stdout: stream('stdout'),
      stderr: stream('stderr'),
    });
    const status = runProcess({ libdl, program, wasi, libdlName: config.libdl, programName: config.args[0] });
    self.postMessage({ status });
  } catch (e) {
    if (e instanceof ProcessFailure) {
      self.postMessage({ stderr: `wasmdl: ${e.message}\n`, status: e.exitCode });
    } else {
      // V8's `stack` starts with the error's name and message;
      // SpiderMonkey's holds only the frames.
      const stack = e?.stack ?? '';
      self.postMessage({ error: stack.startsWith(`${e}`) ? stack : `${e}${stack ? `\n${stack}` : ''}` });
    }
  }
};
