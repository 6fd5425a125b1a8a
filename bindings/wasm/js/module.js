// The WebAssembly module: loading it (on first use, or by `initialize`) and the I/O
// buffer in its memory through which tokens and links pass without allocations.

import init, { initSync, ioBuffer } from './affiliate_sdk_wasm.js';

/** The `.wasm` file next to this one (null where the host gives modules no URL). */
function wasmUrl() {
  try {
    return new URL('./affiliate_sdk_wasm_bg.wasm', import.meta.url);
  } catch {
    return null;
  }
}

// The I/O buffer in the module's memory (see src/lib.rs): token and link text is
// written at `io`, answers are read from `io + IO_OUT`.
const IO_OUT = 4608;
let memory = null;
let io = 0;
let u8 = null;
let dv = null;

function attach(exports) {
  memory = exports.memory;
  io = ioBuffer();
  u8 = null;
}

/** Views of the memory, renewed when it has grown (growing detaches the old ones). */
function views() {
  if (u8 === null || u8.buffer !== memory.buffer) {
    u8 = new Uint8Array(memory.buffer);
    dv = new DataView(memory.buffer);
  }
}

/**
 * Writes `s` into the buffer and returns its length. A non-ASCII character becomes a
 * byte that is not UTF-8, which the module refuses; text too long for the buffer is
 * reported as one byte too long.
 */
export function put(s) {
  const n = s.length;
  if (n > IO_OUT) return IO_OUT + 1;
  views();
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    u8[io + i] = c < 128 ? c : 0x80;
  }
  return n;
}

/** Reads a length-prefixed ASCII string (null when empty) at `at`; returns [value, next]. */
function text(at) {
  const n = u8[at];
  return [n === 0 ? null : String.fromCharCode.apply(null, u8.subarray(at + 1, at + 1 + n)), at + 1 + n];
}

/** The claims answered by verifyTokenIo / attributeTokenIo. */
export function readClaims() {
  views();
  let at = io + IO_OUT;
  const clickId = String.fromCharCode.apply(null, u8.subarray(at, at + 36));
  const issuedAt = dv.getFloat64(at + 36, true);
  const expiresAt = dv.getFloat64(at + 44, true);
  let campaign, partner, ad, sid;
  [campaign, at] = text(at + 52);
  [partner, at] = text(at);
  [ad, at] = text(at);
  [sid] = text(at);
  return { clickId, campaign, partner, ad, sid, issuedAt, expiresAt };
}

/** The link answered by verifyIo. */
export function readLink(click) {
  views();
  let campaign, partner, ad, sid;
  let at = io + IO_OUT;
  [campaign, at] = text(at);
  [partner, at] = text(at);
  [ad, at] = text(at);
  [sid, at] = text(at);
  const l = { campaign, partner, ad, sid };
  if (click) l.droppedSid = u8[at] === 1;
  return l;
}

/**
 * Instantiates the module now, from `source` (a `WebAssembly.Module` or its bytes).
 * Hosts that import `.wasm` files as modules use it; `affiliate-sdk` under the
 * `workerd` condition does so itself.
 */
export function initializeSync(source) {
  if (memory === null) attach(initSync({ module: source }));
}

/**
 * Loads the module from `source` (a `WebAssembly.Module`, bytes, a URL or a `Response`;
 * default: the `.wasm` file next to this one, fetched). Needed only where the module
 * cannot be read synchronously on first use: browsers. Node, Bun and Deno read it from
 * disk the first time the package is used.
 */
export async function initialize(source = wasmUrl()) {
  if (memory === null) attach(await init({ module_or_path: source }));
}

/**
 * Instantiates the module on first use (nothing happens at import, so importing the
 * package, or `require()`-ing it, costs nothing and awaits nothing): read from disk
 * next to this file in Node, Bun and Deno. Elsewhere `initialize()` must come first.
 */
export function load() {
  if (memory !== null) return;
  const bytes = readModuleFile();
  if (bytes === null) {
    throw new Error(
      'affiliate-sdk: the WebAssembly module cannot be read synchronously here: `await initialize()` first',
    );
  }
  attach(initSync({ module: bytes }));
}

/** The module's bytes from disk, where this host can read a file synchronously. */
function readModuleFile() {
  const url = wasmUrl();
  if (url?.protocol !== 'file:') return null;
  const deno = globalThis.Deno;
  if (typeof deno?.readFileSync === 'function') return deno.readFileSync(url);
  const fs = globalThis.process?.getBuiltinModule?.('node:fs');
  return fs ? fs.readFileSync(url) : null;
}

