// Errors (every one an AffiliateError with the HTTP API's `code`) and the checks of the
// arguments made before they reach the module.

export const SEP = '\u001f';
/** Every error code of the SDK and its HTTP API. */
export const ERROR_CODES = Object.freeze([
  'malformed',
  'invalid_signature',
  'expired',
  'unknown_campaign',
  'unknown_partner',
  'not_attributable',
  'conflict',
  'invalid_transition',
  'unauthorized',
  'not_found',
  'store_unavailable',
  'forbidden',
  'managed_by_config',
]);

export class AffiliateError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'AffiliateError';
    this.code = code;
  }

  /** The error of an affiliate-server JSON answer, `{"error": {"code", "message"}}`. */
  static fromJSON(body) {
    const e = body && typeof body === 'object' ? body.error : undefined;
    if (!e || typeof e.code !== 'string' || !ERROR_CODES.includes(e.code)) {
      return new AffiliateError('malformed', 'malformed error body: expected {"error": {"code", "message"}}');
    }
    return new AffiliateError(e.code, typeof e.message === 'string' ? e.message : e.code);
  }
}

export function fail(e) {
  if (typeof e === 'string') {
    const i = e.indexOf(SEP);
    if (i > 0) return new AffiliateError(e.slice(0, i), e.slice(i + 1));
  }
  return e;
}

export function malformed(field, reason) {
  return new AffiliateError('malformed', `malformed ${field}: ${reason}`);
}

export function str(field, v) {
  if (typeof v !== 'string') throw malformed(field, `must be a string, not ${v === null ? 'null' : typeof v}`);
  return v;
}

/** An optional string argument: '' for the module when absent. */
export function optStr(field, v) {
  if (v === undefined || v === null) return '';
  if (str(field, v) === '') throw malformed(field, 'must not be empty (leave it out instead)');
  return v;
}

export function num(field, v) {
  if (typeof v !== 'number') throw malformed(field, `must be a number, not ${v === null ? 'null' : typeof v}`);
  return v;
}

export function opts(field, v) {
  if (v === undefined) return {};
  if (v === null || typeof v !== 'object') throw malformed(field, 'must be an object');
  return v;
}

export function nowSecs(o) {
  return o.now === undefined ? Math.floor(Date.now() / 1000) : num('now', o.now);
}

export function skew(o) {
  return o.skewSecs === undefined ? 60 : num('skewSecs', o.skewSecs);
}

