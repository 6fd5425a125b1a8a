/** The SDK's error codes (also the HTTP API's `{"error": {"code"}}`). */
export type ErrorCode =
  | 'malformed'
  | 'invalid_signature'
  | 'expired'
  | 'unknown_campaign'
  | 'unknown_partner'
  | 'not_attributable'
  | 'conflict'
  | 'invalid_transition'
  | 'unauthorized'
  | 'not_found'
  | 'store_unavailable'
  | 'forbidden'
  | 'managed_by_config';

export const ERROR_CODES: readonly ErrorCode[];

/** Every error the package throws. Messages never contain keys or whole tokens. */
export class AffiliateError extends Error {
  readonly name: 'AffiliateError';
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string);
  /** The error of an affiliate-server JSON answer `{"error": {"code", "message"}}`. */
  static fromJSON(body: unknown): AffiliateError;
}

/** Signing keys: the current one signs, every one verifies. */
export class Keyring {
  /** @param keys `{kid: base64url key}`, keys of at least 32 bytes. */
  constructor(keys: Record<string, string>, current: string);
  /** One fresh random key under `kid` (default `"k1"`). */
  static generate(kid?: string): Keyring;
  readonly current: string;
  readonly kids: string[];
  /** `{kid: base64url key}`, to store a generated ring. Secrets. */
  exportKeys(): Record<string, string>;
  /** `{current, kids}`: never the keys. */
  toJSON(): { current: string; kids: string[] };
}

/** What a link names: `campaign`, `partner` and `ad` are signed, `sid` is not. */
export interface Link {
  campaign: string;
  partner: string;
  ad: string | null;
  sid: string | null;
}

/** A link verified as a click does: a bad `sid` was dropped when `droppedSid`. */
export interface ClickLink extends Link {
  droppedSid: boolean;
}

/** Builds and verifies signed tracking links under a base URL. */
export class LinkSigner {
  constructor(keys: Keyring, baseUrl: string);
  /** The base URL, normalised, without a trailing slash. */
  readonly baseUrl: string;
  build(campaign: string, partner: string, options?: { ad?: string | null; sid?: string | null }): string;
  /** Strict: a bad `sid` is an error. Other appended parameters are ignored. */
  verify(url: string): Link;
  /** As a click: a bad `sid` is dropped. */
  verifyClick(url: string): ClickLink;
}

/** What a session token carries. Times are Unix seconds. */
export interface TokenClaims {
  clickId: string;
  campaign: string;
  partner: string;
  ad: string | null;
  sid: string | null;
  issuedAt: number;
  expiresAt: number;
}

export interface TimeOptions {
  /** Unix seconds; default now. */
  now?: number;
  /** Clock skew allowed on both ends of a window; default 60. */
  skewSecs?: number;
}

/** A new time-ordered 128-bit click id (UUIDv7 text) at `nowMs` (default now). */
export function newClickId(nowMs?: number): string;

/** Signs a session token with the keyring's current key. */
/**
 * The merchant's order signature (`osig`) for a confirmation page: over the order id,
 * the amount (decimal string, canonical form signed), the currency and the kind
 * (default `"sale"`).
 */
export function signOrder(
  keys: Keyring,
  order: { orderId: string; amount: string; currency: string; kind?: string },
): string;

export function issueToken(
  keys: Keyring,
  claims: {
    clickId: string;
    campaign: string;
    partner: string;
    ad?: string | null;
    sid?: string | null;
    issuedAt: number;
    expiresAt: number;
  },
): string;

/** Verifies a session token; throws `invalid_signature`, `expired` or `malformed`. */
export function verifyToken(keys: Keyring, token: string, options?: TimeOptions): TokenClaims;

/**
 * The attribution decision for a token at a conversion: verified, inside its window,
 * at least `minSecondsToConvert` after its click. Throws `invalid_signature`,
 * `expired`, `not_attributable` or `malformed`.
 */
export function attributeToken(
  keys: Keyring,
  token: string,
  options?: TimeOptions & { minSecondsToConvert?: number },
): TokenClaims & { evidence: 'token' };

/**
 * The decision at a click on `link` for a visitor carrying `priorToken`: whether the
 * click is unique, and whether a first-click campaign keeps the earlier token.
 */
export function decideClick(
  keys: Keyring,
  link: { campaign: string; partner: string },
  priorToken: string | null | undefined,
  options?: TimeOptions & { attribution?: 'first' | 'last' },
): { unique: boolean; keepEarlier: boolean };

/** A campaign as the config file writes it (snake_case; amounts as decimal strings). */
export interface CampaignSpec {
  code: string;
  destination: string;
  currency: string;
  cookie_days?: number;
  attribution?: 'first' | 'last';
  min_seconds_to_convert?: number;
  sale_percent?: string;
  sale_flat?: string;
  lead_flat?: string;
  click_flat?: string;
  impression_per_mille?: string;
  override_percents?: string[];
  recurring_months?: number;
  /** Hosts a link's `to=` may land on: `"shop.example"`, `"*.shop.example"` (every subdomain). */
  deep_link_hosts?: string[];
}

/** A partner as the config file writes it. */
export interface PartnerSpec {
  code: string;
  parent?: string;
  coupons?: string[];
}

/** The campaigns and partners a worker knows; clicks credit only these. */
export class Catalogue {
  constructor(options?: { param?: string });
  /** Adds or replaces a campaign; returns its code. */
  addCampaign(spec: CampaignSpec): string;
  /** Adds or replaces a partner (its parent first); returns its code. */
  addPartner(spec: PartnerSpec): string;
}

/** A click to record: what the core's click plan decided. */
export interface PlannedClick {
  credited: true;
  click: {
    clickId: string;
    campaign: string;
    partner: string;
    ad: string | null;
    sid: string | null;
    unique: boolean;
    /** Unix seconds. */
    at: number;
    currency: string;
    /** The campaign's per-click commission, a decimal string. */
    commission: string;
  };
  token: string;
  /** Null when the campaign waits for the visitor's consent (the token rides in `location`). */
  setCookie: string | null;
  /** The link's allowed `to=` target, else the campaign's destination; with the token. */
  location: string;
  keptEarlier: boolean;
  droppedSid: boolean;
  /** Why the link's `to=` was not followed (the visitor lands on the destination), or null. */
  refusedTo: AffiliateError | null;
}

/** A click that credits nobody: why, and the destination to land on (null: 404). */
export interface RefusedClick {
  credited: false;
  bot?: undefined;
  error: AffiliateError;
  fallback: string | null;
}

/** A bot's, crawler's or link preview's click: no token or cookie, counted in `bot_clicks`. */
export interface BotClick {
  credited: false;
  bot: true;
  botClick: { campaign: string; partner: string; ad: string | null; sid: string | null; at: number; currency: string };
  /** The link's allowed `to=` target, else the campaign's destination; no token. */
  location: string;
  /** Why the link's `to=` was not followed, or null. */
  refusedTo: AffiliateError | null;
}

/** The whole click decision, exactly as affiliate-server makes it. */
export function planClick(
  catalogue: Catalogue,
  signer: LinkSigner,
  url: string,
  options?: {
    priorToken?: string | null;
    nowMs?: number;
    cookieDomain?: string | null;
    secure?: boolean;
    skewSecs?: number;
    /** Whether a bot, crawler or link preview clicked (e.g. `isbot(userAgent)` from the npm `isbot` package): it lands with no token. */
    bot?: boolean;
  },
): PlannedClick | RefusedClick | BotClick;

/** Where a click would land, issuing and counting nothing (what `HEAD` answers). */
export function previewClick(
  catalogue: Catalogue,
  signer: LinkSigner,
  url: string,
): { credited: true; location: string } | RefusedClick;

/** Every error code as the Rust core lists them (equal to `ERROR_CODES`). */
export function coreErrorCodes(): ErrorCode[];

/** A token's expiry (Unix seconds), read without the key. */
export function tokenExpiry(token: string): number;

/** The cookie `name` (default `"aff_token"`) in a `Cookie` header, or null. */
export function parseCookieHeader(header: string, name?: string): string | null;

/** The `Set-Cookie` value for `token`: `Path=/; HttpOnly; SameSite=Lax`, `Max-Age`. */
export function setCookieHeader(
  token: string,
  maxAge: number,
  options?: { name?: string; domain?: string | null; secure?: boolean },
): string;

/**
 * Loads the module from `source` (default: the `.wasm` file next to the package's
 * `index.js`, fetched). Needed only in browsers: Node, Bun and Deno read the module from
 * disk on first use, and under the `workerd` condition it is imported as a module.
 */
export function initialize(source?: WebAssembly.Module | BufferSource | URL | string | Response): Promise<void>;
/** Instantiates the module now from a `WebAssembly.Module` or its bytes. */
export function initializeSync(source: WebAssembly.Module | BufferSource): void;

/** Options of {@link landing}. */
export interface LandingOptions {
  /** Unix seconds (default: now). */
  now?: number;
  /** Clock skew allowed on a token's times (default 60). */
  skewSecs?: number;
  /** The landing parameter and cookie name (default "aff_token"). */
  name?: string;
  /** The cookie's `Domain` (default: none, the host only). */
  domain?: string | null;
  /** `Secure` cookie (default: whether the request URL is https). */
  secure?: boolean;
}

/**
 * The landing step for a `fetch` `Request`: a `GET`/`HEAD` whose URL carries a fresh,
 * valid token gets a `302` to the same URL without it that sets the first-party
 * `HttpOnly` cookie; anything else `null` (serve it as asked).
 */
export function landing(keys: Keyring, request: Request, options?: LandingOptions): Response | null;

/** `handler` behind the landing step: landings are answered, everything else is `handler`'s. */
export function withLanding<A extends unknown[], R>(
  keys: Keyring,
  handler: (request: Request, ...rest: A) => R,
  options?: LandingOptions,
): (request: Request, ...rest: A) => R | Response;
