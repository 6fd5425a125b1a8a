//! The click sink of the stores that write clicks in batches (sled, PostgreSQL): the
//! [`ClickBuffer`] in front of what the backend has stored. A backend says where its
//! buffer is and how it reads and writes out its own storage; what a click sink does
//! with them is written here once.

use std::collections::BTreeMap;

use super::batch::ClickBuffer;
use super::limits::{Dropped, WriterStats};
use super::{BotClickRecord, ClickRecord, ClickSink, CounterKey, Counters, ImpressionRecord};
use crate::click_id::ClickId;
use crate::code::Code;
use crate::error::Result;

/// A backend whose clicks pass through a [`ClickBuffer`].
pub(crate) trait BufferedClicks: Send + Sync {
    /// The buffer clicks are recorded in.
    fn buffer(&self) -> &ClickBuffer;

    /// A click the buffer does not hold: written out, or never recorded.
    fn stored_click(&self, id: ClickId) -> Result<Option<ClickRecord>>;

    /// The counters written out, for the days `from_day..=to_day`.
    fn stored_counters(
        &self,
        from_day: u32,
        to_day: u32,
        campaign: Option<&Code>,
    ) -> Result<BTreeMap<CounterKey, Counters>>;

    /// Writes the buffer out and makes it durable.
    fn write_out(&self) -> Result<()>;
}

impl<T: BufferedClicks> ClickSink for T {
    fn record_click(&self, click: &ClickRecord) -> Result<()> {
        self.buffer().click(click);
        Ok(())
    }

    fn record_impression(&self, impression: &ImpressionRecord) -> Result<()> {
        self.buffer().impression(impression);
        Ok(())
    }

    fn record_bot_click(&self, bot: &BotClickRecord) -> Result<()> {
        self.buffer().bot_click(bot);
        Ok(())
    }

    fn click(&self, id: ClickId) -> Result<Option<ClickRecord>> {
        match self.buffer().find(id) {
            Some(c) => Ok(Some(c)),
            None => self.stored_click(id),
        }
    }

    fn counters(
        &self,
        from_day: u32,
        to_day: u32,
        campaign: Option<&Code>,
    ) -> Result<BTreeMap<CounterKey, Counters>> {
        self.buffer().counters(from_day, to_day, campaign, || {
            self.stored_counters(from_day, to_day, campaign)
        })
    }

    fn flush(&self) -> Result<()> {
        self.write_out()
    }

    fn dropped(&self) -> Dropped {
        self.buffer().dropped()
    }

    fn writer_stats(&self) -> WriterStats {
        self.buffer().stats()
    }
}
