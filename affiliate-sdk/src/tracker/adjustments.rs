//! The [`Tracker`]'s adjustments: bonuses and corrections of a partner's balance by
//! hand, listed and exported.

use super::Tracker;
use crate::answers::AdjustmentAnswer;
use crate::attribution::export::adjustments_csv;
use crate::code::Code;
use crate::error::{Error, Result};
use crate::ledger::{Adjustment, AdjustmentRequest, Entry, EntryFilter, check_idempotency_key};
use crate::money::Currency;
use crate::writes::{Adjusted, StoreWrites as _};

impl Tracker {
    /// Adds to (a bonus, a correction) or takes from (a negative correction) a
    /// partner's balance under the idempotency `key`: one ledger entry, payable at once,
    /// netted by the partner's next payout, shown to it with its memo. The same key with
    /// the same request answers the adjustment it made (`Replayed`); with another,
    /// `conflict`. A negative one that would leave the partner owed less than nothing
    /// is `conflict` unless `allow_negative`. An unknown partner is `unknown_partner`;
    /// a bad field `malformed`.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use affiliate_sdk::*;
    /// # use affiliate_sdk::ledger::{AdjustmentKind, AdjustmentRequest};
    /// # let tracker = Tracker::new(LinkSigner::new(Keyring::generate()?, "https://t.example/go")?,
    /// #     Arc::new(MemoryStore::new()));
    /// # tracker.add_partner(&PartnerSpec::new("abc123"))?;
    /// let prize = AdjustmentRequest::new("abc123", "USD", "50.00", "March contest", AdjustmentKind::Bonus);
    /// let made = tracker.adjust("contest-2026-03", &prize)?;
    /// assert!(matches!(made, Adjusted::Created(_)));
    /// let fix = AdjustmentRequest::new("abc123", "USD", "-60.00", "double count", AdjustmentKind::Correction);
    /// assert_eq!(tracker.adjust("fix-1", &fix).unwrap_err().code(), "conflict");
    /// assert!(matches!(tracker.adjust("contest-2026-03", &prize)?, Adjusted::Replayed(_)));
    /// assert_eq!(tracker.adjustments(None, None)?[0].amount, "50.00");
    /// # Ok::<(), affiliate_sdk::Error>(())
    /// ```
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn adjust(&self, key: &str, req: &AdjustmentRequest) -> Result<Adjusted> {
        check_idempotency_key(key)?;
        let adjustment = Adjustment::check(req)?;
        if self.read().partner(adjustment.partner.as_str()).is_none() {
            return Err(Error::UnknownPartner(adjustment.partner.to_string()));
        }
        let made = self.store.adjust(key, &adjustment, self.clock.now())?;
        if let Adjusted::Replayed(_) = made {
            self.store.flush()?;
        }
        Ok(made)
    }

    /// The adjustments' entries, newest first; optionally one partner's, one
    /// currency's.
    fn adjustment_entries(
        &self,
        partner: Option<&str>,
        currency: Option<&str>,
    ) -> Result<Vec<Entry>> {
        let filter = EntryFilter {
            partner: partner.map(Code::new).transpose()?,
            currency: currency.map(Currency::new).transpose()?,
            order_id: Some(String::new()),
        };
        let mut out: Vec<Entry> = self
            .store
            .ledger_entries(&filter)?
            .into_iter()
            .filter(|e| e.id.kind.is_adjustment() && e.note.is_some())
            .collect();
        let created = |e: &Entry| e.note.as_ref().map_or(0, |n| n.created);
        out.sort_by(|a, b| {
            created(b)
                .cmp(&created(a))
                .then_with(|| a.id.reference.cmp(&b.id.reference))
        });
        Ok(out)
    }

    /// The adjustments, newest first; optionally one partner's, one currency's.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn adjustments(
        &self,
        partner: Option<&str>,
        currency: Option<&str>,
    ) -> Result<Vec<AdjustmentAnswer>> {
        Ok(self
            .adjustment_entries(partner, currency)?
            .iter()
            .filter_map(AdjustmentAnswer::of)
            .collect())
    }

    /// [`Tracker::adjustments`] as CSV
    /// ([`ADJUSTMENT_CSV_COLUMNS`](crate::ADJUSTMENT_CSV_COLUMNS)).
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn adjustments_csv(&self, partner: Option<&str>, currency: Option<&str>) -> Result<String> {
        adjustments_csv(&self.adjustment_entries(partner, currency)?)
    }
}
