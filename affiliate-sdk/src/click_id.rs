//! Click ids: 128-bit, time-ordered, never repeating.
//!
//! A click id is a UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then 74 bits that
//! start random in each millisecond and grow by a random step for every further id of
//! the same millisecond, so ids from one [`ClickIdGenerator`] strictly increase even
//! when the clock stalls or steps back. Ids from different processes differ in their
//! random bits.

use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;

use uuid::Uuid;

use crate::error::{Error, KeyError, Result};

/// The id of one click, carried in its session token and accepted by postbacks.
///
/// Written as a lowercase hyphenated UUID; parsing also accepts the 32-digit form.
///
/// ```
/// use affiliate_sdk::ClickId;
/// let id: ClickId = "0190a5c2-5b3a-7cde-8f01-23456789abcd".parse()?;
/// assert_eq!(id.unix_millis(), 0x0190a5c25b3a);
/// assert!("not-a-click".parse::<ClickId>().is_err());
/// # Ok::<(), affiliate_sdk::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClickId(Uuid);

impl ClickId {
    /// The id from its 16 bytes.
    #[must_use]
    pub const fn from_bytes(bytes: [u8; 16]) -> ClickId {
        ClickId(Uuid::from_bytes(bytes))
    }

    /// The id's 16 bytes (big-endian, so byte order is time order).
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 16] {
        self.0.as_bytes()
    }

    /// Writes the id's text (the 36 characters [`Display`](fmt::Display) gives) into
    /// `buf` without allocating.
    ///
    /// ```
    /// use affiliate_sdk::ClickId;
    /// let id = ClickId::from_bytes([0xab; 16]);
    /// let mut buf = [0; 36];
    /// assert_eq!(id.encode_text(&mut buf), id.to_string());
    /// ```
    pub fn encode_text<'b>(&self, buf: &'b mut [u8; 36]) -> &'b str {
        self.0.hyphenated().encode_lower(buf)
    }

    /// The millisecond timestamp in the id's first 48 bits.
    #[must_use]
    pub fn unix_millis(&self) -> u64 {
        let b = self.0.as_bytes();
        u64::from_be_bytes([0, 0, b[0], b[1], b[2], b[3], b[4], b[5]])
    }
}

impl fmt::Display for ClickId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

impl fmt::Debug for ClickId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClickId({self})")
    }
}

impl serde::Serialize for ClickId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for ClickId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<ClickId, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl FromStr for ClickId {
    type Err = Error;

    fn from_str(s: &str) -> Result<ClickId> {
        // Only the hyphenated (36) and simple (32) forms; no braces or URN prefix.
        if !matches!(s.len(), 32 | 36) {
            return Err(Error::malformed(
                "click id",
                "expected a 32 or 36 character UUID",
            ));
        }
        Uuid::try_parse(s)
            .map(ClickId)
            .map_err(|_| Error::malformed("click id", "expected a 32 or 36 character UUID"))
    }
}

/// Hands out strictly increasing [`ClickId`]s. Share one per process (it is `Sync`).
#[derive(Default)]
pub struct ClickIdGenerator {
    state: Mutex<GeneratorState>,
}

impl std::fmt::Debug for ClickIdGenerator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClickIdGenerator").finish_non_exhaustive()
    }
}

/// Random bytes are drawn from the OS this many at a time: one system call per 32 ids
/// rather than per id.
const POOL: usize = 512;

struct GeneratorState {
    /// Last millisecond handed out.
    ms: u64,
    /// Last 74-bit counter handed out.
    counter: u128,
    pool: [u8; POOL],
    /// Bytes of `pool` already used.
    used: usize,
}

impl Default for GeneratorState {
    fn default() -> Self {
        GeneratorState {
            ms: 0,
            counter: 0,
            pool: [0; POOL],
            used: POOL,
        }
    }
}

impl GeneratorState {
    fn random(&mut self) -> Result<u128> {
        if self.used == POOL {
            getrandom::fill(&mut self.pool).map_err(|_| Error::from(KeyError::Random))?;
            self.used = 0;
        }
        let mut r = [0u8; 16];
        r.copy_from_slice(&self.pool[self.used..self.used + 16]);
        self.used += 16;
        Ok(u128::from_le_bytes(r))
    }
}

const COUNTER_BITS: u32 = 74;
const COUNTER_MAX: u128 = (1 << COUNTER_BITS) - 1;

impl ClickIdGenerator {
    /// A new generator.
    #[must_use]
    pub fn new() -> ClickIdGenerator {
        ClickIdGenerator::default()
    }

    /// The next id for a click at `now_millis`.
    pub fn next(&self, now_millis: u64) -> Result<ClickId> {
        // 48-bit timestamps run to the year 10889; clamp rather than wrap.
        let now = now_millis.min((1 << 48) - 1);
        let mut st = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let random = st.random()?;
        let (mut ms, mut counter) = (st.ms, st.counter);
        if now > ms {
            ms = now;
            // Start in the lower half so a millisecond has room for many increments.
            counter = random & (COUNTER_MAX >> 1);
        } else {
            // Same millisecond, or the clock stepped back: stay on the last
            // millisecond and step forward by a random amount of up to 32 bits.
            let step = 1 + (random >> 96);
            counter += step;
            if counter > COUNTER_MAX {
                ms += 1;
                counter = random & (COUNTER_MAX >> 1);
            }
        }
        (st.ms, st.counter) = (ms, counter);
        drop(st);

        Ok(ClickId(encode_v7(ms, counter)))
    }
}

/// Lays out a UUIDv7 from a 48-bit millisecond count and a 74-bit counter.
fn encode_v7(ms: u64, counter: u128) -> Uuid {
    let rand_a = (counter >> 62) & 0xfff; // 12 bits
    let rand_b = counter & ((1 << 62) - 1); // 62 bits
    let v = (u128::from(ms) << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b;
    Uuid::from_u128(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_increase_within_a_millisecond_and_when_the_clock_steps_back() {
        let g = ClickIdGenerator::new();
        let mut prev = g.next(1_000).unwrap();
        for now in [1_000, 1_000, 999, 500, 1_000, 1_001, 1_001, 2_000, 10] {
            let id = g.next(now).unwrap();
            assert!(id > prev, "{id} after {prev}");
            assert_eq!(id.0.get_version_num(), 7);
            prev = id;
        }
        assert_eq!(prev.unix_millis(), 2_000);
    }

    #[test]
    fn counter_overflow_moves_to_the_next_millisecond() {
        let g = ClickIdGenerator::new();
        {
            let mut st = g.state.lock().unwrap();
            (st.ms, st.counter) = (5, COUNTER_MAX);
        }
        let id = g.next(5).unwrap();
        assert_eq!(id.unix_millis(), 6);
    }

    #[test]
    fn text_round_trip() {
        let g = ClickIdGenerator::new();
        let id = g.next(1_700_000_000_123).unwrap();
        assert_eq!(id.to_string().parse::<ClickId>().unwrap(), id);
        assert_eq!(id.0.simple().to_string().parse::<ClickId>().unwrap(), id);
        assert_eq!(id.unix_millis(), 1_700_000_000_123);
        assert!(format!("{{{id}}}").parse::<ClickId>().is_err());
    }
}
