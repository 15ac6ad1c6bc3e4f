//! Id → index tables that keep only the index: the id itself is read from the node or edge,
//! which keeps it anyway. A slot is 4 bytes and a control byte, where a map from `Name` to
//! index took 28 and one: at scale 10 of the shared workload the edges' table was 213 MB as
//! a map and is 42 MB as this.
//!
//! The table trusts one invariant of its owner: every index it holds names a node or edge
//! present in the graph, whose id is the one it was entered under. Removing an entry
//! compares indexes, not ids, so it works after the node or edge is gone.

use std::hash::BuildHasher;

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

/// A set of indexes, found by the id of what they index.
#[derive(Debug, Default)]
pub(crate) struct IdTable {
    slots: HashTable<u32>,
}

fn hash(id: &str) -> u64 {
    FxBuildHasher.hash_one(id)
}

impl IdTable {
    /// The index entered under `id`; `id_of` reads the id of an index.
    pub(crate) fn get<'g>(&self, id: &str, id_of: impl Fn(u32) -> Option<&'g str>) -> Option<u32> {
        self.slots
            .find(hash(id), |&i| id_of(i) == Some(id))
            .copied()
    }

    /// Enters `index` under `id`, which has no entry.
    pub(crate) fn insert_new<'g>(
        &mut self,
        id: &str,
        index: u32,
        id_of: impl Fn(u32) -> Option<&'g str>,
    ) {
        self.slots
            .insert_unique(hash(id), index, |&i| hash(id_of(i).unwrap_or_default()));
    }

    /// Makes the entry of `id` that is `old` be `new`; false if there is none.
    pub(crate) fn replace(&mut self, id: &str, old: u32, new: u32) -> bool {
        match self.slots.find_mut(hash(id), |&i| i == old) {
            Some(slot) => {
                *slot = new;
                true
            }
            None => false,
        }
    }

    /// Removes the entry of `id` that is `index`, if there is one.
    pub(crate) fn remove(&mut self, id: &str, index: u32) {
        if let Ok(entry) = self.slots.find_entry(hash(id), |&i| i == index) {
            entry.remove();
        }
    }

    /// Makes room for `more` entries.
    pub(crate) fn reserve<'g>(&mut self, more: usize, id_of: impl Fn(u32) -> Option<&'g str>) {
        self.slots
            .reserve(more, |&i| hash(id_of(i).unwrap_or_default()));
    }

    /// How many entries fit before the table grows.
    pub(crate) fn capacity(&self) -> usize {
        self.slots.capacity()
    }

    /// How many entries it holds.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_found_by_id_replaced_and_removed_by_index() {
        let mut names: Vec<String> = Vec::new();
        let mut t = IdTable::default();
        for i in 0..5000u32 {
            names.push(format!("n{i}"));
            let id = names[i as usize].clone();
            let names = &names;
            t.insert_new(&id, i, |j| names.get(j as usize).map(String::as_str));
        }
        let id_of = |j: u32| names.get(j as usize).map(String::as_str);
        assert_eq!(t.len(), 5000);
        assert_eq!(t.get("n4321", id_of), Some(4321));
        assert_eq!(t.get("n5000", id_of), None);
        assert_eq!(t.get("", id_of), None);
        // Replacing names the old index; a wrong one changes nothing.
        assert!(!t.replace("n7", 8, 9));
        assert!(t.replace("n7", 7, 7));
        assert_eq!(t.get("n7", id_of), Some(7));
        t.remove("n10", 11);
        assert_eq!(t.get("n10", id_of), Some(10), "another index: kept");
        t.remove("n10", 10);
        assert_eq!(t.get("n10", id_of), None);
        assert_eq!(t.len(), 4999);
        assert_eq!(t.get("n11", id_of), Some(11));
    }
}
