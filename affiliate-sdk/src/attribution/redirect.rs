//! The landing redirect of a campaign: its destination with the session token added
//! to the query.

use crate::error::{Error, Result};

/// Where a campaign's clicks land, computed once: the destination with any landing
/// parameter removed from its query, up to `aff_token=`, then the fragment. A token is
/// `[A-Za-z0-9._~-]` only, so it goes between them unescaped.
#[derive(Debug)]
pub(crate) struct Redirect {
    prefix: String,
    suffix: String,
}

impl Redirect {
    pub(crate) fn new(destination: &str, param: &str) -> Result<Redirect> {
        let mut url = url::Url::parse(destination)
            .map_err(|e| Error::malformed("destination", e.to_string()))?;
        let suffix = url.fragment().map(|f| format!("#{f}")).unwrap_or_default();
        url.set_fragment(None);
        if url.query_pairs().any(|(k, _)| k == param) {
            let kept: Vec<(String, String)> = url
                .query_pairs()
                .filter(|(k, _)| *k != param)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            url.set_query(None);
            if !kept.is_empty() {
                url.query_pairs_mut().extend_pairs(kept);
            }
        }
        let has_query = url.query().is_some_and(|q| !q.is_empty());
        let mut prefix = String::from(url);
        if has_query {
            prefix.push('&');
        } else {
            prefix = prefix.trim_end_matches('?').to_owned();
            prefix.push('?');
        }
        prefix.extend(url::form_urlencoded::byte_serialize(param.as_bytes()));
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
        let at = |dest: &str| {
            Redirect::new(dest, "aff_token")
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
    }
}
