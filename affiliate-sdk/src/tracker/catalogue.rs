//! The program the tracker runs: campaigns, partners, coupons and ads, written
//! through to the store (where every tracker on it finds them) and kept in the
//! snapshot the click path reads. A configuration file's part is `config.rs`; the
//! merchant's listings over it are `review.rs`.

use std::sync::PoisonError;
use std::sync::atomic::Ordering;

use serde::Serialize;

use super::Managed;
use super::Tracker;
use super::record::{Write, to_json};
use crate::attribution::coupon::{CouponRecord, coupon_code};
use crate::attribution::{
    AdSpec, Campaign, CampaignSpec, Catalogue, Coupon, Partner, PartnerSpec, PartnerStatus,
    merge_patch,
};
use crate::code::Code;
use crate::error::rename;
use crate::error::{Error, Result};
use crate::store::RecordKind;

/// The key of the record that lists what the configuration file manages.
pub(super) const MANAGED_KEY: &str = "managed_by_config";

fn corrupt(what: &str, key: &str) -> Error {
    Error::Store(format!("corrupt {what} record {key:?}"))
}

/// A spec with `patch` merged in (RFC 7396); the code may not change.
fn patched<T: Serialize + serde::de::DeserializeOwned>(
    current: &T,
    code: &str,
    patch: &serde_json::Value,
) -> Result<T> {
    if !patch.is_object() {
        return Err(Error::malformed("patch", "expected a JSON object"));
    }
    if patch.get("code").is_some_and(|c| c.as_str() != Some(code)) {
        return Err(Error::malformed("code", "a code cannot be changed"));
    }
    let mut value = serde_json::to_value(current).map_err(|e| Error::Store(e.to_string()))?;
    merge_patch(&mut value, patch);
    serde_json::from_value(value).map_err(|e| Error::Malformed {
        field: "patch",
        reason: e.to_string().into(),
    })
}

impl Tracker {
    /// A tracker over `store` with the program (campaigns, partners, coupons) the
    /// store holds: what [`Tracker::add_campaign`] and [`Tracker::add_partner`] wrote
    /// before, through this process or any other on the same store.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use affiliate_sdk::*;
    /// let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    /// let signer = LinkSigner::new(Keyring::generate()?, "https://t.example/go")?;
    /// let first = Tracker::new(signer.clone(), store.clone());
    /// first.add_campaign(&CampaignSpec::new("haircare", "https://shop.example/", "USD"))?;
    /// first.add_partner(&PartnerSpec::new("abc123"))?;
    /// // Another tracker on the same store (a restart, another server) has them.
    /// let second = Tracker::open(signer, store)?;
    /// assert!(second.partner("abc123").is_some() && second.campaign("haircare").is_some());
    /// # Ok::<(), affiliate_sdk::Error>(())
    /// ```
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn open(
        signer: crate::link::LinkSigner,
        store: std::sync::Arc<dyn crate::Store>,
    ) -> Result<Tracker> {
        let tracker = Tracker::new(signer, store);
        tracker.reload()?;
        Ok(tracker)
    }

    /// Reloads the program from the store when another tracker changed it (its
    /// version moved); returns whether it did. A server calls this every second, so
    /// a change made through any server is in force on all of them within seconds.
    /// Blocks on the store.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn refresh(&self) -> Result<bool> {
        let version = self.store.program_version()?;
        if version == self.loaded_version.load(Ordering::Acquire) {
            return Ok(false);
        }
        self.reload()?;
        Ok(true)
    }

    /// Builds a new snapshot from the store's records and swaps it in.
    pub(super) fn reload(&self) -> Result<()> {
        let _program = self.program.lock().unwrap_or_else(PoisonError::into_inner);
        let version = self.store.program_version()?;
        let mut next = Catalogue::new(self.read().param())?;
        for (key, json) in self.store.records(RecordKind::Campaign)? {
            let spec: CampaignSpec =
                serde_json::from_str(&json).map_err(|_| corrupt("campaign", &key))?;
            next.add_campaign(&spec)?;
        }
        let mut partners: Vec<PartnerSpec> = self
            .store
            .records(RecordKind::Partner)?
            .into_iter()
            .map(|(key, json)| serde_json::from_str(&json).map_err(|_| corrupt("partner", &key)))
            .collect::<Result<_>>()?;
        // Parents before children: add in rounds until nothing more can be added.
        while !partners.is_empty() {
            let before = partners.len();
            let mut last = None;
            partners.retain(|p| match next.add_partner(p) {
                Ok(_) => false,
                Err(e) => {
                    last = Some(e);
                    true
                }
            });
            if partners.len() == before {
                return Err(last.unwrap_or_else(|| corrupt("partner", "")));
            }
        }
        for (key, json) in self.store.records(RecordKind::Coupon)? {
            let c: CouponRecord =
                serde_json::from_str(&json).map_err(|_| corrupt("coupon", &key))?;
            // A coupon whose partner or campaign is gone credits nobody.
            let _ = next.add_coupon(&c.partner, &c.code, c.campaign.as_deref());
        }
        let managed = match self
            .store
            .records(RecordKind::Meta)?
            .into_iter()
            .find(|(k, _)| k == MANAGED_KEY)
        {
            Some((key, json)) => serde_json::from_str(&json).map_err(|_| corrupt("meta", &key))?,
            None => Managed::default(),
        };
        let meta = self.store.records(RecordKind::Meta)?;
        let revoked = super::meta_map::read_map(&meta, super::meta_map::REVOKED_SESSIONS)?;
        let moves = super::meta_map::read_map(&meta, super::meta_map::PARTNER_MOVES)?;
        let keys = super::partner::keys_by_digest(self.store.records(RecordKind::PartnerKey)?)?;
        let postback_keys =
            super::postback_keys::by_digest(self.store.records(RecordKind::PostbackKey)?)?;
        self.load_webhooks()?;
        *self.write() = next;
        *self.managed.write().unwrap_or_else(PoisonError::into_inner) = managed;
        *self
            .revoked_sessions
            .write()
            .unwrap_or_else(PoisonError::into_inner) = revoked;
        *self.moves.write().unwrap_or_else(PoisonError::into_inner) = moves;
        *self
            .partner_keys
            .write()
            .unwrap_or_else(PoisonError::into_inner) = keys;
        *self
            .postback_keys
            .write()
            .unwrap_or_else(PoisonError::into_inner) = postback_keys;
        self.loaded_version.store(version, Ordering::Release);
        Ok(())
    }

    /// Writes a program record; the snapshot is then as new as the store. Returns
    /// whether it was written (`false`: created only if new and one exists, or swapped
    /// only if unchanged and it changed).
    pub(super) fn persist(
        &self,
        kind: RecordKind,
        key: &str,
        json: &str,
        how: &Write,
    ) -> Result<bool> {
        let before = self.store.program_version()?;
        let written = match how {
            Write::Upsert => self.store.put_record(kind, key, json, false)?,
            Write::Create => self.store.put_record(kind, key, json, true)?,
            Write::Swap(expected) => self.store.swap_record(kind, key, expected, json)?,
        };
        self.caught_up(before)?;
        Ok(written)
    }

    /// After our own write: when it was the only change since `before`, the snapshot
    /// (about to take it) is as new as the store.
    fn caught_up(&self, before: u64) -> Result<()> {
        let after = self.store.program_version()?;
        if after == before + 1 && self.loaded_version.load(Ordering::Acquire) == before {
            self.loaded_version.store(after, Ordering::Release);
        }
        Ok(())
    }

    /// Adds or replaces a campaign, in the store (durably; every tracker on the store
    /// takes it up at its next [`Tracker::refresh`]) and in this tracker's snapshot.
    /// Blocks on the store.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn add_campaign(&self, spec: &CampaignSpec) -> Result<Campaign> {
        self.put_campaign(spec, &Write::Upsert)?
            .ok_or_else(|| Error::Store("campaign not written".into()))
    }

    /// `None`: not written (exists, or changed meanwhile).
    fn put_campaign(&self, spec: &CampaignSpec, how: &Write) -> Result<Option<Campaign>> {
        let _program = self.program.lock().unwrap_or_else(PoisonError::into_inner);
        let campaign = Campaign::new(spec)?;
        let code = campaign.code();
        if !self.persist(
            RecordKind::Campaign,
            code.as_str(),
            &to_json(campaign.spec())?,
            how,
        )? {
            return Ok(None);
        }
        self.write().add_campaign(campaign.spec()).map(Some)
    }

    /// Adds or replaces a partner, in the store and in this tracker's snapshot. Its
    /// parent must exist and must not descend from it; its coupons must not belong to
    /// another partner, and are added to those it holds. Blocks on the store.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn add_partner(&self, spec: &PartnerSpec) -> Result<Partner> {
        self.put_partner(spec, &Write::Upsert)?
            .ok_or_else(|| Error::Store("partner not written".into()))
    }

    /// `None`: not written (exists, or changed meanwhile).
    fn put_partner(&self, spec: &PartnerSpec, how: &Write) -> Result<Option<Partner>> {
        let _program = self.program.lock().unwrap_or_else(PoisonError::into_inner);
        // Checked first: nothing is stored for a partner that is refused.
        let partner = self.read().check_partner(spec)?;
        self.check_postback_destination(spec)?;
        let record = PartnerSpec {
            coupons: Vec::new(),
            ..spec.clone()
        };
        if !self.persist(
            RecordKind::Partner,
            partner.code.as_str(),
            &to_json(&record)?,
            how,
        )? {
            return Ok(None);
        }
        let suspended_now = partner.status == PartnerStatus::Suspended
            && self
                .read()
                .partner(partner.code.as_str())
                .is_none_or(|p| p.status != PartnerStatus::Suspended);
        self.write().add_partner(&record)?;
        // A suspension ends the partner's portal sessions: reactivated, it signs in
        // again.
        if suspended_now {
            self.revoke_portal_sessions(partner.code)?;
        }
        for c in &partner.coupons {
            let held = self.read().coupon(c.as_str());
            if held.is_none_or(|h| h.partner != partner.code) {
                self.put_coupon(&Coupon {
                    code: *c,
                    partner: partner.code,
                    campaign: None,
                })?;
            }
        }
        Ok(Some(
            self.read()
                .partner(partner.code.as_str())
                .cloned()
                .unwrap_or(partner),
        ))
    }

    /// Writes a coupon record and takes it into the snapshot.
    fn put_coupon(&self, c: &Coupon) -> Result<()> {
        let record = CouponRecord {
            code: c.code.to_string(),
            partner: c.partner.to_string(),
            campaign: c.campaign.map(|k| k.to_string()),
        };
        let json = to_json(&record)?;
        // A code is one partner's across every server: a new code is written only if
        // no other server wrote it first.
        let mine = self.read().coupon(c.code.as_str()).is_some();
        let how = if mine { Write::Upsert } else { Write::Create };
        if !self.persist(RecordKind::Coupon, c.code.as_str(), &json, &how)? {
            return Err(Error::Exists(format!("coupon {} exists", c.code)));
        }
        self.write().add_coupon(
            c.partner.as_str(),
            c.code.as_str(),
            c.campaign.as_ref().map(Code::as_str),
        )?;
        Ok(())
    }

    /// Creates a campaign: `conflict` when the code exists (on any server).
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn create_campaign(&self, spec: &CampaignSpec) -> Result<Campaign> {
        if self.campaign(&spec.code).is_some() {
            return Err(Error::Exists(format!("campaign {} exists", spec.code)));
        }
        self.put_campaign(spec, &Write::Create)?
            .ok_or_else(|| Error::Exists(format!("campaign {} exists", spec.code)))
    }

    /// Changes a campaign with a JSON merge patch of its spec (`{"status": "paused"}`).
    /// Recorded conversions keep the commissions they were recorded with. Errors:
    /// `unknown_campaign`, `managed_by_config`, `malformed`.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn update_campaign(&self, code: &str, patch: &serde_json::Value) -> Result<Campaign> {
        self.updated(|t| {
            let current = t
                .campaign(code)
                .ok_or_else(|| Error::UnknownCampaign(code.to_owned()))?;
            t.check_unmanaged(RecordKind::Campaign, code)?;
            let spec: CampaignSpec = patched(current.spec(), code, patch)?;
            let expected = to_json(current.spec())?;
            t.put_campaign(&spec, &Write::Swap(expected))
        })
    }

    /// Runs a read-patch-swap until the swap finds the record as it was read: a change
    /// made meanwhile by another tracker is reloaded and the patch applied to it.
    fn updated<T>(&self, mut attempt: impl FnMut(&Tracker) -> Result<Option<T>>) -> Result<T> {
        for _ in 0..8 {
            if let Some(done) = attempt(self)? {
                return Ok(done);
            }
            self.reload()?;
        }
        Err(Error::Exists(
            "the record kept changing while this change was made; try again".into(),
        ))
    }

    /// Creates a partner: `conflict` when the code exists.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn create_partner(&self, spec: &PartnerSpec) -> Result<Partner> {
        if self.partner(&spec.code).is_some() {
            return Err(Error::Exists(format!("partner {} exists", spec.code)));
        }
        let partner = self
            .put_partner(spec, &Write::Create)?
            .ok_or_else(|| Error::Exists(format!("partner {} exists", spec.code)))?;
        // A new partner is an event (`partner.created`).
        self.events_written();
        Ok(partner)
    }

    /// Changes a partner with a JSON merge patch of its spec (`{"status":
    /// "suspended"}`, `{"parent": null}`); its coupons change through
    /// [`Tracker::add_coupon`] and [`Tracker::remove_coupon`]. Errors:
    /// `unknown_partner`, `managed_by_config`, `malformed` (a parent that would make a
    /// cycle too).
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn update_partner(&self, code: &str, patch: &serde_json::Value) -> Result<Partner> {
        if patch.get("coupons").is_some() {
            return Err(Error::malformed(
                "coupons",
                "change a partner's coupons through its coupon endpoints",
            ));
        }
        self.updated(|t| {
            let current = t
                .partner(code)
                .ok_or_else(|| Error::UnknownPartner(code.to_owned()))?;
            t.check_unmanaged(RecordKind::Partner, code)?;
            let record = PartnerSpec {
                coupons: Vec::new(),
                ..current.spec()
            };
            let spec: PartnerSpec = patched(&record, code, patch)?;
            let written = t.put_partner(&spec, &Write::Swap(to_json(&record)?))?;
            // A new parent sees the partner's records from now on only.
            if spec.parent != record.parent {
                t.record_move(current.code)?;
            }
            Ok(written)
        })
    }

    /// Gives `partner` the coupon `code` (for `campaign` only, when given). Errors:
    /// `unknown_partner`, `unknown_campaign`, `managed_by_config` for a partner the
    /// configuration manages, `conflict` when another partner holds the code.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn add_coupon(&self, partner: &str, code: &str, campaign: Option<&str>) -> Result<Coupon> {
        let _program = self.program.lock().unwrap_or_else(PoisonError::into_inner);
        let coupon = self.read().check_coupon(partner, code, campaign)?;
        self.check_unmanaged(RecordKind::Partner, partner)?;
        self.put_coupon(&coupon)?;
        Ok(coupon)
    }

    /// Takes a coupon away from its partner. Errors: `not_found`, `managed_by_config`.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn remove_coupon(&self, code: &str) -> Result<Coupon> {
        let _program = self.program.lock().unwrap_or_else(PoisonError::into_inner);
        let key = coupon_code(code)?;
        let coupon = self
            .read()
            .coupon(key.as_str())
            .ok_or_else(|| Error::NotFound(format!("coupon {key}")))?;
        self.check_unmanaged(RecordKind::Partner, coupon.partner.as_str())?;
        self.drop_coupon(&coupon)?;
        Ok(coupon)
    }

    fn drop_coupon(&self, coupon: &Coupon) -> Result<()> {
        let before = self.store.program_version()?;
        self.store
            .delete_record(RecordKind::Coupon, coupon.code.as_str())?;
        self.caught_up(before)?;
        self.write().remove_coupon(coupon.code.as_str())?;
        Ok(())
    }

    /// The coupons of `partner` (every coupon with `None`), by code.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    #[must_use]
    pub fn coupons(&self, partner: Option<&str>) -> Vec<Coupon> {
        match partner.map(Code::new) {
            Some(Ok(p)) => self.read().coupons(Some(&p)),
            Some(Err(_)) => Vec::new(),
            None => self.read().coupons(None),
        }
    }

    /// Adds or replaces a partner's ad (its code is unique per partner). Errors:
    /// `malformed`, `unknown_partner`.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn add_ad(&self, ad: &AdSpec) -> Result<AdSpec> {
        let (_, partner) = ad.check()?;
        if self.partner(partner.as_str()).is_none() {
            return Err(Error::UnknownPartner(partner.to_string()));
        }
        let _program = self.program.lock().unwrap_or_else(PoisonError::into_inner);
        self.persist(RecordKind::Ad, &ad.key(), &to_json(ad)?, &Write::Upsert)?;
        Ok(ad.clone())
    }

    /// The ads of `partner`, by code. Reads the store.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn ads(&self, partner: &str) -> Result<Vec<AdSpec>> {
        let partner = Code::new(partner).map_err(|e| rename(e, "partner code"))?;
        let prefix = format!("{partner}/");
        self.store
            .records(RecordKind::Ad)?
            .into_iter()
            .filter(|(k, _)| k.starts_with(&prefix))
            .map(|(k, json)| serde_json::from_str(&json).map_err(|_| corrupt("ad", &k)))
            .collect()
    }
}
