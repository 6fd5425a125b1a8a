//! A configuration file's entries in the program: applied in one write and managed by
//! the file (the API's changes to them are refused).

use std::collections::HashSet;
use std::sync::PoisonError;
use std::sync::atomic::Ordering;

use serde::{Deserialize, Serialize};

use super::Tracker;
use super::catalogue::MANAGED_KEY;
use super::record::to_json;
use crate::attribution::coupon::{CouponRecord, coupon_code};
use crate::attribution::{CampaignSpec, PartnerSpec};
use crate::code::Code;
use crate::error::{Error, Result};
use crate::store::RecordKind;

/// A configuration entry [`Tracker::apply_config`] refused, or the store error that
/// stopped it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigEntryError {
    /// The entry: its kind, its index among the file's entries of that kind, its code.
    pub entry: Option<(RecordKind, usize, String)>,
    /// Why.
    pub error: Error,
}

impl std::fmt::Display for ConfigEntryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.entry {
            Some((kind, i, code)) => write!(f, "{}[{i}] ({code:?}): {}", kind.as_str(), self.error),
            None => self.error.fmt(f),
        }
    }
}

impl std::error::Error for ConfigEntryError {}

/// The campaigns and partners the configuration file manages (the API may not change
/// them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Managed {
    campaigns: HashSet<String>,
    partners: HashSet<String>,
}

impl Tracker {
    /// Applies a configuration file's entries: each campaign and partner is created or
    /// changed to match (partners in any order, parents found among them), each partner
    /// holds exactly the coupons its entry lists, and all of them are *managed by
    /// config* from now on (the API's changes are refused with `managed_by_config`).
    /// Entries managed before and not listed now become the API's to manage. Everything
    /// is checked before anything is written, then written in one durable write
    /// ([`ProgramRecords::put_records`](crate::store::ProgramRecords::put_records)); a refused entry changes
    /// nothing and is named in the error.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn apply_config(
        &self,
        campaigns: &[CampaignSpec],
        partners: &[PartnerSpec],
    ) -> std::result::Result<(), ConfigEntryError> {
        let _program = self.program.lock().unwrap_or_else(PoisonError::into_inner);
        let store_error = |error| ConfigEntryError { entry: None, error };
        let mut scratch = self.read().clone();
        let mut records: Vec<(RecordKind, String, Option<String>)> = Vec::new();
        for (i, spec) in campaigns.iter().enumerate() {
            let entry = |error| ConfigEntryError {
                entry: Some((RecordKind::Campaign, i, spec.code.clone())),
                error,
            };
            let c = scratch.add_campaign(spec).map_err(entry)?;
            records.push((
                RecordKind::Campaign,
                c.code().to_string(),
                Some(to_json(c.spec()).map_err(entry)?),
            ));
        }
        // Parents before children: add in rounds until nothing more can be added.
        let mut pending: Vec<(usize, &PartnerSpec)> = partners.iter().enumerate().collect();
        while !pending.is_empty() {
            let before = pending.len();
            let mut last = None;
            pending.retain(|(i, spec)| match scratch.add_partner(spec) {
                Ok(_) => false,
                Err(e) => {
                    last = Some((*i, spec.code.clone(), e));
                    true
                }
            });
            if pending.len() == before
                && let Some((i, code, error)) = last
            {
                return Err(ConfigEntryError {
                    entry: Some((RecordKind::Partner, i, code)),
                    error,
                });
            }
        }
        for (i, spec) in partners.iter().enumerate() {
            let entry = |error| ConfigEntryError {
                entry: Some((RecordKind::Partner, i, spec.code.clone())),
                error,
            };
            let record = PartnerSpec {
                coupons: Vec::new(),
                ..spec.clone()
            };
            let code = Code::new(&spec.code).map_err(entry)?;
            records.push((
                RecordKind::Partner,
                code.to_string(),
                Some(to_json(&record).map_err(entry)?),
            ));
            let listed: Vec<Code> = spec
                .coupons
                .iter()
                .map(|c| coupon_code(c))
                .collect::<Result<_>>()
                .map_err(entry)?;
            for held in scratch.coupons(Some(&code)) {
                if listed.contains(&held.code) {
                    // The file lists it without a campaign: it credits any campaign.
                    let c = CouponRecord {
                        code: held.code.to_string(),
                        partner: code.to_string(),
                        campaign: None,
                    };
                    scratch.remove_coupon(held.code.as_str()).map_err(entry)?;
                    scratch
                        .add_coupon(code.as_str(), held.code.as_str(), None)
                        .map_err(entry)?;
                    records.push((
                        RecordKind::Coupon,
                        c.code.clone(),
                        Some(to_json(&c).map_err(entry)?),
                    ));
                } else {
                    scratch.remove_coupon(held.code.as_str()).map_err(entry)?;
                    records.push((RecordKind::Coupon, held.code.to_string(), None));
                }
            }
        }
        let managed = Managed {
            campaigns: campaigns.iter().map(|c| c.code.clone()).collect(),
            partners: partners.iter().map(|p| p.code.clone()).collect(),
        };
        // Sorted, so the same set writes the same record (and bumps nothing).
        let mut listed = (
            managed.campaigns.iter().collect::<Vec<_>>(),
            managed.partners.iter().collect::<Vec<_>>(),
        );
        listed.0.sort();
        listed.1.sort();
        let json = serde_json::json!({"campaigns": listed.0, "partners": listed.1}).to_string();
        records.push((RecordKind::Meta, MANAGED_KEY.to_owned(), Some(json)));
        // One write per record: the last entry of a code wins, as in the snapshot.
        let mut seen = HashSet::new();
        records.reverse();
        records.retain(|(kind, key, _)| seen.insert((*kind, key.clone())));
        records.reverse();
        // Partners the file moves to another parent: the move is dated, as through the
        // API (their new ancestors see their records from now on).
        let moved: Vec<Code> = {
            let now = self.read();
            partners
                .iter()
                .filter_map(|spec| {
                    let was = now.partner(&spec.code)?;
                    let parent = scratch.partner(&spec.code)?.parent;
                    (was.parent != parent).then_some(was.code)
                })
                .collect()
        };
        let before = self.store.program_version().map_err(store_error)?;
        let changed = self.store.put_records(&records).map_err(store_error)?;
        for code in moved {
            self.record_move(code).map_err(store_error)?;
        }
        let after = self.store.program_version().map_err(store_error)?;
        if self.loaded_version.load(Ordering::Acquire) == before
            && after == before + u64::from(changed > 0)
        {
            // Only our write since the snapshot: the scratch catalogue is the store's.
            *self.write() = scratch;
            *self.managed.write().unwrap_or_else(PoisonError::into_inner) = managed;
            self.loaded_version.store(after, Ordering::Release);
            Ok(())
        } else {
            drop(_program);
            self.reload().map_err(store_error)
        }
    }

    /// Whether the configuration file manages this campaign
    /// ([`RecordKind::Campaign`]) or partner ([`RecordKind::Partner`]).
    #[must_use]
    pub fn managed_by_config(&self, kind: RecordKind, code: &str) -> bool {
        let m = self.managed.read().unwrap_or_else(PoisonError::into_inner);
        match kind {
            RecordKind::Campaign => m.campaigns.contains(code),
            RecordKind::Partner => m.partners.contains(code),
            _ => false,
        }
    }

    pub(super) fn check_unmanaged(&self, kind: RecordKind, code: &str) -> Result<()> {
        if self.managed_by_config(kind, code) {
            return Err(Error::ManagedByConfig(format!("{} {code}", kind.as_str())));
        }
        Ok(())
    }
}
