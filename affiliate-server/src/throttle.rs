//! Wrong credentials per source address: an address that has sent
//! [`FAILURES_PER_WINDOW`] wrong API or partner keys within a [`WINDOW`] is answered
//! `429` (with `Retry-After`) on every credentialed request until the window ends,
//! whatever key it sends; other addresses are not affected. One log line per address
//! and window, never the key. IPv6 addresses count by their /64 (what one host is
//! usually given). The table is bounded ([`MAX_ADDRESSES`]): when full, addresses of
//! past windows are forgotten first, then the new address is not tracked.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Wrong keys an address may send per window before it is throttled.
pub const FAILURES_PER_WINDOW: u32 = 20;

/// The window.
pub const WINDOW: Duration = Duration::from_secs(60);

/// Addresses tracked at most.
pub const MAX_ADDRESSES: usize = 100_000;

/// The source of a request, as the connection gave it (a request extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer(pub IpAddr);

/// An address as counted: IPv4 whole, IPv6 by its /64.
fn bucket(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => u128::from(u32::from(v4)),
            None => (u128::from(v6) >> 64 << 64) | 1,
        },
    }
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    window: u64,
    failures: u32,
}

/// The failures of each address in the current window.
#[derive(Debug)]
pub struct KeyThrottle {
    started: Instant,
    slots: Mutex<HashMap<u128, Slot>>,
}

impl Default for KeyThrottle {
    fn default() -> KeyThrottle {
        KeyThrottle {
            started: Instant::now(),
            slots: Mutex::new(HashMap::new()),
        }
    }
}

/// What a failure did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Counted.
    Counted,
    /// Counted, and the address is throttled from now on: log it (once per window).
    Throttled,
}

impl KeyThrottle {
    fn window(&self) -> (u64, u64) {
        let secs = self.started.elapsed().as_secs();
        let w = WINDOW.as_secs();
        (secs / w, w - secs % w)
    }

    /// `Err(seconds)` when `peer` is throttled: it may try again after that many
    /// seconds. A request without a known source is never throttled.
    pub fn check(&self, peer: Option<Peer>) -> Result<(), u64> {
        let Some(Peer(ip)) = peer else { return Ok(()) };
        let (now, left) = self.window();
        let slots = self
            .slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match slots.get(&bucket(ip)) {
            Some(s) if s.window == now && s.failures >= FAILURES_PER_WINDOW => Err(left),
            _ => Ok(()),
        }
    }

    /// Counts a wrong key from `peer`.
    pub fn failed(&self, peer: Option<Peer>) -> Failure {
        let Some(Peer(ip)) = peer else {
            return Failure::Counted;
        };
        let (now, _) = self.window();
        let mut slots = self
            .slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let key = bucket(ip);
        if !slots.contains_key(&key) && slots.len() >= MAX_ADDRESSES {
            slots.retain(|_, s| s.window == now);
            if slots.len() >= MAX_ADDRESSES {
                return Failure::Counted;
            }
        }
        let slot = slots.entry(key).or_insert(Slot {
            window: now,
            failures: 0,
        });
        if slot.window != now {
            *slot = Slot {
                window: now,
                failures: 0,
            };
        }
        slot.failures = slot.failures.saturating_add(1);
        if slot.failures == FAILURES_PER_WINDOW {
            Failure::Throttled
        } else {
            Failure::Counted
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(s: &str) -> Option<Peer> {
        Some(Peer(s.parse().unwrap()))
    }

    #[test]
    fn an_address_is_throttled_past_the_limit_and_others_are_not() {
        let t = KeyThrottle::default();
        for _ in 1..FAILURES_PER_WINDOW {
            assert_eq!(t.failed(peer("203.0.113.5")), Failure::Counted);
            assert_eq!(t.check(peer("203.0.113.5")), Ok(()));
        }
        assert_eq!(t.failed(peer("203.0.113.5")), Failure::Throttled);
        let left = t.check(peer("203.0.113.5")).unwrap_err();
        assert!((1..=60).contains(&left), "{left}");
        assert_eq!(
            t.failed(peer("203.0.113.5")),
            Failure::Counted,
            "logged once"
        );
        assert_eq!(t.check(peer("203.0.113.6")), Ok(()));
        assert_eq!(t.check(None), Ok(()));
        // One /64 is one address; the next /64 is another.
        for _ in 0..FAILURES_PER_WINDOW {
            t.failed(peer("2001:db8:1:2::1"));
        }
        assert!(t.check(peer("2001:db8:1:2:ffff::9")).is_err());
        assert_eq!(t.check(peer("2001:db8:1:3::1")), Ok(()));
        assert!(t.check(peer("::ffff:203.0.113.5")).is_err());
    }
}
