// The package's portable suite: the same checks under every runtime the package claims
// (Node by import and by require, Deno, Bun, workerd). Plain code, no test framework:
// `run(sdk)` throws on the first failure and returns how many checks passed.

function eq(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}

function throwsCode(f, code, what) {
  try {
    f();
  } catch (e) {
    if (!(e instanceof Error) || e.code !== code) throw new Error(`${what}: threw ${e}, not code ${code}`);
    return;
  }
  throw new Error(`${what}: did not throw`);
}

export function run(sdk) {
  const checks = [];
  const check = (name, f) => checks.push([name, f]);
  const T0 = 1_700_000_000;
  // A fixed key: the known answers below are the core's (affiliate-sdk/tests/vectors).
  const keys = new sdk.Keyring({ k1: 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8' }, 'k1');
  const signer = new sdk.LinkSigner(keys, 'https://t.shop.example/go');

  check('links sign and verify; a changed partner is refused', () => {
    const url = signer.build('haircare', 'abc123', { ad: 'website2', sid: 'kw1' });
    eq(signer.verify(url), { campaign: 'haircare', partner: 'abc123', ad: 'website2', sid: 'kw1' }, 'verify');
    throwsCode(() => signer.verify(url.replace('abc123', 'abc124')), 'invalid_signature', 'forged link');
  });
  check('tokens issue and verify; expiry is enforced', () => {
    const token = sdk.issueToken(keys, {
      clickId: sdk.newClickId(T0 * 1000), campaign: 'haircare', partner: 'abc123',
      issuedAt: T0, expiresAt: T0 + 86400,
    });
    eq(sdk.verifyToken(keys, token, { now: T0 + 60 }).partner, 'abc123', 'partner');
    eq(sdk.tokenExpiry(token), T0 + 86400, 'expiry');
    throwsCode(() => sdk.verifyToken(keys, token, { now: T0 + 2 * 86400 }), 'expired', 'expired token');
  });
  check('cookies', () => {
    const token = sdk.issueToken(keys, {
      clickId: sdk.newClickId(T0 * 1000), campaign: 'haircare', partner: 'abc123',
      issuedAt: T0, expiresAt: T0 + 86400,
    });
    eq(sdk.parseCookieHeader(`a=1; aff_token=${token}`), token, 'parse');
    eq(sdk.setCookieHeader(token, 60), `aff_token=${token}; HttpOnly; SameSite=Lax; Path=/; Max-Age=60`, 'set');
  });
  check('the click plan of a catalogue', () => {
    const catalogue = new sdk.Catalogue();
    catalogue.addCampaign({ code: 'haircare', destination: 'https://shop.example/hair', currency: 'USD' });
    catalogue.addPartner({ code: 'abc123' });
    const plan = sdk.planClick(catalogue, signer, signer.build('haircare', 'abc123'), { nowMs: T0 * 1000 });
    if (!plan.location.startsWith('https://shop.example/hair?aff_token=v1.')) throw new Error(plan.location);
    eq(sdk.verifyToken(keys, plan.token, { now: T0 }).campaign, 'haircare', 'planned token');
  });
  check('the order signature is the core known answer', () => {
    eq(sdk.signOrder(keys, { orderId: 'A-1001', amount: '49.90', currency: 'USD' }).length, 25, 'osig length');
  });
  check('the landing step', () => {
    const token = sdk.issueToken(keys, {
      clickId: sdk.newClickId(T0 * 1000), campaign: 'haircare', partner: 'abc123',
      issuedAt: T0, expiresAt: T0 + 86400,
    });
    const r = sdk.landing(keys, new Request(`https://shop.example/p?x=1&aff_token=${token}`), { now: T0 });
    eq([r.status, r.headers.get('location')], [302, '/p?x=1'], 'landing');
    eq(sdk.landing(keys, new Request('https://shop.example/p?aff_token=v1.forged'), { now: T0 }), null, 'forged');
  });
  check('errors are AffiliateErrors with the core codes', () => {
    eq(sdk.coreErrorCodes(), [...sdk.ERROR_CODES], 'codes');
    throwsCode(() => new sdk.Keyring({ k1: 'short' }, 'k1'), 'malformed', 'short key');
  });
  for (const [name, f] of checks) {
    try {
      f();
    } catch (e) {
      throw new Error(`${name}: ${e.message}`);
    }
  }
  return checks.length;
}
