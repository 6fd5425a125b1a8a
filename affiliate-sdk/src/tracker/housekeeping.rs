//! [`Housekeeping`]: the chores a running program needs besides answering requests —
//! reloading the program another server changed, approving due conversions, writing
//! the traffic earnings of days that are over, pruning
//! old clicks and delivery logs, and fanning out and sending events — in one type that
//! a caller ticks. `affiliate-server` ticks it on a thread of its own; a Rust service
//! ticks it on a thread or a blocking task of its own, or calls
//! [`Tracker::run_housekeeping`] from cron.

use std::time::{Duration, Instant};

use super::{DEFAULT_CLICK_RETENTION_DAYS, DeliveryRound, PRUNE_CLICKS_MAX, Tracker, Transport};
use crate::error::{Error, Result};

/// How often each chore runs, and with what limits. Every field has a documented
/// default ([`HousekeepingSchedule::default`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HousekeepingSchedule {
    /// Reload campaigns and partners when another server changed them
    /// ([`Tracker::refresh`]). Default 1 s.
    pub refresh_every: Duration,
    /// Approve pending conversions past their campaign's `approve_after_days`
    /// ([`Tracker::approve_due`]), and write the traffic earnings of days that are over
    /// ([`Tracker::close_traffic`]). Default 60 s.
    pub approve_every: Duration,
    /// Prune click records past the retention and delivery logs past the retry window
    /// ([`Tracker::prune_clicks`], [`Tracker::prune_deliveries`]). Default 1 hour.
    pub prune_every: Duration,
    /// Click records older than this many days are pruned (at least the longest
    /// cookie window). Default [`DEFAULT_CLICK_RETENTION_DAYS`] (400).
    pub click_retention_days: u32,
    /// The most deliveries one tick sends when it is given a transport. Default 100.
    pub deliveries_per_tick: usize,
}

impl Default for HousekeepingSchedule {
    fn default() -> HousekeepingSchedule {
        HousekeepingSchedule {
            refresh_every: Duration::from_secs(1),
            approve_every: Duration::from_secs(60),
            prune_every: Duration::from_secs(3600),
            click_retention_days: DEFAULT_CLICK_RETENTION_DAYS,
            deliveries_per_tick: 100,
        }
    }
}

/// A chore of [`Housekeeping`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Chore {
    /// [`Tracker::refresh`].
    Refresh,
    /// [`Tracker::approve_due`].
    Approve,
    /// [`Tracker::prune_clicks`].
    PruneClicks,
    /// [`Tracker::prune_deliveries`].
    PruneDeliveries,
    /// [`Tracker::deliver`].
    Deliver,
    /// [`Tracker::close_traffic`].
    CloseTraffic,
}

impl Chore {
    /// `refresh`, `approve`, `prune_clicks`, `prune_deliveries`, `deliver` or
    /// `close_traffic`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Chore::Refresh => "refresh",
            Chore::Approve => "approve",
            Chore::PruneClicks => "prune_clicks",
            Chore::PruneDeliveries => "prune_deliveries",
            Chore::Deliver => "deliver",
            Chore::CloseTraffic => "close_traffic",
        }
    }
}

/// What one [`Housekeeping::tick`] did. A chore that failed is in `failed`; the others
/// ran all the same.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct ChoresDone {
    /// Whether the program was reloaded (another server changed it).
    pub refreshed: bool,
    /// Conversions approved.
    pub approved: usize,
    /// Traffic earnings written and approved.
    pub traffic: super::TrafficClosed,
    /// Click records pruned.
    pub clicks_pruned: usize,
    /// Delivery log entries pruned.
    pub deliveries_pruned: usize,
    /// Events fanned out and deliveries sent.
    pub delivery: DeliveryRound,
    /// The chores that failed, with why (they run again at their next turn).
    pub failed: Vec<(Chore, Error)>,
}

/// The housekeeping of one tracker: reload, approve, prune, deliver. Several servers on
/// one store may each run it: every chore is safe to run twice at once (an approval is
/// a compare-and-swap, a delivery is leased).
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
/// clock.advance_secs(30 * 86_400);
/// // From cron: every chore now.
/// let mut chores = Housekeeping::new(HousekeepingSchedule::default())?;
/// let done = chores.run_now(&tracker, None);
/// assert!(done.failed.is_empty());
/// assert_eq!(done.approved, 1);
/// // In a loop: only what is due (approval runs again after `approve_every`).
/// tracker.manual(&ManualConversion::sale("A-0", "10.00", "USD", "haircare", "abc123"))?;
/// assert_eq!(chores.tick(&tracker, None).approved, 0);
/// # Ok::<(), affiliate_sdk::Error>(())
/// ```
pub struct Housekeeping {
    schedule: HousekeepingSchedule,
    last: [Option<Instant>; 3],
}

impl std::fmt::Debug for Housekeeping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Housekeeping")
            .field("schedule", &self.schedule)
            .finish_non_exhaustive()
    }
}

const REFRESH: usize = 0;
const APPROVE: usize = 1;
const PRUNE: usize = 2;

impl Housekeeping {
    /// Housekeeping on `schedule`. Nothing has run yet: the first
    /// [`Housekeeping::tick`] runs every chore.
    ///
    /// Errors: `malformed` for a click retention under 1 day or no deliveries a tick.
    pub fn new(schedule: HousekeepingSchedule) -> Result<Housekeeping> {
        if schedule.click_retention_days == 0 {
            return Err(Error::malformed(
                "click_retention_days",
                "must be at least 1",
            ));
        }
        if schedule.deliveries_per_tick == 0 {
            return Err(Error::malformed(
                "deliveries_per_tick",
                "must be at least 1",
            ));
        }
        Ok(Housekeeping {
            schedule,
            last: [None; 3],
        })
    }

    /// The schedule.
    #[must_use]
    pub fn schedule(&self) -> &HousekeepingSchedule {
        &self.schedule
    }

    /// Runs the chores whose turn has come (each after its interval since it last ran);
    /// with a `transport`, also fans out the outbox and sends up to
    /// [`HousekeepingSchedule::deliveries_per_tick`] due deliveries. Call it about once a second.
    ///
    /// **Blocking**: waits for the store (and the transport); from async code, call it
    /// off the runtime's workers.
    pub fn tick(&mut self, tracker: &Tracker, transport: Option<&dyn Transport>) -> ChoresDone {
        let now = Instant::now();
        let due = |last: Option<Instant>, every: Duration| {
            last.is_none_or(|t| now.duration_since(t) >= every)
        };
        let turns = [
            due(self.last[REFRESH], self.schedule.refresh_every),
            due(self.last[APPROVE], self.schedule.approve_every),
            due(self.last[PRUNE], self.schedule.prune_every),
        ];
        for (i, turn) in turns.iter().enumerate() {
            if *turn {
                self.last[i] = Some(now);
            }
        }
        self.run(tracker, turns, transport)
    }

    /// Runs every chore now, whatever the schedule (for cron, or at start).
    ///
    /// **Blocking**: waits for the store (and the transport); from async code, call it
    /// off the runtime's workers.
    pub fn run_now(&mut self, tracker: &Tracker, transport: Option<&dyn Transport>) -> ChoresDone {
        let now = Instant::now();
        self.last = [Some(now); 3];
        self.run(tracker, [true; 3], transport)
    }

    /// Ticks on a thread of its own (named `affiliate-housekeeping`) once a second
    /// while `tracker` has another owner: the thread ends within about a second of the
    /// last other `Arc` being dropped. `report` sees what each tick did (log its
    /// `failed` chores). For a Rust service (an axum app, a worker): the chores a
    /// program needs without a server of ours.
    pub fn spawn(
        mut self,
        tracker: &std::sync::Arc<Tracker>,
        transport: Option<std::sync::Arc<dyn Transport + Send>>,
        mut report: impl FnMut(&ChoresDone) + Send + 'static,
    ) -> std::io::Result<std::thread::JoinHandle<()>> {
        let tracker = std::sync::Arc::downgrade(tracker);
        std::thread::Builder::new()
            .name("affiliate-housekeeping".into())
            .spawn(move || {
                while let Some(t) = tracker.upgrade() {
                    let done = self.tick(&t, transport.as_deref().map(|x| x as &dyn Transport));
                    drop(t);
                    report(&done);
                    std::thread::sleep(Duration::from_secs(1));
                }
            })
    }

    fn run(
        &self,
        t: &Tracker,
        [refresh, approve, prune]: [bool; 3],
        transport: Option<&dyn Transport>,
    ) -> ChoresDone {
        let mut done = ChoresDone::default();
        if refresh {
            match t.refresh() {
                Ok(r) => done.refreshed = r,
                Err(e) => done.failed.push((Chore::Refresh, e)),
            }
        }
        if approve {
            match t.approve_due() {
                Ok(n) => done.approved = n,
                Err(e) => done.failed.push((Chore::Approve, e)),
            }
            match t.close_traffic() {
                Ok(n) => done.traffic = n,
                Err(e) => done.failed.push((Chore::CloseTraffic, e)),
            }
        }
        if prune {
            // Pruning removes at most PRUNE_CLICKS_MAX a call: again while it removes that.
            loop {
                match t.prune_clicks(self.schedule.click_retention_days) {
                    Ok(n) => {
                        done.clicks_pruned += n;
                        if n < PRUNE_CLICKS_MAX {
                            break;
                        }
                    }
                    Err(e) => {
                        done.failed.push((Chore::PruneClicks, e));
                        break;
                    }
                }
            }
            match t.prune_deliveries(100_000) {
                Ok(n) => done.deliveries_pruned = n,
                Err(e) => done.failed.push((Chore::PruneDeliveries, e)),
            }
        }
        if let Some(transport) = transport {
            match t.deliver(transport, self.schedule.deliveries_per_tick) {
                Ok(r) => done.delivery = r,
                Err(e) => done.failed.push((Chore::Deliver, e)),
            }
        }
        done
    }
}

impl Tracker {
    /// Runs every housekeeping chore once now, on the default
    /// [`HousekeepingSchedule`] (for cron): see [`Housekeeping::run_now`].
    ///
    /// **Blocking**: waits for the store (and the transport); from async code, call it
    /// off the runtime's workers.
    pub fn run_housekeeping(&self, transport: Option<&dyn Transport>) -> ChoresDone {
        Housekeeping {
            schedule: HousekeepingSchedule::default(),
            last: [None; 3],
        }
        .run_now(self, transport)
    }
}
