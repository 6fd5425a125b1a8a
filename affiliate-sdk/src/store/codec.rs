//! The binary encodings of click records and counter keys shared by the stores that
//! keep them as bytes (sled trees, PostgreSQL `bytea` columns).

use super::{ClickRecord, CounterKey, Counters};
use crate::click_id::ClickId;
use crate::code::{Code, Sid};
use crate::link::Link;
use crate::money::Currency;

/// `day (4 bytes, big-endian) | parts`, see [`encode_parts`]: ordered by day, so a
/// date range is a key range.
pub(crate) fn encode_counter_key(k: &CounterKey) -> Vec<u8> {
    let mut out = Vec::with_capacity(48);
    out.extend_from_slice(&k.day.to_be_bytes());
    encode_parts(&k.link, k.currency, &mut out);
    out
}

pub(crate) fn decode_counter_key(b: &[u8]) -> Option<CounterKey> {
    let day = u32::from_be_bytes(b.get(..4)?.try_into().ok()?);
    let (link, currency) = decode_parts(&b[4..])?;
    Some(CounterKey {
        day,
        link,
        currency,
    })
}

/// The millisecond of a click id (its first 6 bytes, big-endian): the key prefix of
/// the click entries, `ms (6) | batch sequence (8, BE)` → `(id (16) | len (2, LE) |
/// record)*`.
pub(crate) fn ms_prefix(id: &ClickId) -> [u8; 6] {
    let mut ms = [0u8; 6];
    ms.copy_from_slice(&id.as_bytes()[..6]);
    ms
}

/// A click under its id: `at (8, LE) | unique (1) | commission (8, LE) | parts`.
pub(crate) fn encode_click(c: &ClickRecord) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(&c.at.to_le_bytes());
    out.push(u8::from(c.unique));
    out.extend_from_slice(&c.commission_minor.to_le_bytes());
    encode_parts(&c.link, c.currency, &mut out);
    out
}

pub(crate) fn decode_click(click_id: ClickId, b: &[u8]) -> Option<ClickRecord> {
    let at = u64::from_le_bytes(b.get(..8)?.try_into().ok()?);
    let unique = match b.get(8)? {
        0 => false,
        1 => true,
        _ => return None,
    };
    let commission_minor = u64::from_le_bytes(b.get(9..17)?.try_into().ok()?);
    let (link, currency) = decode_parts(&b[17..])?;
    Some(ClickRecord {
        click_id,
        link,
        at,
        unique,
        currency,
        commission_minor,
        paid_cap: 0,
    })
}

/// `campaign | partner | ad | sid | currency`, each text prefixed by its length in one
/// byte (0 for an absent ad or sid).
pub(crate) fn encode_parts(l: &Link, currency: Currency, out: &mut Vec<u8>) {
    for part in [
        l.campaign.as_str(),
        l.partner.as_str(),
        l.ad.as_ref().map_or("", Code::as_str),
        l.sid.as_ref().map_or("", Sid::as_str),
        currency.code(),
    ] {
        // Codes, sids and currency codes are at most 64 bytes.
        out.push(u8::try_from(part.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(part.as_bytes());
    }
}

pub(crate) fn decode_parts(mut rest: &[u8]) -> Option<(Link, Currency)> {
    let mut parts = [""; 5];
    for p in &mut parts {
        let (&len, tail) = rest.split_first()?;
        let (s, tail) = tail.split_at_checked(usize::from(len))?;
        *p = std::str::from_utf8(s).ok()?;
        rest = tail;
    }
    if !rest.is_empty() {
        return None;
    }
    let [campaign, partner, ad, sid, currency] = parts;
    // Counters of the sids over a day's cap are kept under `(other)`.
    let other = sid == Sid::OTHER;
    let mut link = Link::parse(
        campaign,
        partner,
        (!ad.is_empty()).then_some(ad),
        (!sid.is_empty() && !other).then_some(sid),
    )
    .ok()?;
    if other {
        link.sid = Some(Sid::other());
    }
    Some((link, Currency::new(currency).ok()?))
}

/// The counters, 8 bytes each (LE); `bot_clicks` last, so a record written before it
/// was counted reads as 0 bot clicks.
pub(crate) fn encode_counters(c: &Counters) -> [u8; 48] {
    let mut out = [0u8; 48];
    for (chunk, v) in out.chunks_exact_mut(8).zip([
        c.clicks,
        c.unique_clicks,
        c.impressions,
        c.click_commission_minor,
        c.impression_commission_milli,
        c.bot_clicks,
    ]) {
        chunk.copy_from_slice(&v.to_le_bytes());
    }
    out
}

pub(crate) fn decode_counters(b: &[u8]) -> Counters {
    let mut v = [0u64; 6];
    for (slot, chunk) in v.iter_mut().zip(b.chunks_exact(8)) {
        let mut a = [0u8; 8];
        a.copy_from_slice(chunk);
        *slot = u64::from_le_bytes(a);
    }
    Counters {
        clicks: v[0],
        unique_clicks: v[1],
        impressions: v[2],
        click_commission_minor: v[3],
        impression_commission_milli: v[4],
        bot_clicks: v[5],
    }
}
