// verifyToken and link verification per second through the package, against jose
// (HS256 jwtVerify) and Node's own crypto.createHmac over the same bytes (the floor),
// in this process, with the ratios.
//
//   node bench/verify.mjs           5 interleaved rounds of ~0.5 s per case
//   node bench/verify.mjs --quick   one short round (the CI smoke run)
//
// Targets: at least 20x jose's rate, and at least 0.8x createHmac's.

import { createHmac, timingSafeEqual } from 'node:crypto';
import * as jose from 'jose';
import { Keyring, LinkSigner, issueToken, verifyToken } from '../pkg/index.js';

const quick = process.argv.includes('--quick');
const [rounds, seconds] = quick ? [1, 0.1] : [5, 0.5];
// V8 runs new wasm code in its baseline tier first and optimises it later: warm every
// case up before measuring, so a short run measures the optimised code too.
const warmupSeconds = quick ? 0.3 : 1;

const KEY_B64 = 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8';
const secret = Buffer.from(KEY_B64, 'base64url');
const keys = new Keyring({ k1: KEY_B64 }, 'k1');
const now = Math.floor(Date.now() / 1000);
const claims = {
  clickId: '018bcfe5-6800-7000-8000-000000000001',
  campaign: 'haircare',
  partner: 'abc123',
  ad: 'website2',
  sid: 'kw1',
  issuedAt: now,
  expiresAt: now + 28 * 86400,
};
const token = issueToken(keys, claims);
const signer = new LinkSigner(keys, 'https://t.shop.example/go');
const link = signer.build('haircare', 'abc123', { ad: 'website2', sid: 'kw1' });

// The floor: what a JS tracker does by hand with Node's HMAC over the same bytes our
// token's tag covers (everything before the tag, then the purpose label), comparing
// the 128-bit tag.
const LABEL = '\0affiliate-sdk:token:v1';
const dot = token.lastIndexOf('.');
const signed = token.slice(0, dot);
const tag = Buffer.from(token.slice(dot + 1), 'base64url');
const hmacFloor = () => {
  const mac = createHmac('sha256', secret).update(signed).update(LABEL).digest();
  return timingSafeEqual(mac.subarray(0, 16), tag);
};

const jwt = await new jose.SignJWT({ ...claims, issuedAt: undefined, expiresAt: undefined })
  .setProtectedHeader({ alg: 'HS256' })
  .setIssuedAt(now)
  .setExpirationTime(now + 28 * 86400)
  .sign(secret);

// Each must accept its input (and read the partner) before it is timed.
if (verifyToken(keys, token).partner !== 'abc123') throw new Error('verifyToken');
if (signer.verify(link).sid !== 'kw1') throw new Error('verify link');
if (!hmacFloor()) throw new Error('floor');
if ((await jose.jwtVerify(jwt, secret, { algorithms: ['HS256'] })).payload.partner !== 'abc123') throw new Error('jose');

function rate(fn, secs = seconds) {
  let calls = 0;
  const start = process.hrtime.bigint();
  for (;;) {
    for (let i = 0; i < 1000; i++) fn();
    calls += 1000;
    const s = Number(process.hrtime.bigint() - start) / 1e9;
    if (s >= secs) return calls / s;
  }
}

async function rateAsync(fn) {
  let calls = 0;
  const start = process.hrtime.bigint();
  for (;;) {
    for (let i = 0; i < 100; i++) await fn();
    calls += 100;
    const s = Number(process.hrtime.bigint() - start) / 1e9;
    if (s >= seconds) return calls / s;
  }
}

const cases = {
  'affiliate-sdk verifyToken': () => rate(() => verifyToken(keys, token).partner),
  'affiliate-sdk LinkSigner.verify': () => rate(() => signer.verify(link).partner),
  'node crypto.createHmac (floor)': () => rate(hmacFloor),
  'jose jwtVerify HS256': () => rateAsync(async () => (await jose.jwtVerify(jwt, secret, { algorithms: ['HS256'] })).payload.partner),
};
rate(() => verifyToken(keys, token).partner, warmupSeconds);
rate(() => signer.verify(link).partner, warmupSeconds);
rate(hmacFloor, warmupSeconds);
const results = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let r = 0; r < rounds; r++) {
  for (const [name, run] of Object.entries(cases)) results[name].push(await run());
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const m = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, median(v)]));
const width = Math.max(...Object.keys(m).map((k) => k.length));
console.log(`token ${token.length} bytes, signed part ${signed.length}; JWT ${jwt.length} bytes`);
for (const [name, r] of Object.entries(m)) {
  console.log(`${name.padEnd(width)}  ${Math.round(r).toLocaleString('en').padStart(11)} /s  (${(1e6 / r).toFixed(2)} us)`);
}
const floor = m['node crypto.createHmac (floor)'];
const jose_ = m['jose jwtVerify HS256'];
for (const [what, name] of [['token', 'affiliate-sdk verifyToken'], ['link', 'affiliate-sdk LinkSigner.verify']]) {
  const vsJose = m[name] / jose_;
  const vsFloor = m[name] / floor;
  console.log(`${what} verify: ${vsJose.toFixed(1)}x jose (${vsJose >= 20 ? 'meets' : 'BELOW'} the 20x target), ${vsFloor.toFixed(2)}x createHmac (${vsFloor >= 0.8 ? 'meets' : 'BELOW'} the 0.8x target)`);
}
