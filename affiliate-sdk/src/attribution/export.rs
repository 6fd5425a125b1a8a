//! CSV files of conversions and reports (RFC 4180, a header row, CRLF line ends). A
//! cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is written
//! with a leading `'`, so a spreadsheet shows it as text instead of running it as a
//! formula (an order id such as `=1+2`, a partner name, a sid a visitor typed).

use super::days::format_day;
use super::stats::{Dimension, StatsRow};
use crate::error::{Error, Result};
use crate::money::format_minor;
use crate::records::Conversion;

/// The columns of [`conversions_csv`].
pub const CONVERSION_CSV_COLUMNS: [&str; 16] = [
    "order_id",
    "converted_at",
    "kind",
    "amount",
    "currency",
    "campaign",
    "partner",
    "ad",
    "sid",
    "click_id",
    "status",
    "channel",
    "evidence",
    "customer_id",
    "partner_commission",
    "total_commission",
];

/// `cell` as a spreadsheet may open it: prefixed with `'` when it starts like a formula.
#[must_use]
pub fn csv_cell(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

fn writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new())
}

fn write_row<'a>(
    w: &mut csv::Writer<Vec<u8>>,
    cells: impl IntoIterator<Item = &'a str>,
) -> Result<()> {
    w.write_record(
        cells
            .into_iter()
            .map(|c| csv_cell(c).into_owned())
            .collect::<Vec<String>>(),
    )
    .map_err(|e| Error::Store(format!("csv: {e}")))
}

fn finish(w: csv::Writer<Vec<u8>>) -> Result<String> {
    let bytes = w
        .into_inner()
        .map_err(|e| Error::Store(format!("csv: {e}")))?;
    String::from_utf8(bytes).map_err(|e| Error::Store(format!("csv: {e}")))
}

/// `YYYY-MM-DDTHH:MM:SSZ` of a Unix time.
#[must_use]
pub fn format_time(unix_secs: u64) -> String {
    let day = u32::try_from(unix_secs / 86_400).unwrap_or(u32::MAX);
    let s = unix_secs % 86_400;
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        format_day(day),
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// Conversions as CSV, one row each, under [`CONVERSION_CSV_COLUMNS`]; amounts are
/// decimal strings in the conversion's currency, times UTC.
///
/// ```
/// # use std::sync::Arc;
/// # use affiliate_sdk::*;
/// # let tracker = Tracker::new(LinkSigner::new(Keyring::generate()?, "https://t.example/go")?,
/// #     Arc::new(MemoryStore::new()));
/// # tracker.add_campaign(&CampaignSpec::new("haircare", "https://shop.example/", "USD"))?;
/// # tracker.add_partner(&PartnerSpec::new("abc123"))?;
/// let order = ManualConversion::sale("=1+2", "49.90", "USD", "haircare", "abc123");
/// let csv = conversions_csv(&[tracker.manual(&order)?])?;
/// assert!(csv.starts_with("order_id,converted_at,kind,amount,"));
/// assert!(csv.lines().nth(1).unwrap().starts_with("'=1+2,"));
/// # Ok::<(), affiliate_sdk::Error>(())
/// ```
pub fn conversions_csv(conversions: &[Conversion]) -> Result<String> {
    let mut w = writer();
    write_row(&mut w, CONVERSION_CSV_COLUMNS)?;
    for c in conversions {
        let currency = c.amount.currency();
        let total: u128 = c
            .commissions
            .iter()
            .map(|k| u128::from(k.amount.minor()))
            .sum();
        let cells = [
            c.order_id.clone(),
            format_time(c.converted_at),
            c.kind.as_str().to_owned(),
            c.amount.to_string(),
            currency.code().to_owned(),
            c.link.campaign.to_string(),
            c.link.partner.to_string(),
            c.link.ad.map(|a| a.to_string()).unwrap_or_default(),
            c.link.sid.map(|s| s.to_string()).unwrap_or_default(),
            c.click_id.map(|k| k.to_string()).unwrap_or_default(),
            c.status.as_str().to_owned(),
            c.channel.as_str().to_owned(),
            c.evidence.as_str().to_owned(),
            c.customer_id.clone().unwrap_or_default(),
            c.commission().to_string(),
            format_minor(total, currency.exponent()),
        ];
        write_row(&mut w, cells.iter().map(String::as_str))?;
    }
    finish(w)
}

/// A report as CSV: the grouped dimensions, `clicks, unique_clicks, bot_clicks,
/// impressions, leads, sales`, then `currency, revenue, commission`: one line per currency the row
/// has money in (one line with empty money cells when it has none).
pub fn stats_csv(group_by: &[Dimension], rows: &[StatsRow]) -> Result<String> {
    let mut w = writer();
    let mut header: Vec<&str> = group_by.iter().map(|d| d.as_str()).collect();
    header.extend([
        "clicks",
        "unique_clicks",
        "bot_clicks",
        "impressions",
        "leads",
        "sales",
        "currency",
        "revenue",
        "commission",
    ]);
    write_row(&mut w, header)?;
    for row in rows {
        let mut currencies: Vec<_> = row
            .revenue
            .0
            .keys()
            .chain(row.commission.0.keys())
            .copied()
            .collect();
        currencies.sort();
        currencies.dedup();
        let counts = [
            row.clicks,
            row.unique_clicks,
            row.bot_clicks,
            row.impressions,
            row.leads,
            row.sales,
        ]
        .map(|n| n.to_string());
        let money: Vec<[String; 3]> = if currencies.is_empty() {
            vec![Default::default()]
        } else {
            currencies
                .iter()
                .map(|c| {
                    [
                        c.code().to_owned(),
                        row.revenue.decimal(*c),
                        row.commission.decimal(*c),
                    ]
                })
                .collect()
        };
        for m in &money {
            let mut cells: Vec<&str> = group_by.iter().map(|d| row.get(*d).unwrap_or("")).collect();
            cells.extend(counts.iter().map(String::as_str));
            cells.extend(m.iter().map(String::as_str));
            write_row(&mut w, cells)?;
        }
    }
    finish(w)
}

/// The columns of [`payouts_csv`].
pub const PAYOUT_CSV_COLUMNS: [&str; 10] = [
    "id",
    "partner",
    "name",
    "payout_details",
    "currency",
    "amount",
    "entries",
    "status",
    "created",
    "updated",
];

/// Payouts as CSV, one row each under [`PAYOUT_CSV_COLUMNS`], with each partner's
/// name and payout details as `partner` gives them (what a bank or payment provider
/// upload needs); amounts decimal, times UTC.
pub fn payouts_csv(
    payouts: &[crate::ledger::Payout],
    partner: impl Fn(&crate::code::Code) -> (String, String),
) -> Result<String> {
    let mut w = writer();
    write_row(&mut w, PAYOUT_CSV_COLUMNS)?;
    for p in payouts {
        let (name, details) = partner(&p.partner);
        let cells = [
            p.id.clone(),
            p.partner.to_string(),
            name,
            details,
            p.currency.code().to_owned(),
            p.amount().to_string(),
            p.entries.len().to_string(),
            p.status.as_str().to_owned(),
            format_time(p.created),
            format_time(p.updated),
        ];
        write_row(&mut w, cells.iter().map(String::as_str))?;
    }
    finish(w)
}

/// The columns of [`Tracker::adjustments_csv`](crate::Tracker::adjustments_csv).
pub const ADJUSTMENT_CSV_COLUMNS: [&str; 9] = [
    "id", "partner", "currency", "amount", "kind", "memo", "state", "payout", "created",
];

/// Adjustments as CSV, one row each under [`ADJUSTMENT_CSV_COLUMNS`], in the order
/// given (adjustment entries; others are left out): the amount signed (`-20.00` takes
/// money back; a number the writer made, so not escaped as a formula), the memo
/// escaped like every text cell, times UTC.
pub fn adjustments_csv(entries: &[crate::ledger::Entry]) -> Result<String> {
    use crate::ledger::{AdjustmentKind, EntryState};
    let mut w = writer();
    write_row(&mut w, ADJUSTMENT_CSV_COLUMNS)?;
    for e in entries {
        let Some(note) = e.note.as_ref().filter(|_| e.id.kind.is_adjustment()) else {
            continue;
        };
        let text = |s: &str| csv_cell(s).into_owned();
        let amount = crate::money::format_minor(u128::from(e.amount_minor), e.currency.exponent());
        let cells = [
            text(&e.id.reference),
            text(e.partner.as_str()),
            text(e.currency.code()),
            if e.id.kind.is_negative() {
                format!("-{amount}")
            } else {
                amount
            },
            text(match note.kind {
                AdjustmentKind::Bonus => "bonus",
                AdjustmentKind::Correction => "correction",
            }),
            text(&note.memo),
            text(match e.state {
                EntryState::Pending => "pending",
                EntryState::Payable => "payable",
                EntryState::InPayout => "in_payout",
                EntryState::Paid => "paid",
                EntryState::Void => "void",
            }),
            text(e.payout.as_deref().unwrap_or("")),
            format_time(note.created),
        ];
        w.write_record(&cells)
            .map_err(|e| Error::Store(format!("csv: {e}")))?;
    }
    finish(w)
}
