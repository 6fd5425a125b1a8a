//! What the tracker sends out, and where it may send it.
//!
//! **Destinations** ([`check_destination`]): http(s) only, and a host that is, or
//! resolves to, a loopback, private, link-local, CGNAT, multicast, unspecified or
//! otherwise reserved address is refused (IPv4, IPv6, IPv4-mapped and embedded IPv6;
//! decimal and octal IPv4 forms are read as the URL standard reads them), unless private
//! destinations are allowed (tests, intranets). Checked when a destination is saved and
//! again before every request, so a name that later resolves inward is caught.
//!
//! **Partner postback templates**: a partner's own tracker URL with macros, e.g.
//! `https://t.partner.example/pb?cid={click_id}&sub={sid}&payout={commission}&s={status}`,
//! requested on the events of conversions credited to that partner.
//!
//! A template is checked when it is saved: an absolute `http(s)` URL with a host and no
//! credentials, every `{…}` one of [`MACROS`], and no macro in the scheme, host or port
//! (a value can never choose where the request goes). Values are percent-encoded when
//! filled in (everything but `A-Z a-z 0-9 - . _ ~`), so an order id or ad name holding
//! `&`, `#`, `%` or spaces stays one value.

use std::net::IpAddr;

mod bell;
mod events;
mod inward;
mod webhook;

pub(crate) use bell::Bell;
pub(crate) use events::random_hex;
pub use events::{
    Attempt, DELIVERY_RETENTION_SECS, Delivery, DeliveryFilter, DeliveryState, Event, EventKind,
    EventObject, KEPT_ATTEMPTS, LEASE_SECS, RETRY_WINDOW_SECS, Target, new_message_id,
    newest_first, random_jitter, retry_delay,
};
pub use inward::is_inward;
pub use webhook::{
    MAX_WEBHOOKS, SECRET_PREFIX, Webhook, WebhookRequest, WebhookSecret, check_webhook_id,
    webhook_body,
};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::error::{Error, Result};
use crate::records::Conversion;

/// The macros a postback template may hold.
pub const MACROS: [&str; 12] = [
    "event",
    "order_id",
    "click_id",
    "campaign",
    "partner",
    "ad",
    "sid",
    "kind",
    "amount",
    "currency",
    "commission",
    "status",
];

/// Longest template, in bytes.
pub const MAX_TEMPLATE_LEN: usize = 2048;

/// What a value may keep unencoded: RFC 3986's unreserved characters.
const VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Macro(usize),
}

/// A checked postback template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostbackTemplate {
    pieces: Vec<Piece>,
}

fn bad(reason: impl Into<std::borrow::Cow<'static, str>>) -> Error {
    Error::malformed("postback_url", reason)
}

impl PostbackTemplate {
    /// Checks `template` (see the module documentation); errors name what is wrong.
    pub fn parse(template: &str) -> Result<PostbackTemplate> {
        if template.len() > MAX_TEMPLATE_LEN {
            return Err(bad("longer than 2048 bytes"));
        }
        if !template.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') {
            return Err(bad("only printable ASCII without spaces or backslashes"));
        }
        let Some(after_scheme) = template
            .strip_prefix("https://")
            .or_else(|| template.strip_prefix("http://"))
        else {
            return Err(bad("expected an absolute http(s) URL: https://host/…"));
        };
        let authority = after_scheme
            .split(['/', '?', '#'])
            .next()
            .unwrap_or_default();
        if authority.is_empty() || authority.contains(['{', '}']) {
            return Err(bad(
                "expected a host after the scheme; macros may stand in the path and query only",
            ));
        }
        let mut pieces = Vec::new();
        let mut rest = template;
        while let Some(open) = rest.find(['{', '}']) {
            if rest.as_bytes()[open] == b'}' {
                return Err(bad("a '}' without its '{'"));
            }
            let (text, tail) = rest.split_at(open);
            let close = tail.find('}').ok_or_else(|| bad("a '{' without its '}'"))?;
            let name = &tail[1..close];
            let index = MACROS.iter().position(|m| *m == name).ok_or_else(|| {
                let shown: String = name.chars().take(40).collect();
                bad(format!(
                    "unknown macro {{{shown}}}; known: {}",
                    MACROS.map(|m| format!("{{{m}}}")).join(" ")
                ))
            })?;
            if !text.is_empty() {
                pieces.push(Piece::Text(text.to_owned()));
            }
            pieces.push(Piece::Macro(index));
            rest = &tail[close + 1..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_owned()));
        }
        let template = PostbackTemplate { pieces };
        // Filled two ways, the URL must go to the same place: no value reaches the
        // scheme, host or port, however the URL standard reads it.
        let place = |fill: &str| -> Result<(String, Option<String>, Option<u16>)> {
            let mut v = PostbackValues::default();
            for m in MACROS {
                v.set(m, fill);
            }
            let url = url::Url::parse(&template.render(&v)).map_err(|e| bad(e.to_string()))?;
            if !url.username().is_empty() || url.password().is_some() {
                return Err(bad("credentials in the URL are not allowed"));
            }
            Ok((
                url.scheme().to_owned(),
                url.host_str().map(str::to_owned),
                url.port_or_known_default(),
            ))
        };
        let (a, b) = (place("a1")?, place("b2")?);
        if a != b || a.1.is_none_or(|h| h.is_empty()) {
            return Err(bad(
                "macros may stand in the path and query only, not the host",
            ));
        }
        Ok(template)
    }

    /// The URL for `values`: each macro replaced by its value, percent-encoded.
    #[must_use]
    pub fn render(&self, values: &PostbackValues) -> String {
        let mut out = String::new();
        for p in &self.pieces {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Macro(i) => {
                    out.extend(utf8_percent_encode(values.get(*i), VALUE));
                }
            }
        }
        out
    }
}

/// The values of a postback's macros, in [`MACROS`] order; absent ones are empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostbackValues([String; 12]);

impl PostbackValues {
    /// The values for `event` (`conversion.created`, `conversion.updated`) of
    /// `conversion`, as its level-0 partner sees it: amounts decimal, its own
    /// commission.
    #[must_use]
    pub fn of(event: &str, conversion: &Conversion) -> PostbackValues {
        let c = conversion;
        PostbackValues([
            event.to_owned(),
            c.order_id.clone(),
            c.click_id.map(|k| k.to_string()).unwrap_or_default(),
            c.link.campaign.to_string(),
            c.link.partner.to_string(),
            c.link.ad.map(|a| a.to_string()).unwrap_or_default(),
            c.link.sid.map(|s| s.to_string()).unwrap_or_default(),
            c.kind.as_str().to_owned(),
            c.amount.to_string(),
            c.amount.currency().code().to_owned(),
            c.commission().to_string(),
            c.status.as_str().to_owned(),
        ])
    }

    fn get(&self, i: usize) -> &str {
        self.0.get(i).map_or("", String::as_str)
    }

    /// Sets the macro `name` (one of [`MACROS`]); other names are ignored.
    pub fn set(&mut self, name: &str, value: &str) {
        if let Some(i) = MACROS.iter().position(|m| *m == name) {
            self.0[i] = value.to_owned();
        }
    }
}

/// Checks an outbound destination: an absolute http(s) URL without credentials whose
/// host is not inward ([`is_inward`]); a name is resolved with `resolve` (host, port)
/// and every address it gives must be outward (a name that resolves to nothing is
/// refused too). With `allow_private`, only the scheme and shape are checked. Errors
/// are `malformed` (shape) or `forbidden` (where it points).
pub fn check_destination(
    url: &str,
    allow_private: bool,
    resolve: impl FnOnce(&str, u16) -> std::io::Result<Vec<IpAddr>>,
) -> Result<url::Url> {
    check(url, allow_private, true, resolve)
}

/// [`check_destination`] for a destination being saved: a name that does not resolve
/// (yet) is accepted, since it points nowhere; it is refused at send time while it
/// still does not resolve, and checked again once it does.
pub fn check_saved_destination(
    url: &str,
    allow_private: bool,
    resolve: impl FnOnce(&str, u16) -> std::io::Result<Vec<IpAddr>>,
) -> Result<url::Url> {
    check(url, allow_private, false, resolve)
}

/// The system's resolver, for [`check_destination`].
pub fn resolve_system(host: &str, port: u16) -> std::io::Result<Vec<IpAddr>> {
    use std::net::ToSocketAddrs as _;
    Ok((host, port).to_socket_addrs()?.map(|a| a.ip()).collect())
}

fn check(
    url: &str,
    allow_private: bool,
    must_resolve: bool,
    resolve: impl FnOnce(&str, u16) -> std::io::Result<Vec<IpAddr>>,
) -> Result<url::Url> {
    let parsed = url::Url::parse(url)
        .map_err(|e| Error::malformed("url", format!("not an absolute URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(Error::malformed("url", "only http and https destinations"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(Error::malformed(
            "url",
            "credentials in the URL are not allowed",
        ));
    }
    let port = parsed.port_or_known_default().unwrap_or(443);
    let addresses = match parsed.host() {
        None => return Err(Error::malformed("url", "no host")),
        Some(url::Host::Ipv4(v4)) => vec![IpAddr::V4(v4)],
        Some(url::Host::Ipv6(v6)) => vec![IpAddr::V6(v6)],
        Some(url::Host::Domain(_)) if allow_private => Vec::new(),
        Some(url::Host::Domain(name)) => {
            let found = match resolve(name, port) {
                Ok(found) => found,
                Err(_) if !must_resolve => Vec::new(),
                Err(e) => {
                    return Err(Error::Forbidden(format!(
                        "the destination's host does not resolve: {e}"
                    )));
                }
            };
            if found.is_empty() && must_resolve {
                return Err(Error::Forbidden(
                    "the destination's host does not resolve".into(),
                ));
            }
            found
        }
    };
    if !allow_private && let Some(ip) = addresses.iter().find(|ip| is_inward(**ip)) {
        return Err(Error::Forbidden(format!(
            "the destination points inward ({ip}): loopback, private, link-local, CGNAT, \
             multicast and reserved addresses are refused"
        )));
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> PostbackValues {
        let mut v = PostbackValues::default();
        for (k, x) in pairs {
            v.set(k, x);
        }
        v
    }

    #[test]
    fn macros_are_filled_and_percent_encoded() {
        let t = PostbackTemplate::parse(
            "https://t.partner.example/pb/{partner}?cid={click_id}&o={order_id}&p={commission}#{event}",
        )
        .unwrap();
        let url = t.render(&values(&[
            ("partner", "abc123"),
            ("click_id", "ck1"),
            ("order_id", "A&B #1 100%/é"),
            ("commission", "4.99"),
            ("event", "conversion.created"),
        ]));
        assert_eq!(
            url,
            "https://t.partner.example/pb/abc123?cid=ck1&o=A%26B%20%231%20100%25%2F%C3%A9&p=4.99#conversion.created"
        );
        // Every value stays one query value.
        let parsed = url::Url::parse(&url).unwrap();
        let o = parsed.query_pairs().find(|(k, _)| k == "o").unwrap().1;
        assert_eq!(o, "A&B #1 100%/é");
        // Absent values are empty.
        assert_eq!(
            PostbackTemplate::parse("http://x.example/?s={sid}")
                .unwrap()
                .render(&values(&[])),
            "http://x.example/?s="
        );
    }

    #[test]
    fn bad_templates_are_refused_when_saved() {
        for t in [
            "https://x.example/?a={nope}",
            "https://x.example/?a={sid",
            "https://x.example/?a=sid}",
            "https://x.example/?a={{sid}}",
            "https://{partner}.evil.example/",
            "https://x.example:{amount}/",
            "{event}://x.example/",
            "https://u:p@x.example/?a={sid}",
            "javascript:alert(1)",
            "ftp://x.example/{sid}",
            "https:///{sid}",
            "https://x.example/ {sid}",
            "https://x.example/\\{sid}",
            "/relative/{sid}",
            "",
        ] {
            assert_eq!(
                PostbackTemplate::parse(t).unwrap_err().code(),
                "malformed",
                "{t:?}"
            );
        }
        let e = PostbackTemplate::parse("https://x.example/?a={payout}").unwrap_err();
        assert!(e.to_string().contains("unknown macro {payout}"), "{e}");
        assert!(
            PostbackTemplate::parse(&format!("https://x.example/?{}", "a".repeat(2100))).is_err()
        );
    }

    fn no_dns(_: &str, _: u16) -> std::io::Result<Vec<IpAddr>> {
        Err(std::io::Error::other("no lookups in this test"))
    }

    #[test]
    fn inward_destinations_are_refused_in_every_spelling() {
        for url in [
            "http://127.0.0.1/",
            "http://127.1/",
            "http://2130706433/",
            "http://0x7f000001/",
            "http://0177.0.0.1/",
            "http://0/",
            "http://0.0.0.0:8080/",
            "http://10.1.2.3/",
            "http://172.16.0.1/",
            "http://172.31.255.255/",
            "http://192.168.1.1/",
            "http://169.254.169.254/latest/meta-data/",
            "http://100.64.0.1/",
            "http://100.127.255.255/",
            "http://224.0.0.1/",
            "http://255.255.255.255/",
            "http://240.0.0.1/",
            "http://[::1]/",
            "http://[::]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "http://[::ffff:169.254.169.254]/",
            "http://[::127.0.0.1]/",
            "http://[64:ff9b::10.0.0.1]/",
            "http://[2002:c0a8:0101::1]/",
            "http://[fe80::1]/",
            "http://[fc00::1]/",
            "http://[fd12:3456::1]/",
            "http://[fec0::1]/",
            "http://[ff02::1]/",
            // The IANA registries' other blocks that are not globally reachable.
            "http://[64:ff9b:1::a00:1]/",
            "http://[64:ff9b:1:ffff::1]/",
            "http://[::ffff:8.8.8.8]/",
            "http://[::ffff:0:808:808]/",
            "http://[::ffff:0:a00:1]/",
            "http://[2001::1]/",
            "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
            "http://[2001:2::1]/",
            "http://[2001:db8::1]/",
            "http://[2001:10::1]/",
            "http://[100::1]/",
            "http://[3fff::1]/",
            "http://[5f00::1]/",
            "http://192.0.2.1/",
            "http://198.51.100.7/",
            "http://203.0.113.9/",
            "http://192.88.99.1/",
        ] {
            let e = check_destination(url, false, no_dns).unwrap_err();
            assert_eq!(e.code(), "forbidden", "{url}: {e}");
            assert!(
                check_destination(url, true, no_dns).is_ok(),
                "{url} with the flag"
            );
        }
        // Names are resolved: every address must be outward.
        let inward = |_: &str, _: u16| {
            Ok(vec![
                "93.184.216.34".parse().unwrap(),
                "10.0.0.5".parse().unwrap(),
            ])
        };
        assert_eq!(
            check_destination("https://rebind.example/", false, inward)
                .unwrap_err()
                .code(),
            "forbidden"
        );
        let outward = |_: &str, _: u16| Ok(vec!["93.184.216.34".parse().unwrap()]);
        assert!(check_destination("https://hooks.example/x", false, outward).is_ok());
        assert!(check_destination("https://8.8.8.8/", false, no_dns).is_ok());
        assert!(check_destination("http://[2606:4700::1111]/", false, no_dns).is_ok());
        // Global addresses next to the refused blocks stay reachable.
        for url in [
            "http://[2001:4860:4860::8888]/",
            "http://[2001:4:112::1]/",
            "http://[2001:20::1]/",
            "http://[2001:1::1]/",
            "http://[64:ff9b::808:808]/",
            "http://[2002:808:808::1]/",
            "http://192.0.3.1/",
            "http://203.0.114.1/",
        ] {
            assert!(check_destination(url, false, no_dns).is_ok(), "{url}");
        }
        assert!(
            check_destination("http://100.128.0.1/", false, no_dns).is_ok(),
            "just past CGNAT"
        );
        assert_eq!(
            check_destination("https://nowhere.example/", false, no_dns)
                .unwrap_err()
                .code(),
            "forbidden"
        );
        for bad in [
            "ftp://8.8.8.8/",
            "file:///etc/passwd",
            "https://u:p@8.8.8.8/",
            "not a url",
            "gopher://x/",
        ] {
            assert_eq!(
                check_destination(bad, false, no_dns).unwrap_err().code(),
                "malformed",
                "{bad}"
            );
        }
    }
}
