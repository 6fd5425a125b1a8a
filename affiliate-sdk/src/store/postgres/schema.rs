//! The PostgreSQL schema: one migration per version, applied under an advisory lock.

use r2d2_postgres::postgres::Client;

use super::connect::Attempt;

/// The schema, one migration per version; `affiliate_schema` holds the version.
pub(super) const MIGRATIONS: &[&str] = &[
    "
    CREATE TABLE affiliate_clicks (
        click_id BYTEA PRIMARY KEY,
        record BYTEA NOT NULL
    );
    CREATE TABLE affiliate_counters (
        day INTEGER NOT NULL,
        dims BYTEA NOT NULL,
        clicks BIGINT NOT NULL,
        unique_clicks BIGINT NOT NULL,
        impressions BIGINT NOT NULL,
        click_commission BIGINT NOT NULL,
        impression_milli BIGINT NOT NULL,
        PRIMARY KEY (day, dims)
    );
    CREATE TABLE affiliate_conversions (
        order_id TEXT PRIMARY KEY,
        day INTEGER NOT NULL,
        status TEXT NOT NULL,
        record TEXT NOT NULL
    );
    CREATE INDEX affiliate_conversions_day ON affiliate_conversions (day);
    CREATE TABLE affiliate_customers (
        customer_id TEXT PRIMARY KEY,
        record TEXT NOT NULL
    );
",
    "
    CREATE TABLE affiliate_batches (
        batch_id BYTEA PRIMARY KEY,
        written_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE INDEX affiliate_batches_written_at ON affiliate_batches (written_at);
",
    "
    CREATE TABLE affiliate_replaced_conversions (
        seq BIGSERIAL PRIMARY KEY,
        order_id TEXT NOT NULL,
        record TEXT NOT NULL
    );
    CREATE INDEX affiliate_replaced_conversions_order
        ON affiliate_replaced_conversions (order_id, seq);
    CREATE TABLE affiliate_conversions_per_click (
        click_id BYTEA PRIMARY KEY,
        made INTEGER NOT NULL
    );
",
    "
    CREATE TABLE affiliate_program (
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        record TEXT NOT NULL,
        PRIMARY KEY (kind, key)
    );
    CREATE TABLE affiliate_program_version (
        one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
        version BIGINT NOT NULL
    );
    INSERT INTO affiliate_program_version (version) VALUES (0);
",
    "
    CREATE TABLE affiliate_ledger (
        order_id TEXT NOT NULL,
        level SMALLINT NOT NULL,
        kind TEXT NOT NULL,
        partner TEXT NOT NULL,
        currency TEXT NOT NULL,
        record TEXT NOT NULL,
        PRIMARY KEY (order_id, level, kind)
    );
    CREATE INDEX affiliate_ledger_partner ON affiliate_ledger (partner, currency);
",
    "
    ALTER TABLE affiliate_ledger
        ADD COLUMN state TEXT GENERATED ALWAYS AS (record::jsonb ->> 'state') STORED,
        ADD COLUMN amount BIGINT
            GENERATED ALWAYS AS ((record::jsonb ->> 'amount_minor')::bigint) STORED;
    CREATE INDEX affiliate_ledger_payable ON affiliate_ledger (currency, partner)
        WHERE state = 'payable';
    CREATE TABLE affiliate_payouts (
        id TEXT PRIMARY KEY,
        partner TEXT NOT NULL,
        currency TEXT NOT NULL,
        status TEXT NOT NULL,
        created BIGINT NOT NULL,
        record TEXT NOT NULL
    );
    CREATE INDEX affiliate_payouts_partner ON affiliate_payouts (partner, currency);
    CREATE TABLE affiliate_payout_runs (
        key TEXT PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        payouts TEXT[] NOT NULL DEFAULT '{}'
    );
",
    "
    CREATE TABLE affiliate_claims (
        scope TEXT NOT NULL,
        key TEXT NOT NULL,
        expires BIGINT NOT NULL,
        PRIMARY KEY (scope, key)
    );
    CREATE INDEX affiliate_claims_expires ON affiliate_claims (expires);
",
    "
    CREATE TABLE affiliate_outbox (
        seq BIGSERIAL PRIMARY KEY,
        event TEXT NOT NULL
    );
    CREATE TABLE affiliate_deliveries (
        id TEXT PRIMARY KEY,
        target TEXT NOT NULL,
        created BIGINT NOT NULL,
        due_at BIGINT,
        record TEXT NOT NULL
    );
    CREATE INDEX affiliate_deliveries_due ON affiliate_deliveries (due_at)
        WHERE due_at IS NOT NULL;
    CREATE INDEX affiliate_deliveries_target ON affiliate_deliveries (target, created, id);
    CREATE INDEX affiliate_deliveries_over ON affiliate_deliveries (created)
        WHERE due_at IS NULL;
",
    "
    ALTER TABLE affiliate_counters ADD COLUMN bot_clicks BIGINT NOT NULL DEFAULT 0;
    CREATE TABLE affiliate_paid_tallies (
        tally BYTEA PRIMARY KEY,
        paid BIGINT NOT NULL
    );
",
    // Pending conversions by campaign and time: approval reads what is due, not the
    // history.
    "
    ALTER TABLE affiliate_conversions ADD COLUMN campaign TEXT, ADD COLUMN converted_at BIGINT;
    UPDATE affiliate_conversions
        SET campaign = record::jsonb -> 'link' ->> 'campaign',
            converted_at = (record::jsonb ->> 'converted_at')::bigint;
    CREATE INDEX affiliate_conversions_pending ON affiliate_conversions (campaign, converted_at)
        WHERE status = 'pending';
",
    // Entries told apart by a reference (a refund's id): part of the key.
    "
    ALTER TABLE affiliate_ledger ADD COLUMN ref TEXT NOT NULL DEFAULT '';
    ALTER TABLE affiliate_ledger DROP CONSTRAINT affiliate_ledger_pkey;
    ALTER TABLE affiliate_ledger ADD PRIMARY KEY (order_id, level, kind, ref);
",
    // What a delivery is about (a conversion, a payout): a later event's delivery waits
    // for the pending ones of earlier events about it.
    "
    ALTER TABLE affiliate_deliveries ADD COLUMN subject TEXT;
    CREATE INDEX affiliate_deliveries_subject ON affiliate_deliveries (subject)
        WHERE due_at IS NOT NULL AND subject IS NOT NULL;
",
];

/// The migration that made the ledger: the conversions stored before it get their
/// entries in the same transaction as the migrations.
const LEDGER_MIGRATION: i32 = 5;

/// How long the id of a written click batch is kept: a batch whose commit answer was
/// lost is recognised when it is written again within this time (the writer retries
/// every 100 ms).
pub(super) const BATCH_ID_KEPT: &str = "1 hour";

/// A key for `pg_advisory_xact_lock` around migrations ("affiliat").
const MIGRATION_LOCK: i64 = 0x6166_6669_6c69_6174;

/// Brings the schema to the latest version, under an advisory lock.
pub(super) fn migrate(c: &mut Client) -> Attempt<()> {
    let mut tx = c.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS affiliate_schema (version INTEGER NOT NULL)")?;
    let current: i32 = tx
        .query_opt("SELECT max(version) FROM affiliate_schema", &[])?
        .and_then(|r| r.get::<_, Option<i32>>(0))
        .unwrap_or(0);
    for (i, sql) in MIGRATIONS.iter().enumerate() {
        let version = i32::try_from(i + 1).unwrap_or(i32::MAX);
        if version > current {
            tx.batch_execute(sql)?;
            tx.execute(
                "INSERT INTO affiliate_schema (version) VALUES ($1)",
                &[&version],
            )?;
        }
    }
    // Entries are written in the latest shape, so after the last migration (in the
    // same transaction).
    if current < LEDGER_MIGRATION {
        super::tx::backfill(&mut tx)?;
    }
    tx.commit()?;
    Ok(())
}
