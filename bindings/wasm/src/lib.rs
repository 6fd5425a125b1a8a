//! The WebAssembly half of the JS package: thin exports over the core crate
//! (`default-features = false`: no sled). The public API is `js/index.js`, which calls
//! these and turns their answers into JS values; errors leave here as the string
//! `"<code>\u{1f}<message>"` and become `AffiliateError`s there, in one place.
//!
//! Strings cross the boundary by wasm-bindgen's string passing, except in the two
//! hot calls below. An answer of several fields (the click decision) is one string
//! with the fields joined by `\u{1f}`; no field can contain it.
//!
//! The two hot calls, token and link verification (and the token decision), use an
//! I/O buffer (`*Io`): `index.js` writes the ASCII text straight into a buffer in the module's
//! memory and reads the answer's fields from it, instead of wasm-bindgen's string
//! passing (an allocation, a `TextEncoder` and a `TextDecoder` per call, which cost
//! more than the HMAC). The verification itself is the same core call.

use std::cell::RefCell;

use affiliate_sdk as core;
use wasm_bindgen::prelude::*;

mod catalogue;

const SEP: char = '\u{1f}';

type Result<T> = std::result::Result<T, JsValue>;

/// The error as `index.js` expects it.
fn err(e: &core::Error) -> JsValue {
    JsValue::from_str(&format!("{}{SEP}{e}", e.code()))
}

fn malformed(field: &'static str, reason: &'static str) -> JsValue {
    err(&core::Error::Malformed {
        field,
        reason: reason.into(),
    })
}

trait OrJs<T> {
    fn js(self) -> Result<T>;
}

impl<T> OrJs<T> for core::Result<T> {
    fn js(self) -> Result<T> {
        self.map_err(|e| err(&e))
    }
}

/// Seconds from JS (a number): a whole number from 0 to 2^53.
fn secs(field: &'static str, n: f64) -> Result<u64> {
    const MAX_SAFE: f64 = 9_007_199_254_740_991.0;
    if n.is_finite() && n.fract() == 0.0 && (0.0..=MAX_SAFE).contains(&n) {
        // Exact: a whole number within 2^53.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Ok(n as u64)
    } else {
        Err(malformed(
            field,
            "must be a whole number of seconds from 0 to 2^53",
        ))
    }
}

fn opt(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

/// A keyring: the current key signs, every key verifies.
#[wasm_bindgen]
pub struct Keyring {
    inner: core::Keyring,
}

#[wasm_bindgen]
impl Keyring {
    /// From `kid, key` pairs flattened (`["k1", "<base64url>", "k2", …]`).
    #[wasm_bindgen(constructor)]
    pub fn new(pairs: Vec<String>, current: &str) -> Result<Keyring> {
        if !pairs.len().is_multiple_of(2) {
            return Err(malformed("keys", "expected kid, key pairs"));
        }
        let inner = core::Keyring::from_base64(
            pairs.chunks(2).map(|p| (p[0].as_str(), p[1].as_str())),
            current,
        )
        .js()?;
        Ok(Keyring { inner })
    }

    /// One fresh random key under `kid`.
    pub fn generate(kid: &str) -> Result<Keyring> {
        Ok(Keyring {
            inner: core::Keyring::new(kid, core::Key::generate().js()?).js()?,
        })
    }

    /// The signing key's id.
    #[wasm_bindgen(getter)]
    pub fn current(&self) -> String {
        self.inner.current_kid().to_string()
    }

    /// Every key id.
    #[wasm_bindgen(getter)]
    pub fn kids(&self) -> Vec<String> {
        self.inner.kids().map(|k| k.to_string()).collect()
    }

    /// `kid, key` pairs flattened, to store a generated ring. Secrets.
    #[wasm_bindgen(js_name = exportKeys)]
    pub fn export_keys(&self) -> Vec<String> {
        let mut out = Vec::new();
        for kid in self.inner.kids() {
            if let Some(key) = self.inner.key(kid.as_str()) {
                out.push(kid.to_string());
                out.push(key.to_base64());
            }
        }
        out
    }

    /// Signs a token with the current key. `ad` and `sid` are empty when absent.
    #[wasm_bindgen(js_name = issueToken)]
    #[allow(clippy::too_many_arguments)]
    pub fn issue_token(
        &self,
        click_id: &str,
        campaign: &str,
        partner: &str,
        ad: &str,
        sid: &str,
        issued_at: f64,
        expires_at: f64,
    ) -> Result<String> {
        let claims = core::TokenClaims {
            click_id: click_id.parse().js()?,
            link: core::Link::parse(campaign, partner, opt(ad), opt(sid)).js()?,
            issued_at: secs("issuedAt", issued_at)?,
            expires_at: secs("expiresAt", expires_at)?,
        };
        self.inner.issue_token(&claims).js()
    }

    /// Signs an order with the current key (`osig`).
    #[wasm_bindgen(js_name = signOrder)]
    pub fn sign_order(
        &self,
        order_id: &str,
        amount: &str,
        currency: &str,
        kind: &str,
    ) -> Result<String> {
        self.inner.sign_order(order_id, amount, currency, kind).js()
    }

    /// The attribution decision for a token at a conversion, over the I/O buffer:
    /// verified, in its window, and at least `min_seconds` after its click. The answer
    /// is [`Keyring::verify_token_io`]'s.
    #[wasm_bindgen(js_name = attributeTokenIo)]
    pub fn attribute_token_io(
        &self,
        len: usize,
        now: f64,
        skew_secs: f64,
        min_seconds: f64,
    ) -> Result<()> {
        let validation = core::TokenValidation {
            skew_secs: secs("skewSecs", skew_secs)?,
        };
        let now = secs("now", now)?;
        let min_seconds = secs("minSecondsToConvert", min_seconds)?;
        with_io("token", len, |token, out| {
            let v =
                core::attribute_token(&self.inner, token, now, &validation, |_| Ok(min_seconds))
                    .js()?;
            token_answer(&v, out);
            Ok(())
        })
    }

    /// The decision at a click on `campaign`/`partner` with the visitor's earlier
    /// token (empty when none; an invalid one counts as none): `"<unique>\u{1f}<keep>"`
    /// with `1`/`0` flags. `attribution` is `first` or `last`.
    #[wasm_bindgen(js_name = decidePrior)]
    pub fn decide_prior(
        &self,
        campaign: &str,
        partner: &str,
        prior: &str,
        attribution: &str,
        now: f64,
        skew_secs: f64,
    ) -> Result<String> {
        let link = core::Link::parse(campaign, partner, None, None).js()?;
        let now = secs("now", now)?;
        let validation = core::TokenValidation {
            skew_secs: secs("skewSecs", skew_secs)?,
        };
        let attribution: core::Attribution = attribution.parse().js()?;
        let (d, _) = core::weigh_prior_token(
            &self.inner,
            opt(prior),
            &link,
            attribution,
            now,
            &validation,
        );
        let flag = |b: bool| if b { '1' } else { '0' };
        Ok(format!("{}{SEP}{}", flag(d.unique), flag(d.keep_earlier)))
    }
}

/// Builds and verifies signed tracking links.
#[wasm_bindgen]
pub struct LinkSigner {
    pub(crate) inner: core::LinkSigner,
}

#[wasm_bindgen]
impl LinkSigner {
    /// `href` is the base URL as the engine's `URL` serialises it.
    #[wasm_bindgen(constructor)]
    pub fn new(keys: &Keyring, href: &str) -> Result<LinkSigner> {
        Ok(LinkSigner {
            inner: core::LinkSigner::with_normalized_base_url(keys.inner.clone(), href).js()?,
        })
    }

    #[wasm_bindgen(getter, js_name = baseUrl)]
    pub fn base_url(&self) -> String {
        self.inner.base_url().to_owned()
    }

    /// The signed link; `ad` and `sid` empty when absent.
    pub fn build(&self, campaign: &str, partner: &str, ad: &str, sid: &str) -> Result<String> {
        self.inner.build(campaign, partner, opt(ad), opt(sid)).js()
    }
}

/// Size of the I/O buffer: input text at `[0, IO_OUT)`, the answer after it.
const IO_SIZE: usize = 8192;
/// Where answers start; input up to `core::MAX_LINK_LEN` bytes fits before it.
const IO_OUT: usize = 4608;

thread_local! {
    static IO: RefCell<Box<[u8]>> = RefCell::new(vec![0; IO_SIZE].into_boxed_slice());
}

/// Where `index.js` writes input text and reads answers (an offset in the memory).
#[wasm_bindgen(js_name = ioBuffer)]
pub fn io_buffer() -> usize {
    IO.with(|b| b.borrow().as_ptr() as usize)
}

/// Runs `f` on the `len` bytes of input text, with the answer area to write into.
fn with_io<T>(
    field: &'static str,
    len: usize,
    f: impl FnOnce(&str, &mut Answer<'_>) -> Result<T>,
) -> Result<T> {
    IO.with(|b| {
        let mut b = b.borrow_mut();
        let (input, out) = b.split_at_mut(IO_OUT);
        let text = input
            .get(..len)
            .ok_or_else(|| malformed(field, "too long"))?;
        let text = std::str::from_utf8(text).map_err(|_| malformed(field, "only ASCII allowed"))?;
        f(text, &mut Answer { out, at: 0 })
    })
}

/// The answer area: fixed-size numbers and length-prefixed ASCII strings, in order.
struct Answer<'a> {
    out: &'a mut [u8],
    at: usize,
}

impl Answer<'_> {
    fn bytes(&mut self, b: &[u8]) {
        self.out[self.at..self.at + b.len()].copy_from_slice(b);
        self.at += b.len();
    }

    /// A string of at most 255 bytes (codes and sids are at most 64), or none.
    fn text(&mut self, s: Option<&str>) {
        let s = s.unwrap_or("");
        #[allow(clippy::cast_possible_truncation)]
        self.bytes(&[s.len().min(255) as u8]);
        self.bytes(&s.as_bytes()[..s.len().min(255)]);
    }

    #[allow(clippy::cast_precision_loss)]
    fn number(&mut self, n: u64) {
        // Token times are at most 10 digits: exact in an f64.
        self.bytes(&(n as f64).to_le_bytes());
    }
}

#[wasm_bindgen]
impl Keyring {
    /// The landing step (the core's `decide_landing`) for a request's method, path and
    /// raw query at `now`: `undefined` when there is no token (or another method),
    /// `[location, setCookie]` for a fresh, valid one, `[code]` for a refused one (a
    /// refusal changes nothing). Bad options throw.
    #[allow(clippy::too_many_arguments)] // the JS wrapper names them
    pub fn landing(
        &self,
        method: &str,
        path: &str,
        query: &str,
        now: f64,
        skew_secs: f64,
        name: &str,
        domain: &str,
        secure: bool,
    ) -> Result<Option<Vec<String>>> {
        let validation = core::TokenValidation {
            skew_secs: secs("skewSecs", skew_secs)?,
        };
        let cookie = core::CookieConfig::new()
            .name(name)
            .js()?
            .domain(domain)
            .js()?
            .secure(secure);
        let now = secs("now", now)?;
        Ok(
            match core::decide_landing(&self.inner, &validation, &cookie, now, method, path, query)
            {
                Ok(Some(l)) => Some(vec![l.location, l.set_cookie]),
                Ok(None) => None,
                Err(e) => Some(vec![e.code().to_owned()]),
            },
        )
    }

    /// [`Keyring::verify_token`] over the I/O buffer: the answer is the click id's 36
    /// characters, issued-at and expires-at as f64, then campaign, partner, ad and
    /// sid as length-prefixed strings.
    #[wasm_bindgen(js_name = verifyTokenIo)]
    pub fn verify_token_io(&self, len: usize, now: f64, skew_secs: f64) -> Result<()> {
        let validation = core::TokenValidation {
            skew_secs: secs("skewSecs", skew_secs)?,
        };
        let now = secs("now", now)?;
        with_io("token", len, |token, out| {
            let v = self.inner.verify_token_with(token, now, &validation).js()?;
            token_answer(&v, out);
            Ok(())
        })
    }
}

fn token_answer(v: &core::VerifiedToken<'_>, out: &mut Answer<'_>) {
    let mut id = [0u8; 36];
    v.click_id().encode_text(&mut id);
    out.bytes(&id);
    out.number(v.issued_at());
    out.number(v.expires_at());
    out.text(Some(v.campaign()));
    out.text(Some(v.partner()));
    out.text(v.ad());
    out.text(v.sid());
}

#[wasm_bindgen]
impl LinkSigner {
    /// [`LinkSigner::verify`] (`click` false) or [`LinkSigner::verify_click`] over the
    /// I/O buffer: campaign, partner, ad and sid as length-prefixed strings, then one
    /// byte, 1 when a bad sid was dropped.
    #[wasm_bindgen(js_name = verifyIo)]
    pub fn verify_io(&self, len: usize, click: bool) -> Result<()> {
        with_io("link", len, |url, out| {
            let (link, dropped) = if click {
                let c = self.inner.verify_click(url).js()?;
                (c.link, c.dropped_sid.is_some())
            } else {
                (self.inner.verify(url).js()?, false)
            };
            out.text(Some(link.campaign.as_str()));
            out.text(Some(link.partner.as_str()));
            out.text(link.ad.as_ref().map(core::Code::as_str));
            out.text(link.sid.as_ref().map(core::Sid::as_str));
            out.bytes(&[u8::from(dropped)]);
            Ok(())
        })
    }
}

thread_local! {
    pub(crate) static CLICK_IDS: RefCell<core::ClickIdGenerator> = RefCell::new(core::ClickIdGenerator::new());
}

/// A new time-ordered click id at `now_ms` (milliseconds).
#[wasm_bindgen(js_name = newClickId)]
pub fn new_click_id(now_ms: f64) -> Result<String> {
    let now_ms = secs("nowMs", now_ms)?;
    CLICK_IDS.with(|g| g.borrow().next(now_ms).map(|id| id.to_string()).js())
}

/// A token's expiry, read without the key (to size a cookie).
#[wasm_bindgen(js_name = tokenExpiry)]
pub fn token_expiry(token: &str) -> Result<f64> {
    let exp = core::UntrustedToken::parse(token).js()?.expires_at();
    // Token times are at most 10 digits: exact in an f64.
    #[allow(clippy::cast_precision_loss)]
    Ok(exp as f64)
}

/// The cookie `name` in a `Cookie` header (`undefined` when absent).
#[wasm_bindgen(js_name = parseCookieHeader)]
pub fn parse_cookie_header(header: &str, name: &str) -> Result<Option<String>> {
    Ok(core::parse_cookie_header(header, name)
        .js()?
        .map(str::to_owned))
}

/// The `Set-Cookie` value for `token` (`domain` empty when none).
#[wasm_bindgen(js_name = setCookieHeader)]
pub fn set_cookie_header(
    token: &str,
    max_age: f64,
    name: &str,
    domain: &str,
    secure: bool,
) -> Result<String> {
    let config = core::CookieConfig::new()
        .name(name)
        .js()?
        .domain(domain)
        .js()?
        .secure(secure);
    config.set_cookie(token, secs("maxAge", max_age)?).js()
}

/// Every error code of the SDK, in the core's order (`core::ERROR_CODES`).
#[wasm_bindgen(js_name = errorCodes)]
pub fn error_codes() -> Vec<String> {
    core::ERROR_CODES.iter().map(|c| (*c).to_owned()).collect()
}
