//! What a view holds, described: labels with their counts and property keys, and the
//! relationship types between labels. What the shell's `:schema` prints (and what a client
//! asks to learn the vocabulary of a knowledge base).

use std::collections::{BTreeMap, BTreeSet};

use super::View;
use crate::time::TxId;

/// The vocabulary of a view.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Schema {
    /// The transaction read.
    pub tx: TxId,
    /// Per label: how many nodes have it, and the property keys they use.
    pub labels: BTreeMap<String, (usize, BTreeSet<String>)>,
    /// Per `(from label, type, to label)`: how many relationships, and their property keys.
    pub patterns: BTreeMap<(String, String, String), (usize, BTreeSet<String>)>,
}

impl Schema {
    /// Describes what `view` shows.
    pub fn of(view: &View<'_>) -> Schema {
        let mut schema = Schema {
            tx: view.tx(),
            ..Schema::default()
        };
        for n in view.nodes() {
            let keys: Vec<&str> = n.properties().into_iter().map(|(k, _)| k).collect();
            for label in n.labels() {
                let entry = schema.labels.entry(label.to_owned()).or_default();
                entry.0 += 1;
                entry.1.extend(keys.iter().map(|k| (*k).to_owned()));
            }
        }
        let first_label = |labels: Vec<&str>| {
            let mut labels = labels;
            labels.sort_unstable();
            labels.first().map_or(String::new(), |l| (*l).to_owned())
        };
        for e in view.edges() {
            let key = (
                first_label(e.from().labels()),
                e.rel_type().to_owned(),
                first_label(e.to().labels()),
            );
            let entry = schema.patterns.entry(key).or_default();
            entry.0 += 1;
            entry
                .1
                .extend(e.properties().into_iter().map(|(k, _)| k.to_owned()));
        }
        schema
    }
}
