//! The landing redirect of a campaign: its destination with the session token added
//! to the query.

use crate::error::{Error, Result};
use crate::link::form_decode;

fn form_urlencoded_byte_serialize(s: &str) -> impl Iterator<Item = &str> {
    url::form_urlencoded::byte_serialize(s.as_bytes())
}

/// Where a campaign's clicks land, computed once: the destination with any landing
/// parameter removed from its query, up to `aff_token=`, then the fragment. A token is
/// `[A-Za-z0-9._~-]` only, so it goes between them unescaped.
#[derive(Debug, Clone)]
pub(crate) struct Redirect {
    prefix: String,
    suffix: String,
}

impl Redirect {
    /// The redirect of `destination`, a URL as a WHATWG parser serialises it (the
    /// campaign's validated destination). Works on the text: the query's other
    /// parameters keep their spelling.
    pub(crate) fn new(destination: &str, param: &str) -> Result<Redirect> {
        if param.is_empty() {
            return Err(Error::malformed("landing parameter", "must not be empty"));
        }
        let (url, suffix) = match destination.split_once('#') {
            Some((url, fragment)) => (url, format!("#{fragment}")),
            None => (destination, String::new()),
        };
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let mut prefix = String::with_capacity(url.len() + param.len() + 2);
        prefix.push_str(base);
        prefix.push('?');
        // Every parameter but a stale landing parameter, as written.
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let name = pair.split_once('=').map_or(pair, |(n, _)| n);
            if form_decode(name) != param {
                prefix.push_str(pair);
                prefix.push('&');
            }
        }
        prefix.extend(form_urlencoded_byte_serialize(param));
        prefix.push('=');
        Ok(Redirect { prefix, suffix })
    }

    pub(crate) fn location(&self, token: &str) -> String {
        let mut s = String::with_capacity(self.prefix.len() + token.len() + self.suffix.len());
        s.push_str(&self.prefix);
        s.push_str(token);
        s.push_str(&self.suffix);
        s
    }
}

#[cfg(test)]
mod tests {
    use super::Redirect;

    #[test]
    fn the_token_lands_in_the_query_before_the_fragment() {
        // Destinations reach the redirect as a URL parser serialised them.
        let at = |dest: &str| {
            let dest = url::Url::parse(dest).unwrap().to_string();
            Redirect::new(&dest, "aff_token")
                .unwrap()
                .location("v1.k1.T~x")
        };
        assert_eq!(
            at("https://shop.example"),
            "https://shop.example/?aff_token=v1.k1.T~x"
        );
        assert_eq!(
            at("https://shop.example/a?"),
            "https://shop.example/a?aff_token=v1.k1.T~x"
        );
        assert_eq!(
            at("https://shop.example/a?x=1%202#top"),
            "https://shop.example/a?x=1%202&aff_token=v1.k1.T~x#top"
        );
        // A stale landing parameter in the destination is replaced, not doubled.
        assert_eq!(
            at("https://shop.example/a?aff_token=old&b=2"),
            "https://shop.example/a?b=2&aff_token=v1.k1.T~x"
        );
        assert_eq!(
            at("https://shop.example/a?aff_token=old"),
            "https://shop.example/a?aff_token=v1.k1.T~x"
        );
        // Only a parameter named exactly so (after form decoding) is replaced; the
        // others keep their spelling.
        assert_eq!(
            at("https://shop.example/a?aff%5Ftoken=old&aff_tokens=1&q=a+b%2Bc&&x"),
            "https://shop.example/a?aff_tokens=1&q=a+b%2Bc&x&aff_token=v1.k1.T~x"
        );
    }
}
