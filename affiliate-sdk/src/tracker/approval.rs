//! The [`Tracker`]'s status moves: one conversion by hand, and approval after each
//! campaign's `approve_after_days` of what the merchant vouched for.

use super::Tracker;
use crate::attribution::Conversion;
use crate::attribution::{Status, check_id};
use crate::error::{Error, Result};
use crate::store::StatusChange;
use crate::writes::StoreWrites as _;

impl Tracker {
    /// Moves a conversion to `status` if the lifecycle allows it.
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn set_status(&self, order_id: &str, status: Status) -> Result<Conversion> {
        check_id("order_id", order_id)?;
        // A concurrent change between the read and the swap is retried against the
        // new status; each retry is a fresh check of the lifecycle.
        for _ in 0..16 {
            let current = self
                .store
                .conversion(order_id)?
                .ok_or_else(|| Error::NotFound(format!("conversion {order_id:?}")))?;
            if !current.status.can_become(status) {
                return Err(Error::InvalidTransition {
                    from: current.status.as_str(),
                    to: status.as_str(),
                });
            }
            match self
                .store
                .set_status(order_id, current.status, status, self.clock.now())?
            {
                StatusChange::Changed(c) => {
                    self.events_written();
                    return Ok(c);
                }
                StatusChange::Unchanged(_) => {}
                StatusChange::Missing => {
                    return Err(Error::NotFound(format!("conversion {order_id:?}")));
                }
            }
        }
        Err(Error::Store("status kept changing; try again".into()))
    }

    /// Approves the pending conversions whose campaign's `approve_after_days` have
    /// passed since they were recorded; returns how many this call approved. Only
    /// conversions the merchant vouched for are approved this way (server postbacks,
    /// manual entries, signed browser conversions: [`Channel::is_authenticated`](crate::Channel::is_authenticated));
    /// unsigned browser conversions wait for a person unless the campaign sets
    /// `auto_approve_unsigned`. Each is a compare-and-swap from `pending`, so trackers
    /// on one store may all run it (the server does, every minute): every conversion
    /// is approved once, and one rejected first stays rejected. Reads the store's
    /// pending conversions up to the period ago.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use affiliate_sdk::*;
    /// # let clock = Arc::new(FixedClock::from_secs(1_700_000_000));
    /// # let tracker = Tracker::new(LinkSigner::new(Keyring::generate()?, "https://t.example/go")?,
    /// #     Arc::new(MemoryStore::new())).with_clock(clock.clone());
    /// let mut spec = CampaignSpec::new("haircare", "https://shop.example/", "USD");
    /// spec.approve_after_days = 30;
    /// tracker.add_campaign(&spec)?;
    /// tracker.add_partner(&PartnerSpec::new("abc123"))?;
    /// tracker.manual(&ManualConversion::sale("A-1", "10.00", "USD", "haircare", "abc123"))?;
    /// clock.advance_secs(29 * 86_400);
    /// assert_eq!(tracker.approve_due()?, 0);
    /// clock.advance_secs(86_400);
    /// assert_eq!(tracker.approve_due()?, 1);
    /// assert_eq!(tracker.conversion("A-1")?.status, Status::Approved);
    /// # Ok::<(), affiliate_sdk::Error>(())
    /// ```
    ///
    /// **Blocking**: waits for the store; from async code, call it off the runtime's
    /// workers (`tokio::task::spawn_blocking`).
    pub fn approve_due(&self) -> Result<usize> {
        /// Due conversions read at a time.
        const BATCH: usize = 1_000;
        let now = self.clock.now();
        let mut approved = 0;
        for campaign in self.campaigns() {
            let period = u64::from(campaign.spec().approve_after_days) * 86_400;
            let Some(made_by) = now.checked_sub(period).filter(|_| period > 0) else {
                continue;
            };
            let unsigned_too = campaign.spec().auto_approve_unsigned;
            // The store's index of pending conversions: what is due, not the history,
            // read on from the last one seen (those left pending are passed over).
            let mut cursor: Option<(u64, String)> = None;
            loop {
                let due = self.store.pending_due(
                    &campaign.code(),
                    made_by,
                    cursor.as_ref().map(|(at, id)| (*at, id.as_str())),
                    BATCH,
                )?;
                for c in due
                    .iter()
                    .filter(|c| unsigned_too || c.channel.is_authenticated())
                {
                    // Another tracker may have approved (or someone rejected) it meanwhile.
                    if let StatusChange::Changed(_) = self.store.set_status(
                        &c.order_id,
                        Status::Pending,
                        Status::Approved,
                        now,
                    )? {
                        approved += 1;
                        self.events_written();
                    }
                }
                match due.last() {
                    Some(last) if due.len() == BATCH => {
                        cursor = Some((last.converted_at, last.order_id.clone()));
                    }
                    _ => break,
                }
            }
        }
        Ok(approved)
    }
}
