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

/// Consecutive numbers of one name share a block of this many places.
const BLOCK: u64 = 4096;

/// The hash of an id. Ids are mostly a name and a running number (`G1`, `G2`, …;
/// `party_to-6-1`, …), added in order. Such an id hashes to a place 16 × (its number mod
/// 4096) after the hash of its name and its number's block (number / 4096): 4096 consecutive
/// numbers take consecutive places 16 apart (a group of slots is 16 wide on x86), so adding
/// or finding a file's ids in order reads the table in order, not at random; blocks land
/// anywhere, so numbers that step by a power of two do not pile up. The top 7 bits, which
/// the table compares before the ids, come from the number mixed. Any other id is hashed
/// whole.
fn hash(id: &str) -> u64 {
    let digits = id.bytes().rev().take_while(u8::is_ascii_digit).count();
    let (name, number) = id.split_at(id.len() - digits);
    match number.parse::<u64>() {
        // Up to 18 digits always fit; the count keeps `n7` and `n007` apart.
        Ok(n) if digits <= 18 => {
            let base = FxBuildHasher.hash_one((name, digits, n / BLOCK));
            let place = base.wrapping_add((n % BLOCK) * 16) & (u64::MAX >> 7);
            let tag = FxBuildHasher.hash_one(n ^ base) & !(u64::MAX >> 7);
            place | tag
        }
        _ => FxBuildHasher.hash_one(id),
    }
}

/// The hash of the id of an entry, for growing the table: every entry's node or edge is in
/// the graph (the owner's invariant).
fn rehash(id: Option<&str>) -> u64 {
    debug_assert!(id.is_some(), "an id table entry whose node or edge is gone");
    hash(id.unwrap_or_default())
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
            .insert_unique(hash(id), index, |&i| rehash(id_of(i)));
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
        self.slots.reserve(more, |&i| rehash(id_of(i)));
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

    /// Ids that hash by name and number (overlapping runs of numbers under several names,
    /// leading zeros, numbers too long to parse) and ids hashed whole are all told apart.
    #[test]
    fn ids_of_every_shape_are_found_and_only_they() {
        let mut names: Vec<String> = Vec::new();
        for n in 0..3000u64 {
            for name in ["G", "party_to-6-", "covers-7-", "x"] {
                names.push(format!("{name}{n}"));
            }
            names.push(format!("n{n:05}"));
        }
        names.extend(["", "7", "007", "n", "banten", "Präfektur Kyōto", "a1b"].map(String::from));
        names.extend(["9".repeat(18), "9".repeat(19), "9".repeat(40)]);
        names.push(format!("x{}", "1".repeat(25)));
        let mut t = IdTable::default();
        for i in 0..names.len() {
            let id = names[i].clone();
            let names = &names;
            t.insert_new(&id, i as u32, |j| names.get(j as usize).map(String::as_str));
        }
        let id_of = |j: u32| names.get(j as usize).map(String::as_str);
        for (i, id) in names.iter().enumerate() {
            assert_eq!(t.get(id, id_of), Some(i as u32), "{id:?}");
        }
        for absent in [
            "G3000",
            "n3",
            "n003",
            "x01",
            "party_to-6",
            "99",
            "9".repeat(20).as_str(),
        ] {
            assert_eq!(t.get(absent, id_of), None, "{absent:?}");
        }
        // Consecutive numbers under one name take consecutive places: the point of it.
        assert_eq!(hash("G2").wrapping_sub(hash("G1")) & (u64::MAX >> 7), 16);
        assert_ne!(hash("n7"), hash("n007"));
        // Numbers stepping by a power of two land in different blocks, not on a few places.
        let mask = (1u64 << 20) - 1;
        let places: std::collections::HashSet<u64> = (0..4096u64)
            .map(|k| hash(&format!("x{}", k * 1024)) & mask)
            .collect();
        assert!(places.len() > 4000, "{} places", places.len());
    }
}
