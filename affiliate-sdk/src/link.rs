//! Signed tracking links.
//!
//! A link is `{base}/{campaign}/{partner}[/{ad}]?sig=<kid>.<tag>`. The tag is the first
//! 128 bits of HMAC-SHA256, in unpadded base64url, over
//!
//! ```text
//! "affiliate-sdk:link:v1\0" || lp(kid) || lp(campaign) || lp(partner) || lp(ad)
//! ```
//!
//! where `lp(x)` is one byte holding `x`'s length followed by `x` (an absent ad is the
//! single byte `0`; codes are never empty, so the encoding is unambiguous). The host,
//! `sid` and any other query parameters (`utm_source`, …) are not signed: a partner
//! may append `&sid=<subid>` and the link still verifies.
//!
//! Only the signed part can fail a link: the path after the base URL (printable ASCII
//! other than `\`) and `sig` (at most [`MAX_LINK_LEN`] bytes together). Unsigned
//! parameters never do: bytes of any kind in other parameters are ignored, and of
//! several `sid`s the first valid one is kept. A URL may be up to [`MAX_URL_LEN`]
//! bytes long (an ad network's click id can be long).

use std::borrow::Cow;

use hmac::Mac;
use url::Url;

mod text;

pub(crate) use self::text::form_decode;
use self::text::{split_at_byte, strip_prefix_ignore_case};
use crate::code::{Code, Sid, code_field};
use crate::error::{Error, Result};
use crate::key::{Keyring, Purpose, encode_tag, tag, verify_tag};

/// Longest signed part of a link (the path after the base URL and `sig`, together).
pub const MAX_LINK_LEN: usize = 4096;

/// Longest URL [`LinkSigner::verify`] looks at; longer input is refused unparsed.
pub const MAX_URL_LEN: usize = 64 * 1024;

/// What a tracking link names. `campaign`, `partner` and `ad` are signed; `sid` is not.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Link {
    /// The campaign code.
    pub campaign: Code,
    /// The partner code.
    pub partner: Code,
    /// The optional ad (creative, placement) code.
    pub ad: Option<Code>,
    /// The partner's own sub-id, appended to the link; unsigned.
    pub sid: Option<Sid>,
}

impl Link {
    /// A link for `campaign` and `partner`, with no ad and no sid.
    #[must_use]
    pub fn new(campaign: Code, partner: Code) -> Link {
        Link {
            campaign,
            partner,
            ad: None,
            sid: None,
        }
    }

    /// Validates the codes and sid of a link.
    pub fn parse(
        campaign: &str,
        partner: &str,
        ad: Option<&str>,
        sid: Option<&str>,
    ) -> Result<Link> {
        Ok(Link {
            campaign: code_field("campaign code", campaign)?,
            partner: code_field("partner code", partner)?,
            ad: ad.map(|a| code_field("ad code", a)).transpose()?,
            sid: sid.map(Sid::new).transpose()?,
        })
    }
}

/// A link verified with the strictness of a click: the signed part is intact, and a
/// `sid` that did not validate was dropped (the click still counts) and is reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClickLink {
    /// The verified link; `sid` is `None` when it was absent or dropped.
    pub link: Link,
    /// Why the partner's `sid` was dropped, if it was.
    pub dropped_sid: Option<Error>,
    /// The link's first `to=` parameter, form-decoded and unchecked: a deep link's
    /// target, which the campaign's `deep_link_hosts` decide on.
    pub to: Option<String>,
}

/// Builds and verifies signed tracking links under one base URL.
///
/// ```
/// use affiliate_sdk::{Keyring, LinkSigner};
/// let signer = LinkSigner::new(Keyring::generate()?, "https://t.shop.example/go")?;
/// let url = signer.build("haircare", "abc123", Some("website2"), None)?;
/// assert!(url.starts_with("https://t.shop.example/go/haircare/abc123/website2?sig=k1."));
///
/// // The partner appends its sub-id and the ad platform its own parameters:
/// let link = signer.verify(&format!("{url}&sid=kw1&utm_source=news"))?;
/// assert_eq!((link.campaign.as_str(), link.partner.as_str()), ("haircare", "abc123"));
/// assert_eq!(link.sid.unwrap().as_str(), "kw1");
///
/// // Anyone who edits the signed part gets nothing:
/// let forged = url.replace("abc123", "evil99");
/// assert_eq!(signer.verify(&forged).unwrap_err().code(), "invalid_signature");
/// # Ok::<(), affiliate_sdk::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct LinkSigner {
    keyring: Keyring,
    /// Base URL without a trailing slash, e.g. `https://t.shop.example/go`.
    base: String,
    /// Path of the base URL without a trailing slash, e.g. `/go` (empty at the root).
    base_path: String,
}

impl LinkSigner {
    /// A signer for links under `base_url` (an absolute `http` or `https` URL with no
    /// query or fragment, such as `https://t.shop.example/go`).
    pub fn new(keyring: Keyring, base_url: &str) -> Result<LinkSigner> {
        let url = Url::parse(base_url)
            .map_err(|e| Error::malformed("base url", format!("not an absolute URL ({e})")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::malformed("base url", "scheme must be http or https"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(Error::malformed(
                "base url",
                "must not have a query or fragment",
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Error::malformed("base url", "must not carry credentials"));
        }
        LinkSigner::with_normalized_base_url(keyring, url.as_str())
    }

    /// A signer for links under `href`, a base URL already parsed and serialised by a
    /// WHATWG URL parser (the `url` crate, a JS engine's `URL`), so it is checked, not
    /// parsed: lowercase `http://` or `https://`, an authority without credentials, a
    /// path, no query or fragment, printable ASCII only. The JS package calls this
    /// with the engine's `URL(...).href`, which keeps the `url` crate out of the
    /// WebAssembly module; [`LinkSigner::new`] calls it after its own parse.
    ///
    /// ```
    /// use affiliate_sdk::{Keyring, LinkSigner};
    /// let ring = Keyring::generate()?;
    /// let s = LinkSigner::with_normalized_base_url(ring.clone(), "https://t.shop.example/go")?;
    /// assert_eq!(s.base_url(), LinkSigner::new(ring.clone(), "HTTPS://T.Shop.Example/go/")?.base_url());
    /// assert!(LinkSigner::with_normalized_base_url(ring, "HTTPS://T.Shop.Example/go").is_err());
    /// # Ok::<(), affiliate_sdk::Error>(())
    /// ```
    pub fn with_normalized_base_url(keyring: Keyring, href: &str) -> Result<LinkSigner> {
        let refuse = |why: &'static str| Err(Error::malformed("base url", why));
        if href.len() > MAX_LINK_LEN / 2 {
            return refuse("longer than 2048 bytes");
        }
        if !href.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') {
            return refuse("not a normalized URL: only printable ASCII other than backslash");
        }
        let Some(rest) = href
            .strip_prefix("https://")
            .or_else(|| href.strip_prefix("http://"))
        else {
            return refuse("not a normalized http or https URL");
        };
        let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
        if authority.is_empty() || authority.bytes().any(|b| b.is_ascii_uppercase()) {
            return refuse("not a normalized URL: empty or upper-case host");
        }
        if authority.contains('@') {
            return refuse("must not carry credentials");
        }
        if rest.contains(['?', '#']) {
            return refuse("must not have a query or fragment");
        }
        Ok(LinkSigner {
            keyring,
            base: href.trim_end_matches('/').to_owned(),
            base_path: path.trim_end_matches('/').to_owned(),
        })
    }

    /// The base URL links are built under (no trailing slash).
    #[must_use]
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The path of the base URL, without a trailing `/` (`/go` for
    /// `https://t.example/go`; empty for a base URL at the root): where a server
    /// receives its links.
    #[must_use]
    pub fn base_path(&self) -> &str {
        &self.base_path
    }

    /// The keyring in use.
    #[must_use]
    pub fn keyring(&self) -> &Keyring {
        &self.keyring
    }

    /// Validates the codes and builds the signed link.
    pub fn build(
        &self,
        campaign: &str,
        partner: &str,
        ad: Option<&str>,
        sid: Option<&str>,
    ) -> Result<String> {
        Ok(self.build_link(&Link::parse(campaign, partner, ad, sid)?))
    }

    /// Builds the signed URL of an already validated link.
    #[must_use]
    pub fn build_link(&self, link: &Link) -> String {
        let mut url = String::with_capacity(self.base.len() + 200);
        url.push_str(&self.base);
        for code in [Some(&link.campaign), Some(&link.partner), link.ad.as_ref()]
            .into_iter()
            .flatten()
        {
            url.push('/');
            url.push_str(code.as_str());
        }
        url.push_str("?sig=");
        self.write_sig(link, &mut url);
        if let Some(sid) = &link.sid {
            url.push_str("&sid=");
            url.push_str(sid.as_str());
        }
        url
    }

    /// The value of the `sig` parameter (`<kid>.<tag>`) for a link.
    #[must_use]
    pub fn sign(&self, link: &Link) -> String {
        let mut out = String::with_capacity(40);
        self.write_sig(link, &mut out);
        out
    }

    fn write_sig(&self, link: &Link, out: &mut String) {
        let (kid, mut mac) = self.keyring.signer(Purpose::Link);
        let parts = Parts {
            campaign: link.campaign.as_str(),
            partner: link.partner.as_str(),
            ad: link.ad.as_ref().map(Code::as_str),
        };
        absorb(&mut mac, kid.as_str().as_bytes(), &parts);
        out.push_str(kid.as_str());
        out.push('.');
        encode_tag(&tag(mac), out);
    }

    /// Verifies a link from its already-split parts (as a router sees them). The
    /// result has no `sid`: parse it with [`Sid::new`].
    pub fn verify_parts(
        &self,
        campaign: &str,
        partner: &str,
        ad: Option<&str>,
        sig: &str,
    ) -> Result<Link> {
        let parts = Parts {
            campaign,
            partner,
            ad,
        };
        self.check(&parts, sig)?;
        Ok(parts.link())
    }

    /// Verifies a whole link URL, strictly: when no `sid` parameter is 1–64 bytes of
    /// `[A-Za-z0-9._~-]` but one is present, that is an error. An absolute URL or a
    /// path with query (`/go/c/p?sig=…`) is accepted; the host is not checked.
    pub fn verify(&self, url: &str) -> Result<Link> {
        let (parts, sid, _) = self.verify_url(url)?;
        Ok(Link {
            sid: sid.transpose()?,
            ..parts.link()
        })
    }

    /// Verifies a link as a click does: the signed part must be intact, but a bad
    /// `sid` is dropped and reported instead of failing the click.
    pub fn verify_click(&self, url: &str) -> Result<ClickLink> {
        let (parts, sid, to) = self.verify_url(url)?;
        let mut link = parts.link();
        let mut dropped_sid = None;
        match sid {
            Some(Ok(sid)) => link.sid = Some(sid),
            Some(Err(e)) => dropped_sid = Some(e),
            None => {}
        }
        Ok(ClickLink {
            link,
            dropped_sid,
            to: to.map(Cow::into_owned),
        })
    }

    /// Validates the codes and checks `sig` (`<kid>.<tag>`) over them.
    fn check(&self, parts: &Parts<'_>, sig: &str) -> Result<()> {
        Code::check(parts.campaign, "campaign code")?;
        Code::check(parts.partner, "partner code")?;
        if let Some(ad) = parts.ad {
            Code::check(ad, "ad code")?;
        }
        let (kid, tag_b64) = split_at_byte(sig, b'.')
            .ok_or_else(|| Error::malformed("link signature", "expected <kid>.<tag>"))?;
        let mut mac = self
            .keyring
            .verifier(kid.as_bytes(), Purpose::Link)?
            .clone();
        absorb(&mut mac, kid.as_bytes(), parts);
        verify_tag(mac, tag_b64.as_bytes())
    }

    /// The first path segment after the base URL, unverified: the campaign a link
    /// names, to land a visitor whose link does not verify on that campaign's
    /// destination. `None` when `url` is not a link under the base URL.
    #[must_use]
    pub fn campaign_segment<'u>(&self, url: &'u str) -> Option<&'u str> {
        if url.len() > MAX_URL_LEN {
            return None;
        }
        let (rest, _) = self.split_target(url).ok()?;
        Some(split_at_byte(rest, b'/').map_or(rest, |(campaign, _)| campaign))
    }

    /// Splits a request target (`/go/c/p?sig=…`) or an absolute http(s) URL into the
    /// path after the base path and the query; the fragment, scheme and authority are
    /// not part of the link.
    #[inline]
    fn split_target<'u>(&self, url: &'u str) -> Result<(&'u str, &'u str)> {
        let url = url.split_once('#').map_or(url, |(before, _)| before);
        let (target, query) = url.split_once('?').unwrap_or((url, ""));
        let path = if target.starts_with('/') {
            target
        } else {
            let after_scheme = strip_prefix_ignore_case(target, "https://")
                .or_else(|| strip_prefix_ignore_case(target, "http://"))
                .ok_or_else(|| Error::malformed("link", "not an http(s) URL or a path"))?;
            after_scheme.find('/').map_or("", |i| &after_scheme[i..])
        };
        let rest = path
            .strip_prefix(self.base_path.as_str())
            .and_then(|p| p.strip_prefix('/'))
            .ok_or_else(|| Error::malformed("link", "path is not under the base URL"))?;
        Ok((rest, query))
    }

    /// Checks the signed part; returns the codes, the `sid` kept (the first valid
    /// one, else the error of the first invalid one, else none) and the first `to`.
    ///
    /// The URL is split with plain byte loops and at most one `memchr` per
    /// delimiter: its pieces are short, and a link is verified on every click.
    #[allow(clippy::type_complexity)]
    fn verify_url<'u>(
        &self,
        url: &'u str,
    ) -> Result<(Parts<'u>, Option<Result<Sid>>, Option<Cow<'u, str>>)> {
        if url.len() > MAX_URL_LEN {
            return Err(Error::malformed("link", "longer than 65536 bytes"));
        }
        let (rest, query) = self.split_target(url)?;
        // The URL parser would silently drop tabs and newlines and read `\` as `/`;
        // refuse them in the signed path so it is verified exactly as written. (A fold
        // without early exit, so the check runs 16 or 32 bytes at a time.)
        if !rest
            .bytes()
            .fold(true, |ok, b| ok & b.is_ascii_graphic() & (b != b'\\'))
        {
            return Err(Error::malformed(
                "link",
                "only printable ASCII other than backslash allowed in the path",
            ));
        }
        let expected = || {
            Error::malformed(
                "link",
                "expected /{campaign}/{partner}[/{ad}] after the base URL",
            )
        };
        let (campaign, rest) = split_at_byte(rest, b'/').ok_or_else(expected)?;
        let (partner, ad) = match split_at_byte(rest, b'/') {
            None => (rest, None),
            Some((partner, ad)) if !ad.bytes().any(|b| b == b'/') => (partner, Some(ad)),
            Some(_) => return Err(expected()),
        };

        let mut sig: Option<Cow<'_, str>> = None;
        let mut sid: Option<Result<Sid>> = None;
        let mut to: Option<Cow<'u, str>> = None;
        let mut pairs = Some(query);
        while let Some(rest) = pairs {
            let (pair, next) =
                split_at_byte(rest, b'&').map_or((rest, None), |(p, n)| (p, Some(n)));
            pairs = next;
            let (name, value) = split_at_byte(pair, b'=').unwrap_or((pair, ""));
            match form_decode(name).as_ref() {
                "sig" if sig.is_some() => {
                    return Err(Error::malformed(
                        "link",
                        "parameter sig appears more than once",
                    ));
                }
                "sig" => sig = Some(form_decode(value)),
                // The first valid sid wins; a bad one is kept only until a valid one.
                "sid" if !matches!(sid, Some(Ok(_))) => {
                    let this = Sid::new(&form_decode(value));
                    if this.is_ok() || sid.is_none() {
                        sid = Some(this);
                    }
                }
                "to" if to.is_none() => to = Some(form_decode(value)),
                _ => {}
            }
        }
        let sig = sig.ok_or_else(|| Error::malformed("link", "no sig parameter"))?;
        if !sig.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') {
            return Err(Error::malformed(
                "link signature",
                "only printable ASCII other than backslash allowed",
            ));
        }
        if rest_len(campaign, partner, ad) + sig.len() > MAX_LINK_LEN {
            return Err(Error::malformed(
                "link",
                "the path and sig are longer than 4096 bytes",
            ));
        }
        let parts = Parts {
            campaign,
            partner,
            ad,
        };
        self.check(&parts, &sig)?;
        Ok((parts, sid, to))
    }
}

/// The bytes of the signed path: campaign, partner and ad with their slashes.
fn rest_len(campaign: &str, partner: &str, ad: Option<&str>) -> usize {
    campaign.len() + 1 + partner.len() + ad.map_or(0, |a| a.len() + 1)
}

/// The signed codes of a link as written in a URL or handed over by a router.
struct Parts<'a> {
    campaign: &'a str,
    partner: &'a str,
    ad: Option<&'a str>,
}

impl Parts<'_> {
    /// The link, for codes [`LinkSigner::check`] accepted.
    fn link(&self) -> Link {
        Link {
            campaign: Code::trusted(self.campaign),
            partner: Code::trusted(self.partner),
            ad: self.ad.map(Code::trusted),
            sid: None,
        }
    }
}

/// Feeds the canonical link encoding (after the purpose label) into `mac`, in one
/// update.
fn absorb(mac: &mut crate::key::HmacSha256, kid: &[u8], parts: &Parts<'_>) {
    let mut buf = arrayvec::ArrayVec::<u8, { 4 * (1 + crate::code::MAX_CODE_LEN) }>::new();
    for part in [
        kid,
        parts.campaign.as_bytes(),
        parts.partner.as_bytes(),
        parts.ad.unwrap_or_default().as_bytes(),
    ] {
        // Every part is at most 64 bytes (kids 16), so the length fits one byte.
        buf.push(part.len() as u8);
        // Capacity covers four maximal parts, so this never fails.
        let _ = buf.try_extend_from_slice(part);
    }
    mac.update(&buf);
}
