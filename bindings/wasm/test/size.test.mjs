// The module's size budget: at most 80 KB after gzip, and the package is the build of
// the current sources (build.sh runs before the tests).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

// 64 KB until the module carried the catalogue and the click plan (currencies, money,
// commission plans: about 80 KB), so that edge workers decide clicks as the server does;
// 88 KB until it carried the landing step (`landing`, the core's decision on the request
// target and the token's freshness: about 2.6 KB), 92 KB until the core read `Cookie`
// headers without the `cookie` crate, whose date parsing (for `Set-Cookie` attributes a
// request header never has) was 12.7 KB of it.
const BUDGET = 80 * 1024;
const pkg = (f) => new URL(`../pkg/${f}`, import.meta.url);

test('the optimised .wasm is at most 80 KB after gzip', () => {
  const wasm = readFileSync(pkg('affiliate_sdk_wasm_bg.wasm'));
  const gz = gzipSync(wasm, { level: 9 }).length;
  console.log(`affiliate_sdk_wasm_bg.wasm: ${wasm.length} bytes, ${gz} gzip -9 (budget ${BUDGET})`);
  assert.ok(gz <= BUDGET, `${gz} bytes after gzip, over the ${BUDGET} budget`);
  // wasm-opt ran: no name or producers sections left.
  assert.ok(!wasm.includes(Buffer.from('producers')), 'producers section left: wasm-opt did not run');
});

test('the package ships its API, types and module', () => {
  const manifest = JSON.parse(readFileSync(pkg('package.json')));
  for (const f of manifest.files) assert.ok(readFileSync(pkg(f)).length > 0, f);
  assert.equal(manifest.types, './index.d.ts');
  assert.equal(readFileSync(pkg('index.js'), 'utf8'), readFileSync(new URL('../js/index.js', import.meta.url), 'utf8'));
});
