// Runs the portable suite (suite.mjs) on the built package (../pkg) under Node (import
// and require), Deno, Bun and workerd, each installed from npm (package.json here).
//   node run.mjs        (after `npm ci` here and ../build.sh)
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const bin = (name) => join(here, 'node_modules', '.bin', name);
const sh = (cmd, args, env = {}) =>
  execFileSync(cmd, args, { cwd: here, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } })
    .toString().trim();

console.log(sh(process.execPath, ['import.mjs']));
console.log(sh(process.execPath, ['require.cjs']));
console.log(sh(bin('deno'), ['run', '--quiet', '--allow-read', '--allow-env', 'import.mjs'], { DENO_NO_UPDATE_CHECK: '1' }));
console.log(sh(bin('bun'), ['import.mjs']));

// workerd: one bundled module and the .wasm module beside it.
const dir = mkdtempSync(join(tmpdir(), 'affiliate-workerd-'));
try {
  sh(bin('esbuild'), ['worker.mjs', '--bundle', '--format=esm', '--conditions=workerd',
    '--external:*.wasm', `--outfile=${join(dir, 'worker.js')}`, '--log-level=warning']);
  copyFileSync(join(here, 'node_modules', 'affiliate-sdk', 'affiliate_sdk_wasm_bg.wasm'),
    join(dir, 'affiliate_sdk_wasm_bg.wasm'));
  writeFileSync(join(dir, 'config.capnp'), `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "main", worker = .worker)],
);
const worker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "affiliate_sdk_wasm_bg.wasm", wasm = embed "affiliate_sdk_wasm_bg.wasm"),
  ],
  compatibilityDate = "2025-06-01",
);
`);
  const out = execFileSync(bin('workerd'), ['test', join(dir, 'config.capnp')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const line = /workerd: \d+ checks passed/.exec(out);
  if (!line) throw new Error(`workerd did not pass the suite:\n${out}`);
  console.log(line[0]);
} catch (e) {
  if (e.stdout || e.stderr) console.error(String(e.stdout), String(e.stderr));
  throw e;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
