//! Partner credentials through the tracker: API keys (made, listed, revoked), portal
//! sign-in links (made here, used once), portal sessions, and who a credential names.
//! A suspended partner's keys and sessions are refused.

use std::collections::HashMap;
use std::sync::PoisonError;

use super::Tracker;
use super::record::{Write, to_json};
use crate::code::Code;
use crate::error::{Error, Result};
use crate::portal::{
    DEFAULT_LINK_SECS, PartnerKey, key_digest, looks_like_partner_key, new_key_id, new_partner_key,
    portal_link_url, sign_session, verify_link, verify_session,
};
use crate::store::RecordKind;

/// The claim scope of used sign-in links.
const LINK_SCOPE: &str = "portal-link";

/// A partner signed in to the portal: its session cookie's value and when it ends.
#[derive(Clone, PartialEq, Eq)]
pub struct PortalSession {
    /// The partner.
    pub partner: Code,
    /// The session, the cookie's value (a secret: not shown by `Debug`).
    pub session: String,
    /// When it ends, Unix seconds.
    pub expires: u64,
}

impl std::fmt::Debug for PortalSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortalSession")
            .field("partner", &self.partner)
            .field("expires", &self.expires)
            .finish_non_exhaustive()
    }
}

/// The keys of the snapshot, by digest.
pub(super) fn keys_by_digest(
    records: Vec<(String, String)>,
) -> Result<HashMap<String, PartnerKey>> {
    records
        .into_iter()
        .map(|(id, json)| {
            let k: PartnerKey = serde_json::from_str(&json)
                .map_err(|_| Error::Store(format!("corrupt partner key record {id:?}")))?;
            Ok((k.digest.clone(), k))
        })
        .collect()
}

impl Tracker {
    fn active_partner(&self, partner: Code) -> Result<Code> {
        match self.read().partner(partner.as_str()) {
            None => Err(Error::UnknownPartner(partner.to_string())),
            Some(p) if p.status == crate::attribution::PartnerStatus::Active => Ok(partner),
            Some(_) => Err(Error::Forbidden(format!("partner {partner} is suspended"))),
        }
    }

    /// Makes an API key for `partner`: returns what the store keeps (its id) and the
    /// key itself, `pk_…`, which is shown this once and never again.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn create_partner_key(&self, partner: &str) -> Result<(PartnerKey, String)> {
        let code = Code::new(partner)?;
        if self.read().partner(partner).is_none() {
            return Err(Error::UnknownPartner(partner.to_owned()));
        }
        let (key, digest) = new_partner_key()?;
        let record = PartnerKey {
            id: new_key_id()?,
            partner: code,
            digest,
            created: self.clock.now(),
        };
        let _program = self.program.lock().unwrap_or_else(PoisonError::into_inner);
        self.persist(
            RecordKind::PartnerKey,
            &record.id,
            &to_json(&record)?,
            &Write::Create,
        )?;
        self.partner_keys
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(record.digest.clone(), record.clone());
        Ok((record, key))
    }

    /// The API keys of `partner` (ids and times, never keys), oldest first;
    /// `unknown_partner` when the program has no such partner.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn partner_keys(&self, partner: &str) -> Result<Vec<PartnerKey>> {
        let code = Code::new(partner)?;
        if self.read().partner(partner).is_none() {
            return Err(Error::UnknownPartner(partner.to_owned()));
        }
        let keys = self
            .partner_keys
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let mut out: Vec<PartnerKey> = keys
            .values()
            .filter(|k| k.partner == code)
            .cloned()
            .collect();
        out.sort_by(|a, b| a.created.cmp(&b.created).then_with(|| a.id.cmp(&b.id)));
        Ok(out)
    }

    /// Revokes the key `id` of `partner`: it signs in nobody from then on, on every
    /// tracker of the store within about a second. `not_found` when it has no such key.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn revoke_partner_key(&self, partner: &str, id: &str) -> Result<()> {
        let code = Code::new(partner)?;
        let owned = self
            .partner_keys(partner)?
            .iter()
            .any(|k| k.id == id && k.partner == code);
        if !owned {
            let shown: String = id.chars().take(40).collect();
            return Err(Error::NotFound(format!(
                "key {shown:?} of partner {partner}"
            )));
        }
        self.store.delete_record(RecordKind::PartnerKey, id)?;
        // The whole snapshot again (it takes the program's lock itself).
        self.reload()
    }

    /// The partner a presented API key signs in: `None` when it is no key of this
    /// program (or revoked); `forbidden` when its partner is suspended. The key is
    /// found by its SHA-256 digest and the digests compared in constant time.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn partner_for_key(&self, key: &str) -> Result<Option<Code>> {
        if !looks_like_partner_key(key) {
            return Ok(None);
        }
        let digest = key_digest(key);
        let found = {
            let keys = self
                .partner_keys
                .read()
                .unwrap_or_else(PoisonError::into_inner);
            keys.get(&digest).and_then(|k| {
                let same: bool =
                    subtle::ConstantTimeEq::ct_eq(k.digest.as_bytes(), digest.as_bytes()).into();
                same.then_some(k.partner)
            })
        };
        found.map(|p| self.active_partner(p)).transpose()
    }

    /// A portal sign-in link for `partner`, valid for `ttl_secs` (default 15 minutes,
    /// at most 7 days) and usable once: `{origin}/portal/login?t=…`, where the origin
    /// is that of the link signer's base URL (`https://t.shop.example/go` →
    /// `https://t.shop.example/portal/login?t=…`). A merchant's own app may send a
    /// signed-in partner straight to the portal with it.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn portal_link(&self, partner: &str, ttl_secs: Option<u64>) -> Result<String> {
        let code = self.active_partner(Code::new(partner)?)?;
        portal_link_url(
            self.signer.keyring(),
            self.signer.base_url(),
            code,
            self.clock.now(),
            ttl_secs.unwrap_or(DEFAULT_LINK_SECS),
        )
    }

    /// Signs a partner in with a sign-in link's `t`: checks its signature, purpose and
    /// expiry, that the partner is active, and claims it (a link works once, across
    /// every tracker of the store); returns the session. Errors: `invalid_signature`
    /// or `malformed` for anything this tracker did not make, `expired`, `forbidden`
    /// for a used link or a suspended partner.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn portal_login(&self, t: &str) -> Result<PortalSession> {
        let now = self.clock.now();
        let claims = verify_link(self.signer.keyring(), t, now)?;
        let partner = self.active_partner(claims.partner)?;
        if !self
            .store
            .claim_once(LINK_SCOPE, &claims.nonce, claims.expires, now)?
        {
            return Err(Error::Forbidden(
                "this sign-in link was used already; ask for a new one".into(),
            ));
        }
        // Issued after any revocation of the partner's sessions (a sign-in in the
        // second of a logout lasts one second longer).
        let issued = self
            .revoked_before(partner)
            .map_or(now, |r| now.max(r.saturating_add(1)));
        let session = sign_session(self.signer.keyring(), partner, issued)?;
        Ok(PortalSession {
            partner,
            expires: issued + crate::portal::SESSION_SECS,
            session,
        })
    }

    /// Up to when `partner`'s sessions are revoked, if ever.
    fn revoked_before(&self, partner: Code) -> Option<u64> {
        self.revoked_sessions
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&partner)
            .copied()
    }

    /// Ends every portal session of `partner` issued until now, on every tracker of
    /// the store (they see it within their next refresh, a second on
    /// `affiliate-server`): what a logout, a suspension and a sign-out of everywhere
    /// do.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn revoke_portal_sessions(&self, partner: Code) -> Result<()> {
        let now = self.clock.now();
        // Past every session issued so far: one signed in within the second of the
        // last revocation was issued a second later.
        let map = self.update_map(super::meta_map::REVOKED_SESSIONS, |m| {
            let at = m.entry(partner).or_insert(0);
            *at = at.saturating_add(1).max(now);
        })?;
        *self
            .revoked_sessions
            .write()
            .unwrap_or_else(PoisonError::into_inner) = map;
        Ok(())
    }

    /// Signs a session out: every session of its partner ends (see
    /// [`Tracker::revoke_portal_sessions`]). A session that is not valid any more
    /// changes nothing; returns the partner signed out, if any.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn portal_logout(&self, session: &str) -> Result<Option<Code>> {
        let Some(partner) = self.session_partner(session) else {
            return Ok(None);
        };
        self.revoke_portal_sessions(partner)?;
        Ok(Some(partner))
    }

    /// The partner of a session that holds: signed with the current key, unexpired,
    /// not revoked since it was issued (whether the partner is active is not checked).
    fn session_partner(&self, session: &str) -> Option<Code> {
        let claims = self.session_claims(session)?;
        (!self.revoked(&claims)).then_some(claims.partner)
    }

    /// A session's claims when it verifies with the current key and is unexpired.
    fn session_claims(&self, session: &str) -> Option<crate::portal::PortalClaims> {
        let ring = self.signer.keyring();
        let claims = verify_session(ring, session, self.clock.now()).ok()?;
        (claims.kid == ring.current_kid().as_str()).then_some(claims)
    }

    /// Whether the session's partner had its sessions revoked since it was issued.
    fn revoked(&self, claims: &crate::portal::PortalClaims) -> bool {
        self.revoked_before(claims.partner)
            .is_some_and(|r| claims.session_issued_at() <= r)
    }

    /// The partner a portal session names: `None` when it is not a valid, unexpired
    /// session signed with this tracker's current key (a key rotation ends every
    /// session), or when its partner's sessions were revoked since it was issued
    /// (logout, suspension: reactivated, the partner signs in again); `forbidden` while
    /// the partner is suspended.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn partner_for_session(&self, session: &str) -> Result<Option<Code>> {
        let Some(claims) = self.session_claims(session) else {
            return Ok(None);
        };
        let partner = self.active_partner(claims.partner)?;
        Ok((!self.revoked(&claims)).then_some(partner))
    }
}
