//! The ledger through the tracker: balances per beneficiary and currency, payout runs,
//! payouts paid or failed, and their CSV.

use super::Tracker;
use crate::answers::{PayoutItem, PayoutWithItems};
use crate::attribution::days::parse_day;
use crate::attribution::export::payouts_csv;
use crate::code::Code;
use crate::error::{Error, Result};
use crate::ledger::{
    Balance, EntryFilter, Payout, PayoutFilter, PayoutRequest, PayoutRunSpec, PayoutStatus,
    Skipped, check_idempotency_key, skipped,
};
use crate::money::{Currency, Money};
use crate::store::PayoutsMade;
use crate::writes::StoreWrites as _;

impl Tracker {
    /// What each beneficiary earns at every level, per currency, by partner code:
    /// pending, payable, in payouts, paid, and clawed back (see
    /// [`ledger`](crate::ledger) for what each counts). Optionally one partner's or
    /// one currency's. Reads the store.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use affiliate_sdk::*;
    /// # let tracker = Tracker::new(LinkSigner::new(Keyring::generate()?, "https://t.example/go")?,
    /// #     Arc::new(MemoryStore::new()));
    /// let mut spec = CampaignSpec::new("haircare", "https://shop.example/", "USD");
    /// spec.sale_percent = Some("10".into());
    /// spec.override_percents = vec!["10".into()];
    /// tracker.add_campaign(&spec)?;
    /// tracker.add_partner(&PartnerSpec::new("boss1"))?;
    /// tracker.add_partner(&PartnerSpec::new("abc123").with_parent("boss1"))?;
    /// tracker.manual(&ManualConversion::sale("A-1", "60.00", "USD", "haircare", "abc123"))?;
    /// tracker.set_status("A-1", Status::Approved)?;
    /// let rows = tracker.balances(None, None)?;
    /// // Each beneficiary on its own row: the child 6.00, its parent's override 0.60.
    /// let payable: Vec<(String, i128)> = rows.iter().map(|(p, _, b)| (p.to_string(), b.payable)).collect();
    /// assert_eq!(payable, [("abc123".to_string(), 600), ("boss1".to_string(), 60)]);
    /// # Ok::<(), affiliate_sdk::Error>(())
    /// ```
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn balances(
        &self,
        partner: Option<&str>,
        currency: Option<&str>,
    ) -> Result<Vec<(Code, Currency, Balance)>> {
        let filter = EntryFilter {
            partner: partner.map(Code::new).transpose()?,
            currency: currency.map(Currency::new).transpose()?,
            order_id: None,
        };
        Ok(self
            .store
            .balances(&filter)?
            .into_iter()
            .map(|((p, c), b)| (p, c, b))
            .collect())
    }

    /// Checks a payout run: the currency (ISO 4217), `up_to` a day `YYYY-MM-DD` (the
    /// end of that UTC day), `min_amount` a non-negative decimal in the currency, and
    /// `partner` a partner of the program. A bad field is `malformed` (an unknown
    /// partner `unknown_partner`).
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn payout_request(&self, spec: &PayoutRunSpec) -> Result<PayoutRequest> {
        let currency = Currency::new(&spec.currency)?;
        let up_to = spec
            .up_to
            .as_deref()
            .map(|d| parse_day(d).map(|day| u64::from(day) * 86_400 + 86_399))
            .transpose()?;
        let min_minor = match &spec.min_amount {
            Some(m) => Money::parse(m, currency.code())?.minor(),
            None => 0,
        };
        let partner = match &spec.partner {
            Some(p) => {
                let code = Code::new(p)?;
                if self.read().partner(p).is_none() {
                    return Err(Error::UnknownPartner(p.clone()));
                }
                Some(code)
            }
            None => None,
        };
        Ok(PayoutRequest {
            currency: Some(currency),
            up_to,
            min_minor,
            partner,
        })
    }

    /// Makes a payout run: per partner, one payout of its payable commissions (on or
    /// before `up_to`) net of what it owes back, when that is positive and at least
    /// `min_amount`; the entries are held until the payout is marked paid or failed.
    /// `key` is the run's idempotency key (1 to 255 visible ASCII characters): the same
    /// key answers the payouts it made (`Replayed`), with another request `conflict`.
    /// Durable before it returns.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use affiliate_sdk::*;
    /// # use affiliate_sdk::ledger::{PayoutRunSpec, PayoutStatus};
    /// # let tracker = Tracker::new(LinkSigner::new(Keyring::generate()?, "https://t.example/go")?,
    /// #     Arc::new(MemoryStore::new()));
    /// let mut spec = CampaignSpec::new("haircare", "https://shop.example/", "USD");
    /// spec.sale_percent = Some("10".into());
    /// tracker.add_campaign(&spec)?;
    /// tracker.add_partner(&PartnerSpec::new("abc123"))?;
    /// tracker.manual(&ManualConversion::sale("A-1", "60.00", "USD", "haircare", "abc123"))?;
    /// tracker.set_status("A-1", Status::Approved)?;
    /// let run = PayoutRunSpec { currency: "USD".into(), ..Default::default() };
    /// let made = tracker.create_payouts("run-2026-11", &run)?;
    /// let payout = &made.payouts()[0];
    /// assert_eq!((payout.partner.as_str(), payout.amount().to_string()), ("abc123", "6.00".into()));
    /// // The same key again: the same payout, nothing new.
    /// assert_eq!(tracker.create_payouts("run-2026-11", &run)?.payouts(), made.payouts());
    /// tracker.set_payout_status(&payout.id, "paid")?;
    /// assert_eq!(tracker.conversion("A-1")?.status, Status::Paid);
    /// # Ok::<(), affiliate_sdk::Error>(())
    /// ```
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn create_payouts(&self, key: &str, spec: &PayoutRunSpec) -> Result<PayoutsMade> {
        check_idempotency_key(key)?;
        let req = self.payout_request(spec)?;
        let made = self.store.create_payouts(key, &req, self.clock.now())?;
        self.events_written();
        Ok(made)
    }

    /// The partners with payable entries that a run under `spec` passes over as the
    /// ledger stands now, and why ([`SkipReason`](crate::ledger::SkipReason)): below
    /// `min_amount`, owing back at least what they earned, or owed more than one payout
    /// holds. Asked right after a run, these are the partners it made no payout for.
    /// Reads the ledger's entries of the currency (of the partner, if given).
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn payout_skips(&self, spec: &PayoutRunSpec) -> Result<Vec<Skipped>> {
        let req = self.payout_request(spec)?;
        let entries = self.store.ledger_entries(&EntryFilter {
            partner: req.partner,
            currency: req.currency,
            order_id: None,
        })?;
        Ok(skipped(&entries, &req))
    }

    /// The payouts, newest first; optionally one partner's, one currency's, or those
    /// in one status (`pending`, `paid`, `failed`).
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn payouts(
        &self,
        partner: Option<&str>,
        currency: Option<&str>,
        status: Option<&str>,
    ) -> Result<Vec<Payout>> {
        let filter = PayoutFilter {
            partner: partner.map(Code::new).transpose()?,
            currency: currency.map(Currency::new).transpose()?,
            status: status.map(str::parse).transpose()?,
        };
        self.store.payouts(&filter)
    }

    /// The payout `id`; `not_found` when there is none.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn payout(&self, id: &str) -> Result<Payout> {
        check_payout_id(id)?;
        self.store
            .payout(id)?
            .ok_or_else(|| Error::NotFound(format!("payout {id:?}")))
    }

    /// A payout as the API shows it ([`Payout::answer`]) with `items`: each entry it
    /// settles, `{order_id, level, kind, amount}` (a clawback's amount negative).
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn payout_with_items(&self, payout: &Payout) -> Result<PayoutWithItems> {
        let mut items = Vec::with_capacity(payout.entries.len());
        for order in crate::ledger::payout_orders(payout) {
            let filter = EntryFilter {
                order_id: Some(order),
                ..EntryFilter::default()
            };
            for e in self.store.ledger_entries(&filter)? {
                if payout.entries.contains(&e.id) {
                    items.push(PayoutItem::from(&e));
                }
            }
        }
        if payout.entries.iter().any(|id| !id.of_order()) {
            let adjustments = EntryFilter {
                partner: Some(payout.partner),
                currency: Some(payout.currency),
                order_id: Some(String::new()),
            };
            for e in self.store.ledger_entries(&adjustments)? {
                if payout.entries.contains(&e.id) {
                    items.push(PayoutItem::from(&e));
                }
            }
        }
        Ok(PayoutWithItems {
            payout: payout.answer(),
            items,
        })
    }

    /// Marks a pending payout `paid` (its entries paid; conversions whose entries
    /// are all paid read `paid`) or `failed` (its entries payable again). Anything
    /// else is `invalid_transition` and changes nothing; an unknown payout `not_found`.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn set_payout_status(&self, id: &str, status: &str) -> Result<Payout> {
        check_payout_id(id)?;
        let to: PayoutStatus = status.parse()?;
        let payout = self
            .store
            .set_payout_status(id, to, self.clock.now())?
            .ok_or_else(|| Error::NotFound(format!("payout {id:?}")))?;
        self.events_written();
        Ok(payout)
    }

    /// [`Tracker::payouts`] as CSV, with each partner's name and payout details
    /// (columns [`PAYOUT_CSV_COLUMNS`](crate::PAYOUT_CSV_COLUMNS)).
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn payouts_csv(
        &self,
        partner: Option<&str>,
        currency: Option<&str>,
        status: Option<&str>,
    ) -> Result<String> {
        let payouts = self.payouts(partner, currency, status)?;
        let catalogue = self.read();
        payouts_csv(&payouts, |code| {
            catalogue
                .partner(code.as_str())
                .map_or_else(Default::default, |p| {
                    (
                        p.name.clone().unwrap_or_default(),
                        p.payout_details.clone().unwrap_or_default(),
                    )
                })
        })
    }
}

/// A payout id from outside: at most 64 characters of `[A-Za-z0-9_]`, else
/// `not_found` without a read.
fn check_payout_id(id: &str) -> Result<()> {
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(Error::NotFound(format!("payout {id:?}")));
    }
    Ok(())
}
