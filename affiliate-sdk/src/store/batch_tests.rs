//! Tests of the click buffer (`batch.rs`).

use super::*;
use crate::money::Currency;

fn click(i: u64) -> ClickRecord {
    let mut id = [0u8; 16];
    id[8..].copy_from_slice(&i.to_be_bytes());
    ClickRecord {
        click_id: ClickId::from_bytes(id),
        link: Link::parse("c", "p", None, Some(&format!("s{}", i % 2))).unwrap(),
        at: 1_700_000_000,
        unique: true,
        currency: Currency::new("USD").unwrap(),
        commission_minor: 0,
        paid_cap: 0,
    }
}

#[test]
fn a_write_counts_in_the_first_bucket_whose_bound_it_does_not_exceed() {
    use super::super::limits::WRITE_BUCKET_MICROS;
    assert_eq!(WriterStats::write_bucket(0), 0);
    assert_eq!(WriterStats::write_bucket(1_000), 0);
    assert_eq!(WriterStats::write_bucket(1_001), 1);
    assert_eq!(
        WriterStats::write_bucket(10_000_000),
        WRITE_BUCKET_MICROS.len() - 1
    );
    assert_eq!(
        WriterStats::write_bucket(u64::MAX),
        WRITE_BUCKET_MICROS.len()
    );
    assert!(WRITE_BUCKET_MICROS.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn a_stalled_store_fills_the_buffer_then_clicks_are_dropped_and_counted_never_written_inline() {
    let limits = StoreLimits {
        click_buffer_bytes: 100 * CLICK_BYTES,
        max_sids_per_day: 1000,
    };
    let buffer = ClickBuffer::new(&limits);
    let writes = std::sync::atomic::AtomicUsize::new(0);
    // Recording never writes, however many clicks come.
    for i in 0..1000 {
        buffer.click(&click(i));
    }
    assert_eq!(writes.load(Ordering::Relaxed), 0);
    let kept = 1000 - buffer.dropped().clicks;
    assert!((90..100).contains(&kept), "kept {kept}");
    // Impressions with new sids need counter keys: no room, dropped and counted.
    for i in 0..50 {
        buffer.impression(&ImpressionRecord {
            link: Link::parse("c", "p", None, Some(&format!("imp{i}"))).unwrap(),
            at: 1_700_000_000,
            currency: Currency::new("USD").unwrap(),
            per_mille_minor: 0,
            paid_cap: 0,
        });
    }
    assert!(buffer.dropped().impressions >= 49, "{:?}", buffer.dropped());
    // The store is down: the write fails, the batch is kept, still full.
    let down = |_: &Pending| -> Result<()> {
        writes.fetch_add(1, Ordering::Relaxed);
        Err(Error::Store("down".into()))
    };
    assert!(buffer.write_out(down).is_err());
    let stats = buffer.stats();
    assert!(
        stats.failing && stats.failed_writes == 1 && stats.writes == 0,
        "{stats:?}"
    );
    assert!(stats.buffered_bytes > 0);
    buffer.click(&click(5000));
    assert_eq!(buffer.dropped().clicks, 1000 - kept + 1);
    // Back: written, and recording resumes.
    let written = std::sync::atomic::AtomicUsize::new(0);
    buffer
        .write_out(|b| {
            written.fetch_add(b.clicks.len(), Ordering::Relaxed);
            Ok(())
        })
        .unwrap();
    assert_eq!(written.load(Ordering::Relaxed) as u64, kept);
    let stats = buffer.stats();
    assert!(
        !stats.failing && stats.failed_writes == 1 && stats.writes == 1,
        "{stats:?}"
    );
    assert_eq!(stats.buffered_bytes, 0);
    // Every attempt, failed or not, is in one latency bucket.
    assert_eq!(stats.write_buckets.iter().sum::<u64>(), 2, "{stats:?}");
    buffer.click(&click(6000));
    assert!(buffer.find(click(6000).click_id).is_some());
    assert_eq!(buffer.dropped().clicks, 1000 - kept + 1);
    // The written batch's memory is reused, not lost to the budget: the buffer
    // keeps as many clicks again.
    for i in 7000..8000 {
        buffer.click(&click(i));
    }
    let kept_again = 1000 - (buffer.dropped().clicks - (1000 - kept + 1));
    assert!(
        (kept - 1..=kept).contains(&kept_again),
        "kept {kept_again} of {kept}"
    );
}
