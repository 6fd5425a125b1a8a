//! Deep links: a link's unsigned `to=` parameter names the page a visitor lands on
//! instead of the campaign's destination (`…/go/spring/abc123?sig=…&to=https%3A%2F%2Fshop.example%2Fp%2F42`).
//!
//! The target is decided on the WHATWG parse of the URL, as a browser would read the
//! `Location` it ends up in: it must be an absolute `http` or `https` URL without
//! credentials whose host is one of the campaign's `deep_link_hosts` (`"shop.example"`,
//! or `"*.shop.example"` for every subdomain; on any port). Tabs and newlines, `\`,
//! `//host`, `user@host`, percent escapes, IDN look-alikes (compared in their `xn--`
//! form), trailing dots and IPv4 spellings are all read as the URL standard reads
//! them; anything not allowed lands on the campaign's destination and is reported in
//! [`ClickOutcome::refused_to`](super::ClickOutcome::refused_to). Open redirects: none.

use crate::error::{Error, Result};

/// The longest deep-link target, in bytes (as for destinations).
pub const MAX_DEEP_LINK_LEN: usize = 2048;

/// A deep link's target: an absolute `http(s)` URL with a host and no credentials, as
/// a WHATWG URL parser serialises it. Whether a campaign lets a click land there is
/// [`Campaign::check_deep_link`](super::Campaign::check_deep_link).
///
/// ```
/// use affiliate_sdk::DeepTarget;
/// let t = DeepTarget::parse("HTTPS://Shop.Example/p/42?c=red#top")?;
/// assert_eq!((t.href(), t.host()), ("https://shop.example/p/42?c=red#top", "shop.example"));
///
/// // Read as a browser reads it: the host here is evil.example.
/// assert_eq!(DeepTarget::parse("https://shop.example@evil.example/").unwrap_err().code(), "malformed");
/// assert_eq!(DeepTarget::parse("https:\\\\evil.example")?.host(), "evil.example");
/// assert!(DeepTarget::parse("javascript:alert(1)").is_err());
/// # Ok::<(), affiliate_sdk::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeepTarget {
    href: String,
    host: std::ops::Range<usize>,
}

impl DeepTarget {
    /// Parses `input` as the URL standard does (the `url` crate), with no base URL.
    pub fn parse(input: &str) -> Result<DeepTarget> {
        if input.len() > MAX_DEEP_LINK_LEN {
            return Err(too_long());
        }
        let url = url::Url::parse(input)
            .map_err(|e| Error::malformed("to", format!("not an absolute URL ({e})")))?;
        DeepTarget::from_href(url.as_str())
    }

    /// A target from `href`, a URL a WHATWG parser has already serialised (a JS
    /// engine's `new URL(to).href`), checked as text, so the JS package carries no URL
    /// parser of its own: lower-case `http://` or `https://`, no credentials, a host,
    /// printable ASCII only.
    pub fn from_href(href: &str) -> Result<DeepTarget> {
        if href.len() > MAX_DEEP_LINK_LEN {
            return Err(too_long());
        }
        if !href.bytes().all(|b| b.is_ascii_graphic()) || href.contains('\\') {
            return Err(Error::malformed(
                "to",
                "not a serialised URL (spaces, control characters or backslashes)",
            ));
        }
        let start = if href.starts_with("https://") {
            8
        } else if href.starts_with("http://") {
            7
        } else {
            return Err(Error::malformed("to", "must be an http or https URL"));
        };
        let rest = &href[start..];
        let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
        if authority.contains('@') {
            return Err(Error::malformed("to", "must not carry credentials"));
        }
        let host_len = if authority.starts_with('[') {
            authority.find(']').map_or(0, |i| i + 1)
        } else {
            authority.find(':').unwrap_or(authority.len())
        };
        let port = &authority[host_len..];
        let port_ok = port.is_empty()
            || port.strip_prefix(':').is_some_and(|p| {
                !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit())
            });
        let host = &authority[..host_len];
        if host.is_empty() || !port_ok || host.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(Error::malformed("to", "has no valid host"));
        }
        Ok(DeepTarget {
            href: href.to_owned(),
            host: start..start + host_len,
        })
    }

    /// The URL, serialised.
    #[must_use]
    pub fn href(&self) -> &str {
        &self.href
    }

    /// Its host: a lower-case domain (IDNs in `xn--` form), an IPv4 address, or an
    /// IPv6 address in brackets; without the port.
    #[must_use]
    pub fn host(&self) -> &str {
        &self.href[self.host.clone()]
    }
}

/// Whether `host` (as [`DeepTarget::host`] gives it) is one of `patterns`: equal to
/// a plain pattern, or a subdomain of a `*.` pattern's name (not the name itself)
/// whose own labels are letters, digits, `-` and `_` (the URL standard lets `*`,
/// `!` and others through; no real subdomain needs them).
pub(crate) fn host_allowed(patterns: &[String], host: &str) -> bool {
    patterns.iter().any(|p| match p.strip_prefix("*.") {
        Some(name) => host
            .strip_suffix(name)
            .and_then(|sub| sub.strip_suffix('.'))
            .is_some_and(|sub| {
                sub.split('.').all(|label| {
                    !label.is_empty()
                        && label.bytes().all(|b| {
                            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'
                        })
                })
            }),
        None => p == host,
    })
}

fn too_long() -> Error {
    Error::malformed("to", format!("longer than {MAX_DEEP_LINK_LEN} bytes"))
}

#[cfg(test)]
mod tests {
    use super::{DeepTarget, host_allowed};

    #[test]
    fn hosts_match_exactly_or_as_subdomains() {
        let p = ["shop.example".to_owned(), "*.pay.example".to_owned()];
        assert!(host_allowed(&p, "shop.example"));
        assert!(!host_allowed(&p, "www.shop.example"));
        assert!(!host_allowed(&p, "shop.example."));
        assert!(!host_allowed(&p, "evilshop.example"));
        assert!(host_allowed(&p, "eu.pay.example"));
        assert!(host_allowed(&p, "a.b.pay.example"));
        assert!(!host_allowed(&p, "pay.example"));
        assert!(!host_allowed(&p, "evilpay.example"));
        assert!(!host_allowed(&p, ".pay.example"));
        assert!(!host_allowed(&p, "*.pay.example"));
        assert!(!host_allowed(&p, "a..pay.example"));
        assert!(!host_allowed(&p, "a!b.pay.example"));
        assert!(host_allowed(&p, "x_1.pay.example"));
        assert!(!host_allowed(&[], "shop.example"));
    }

    #[test]
    fn serialised_urls_are_checked_as_text() {
        let t = DeepTarget::from_href("http://[::1]:8080/x").unwrap();
        assert_eq!(t.host(), "[::1]");
        let t = DeepTarget::from_href("https://127.0.0.2:9/").unwrap();
        assert_eq!(t.host(), "127.0.0.2");
        for bad in [
            "",
            "https://",
            "https:///x",
            "https://:80/",
            "https://a@shop.example/",
            "https://shop.example:x/",
            "https://shop.example:/",
            "HTTPS://shop.example/",
            "https://Shop.example/",
            "https://shop.example/a b",
            "https://shop.example/a\\b",
            "ftp://shop.example/",
            "javascript:alert(1)",
        ] {
            assert!(DeepTarget::from_href(bad).is_err(), "{bad:?}");
        }
        assert!(DeepTarget::from_href(&format!("https://a.example/{}", "x".repeat(2048))).is_err());
    }

    #[test]
    fn parsing_reads_urls_as_browsers_do() {
        let host = |s: &str| DeepTarget::parse(s).map(|t| t.host().to_owned());
        assert_eq!(host("https://shop.example").unwrap(), "shop.example");
        assert_eq!(host("https:shop.example/x").unwrap(), "shop.example");
        assert_eq!(host("ht\ttps://sh\nop.example/").unwrap(), "shop.example");
        assert_eq!(
            host("https://evil.example\\@shop.example/").unwrap(),
            "evil.example"
        );
        assert_eq!(host("https://shop%2Eexample/").unwrap(), "shop.example");
        assert_eq!(host("http://2130706434/").unwrap(), "127.0.0.2");
        assert_eq!(
            host("https://shоp.example/").unwrap(),
            "xn--shp-ted.example"
        );
        assert!(host("https://shop.example:443@evil.example/").is_err());
        assert!(host("//shop.example/").is_err());
        assert!(host("/\\evil.example").is_err());
        assert!(host("data:text/html,hi").is_err());
    }
}
