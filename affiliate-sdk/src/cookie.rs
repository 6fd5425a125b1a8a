//! The first-party cookie that carries the session token.
//!
//! [`CookieConfig::set_cookie`] writes the `Set-Cookie` value (defaults: name
//! `aff_token`, `Path=/; HttpOnly; SameSite=Lax`, `Secure` when configured, `Domain`
//! when configured, `Max-Age` from the token's window). [`CookieConfig::find`] reads the
//! token back from a `Cookie` request header, ignoring malformed neighbours and
//! refusing headers longer than [`MAX_COOKIE_HEADER_LEN`].
//!
//! Set this cookie from the merchant's own backend (an HTTP response of the shop's
//! domain): Safari caps cookies written by JavaScript at 7 days, but not this one.

use crate::error::{Error, Result};
use crate::token::{MAX_TOKEN_LEN, UntrustedToken};

/// The default cookie (and landing query parameter) name.
pub const DEFAULT_COOKIE_NAME: &str = "aff_token";

/// Longest `Cookie` header [`CookieConfig::find`] reads: 8 KiB, the common limit of
/// servers and proxies for one header line.
pub const MAX_COOKIE_HEADER_LEN: usize = 8192;

/// How the token cookie is written and found.
///
/// ```
/// use affiliate_sdk::CookieConfig;
/// let cfg = CookieConfig::new().secure(true).domain(".shop.example")?;
/// let header = cfg.set_cookie("v1.k1.1702592000.1700000000.AYvP5WgAejydLgEjRWeJqw.haircare.abc123...v1Af6m4lqecE8z0xRo2kiQ", 2_419_200)?;
/// assert_eq!(
///     header,
///     "aff_token=v1.k1.1702592000.1700000000.AYvP5WgAejydLgEjRWeJqw.haircare.abc123...v1Af6m4lqecE8z0xRo2kiQ; HttpOnly; SameSite=Lax; Secure; Path=/; Domain=shop.example; Max-Age=2419200"
/// );
///
/// let found = cfg.find("theme=dark; aff_token=v1.k1.1702592000.1700000000.AYvP5WgAejydLgEjRWeJqw.haircare.abc123...v1Af6m4lqecE8z0xRo2kiQ; =broken")?;
/// assert_eq!(found, Some("v1.k1.1702592000.1700000000.AYvP5WgAejydLgEjRWeJqw.haircare.abc123...v1Af6m4lqecE8z0xRo2kiQ"));
/// # Ok::<(), affiliate_sdk::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieConfig {
    name: String,
    domain: Option<String>,
    secure: bool,
}

impl Default for CookieConfig {
    fn default() -> Self {
        CookieConfig {
            name: DEFAULT_COOKIE_NAME.to_owned(),
            domain: None,
            secure: false,
        }
    }
}

impl CookieConfig {
    /// `aff_token`, host-only, not `Secure`.
    #[must_use]
    pub fn new() -> CookieConfig {
        CookieConfig::default()
    }

    /// Another cookie name: 1–64 bytes of `[A-Za-z0-9_-]`.
    pub fn name(mut self, name: &str) -> Result<CookieConfig> {
        crate::code::code_field("cookie name", name)?;
        self.name = name.to_owned();
        Ok(self)
    }

    /// Shares the cookie with subdomains, e.g. `.shop.example`. An empty string means
    /// host-only (the default).
    pub fn domain(mut self, domain: &str) -> Result<CookieConfig> {
        if domain.is_empty() {
            self.domain = None;
            return Ok(self);
        }
        let host = domain.strip_prefix('.').unwrap_or(domain);
        let valid_label = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if host.len() > 253 || !host.split('.').all(valid_label) {
            return Err(Error::malformed(
                "cookie domain",
                "expected a host name such as .shop.example",
            ));
        }
        self.domain = Some(domain.to_owned());
        Ok(self)
    }

    /// Adds `Secure` (set it when the site is served over https).
    #[must_use]
    pub fn secure(mut self, secure: bool) -> CookieConfig {
        self.secure = secure;
        self
    }

    /// The cookie's name.
    #[must_use]
    pub fn cookie_name(&self) -> &str {
        &self.name
    }

    /// The `Set-Cookie` header value carrying `token` for `max_age_secs` seconds.
    /// A token with characters that do not belong in a token is refused.
    pub fn set_cookie(&self, token: &str, max_age_secs: u64) -> Result<String> {
        UntrustedToken::parse(token)?;
        Ok(self.build(token, max_age_secs))
    }

    /// The `Set-Cookie` header value for `token` with `Max-Age` running to the token's
    /// expiry as seen at `now` (Unix seconds).
    pub fn set_cookie_until_expiry(&self, token: &str, now: u64) -> Result<String> {
        let expires_at = UntrustedToken::parse(token)?.expires_at();
        Ok(self.build(token, expires_at.saturating_sub(now)))
    }

    /// The `Set-Cookie` header value that deletes the cookie.
    #[must_use]
    pub fn clear_cookie(&self) -> String {
        self.build("", 0)
    }

    /// The `Set-Cookie` value for a token already known to be well formed: what the
    /// `cookie` crate writes for it (a test holds the two equal), written straight
    /// into one string, since it is written on every click.
    pub(crate) fn build(&self, value: &str, max_age_secs: u64) -> String {
        let max_age = max_age_secs.min(i64::MAX as u64);
        let domain = self
            .domain
            .as_deref()
            .map(|d| d.strip_prefix('.').unwrap_or(d));
        let mut out =
            String::with_capacity(self.name.len() + value.len() + 72 + domain.map_or(0, str::len));
        out.push_str(&self.name);
        out.push('=');
        out.push_str(value);
        out.push_str("; HttpOnly; SameSite=Lax");
        if self.secure {
            out.push_str("; Secure");
        }
        out.push_str("; Path=/");
        if let Some(domain) = domain {
            out.push_str("; Domain=");
            out.push_str(domain);
        }
        out.push_str("; Max-Age=");
        out.push_str(itoa::Buffer::new().format(max_age));
        out
    }

    /// Finds this cookie's value in a `Cookie` request header. Malformed cookies
    /// around it are skipped; when the name appears more than once, the first value
    /// is returned (browsers send the most specific path first). Headers longer than
    /// [`MAX_COOKIE_HEADER_LEN`] are refused; values longer than a token can be are
    /// ignored.
    pub fn find<'h>(&self, cookie_header: &'h str) -> Result<Option<&'h str>> {
        parse_cookie_header(cookie_header, &self.name)
    }
}

impl CookieConfig {
    /// Every value of this cookie in a `Cookie` header, in order, at most
    /// [`MAX_COOKIE_CANDIDATES`], whatever the header's length: a browser sends one
    /// cookie per domain and path that matches, so a sibling subdomain's `aff_token`
    /// may come first. [`Tracker::token_from_cookies`](crate::Tracker::token_from_cookies)
    /// keeps the first whose signature verifies.
    pub fn candidates<'h>(&self, cookie_header: &'h str) -> impl Iterator<Item = &'h str> {
        let name = self.name.clone();
        pairs(cookie_header)
            .filter(move |(n, _)| *n == name)
            .map(|(_, v)| v)
            .filter(|v| !v.is_empty() && v.len() <= MAX_TOKEN_LEN)
            .take(MAX_COOKIE_CANDIDATES)
    }
}

/// The `name=value` pairs of a `Cookie` request header, in order: pieces between `;`,
/// each trimmed, split at its first `=`, name and value trimmed; a piece with no `=`
/// or an empty name is skipped. This is how the `cookie` crate's `split_parse` reads
/// a header (a test holds the two equal); a request header carries no attributes, so
/// the crate's date parsing (a fifth of the WASM module) is not needed to read one.
fn pairs(header: &str) -> impl Iterator<Item = (&str, &str)> {
    header.split(';').filter_map(|piece| {
        let (name, value) = piece.trim().split_once('=')?;
        let name = name.trim();
        (!name.is_empty()).then(|| (name, value.trim()))
    })
}

/// Most values of the token cookie [`CookieConfig::candidates`] yields per header.
pub const MAX_COOKIE_CANDIDATES: usize = 16;

/// Finds the cookie `name` in a `Cookie` request header; see [`CookieConfig::find`].
pub fn parse_cookie_header<'h>(cookie_header: &'h str, name: &str) -> Result<Option<&'h str>> {
    if cookie_header.len() > MAX_COOKIE_HEADER_LEN {
        return Err(Error::malformed("cookie header", "longer than 8192 bytes"));
    }
    Ok(pairs(cookie_header)
        .filter(|(n, _)| *n == name)
        .map(|(_, v)| v)
        .find(|v| !v.is_empty() && v.len() <= MAX_TOKEN_LEN))
}

#[cfg(test)]
mod tests {
    use super::CookieConfig;
    use cookie::time::Duration;
    use cookie::{Cookie, SameSite};

    /// The `cookie` crate's rendering of the same cookie: `build` must equal it.
    fn by_the_crate(cfg: &CookieConfig, value: &str, max_age: u64) -> String {
        let mut cookie = Cookie::build((cfg.name.as_str(), value))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(cfg.secure)
            .max_age(Duration::seconds(
                i64::try_from(max_age).unwrap_or(i64::MAX),
            ));
        if let Some(domain) = &cfg.domain {
            cookie = cookie.domain(domain.as_str());
        }
        cookie.build().to_string()
    }

    /// The `cookie` crate's reading of a `Cookie` header: `pairs` must equal it.
    fn pairs_by_the_crate(header: &str) -> Vec<(&str, &str)> {
        Cookie::split_parse(header)
            .filter_map(Result::ok)
            .filter_map(|c| Some((c.name_raw()?, c.value_raw()?)))
            .collect()
    }

    #[test]
    fn pairs_reads_what_the_cookie_crate_reads() {
        for header in [
            "",
            ";",
            " ; ;",
            "a=1",
            "a=1; b=2",
            " a = 1 ;b= 2 ",
            "=x; a=1",
            "novalue; a=1",
            "a==1=; b=",
            "a=\"q\"; b=\u{a0}x\u{a0}",
            "\u{3000}a=1\u{3000}; c=\u{85}",
            "aff_token=v1.k1.1.2.A.c.p...B; theme=dark; =broken",
            "a=1;;;b=2; Path=/; Secure",
        ] {
            assert_eq!(
                super::pairs(header).collect::<Vec<_>>(),
                pairs_by_the_crate(header),
                "{header:?}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn pairs_reads_any_header_as_the_cookie_crate_does(
            header in "([ \t;=a-c\u{a0}\u{2003}\"]{0,4}){0,12}"
        ) {
            proptest::prop_assert_eq!(super::pairs(&header).collect::<Vec<_>>(), pairs_by_the_crate(&header));
        }
    }

    #[test]
    fn build_writes_what_the_cookie_crate_writes() {
        let token = "v1.k1.1702592000.1700000000.AYvP5WgAejydLgEjRWeJqw.haircare.abc123...v1Af6m4lqecE8z0xRo2kiQ";
        for secure in [false, true] {
            for domain in ["", ".shop.example", "shop.example", "a.b-c.example"] {
                for name in ["aff_token", "t"] {
                    let cfg = CookieConfig::new()
                        .name(name)
                        .unwrap()
                        .secure(secure)
                        .domain(domain)
                        .unwrap();
                    for (value, age) in [
                        (token, 2_419_200),
                        (token, 0),
                        ("", 0),
                        (token, u64::MAX),
                        (token, i64::MAX as u64 + 1),
                    ] {
                        assert_eq!(cfg.build(value, age), by_the_crate(&cfg, value, age));
                    }
                }
            }
        }
    }
}
