//! The one sequence a backend runs on its own data: giving a conversion recorded
//! before the ledger existed its entries (a database of an early version, once, as it
//! opens or migrates). Written here, over the port, so that no backend decides which
//! entries a conversion has ([`ledger::entries_of`] is called from here and from
//! `writes/`, nowhere in a backend).

use super::Tx;
use crate::error::Result;
use crate::ledger;
use crate::records::Conversion;

/// Writes `conversion`'s ledger entries unless its order has some already.
pub(crate) fn give_entries(tx: &mut dyn Tx, conversion: &Conversion) -> Result<()> {
    if tx.order_entries(conversion)?.is_empty() {
        tx.put_entries(&ledger::entries_of(conversion))?;
    }
    Ok(())
}
