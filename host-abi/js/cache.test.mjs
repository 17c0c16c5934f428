// The JS shim's in-process cache of compiled modules (wasmdl.mjs,
// ModuleCache): run by `node --test` from `make js-unit-test`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModuleCache } from './wasmdl.mjs';

// (module (func (export "f") (result i32) i32.const N))
const moduleReturning = (n) =>
  new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 127, 3, 2, 1, 0, 7, 5, 1, 1, 102, 0, 0, 10, 6, 1, 4, 0, 65, n, 11]);
const make = (bytes) => ({ module: new WebAssembly.Module(bytes), info: { made: true } });
const call = (module) => new WebAssembly.Instance(module).exports.f();

test('the same bytes compile once per process', () => {
  const cache = new ModuleCache();
  const a = cache.get(moduleReturning(1), make);
  const again = cache.get(moduleReturning(1), make); // equal bytes, another array
  assert.equal(again.module, a.module);
  const b = cache.get(moduleReturning(2), make);
  assert.notEqual(b.module, a.module);
  assert.equal(call(b.module), 2);
  assert.deepEqual([cache.compiles, cache.hits], [2, 1]);
});

test('a key collision costs a compile, never a wrong module', () => {
  const cache = new ModuleCache();
  const key = ModuleCache.key;
  ModuleCache.key = () => 'the same key for everything';
  try {
    const one = cache.get(moduleReturning(1), make);
    const two = cache.get(moduleReturning(2), make);
    assert.equal(call(one.module), 1);
    assert.equal(call(two.module), 2);
    assert.equal(cache.get(moduleReturning(2), make).module, two.module);
    assert.deepEqual([cache.compiles, cache.hits], [2, 1]);
  } finally {
    ModuleCache.key = key;
  }
});

test('a module that fails to compile is not kept', () => {
  const cache = new ModuleCache();
  const junk = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 99]);
  assert.throws(() => cache.get(junk, make), WebAssembly.CompileError);
  assert.throws(() => cache.get(junk, make), WebAssembly.CompileError);
  assert.equal(cache.compiles, 0);
  assert.equal(cache.entries.size, 0);
});
