//! Compaction after an erasure or a large prune: the database directory is marked
//! (`<dir>.compact`, beside it), and the next open copies every tree into a fresh
//! directory and swaps it in, so no file keeps the erased bytes.

use std::path::{Path, PathBuf};

use super::fail::store_err;
use crate::error::Result;

/// The key, in the default tree, of the bytes pruned since the database was last
/// rewritten.
pub(super) const PRUNED_BYTES: &[u8] = b"pruned-bytes";

/// `<dir><suffix>`, beside the database directory.
pub(super) fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn io_err(what: &str, e: std::io::Error) -> crate::error::Error {
    crate::error::Error::Store(format!("{what}: {e}"))
}

/// Marks the database at `path` for compaction at its next open, durably.
pub(super) fn mark_for_compaction(path: &Path) -> Result<()> {
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
pub(super) fn compact_if_marked(path: &Path, open_db: fn(&Path) -> Result<sled::Db>) -> Result<()> {
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
        let src = open_db(path)?;
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
