// affiliate-sdk under the `workerd` condition (Cloudflare Workers, wrangler, miniflare):
// the host imports the `.wasm` file as a compiled `WebAssembly.Module`, so the module is
// instantiated synchronously here and the API is the same as everywhere else.
import wasm from './affiliate_sdk_wasm_bg.wasm';
import { initializeSync } from './index.js';

initializeSync(wasm);

export * from './index.js';
