// affiliate-sdk for JavaScript: signed tracking links, session tokens and cookies, and
// the attribution decision for a token, in WebAssembly built from the Rust core.
// Runs in Node, Deno, Bun and edge workers. Types: index.d.ts.
//
// Every error is an AffiliateError with a `code` (the HTTP API's codes). Arguments are
// checked here before they reach the module; the module's own errors arrive as
// "<code>\u001f<message>" and are turned into AffiliateErrors by `fail` (errors.js).
// The parts: errors.js, module.js (loading the module), keys.js, catalogue.js,
// landing.js.

export { AffiliateError, ERROR_CODES } from './errors.js';
export { Keyring, LinkSigner, attributeToken, coreErrorCodes, decideClick, issueToken, newClickId, parseCookieHeader, setCookieHeader, signOrder, tokenExpiry, verifyToken } from './keys.js';
export { Catalogue, planClick, previewClick } from './catalogue.js';
export { landing, withLanding } from './landing.js';
export { initialize, initializeSync } from './module.js';
