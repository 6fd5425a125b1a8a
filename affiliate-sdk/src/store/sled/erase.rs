//! Erasing a customer and pruning old clicks in sled.
//!
//! sled writes a log: a record's earlier versions stay in the file until sled reuses
//! their space, and it seldom reuses the space of removed entries. An erasure, and
//! pruning once a quarter of the database is pruned, therefore mark the database
//! (`<dir>.compact`, beside it), and the next [`SledStore::open`] copies every tree
//! into a fresh directory and swaps it in: no file holds an erased id from then on,
//! and the pruned clicks' space is given back. The swap survives a crash at any step
//! ([`compact_if_marked`]).

use std::path::{Path, PathBuf};

use super::{SledStore, store_err};
use crate::error::Result;
use crate::store::erase::{Erased, erase_json, mentions, needle};

/// Rewrites every value of `tree` that carries `customer_id` without it, each with a
/// compare and swap (a change made meanwhile is kept, and erased again). Returns how
/// many values changed.
fn rewrite(tree: &sled::Tree, customer_id: &str) -> Result<usize> {
    let needle = needle(customer_id);
    let mut changed = 0;
    for kv in tree.iter() {
        let (key, value) = kv.map_err(store_err)?;
        if !mentions(&value, &needle) {
            continue;
        }
        let mut current = Some(value);
        while let Some(cur) = current {
            let Some(new) = erase_json(&cur, customer_id) else {
                break;
            };
            match tree
                .compare_and_swap(&key, Some(&cur), Some(new))
                .map_err(store_err)?
            {
                Ok(()) => {
                    changed += 1;
                    break;
                }
                Err(e) => current = e.current,
            }
        }
    }
    Ok(changed)
}

/// How many click records a `clicks-by-ms` entry holds: `(id (16) | len (2, LE) |
/// record)*`.
fn clicks_in(entry: &[u8]) -> usize {
    let mut rest = entry;
    let mut n = 0;
    while let Some((head, tail)) = rest.split_at_checked(18) {
        let len = usize::from(u16::from_le_bytes([head[16], head[17]]));
        let Some((_, tail)) = tail.split_at_checked(len) else {
            break;
        };
        rest = tail;
        n += 1;
    }
    n
}

impl SledStore {
    pub(super) fn erase(&self, customer_id: &str) -> Result<Erased> {
        let bindings = self
            .customers
            .remove(customer_id.as_bytes())
            .map_err(store_err)?;
        let erased = Erased {
            bindings: usize::from(bindings.is_some()),
            conversions: rewrite(&self.conversions, customer_id)?
                + rewrite(&self.replaced, customer_id)?,
            events: rewrite(&self.outbox, customer_id)?
                + rewrite(&self.delivery_requests, customer_id)?,
            rewrite_pending: false,
        };
        if erased != Erased::default() {
            mark_for_compaction(&self.path)?;
        }
        self.sync()?;
        Ok(Erased {
            rewrite_pending: erased != Erased::default(),
            ..erased
        })
    }

    pub(super) fn prune(&self, before: u64, max: usize) -> Result<usize> {
        // Click entries and per-click counts are keyed by the click id's millisecond
        // first (big-endian), tallies by their day: old ones are a key range.
        let ms = before.saturating_mul(1000).to_be_bytes();
        let end = ms[2..].to_vec();
        let (mut removed, mut bytes) = (0, 0u64);
        let mut batch = sled::Batch::default();
        for kv in self.clicks.range(..end.clone()) {
            let (key, value) = kv.map_err(store_err)?;
            removed += clicks_in(&value);
            bytes += (key.len() + value.len()) as u64;
            batch.remove(key);
            if removed >= max {
                break;
            }
        }
        self.clicks.apply_batch(batch).map_err(store_err)?;
        // sled seldom reuses the space of a tree's removed entries: once a quarter of
        // the database has been pruned since it was last rewritten, the next open
        // rewrites it (the same compaction as after an erasure).
        if bytes > 0 {
            let total = self
                .db
                .update_and_fetch(PRUNED_BYTES, |old| {
                    let n = old.map_or(0, |b| b.try_into().map_or(0, u64::from_le_bytes));
                    Some((n + bytes).to_le_bytes().to_vec())
                })
                .map_err(store_err)?
                .map_or(0, |b| (*b).try_into().map_or(0, u64::from_le_bytes));
            if total.saturating_mul(4) >= self.db.size_on_disk().map_err(store_err)? {
                mark_for_compaction(&self.path)?;
            }
        }
        let mut batch = sled::Batch::default();
        for kv in self.per_click.range(..end) {
            batch.remove(kv.map_err(store_err)?.0);
        }
        self.per_click.apply_batch(batch).map_err(store_err)?;
        let day = crate::store::day_of(before).to_be_bytes().to_vec();
        let mut batch = sled::Batch::default();
        for kv in self.batch.tallies.range(..day) {
            batch.remove(kv.map_err(store_err)?.0);
        }
        self.batch.tallies.apply_batch(batch).map_err(store_err)?;
        self.sync()?;
        Ok(removed)
    }
}

/// The key, in the default tree, of the bytes pruned since the database was last
/// rewritten.
const PRUNED_BYTES: &[u8] = b"pruned-bytes";

/// `<dir><suffix>`, beside the database directory.
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn io_err(what: &str, e: std::io::Error) -> crate::error::Error {
    crate::error::Error::Store(format!("{what}: {e}"))
}

/// Marks the database at `path` for compaction at its next open, durably.
fn mark_for_compaction(path: &Path) -> Result<()> {
    let marker = beside(path, ".compact");
    let f = std::fs::File::create(&marker).map_err(|e| io_err("cannot mark for compaction", e))?;
    f.sync_all()
        .map_err(|e| io_err("cannot mark for compaction", e))
}

/// Copies every tree of `src` into `dst`, and takes `dst`'s id generator past
/// every id `src` gave (outbox sequence numbers go on from there).
fn copy_all(src: &sled::Db, dst: &sled::Db) -> Result<()> {
    for name in src.tree_names() {
        let (from, to) = (
            src.open_tree(&name).map_err(store_err)?,
            dst.open_tree(&name).map_err(store_err)?,
        );
        let mut batch = sled::Batch::default();
        let mut n = 0;
        for kv in from.iter() {
            let (k, v) = kv.map_err(store_err)?;
            batch.insert(k, v);
            n += 1;
            if n % 10_000 == 0 {
                to.apply_batch(std::mem::take(&mut batch))
                    .map_err(store_err)?;
            }
        }
        to.apply_batch(batch).map_err(store_err)?;
    }
    dst.remove(PRUNED_BYTES).map_err(store_err)?;
    let floor = src.generate_id().map_err(store_err)?;
    while dst.generate_id().map_err(store_err)? <= floor {}
    dst.flush().map_err(store_err)?;
    Ok(())
}

/// Rewrites the database at `path` into a fresh directory if an erasure marked it,
/// finishing a swap a crash interrupted first. Steps: copy into `<dir>.compacting`;
/// rename `<dir>` to `<dir>.old` and `<dir>.compacting` to `<dir>`; remove `<dir>.old`
/// and the mark. Before the first rename the copy is thrown away and made again;
/// after it, the copy is complete and is swapped in.
pub(super) fn compact_if_marked(path: &Path) -> Result<()> {
    let (marker, work, old) = (
        beside(path, ".compact"),
        beside(path, ".compacting"),
        beside(path, ".old"),
    );
    let rename = |a: &Path, b: &Path| {
        std::fs::rename(a, b).map_err(|e| io_err("cannot swap the compacted database", e))
    };
    let remove = |p: &Path| {
        std::fs::remove_dir_all(p).map_err(|e| io_err("cannot remove the old database", e))
    };
    if !path.exists() && old.exists() && work.exists() {
        rename(&work, path)?;
    }
    if old.exists() {
        remove(&old)?;
    }
    if !marker.exists() || !path.exists() {
        return Ok(());
    }
    if work.exists() {
        remove(&work)?;
    }
    {
        let src = super::open_db(path)?;
        let dst = sled::Config::new().path(&work).open().map_err(store_err)?;
        copy_all(&src, &dst)?;
    }
    rename(path, &old)?;
    rename(&work, path)?;
    remove(&old)?;
    std::fs::remove_file(&marker).map_err(|e| io_err("cannot remove the compaction mark", e))?;
    if let Some(dir) = path.parent().and_then(|p| std::fs::File::open(p).ok()) {
        // The renames and removals durable before the store is used.
        let _ = dir.sync_all();
    }
    Ok(())
}
