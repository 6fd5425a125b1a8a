//! The money journal: how a money write of a `SledStore` becomes durable with one
//! append and one `fdatasync` shared by concurrent writers, instead of a flush of
//! sled's log (which writes each buffer it seals and syncs each: about ten writes and
//! two syncs per conversion here).
//!
//! A money transaction ([`Store::transact`](crate::store::Store::transact)) runs in sled
//! as before, and every key it sets or removes is recorded ([`JTree`]). Once sled
//! commits it (in memory), its record (the writes, and a sequence number) is appended
//! to the journal, a file beside the database directory (`<dir>.journal`); the write is
//! acknowledged once the journal is synced. The transaction also stores its sequence
//! number in sled (tree `journal`), so sled knows how far its own log goes.
//!
//! Opening replays the records past the number sled has (sled keeps a prefix of its
//! commits after a crash, and commits run in journal order, under the journal's lock),
//! flushes sled and empties the journal. It is emptied the same way when it passes
//! [`ROTATE_BYTES`]. Records carry a CRC-32: a torn last record (never acknowledged)
//! ends the replay.

use std::cell::RefCell;
use std::fs::{File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use sled::IVec;
use sled::transaction::{
    ConflictableTransactionError, TransactionError, Transactional as _, TransactionalTree,
    UnabortableTransactionError,
};

use super::fail::store_err;
use crate::error::{Error, Result};
use crate::store::group_commit::GroupCommit;

/// The record format's version: a journal of another version is refused.
const VERSION: u8 = 1;
/// The journal is emptied (after a flush of sled) when it grows past this.
pub(super) const ROTATE_BYTES: u64 = 64 << 20;
/// The key of the last journalled sequence number in tree `journal`.
pub(super) const SEQ_KEY: &[u8] = b"seq";

const SET: u8 = 1;
const REMOVE: u8 = 0;

type TxResult<T> = std::result::Result<T, UnabortableTransactionError>;

/// A tree of a money transaction whose writes are recorded for the journal (or not:
/// [`JTree::unrecorded`], for the transactions that flush sled themselves).
pub(super) struct JTree<'a> {
    tree: &'a TransactionalTree,
    id: u8,
    log: Option<&'a RefCell<Vec<u8>>>,
}

impl<'a> JTree<'a> {
    pub(super) fn new(tree: &'a TransactionalTree, id: u8, log: &'a RefCell<Vec<u8>>) -> Self {
        JTree {
            tree,
            id,
            log: Some(log),
        }
    }

    pub(super) fn unrecorded(tree: &'a TransactionalTree) -> Self {
        JTree {
            tree,
            id: 0,
            log: None,
        }
    }

    fn record(&self, kind: u8, key: &[u8], value: Option<&[u8]>) {
        let Some(log) = self.log else { return };
        let mut log = log.borrow_mut();
        log.push(self.id);
        log.push(kind);
        put_bytes(&mut log, key);
        if let Some(v) = value {
            put_bytes(&mut log, v);
        }
    }

    pub(super) fn get<K: AsRef<[u8]>>(&self, key: K) -> TxResult<Option<IVec>> {
        self.tree.get(key)
    }

    pub(super) fn insert(
        &self,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
    ) -> TxResult<Option<IVec>> {
        let (key, value) = (key.as_ref(), value.as_ref());
        self.record(SET, key, Some(value));
        self.tree.insert(key, value)
    }

    pub(super) fn remove(&self, key: impl AsRef<[u8]>) -> TxResult<Option<IVec>> {
        let key = key.as_ref();
        self.record(REMOVE, key, None);
        self.tree.remove(key)
    }

    pub(super) fn generate_id(&self) -> sled::Result<u64> {
        self.tree.generate_id()
    }
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    // Keys and values of a money transaction are far below 4 GiB.
    out.extend_from_slice(&u32::try_from(b.len()).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(b);
}

/// One write of a record.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Op<'r> {
    pub(super) tree: u8,
    pub(super) key: &'r [u8],
    /// `None`: removed.
    pub(super) value: Option<&'r [u8]>,
}

/// The writes of a record's body, or `None` when it is not well formed.
pub(super) fn ops(mut body: &[u8]) -> Option<Vec<Op<'_>>> {
    fn take<'r>(b: &mut &'r [u8], n: usize) -> Option<&'r [u8]> {
        let (head, tail) = b.split_at_checked(n)?;
        *b = tail;
        Some(head)
    }
    fn bytes<'r>(b: &mut &'r [u8]) -> Option<&'r [u8]> {
        let len = u32::from_le_bytes(take(b, 4)?.try_into().ok()?);
        take(b, usize::try_from(len).ok()?)
    }
    let mut out = Vec::new();
    while !body.is_empty() {
        let head = take(&mut body, 2)?;
        let key = bytes(&mut body)?;
        let value = match head[1] {
            SET => Some(bytes(&mut body)?),
            REMOVE => None,
            _ => return None,
        };
        out.push(Op {
            tree: head[0],
            key,
            value,
        });
    }
    Some(out)
}

/// A record as appended: length and CRC-32 of what follows, version, sequence number,
/// the writes.
pub(super) fn encode_record(seq: u64, writes: &[u8]) -> Vec<u8> {
    let mut payload = Vec::with_capacity(9 + writes.len());
    payload.push(VERSION);
    payload.extend_from_slice(&seq.to_le_bytes());
    payload.extend_from_slice(writes);
    let mut out = Vec::with_capacity(8 + payload.len());
    out.extend_from_slice(
        &u32::try_from(payload.len())
            .unwrap_or(u32::MAX)
            .to_le_bytes(),
    );
    out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    out.extend_from_slice(&payload);
    out
}

/// The records of a journal's bytes, in order: (sequence number, writes). Stops at the
/// first record that is cut short or does not match its checksum (a write under way
/// when the machine stopped, never acknowledged); a record of another version is an
/// error.
pub(super) fn records(mut bytes: &[u8]) -> Result<Vec<(u64, &[u8])>> {
    let mut out = Vec::new();
    while let Some((head, rest)) = bytes.split_at_checked(8) {
        let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
        let crc = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        let Some((payload, rest)) = usize::try_from(len)
            .ok()
            .and_then(|len| rest.split_at_checked(len))
        else {
            break;
        };
        if payload.len() < 9 || crc32fast::hash(payload) != crc {
            break;
        }
        if payload[0] != VERSION {
            return Err(Error::Store(format!(
                "the money journal was written by another version of affiliate-sdk \
                 (record version {}, this one reads {VERSION}): open the store with that \
                 version once to apply it",
                payload[0]
            )));
        }
        let mut seq = [0u8; 8];
        seq.copy_from_slice(&payload[1..9]);
        out.push((u64::from_le_bytes(seq), &payload[9..]));
        bytes = rest;
    }
    Ok(out)
}

/// The journal file, appended to under its lock.
pub(super) struct Appender {
    file: File,
    /// The sequence number of the last record (or of sled's last, at open).
    seq: u64,
    len: u64,
}

impl Appender {
    /// The number the next record gets.
    pub(super) fn next_seq(&self) -> u64 {
        self.seq + 1
    }

    /// Appends the record of transaction `seq` (not synced: [`Journal::sync`]).
    pub(super) fn append(&mut self, seq: u64, writes: &[u8]) -> Result<()> {
        let record = encode_record(seq, writes);
        self.file.write_all(&record).map_err(store_err)?;
        self.seq = seq;
        self.len += record.len() as u64;
        Ok(())
    }

    /// Whether the journal is long enough to be emptied.
    pub(super) fn is_long(&self) -> bool {
        self.len > ROTATE_BYTES
    }

    /// Empties the journal: call only once sled is flushed with every record in it.
    pub(super) fn empty(&mut self) -> Result<()> {
        self.file.set_len(0).map_err(store_err)?;
        self.file.sync_all().map_err(store_err)?;
        self.len = 0;
        Ok(())
    }
}

/// The journal of a `SledStore`.
pub(super) struct Journal {
    appender: Mutex<Appender>,
    /// Another handle on the file, synced without the append lock.
    sync_file: File,
    commit: GroupCommit,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal").finish_non_exhaustive()
    }
}

/// The journal's path: beside the database directory, so that compaction (which
/// replaces the directory) leaves it in place.
fn path_of(dir: &Path) -> PathBuf {
    super::compact::beside(dir, ".journal")
}

impl Journal {
    /// Opens the journal of the database in `dir`, creating it if needed, and replays
    /// with `apply` the records past `stored_seq` (the number sled has), in order;
    /// `flush` then makes sled durable and the journal is emptied.
    pub(super) fn open(
        dir: &Path,
        stored_seq: u64,
        apply: impl Fn(u64, &[Op<'_>]) -> Result<()>,
        flush: impl Fn() -> Result<()>,
    ) -> Result<Journal> {
        let path = path_of(dir);
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)
            .map_err(|e| Error::Store(format!("cannot open {}: {e}", path.display())))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(store_err)?;
        let mut seq = stored_seq;
        for (n, writes) in records(&bytes)? {
            if n <= stored_seq {
                continue;
            }
            let writes = ops(writes).ok_or_else(|| {
                Error::Store(format!("money journal record {n} is not well formed"))
            })?;
            apply(n, &writes)?;
            seq = n;
        }
        if !bytes.is_empty() {
            flush()?;
            file.set_len(0).map_err(store_err)?;
            file.sync_all().map_err(store_err)?;
        }
        let sync_file = file.try_clone().map_err(store_err)?;
        Ok(Journal {
            appender: Mutex::new(Appender { file, seq, len: 0 }),
            sync_file,
            commit: GroupCommit::default(),
        })
    }

    /// The appender, for one money transaction at a time.
    pub(super) fn lock(&self) -> MutexGuard<'_, Appender> {
        self.appender.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until every record appended before this call is on disk, sharing the
    /// `fdatasync` with concurrent callers.
    pub(super) fn sync(&self) -> Result<()> {
        self.commit
            .sync(|| self.sync_file.sync_data().map_err(store_err))
    }
}

/// The names of the trees of a money transaction, in the order of `tx.rs`'s constants (a record names
/// its trees by their index here); tree `journal` last.
pub(super) const TX_TREES: [&str; 12] = [
    "conversions",
    "conversions-by-day",
    "customers",
    "conversions-per-click",
    "replaced-conversions",
    "ledger",
    "ledger-sums",
    "payouts",
    "payout-runs",
    "outbox",
    "conversions-pending",
    "journal",
];

/// Tree `journal`'s index in [`TX_TREES`]: the sequence number of the last journalled
/// transaction.
pub(super) const JOURNAL: usize = TX_TREES.len() - 1;

/// Applies journal record `seq` (its `writes`) to `trees` (those of [`TX_TREES`]) in
/// one transaction with its number.
pub(super) fn replay(trees: &[sled::Tree], seq: u64, writes: &[Op<'_>]) -> Result<()> {
    trees
        .transaction(|views| {
            for w in writes {
                let tree = views
                    .get(usize::from(w.tree))
                    .filter(|_| usize::from(w.tree) < JOURNAL)
                    .ok_or(ConflictableTransactionError::Abort(()))?;
                match w.value {
                    Some(v) => tree.insert(w.key, v)?,
                    None => tree.remove(w.key)?,
                };
            }
            views[JOURNAL].insert(SEQ_KEY, &seq.to_be_bytes()[..])?;
            Ok(())
        })
        .map_err(|e| match e {
            TransactionError::Abort(()) => {
                Error::Store(format!("money journal record {seq} names an unknown tree"))
            }
            TransactionError::Storage(e) => store_err(e),
        })
}

/// The sequence number of the last journalled transaction in tree `journal`.
pub(super) fn stored_seq(journal: &sled::Tree) -> Result<u64> {
    Ok(journal
        .get(SEQ_KEY)
        .map_err(store_err)?
        .and_then(|v| v.as_ref().try_into().ok())
        .map_or(0, u64::from_be_bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_a_torn_tail_ends_the_replay() {
        let log = RefCell::new(Vec::new());
        {
            let mut l = log.borrow_mut();
            l.extend_from_slice(&[3, SET]);
            put_bytes(&mut l, b"key");
            put_bytes(&mut l, b"value");
            l.extend_from_slice(&[7, REMOVE]);
            put_bytes(&mut l, b"gone");
        }
        let mut bytes = encode_record(41, &log.borrow());
        bytes.extend(encode_record(42, &[]));
        let third = encode_record(43, &log.borrow());
        // Cut short, then corrupted: neither is read.
        for tail in [
            &third[..third.len() - 1],
            &[third.as_slice(), b"x"].concat()[..],
        ] {
            let mut all = bytes.clone();
            all.extend_from_slice(tail);
            if tail.len() > third.len() {
                // A flipped byte in the third record.
                let at = bytes.len() + 12;
                all[at] ^= 1;
            }
            let read = records(&all).unwrap();
            assert_eq!(read.iter().map(|r| r.0).collect::<Vec<_>>(), [41, 42]);
            assert_eq!(
                ops(read[0].1).unwrap(),
                [
                    Op {
                        tree: 3,
                        key: b"key",
                        value: Some(b"value")
                    },
                    Op {
                        tree: 7,
                        key: b"gone",
                        value: None
                    }
                ]
            );
            assert_eq!(ops(read[1].1).unwrap(), []);
        }
        // Another version's record is refused, not skipped.
        let mut other = encode_record(44, &[]);
        other[8] = VERSION + 1;
        let crc = crc32fast::hash(&other[8..]);
        other[4..8].copy_from_slice(&crc.to_le_bytes());
        assert!(
            records(&other)
                .unwrap_err()
                .to_string()
                .contains("another version")
        );
        // Bodies that are not well formed.
        assert!(ops(&[1]).is_none());
        assert!(ops(&[1, 9, 0, 0, 0, 0]).is_none());
        assert!(ops(&[1, SET, 5, 0, 0, 0, b'a']).is_none());
    }
}
