//! Id → index tables that keep only the index: the id itself is read from the node or edge,
//! which keeps it anyway (or, in the CSV importer, from its list of the ids it has read).
//!
//! Most ids are a name and a running number (`A1`, `A2`, …; an import's `party_to-6-1`, …).
//! Those are kept in runs: per name, a vector with the index of each number, 4 bytes an id
//! and no hashing, where finding one reads one place of a vector that is a few hundred
//! kilobytes for a hundred thousand ids. Any other id, and a number too far past those of its
//! run (see [`IdTable::insert_new`]), goes into a hash table of 4-byte slots: at scale 10 of
//! the shared workload the edges' table was 213 MB as a map from `Name`, 42 MB as hashed
//! slots, and is 17 MB as runs.
//!
//! The table trusts one invariant of its owner: every index it holds names a node or edge
//! present in the graph (an id in the importer's list), whose id is the one it was entered
//! under. Removing an entry compares indexes, not ids, so it works after the node or edge is
//! gone.

use std::hash::BuildHasher;

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

/// A set of indexes, found by the id of what they index.
#[derive(Debug, Default)]
pub(crate) struct IdTable {
    runs: Vec<Run>,
    /// Every id not in a run.
    slots: HashTable<u32>,
    /// How many ids in `slots` have a run's shape ([`split`]): while none, an id of that shape
    /// that is not in its run is not in the table.
    hashed_numbered: usize,
}

/// The ids of one name and numbers written one way: without leading zeros (`width` 0), or
/// with them, `width` digits long.
#[derive(Debug)]
struct Run {
    name: Box<str>,
    width: u8,
    /// By number: the index, or [`NONE`].
    places: Vec<u32>,
    /// How many places hold an index.
    count: usize,
}

/// An empty place of a run.
const NONE: u32 = u32::MAX;

/// At most this many runs; the ids of further names are hashed.
const MAX_RUNS: usize = 16;

/// A run takes a number up to twice its count plus this; beyond, the id is hashed. So a run's
/// vector holds at most twice its ids plus this many empty places (256 KiB).
const SLACK: usize = 1 << 16;

/// An id as what comes before its trailing digits, and those digits.
fn name_and_digits(id: &str) -> (&str, &str) {
    let digits = id.bytes().rev().take_while(u8::is_ascii_digit).count();
    id.split_at(id.len() - digits)
}

/// An id as a run's name, width and number, if it ends in 1–9 digits.
fn split(id: &str) -> Option<(&str, u8, usize)> {
    let (name, number) = name_and_digits(id);
    let digits = number.len();
    if digits == 0 || digits > 9 {
        return None;
    }
    // `n7` and `n007` are different ids: the width keeps them apart.
    let width = if digits > 1 && number.starts_with('0') {
        digits as u8
    } else {
        0
    };
    Some((name, width, number.parse().ok()?))
}

/// Consecutive numbers of one name share a block of this many places.
const BLOCK: u64 = 4096;

/// The hash of an id kept in the hashed slots. An id that is a name and a number hashes to a
/// place 16 × (its number mod 4096) after the hash of its name and its number's block
/// (number / 4096): 4096 consecutive numbers take consecutive places 16 apart (a group of
/// slots is 16 wide on x86), so adding or finding ids in order reads the table in order, not
/// at random; blocks land anywhere, so numbers that step by a power of two do not pile up.
/// The top 7 bits, which the table compares before the ids, come from the number mixed. Any
/// other id is hashed whole.
fn hash(id: &str) -> u64 {
    let (name, number) = name_and_digits(id);
    let digits = number.len();
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
    /// The position of the run of `name` and `width`.
    fn run(&self, name: &str, width: u8) -> Option<usize> {
        self.runs
            .iter()
            .position(|r| r.width == width && &*r.name == name)
    }

    /// The index entered under `id`; `id_of` reads the id of an index.
    pub(crate) fn get<'g>(&self, id: &str, id_of: impl Fn(u32) -> Option<&'g str>) -> Option<u32> {
        if let Some((name, width, n)) = split(id) {
            let place = self
                .run(name, width)
                .and_then(|r| self.runs[r].places.get(n));
            if let Some(&index) = place.filter(|&&i| i != NONE) {
                return Some(index);
            }
            if self.hashed_numbered == 0 {
                return None;
            }
        } else if self.slots.is_empty() {
            return None;
        }
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
        if let Some((name, width, n)) = split(id) {
            let run = match self.run(name, width) {
                Some(r) => Some(r),
                None if self.runs.len() < MAX_RUNS && n <= SLACK => {
                    self.runs.push(Run {
                        name: name.into(),
                        width,
                        places: Vec::new(),
                        count: 0,
                    });
                    Some(self.runs.len() - 1)
                }
                None => None,
            };
            if let Some(run) = run.map(|r| &mut self.runs[r])
                && n <= 2 * run.count + SLACK
            {
                if n >= run.places.len() {
                    run.places.resize(n + 1, NONE);
                }
                run.places[n] = index;
                run.count += 1;
                return;
            }
            self.hashed_numbered += 1;
        }
        self.slots
            .insert_unique(hash(id), index, |&i| rehash(id_of(i)));
    }

    /// The place of `id` in its run, if it is there.
    fn place_mut(&mut self, id: &str) -> Option<(&mut u32, &mut usize)> {
        let (name, width, n) = split(id)?;
        let r = self.run(name, width)?;
        let run = &mut self.runs[r];
        let place = run.places.get_mut(n).filter(|i| **i != NONE)?;
        Some((place, &mut run.count))
    }

    /// Makes the entry of `id` that is `old` be `new`; false if there is none.
    pub(crate) fn replace(&mut self, id: &str, old: u32, new: u32) -> bool {
        if let Some((place, _)) = self.place_mut(id)
            && *place == old
        {
            *place = new;
            return true;
        }
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
        if let Some((place, count)) = self.place_mut(id)
            && *place == index
        {
            *place = NONE;
            *count -= 1;
            return;
        }
        if let Ok(entry) = self.slots.find_entry(hash(id), |&i| i == index) {
            entry.remove();
            if split(id).is_some() {
                self.hashed_numbered -= 1;
            }
        }
    }

    /// The bytes it takes: its runs' vectors, and the hashed slots (a control byte each; the
    /// table's capacity is 7/8 of them).
    pub(crate) fn memory_usage(&self) -> usize {
        let runs: usize = self.runs.iter().map(|r| r.places.capacity() * 4).sum();
        runs + self.slots.capacity().div_ceil(7) * 8 * 5
    }

    /// How many entries it holds.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.slots.len() + self.runs.iter().map(|r| r.count).sum::<usize>()
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

    /// A table over `names`, each entered under its position.
    fn table_of(names: &[String]) -> IdTable {
        let mut t = IdTable::default();
        for (i, id) in names.iter().enumerate() {
            t.insert_new(id, i as u32, |j| names.get(j as usize).map(String::as_str));
        }
        t
    }

    /// Where an id goes: numbers close to their run's in it, far ones (and names past the
    /// sixteenth, and numbers of ten digits or more) hashed, and every one found either way.
    #[test]
    fn runs_take_close_numbers_and_the_rest_is_hashed() {
        let mut names: Vec<String> = (0..100).map(|n| format!("a{n}")).collect();
        names.push(format!("a{}", SLACK + 300)); // far past a run of 100
        names.push("b123456789".into()); // a new name with a number too big for a run
        names.push("c1234567890".into()); // ten digits: not a run's shape at all
        names.extend((0..20).flat_map(|k| (0..50).map(move |n| format!("name{k}_{n}"))));
        let t = table_of(&names);
        let id_of = |j: u32| names.get(j as usize).map(String::as_str);
        for (i, id) in names.iter().enumerate() {
            assert_eq!(t.get(id, id_of), Some(i as u32), "{id}");
        }
        assert_eq!(
            t.runs.len(),
            MAX_RUNS,
            "names past the sixteenth are hashed"
        );
        assert_eq!(t.runs[0].count, 100);
        // a65836, b123456789 and the 250 ids of the five names past the runs' limit; not c….
        assert_eq!(t.hashed_numbered, 2 + 5 * 50);
        assert_eq!(t.slots.len(), 3 + 5 * 50);
        assert_eq!(t.len(), names.len());
        for absent in [
            "a100",
            "a1000",
            "b1",
            "c1",
            "name19_50",
            "name3_50",
            "c123456789",
        ] {
            assert_eq!(t.get(absent, id_of), None, "{absent}");
        }
    }

    /// An id hashed while its number was far from its run stays found, replaceable and
    /// removable after the run grows past it; and once no numbered id is hashed, lookups of
    /// numbered ids skip the hash table and still answer right.
    #[test]
    fn an_id_hashed_early_is_still_found_when_its_run_reaches_it() {
        let far = SLACK + 10;
        let mut names = vec![format!("e{far}")];
        names.extend((0..SLACK).map(|n| format!("e{n}")));
        names.push(format!("e{}", far + 1));
        let mut t = table_of(&names);
        let id_of = |j: u32| names.get(j as usize).map(String::as_str);
        assert!(
            t.runs[0].places.len() > far + 1,
            "the run grew past the hashed id"
        );
        assert_eq!(t.hashed_numbered, 1);
        assert_eq!(t.get(&format!("e{far}"), id_of), Some(0));
        assert_eq!(
            t.get(&format!("e{}", far + 1), id_of),
            Some(names.len() as u32 - 1)
        );
        assert_eq!(t.get(&format!("e{}", far + 2), id_of), None);
        // Replace and remove find it in the hash table, not in the run's empty place.
        assert!(t.replace(&format!("e{far}"), 0, 0));
        t.remove(&format!("e{far}"), 0);
        assert_eq!(t.get(&format!("e{far}"), id_of), None);
        assert_eq!(t.hashed_numbered, 0);
        assert!(t.slots.is_empty());
        assert_eq!(t.get("e5", id_of), Some(6));
        t.remove("e5", 6);
        assert_eq!(t.get("e5", id_of), None);
        assert_eq!(t.len(), names.len() - 2);
    }

    /// Leading zeros make different ids: `n7`, `n07` and `n007`, `n0` and `n00`.
    #[test]
    fn numbers_written_with_leading_zeros_are_other_ids() {
        let names: Vec<String> = ["n7", "n07", "n007", "n0", "n00", "n70", "n", "7"]
            .map(String::from)
            .to_vec();
        let t = table_of(&names);
        let id_of = |j: u32| names.get(j as usize).map(String::as_str);
        for (i, id) in names.iter().enumerate() {
            assert_eq!(t.get(id, id_of), Some(i as u32), "{id}");
        }
        for absent in ["n0007", "n000", "n1", "n070", "07"] {
            assert_eq!(t.get(absent, id_of), None, "{absent}");
        }
        assert_eq!(split("n007"), Some(("n", 3, 7)));
        assert_eq!(split("n7"), Some(("n", 0, 7)));
        assert_eq!(split("n0"), Some(("n", 0, 0)));
        assert_eq!(split("n"), None);
        assert_eq!(split("n1234567890"), None);
    }
}
