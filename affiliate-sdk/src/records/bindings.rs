//! A recurring customer's bindings: one partner per recurring campaign.

use serde::{Deserialize, Serialize};

use crate::code::Code;
use crate::link::Link;

/// A customer bound to the partner that referred its first attributed sale in a
/// recurring campaign, for that campaign's later sales.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binding {
    /// The link (campaign, partner, ad, sid) of the first attributed sale.
    pub link: Link,
    /// When the binding was made, Unix seconds.
    pub bound_at: u64,
}

/// A customer's bindings: at most one per campaign, in the order they were made.
///
/// Stored as `{"bindings": [...]}`; a record written when a customer had one binding
/// (a bare [`Binding`]) reads as a list of that one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Bindings {
    bindings: Vec<Binding>,
}

impl<'de> Deserialize<'de> for Bindings {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Bindings, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Stored {
            List { bindings: Vec<Binding> },
            One(Box<Binding>),
        }
        Ok(match Stored::deserialize(d)? {
            Stored::List { bindings } => Bindings { bindings },
            Stored::One(b) => Bindings { bindings: vec![*b] },
        })
    }
}

impl Bindings {
    /// The binding for `campaign`.
    #[must_use]
    pub fn of(&self, campaign: &Code) -> Option<&Binding> {
        self.bindings.iter().find(|b| b.link.campaign == *campaign)
    }

    /// Every binding, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &Binding> {
        self.bindings.iter()
    }

    /// Whether there is none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.bindings.is_empty()
    }

    /// Binds the campaign of `b` to it, over that campaign's binding if any.
    pub fn put(&mut self, b: Binding) {
        self.bindings.retain(|x| x.link.campaign != b.link.campaign);
        self.bindings.push(b);
    }

    /// Removes `b` if it is there; whether it was.
    pub fn remove(&mut self, b: &Binding) -> bool {
        let before = self.bindings.len();
        self.bindings.retain(|x| x != b);
        self.bindings.len() != before
    }
}
