// The portable suite on the package as installed, loaded by `import` (Node, Deno, Bun).
import * as sdk from 'affiliate-sdk';
import { run } from './suite.mjs';

const runtime = globalThis.Deno ? `Deno ${Deno.version.deno}` : globalThis.Bun ? `Bun ${Bun.version}` : `Node ${process.version} (import)`;
console.log(`${runtime}: ${run(sdk)} checks passed`);
