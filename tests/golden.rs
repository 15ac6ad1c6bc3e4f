//! The golden log: `tests/golden/v1.redb` was written by the first release of the log
//! format (`examples/make_golden.rs`) and is never regenerated. Every later build must
//! still open it, decode every record, and export exactly `v1.jsonl`.

mod common;

use diplograph::interchange::jsonl;
use diplograph::{Database, DayRange, TxId, Value};

fn open_golden(dir: &tempfile::TempDir) -> Database<diplograph::log::RedbLog> {
    // Opened from a copy: opening may write to the file (redb repairs, our upgrades).
    let path = dir.path().join("v1.redb");
    std::fs::copy("tests/golden/v1.redb", &path).unwrap();
    Database::open_file(&path).unwrap()
}

#[test]
fn the_v1_golden_log_decodes_to_its_export_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let db = open_golden(&dir);
    let mut out = Vec::new();
    jsonl::export_events(db.log(), &mut out).unwrap();
    let expected = std::fs::read_to_string("tests/golden/v1.jsonl").unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), expected);
}

#[test]
fn the_v1_golden_log_means_what_it_meant() {
    let dir = tempfile::tempdir().unwrap();
    let db = open_golden(&dir);
    assert_eq!(db.tx(), TxId(4));
    let at3 = db.graph().view_at(TxId(3));
    let banten = at3.node("banten").unwrap();
    assert_eq!(banten.labels(), vec!["Actor", "Province"]);
    assert_eq!(
        banten.property("alt").and_then(Value::as_str),
        Some("Präfektur Kyōto \"quoted\" \\ \u{1F30F}")
    );
    let in_2011 = at3.clone().during(DayRange::parse("2011").unwrap());
    assert_eq!(
        in_2011.node("banten").unwrap().property("stage"),
        Some(&Value::str("MoU"))
    );
    assert_eq!(
        in_2011.node("banten").unwrap().property("share"),
        None,
        "set to null then"
    );
    assert_eq!(
        at3.node("incheon").unwrap().valid().to_string(),
        "19XX?/2004-XX"
    );
    assert_eq!(
        at3.edge("e1").unwrap().valid().to_string(),
        "2007-02-06/2019"
    );
    // tx 4 retracted tx 3.
    let now = db.view();
    assert_eq!(now.node("banten").unwrap().property("stage"), None);
    assert_eq!(
        now.node("incheon").unwrap().valid().to_string(),
        "19XX?/2004~"
    );
    assert_eq!(
        now.edge("e1").unwrap().property("role"),
        Some(&Value::str("signatory"))
    );
    let headers = db.graph().headers();
    assert_eq!(headers[1].meta.author, None);
    assert_eq!(
        headers[1].recorded_at.to_string(),
        "2025-11-28T08:53:21.000123456Z"
    );
}

/// A file of format 1 (one event per row) takes new transactions in runs: its first such
/// commit marks it format 2 (so a build that reads only format 1 refuses it rather than
/// miss events), and it reads back the old rows and the new runs in order.
#[test]
fn the_v1_golden_log_takes_new_transactions_and_still_reads_its_old_ones() {
    use redb::{ReadableDatabase, ReadableTable};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.redb");
    {
        let mut db = open_golden(&dir);
        let events = vec![
            common::node("surabaya", "Actor", &[], "1293/..", &["syuryansyah2024"]),
            common::edge("e2", "PARTY_TO", "surabaya", "incheon", "../..", &[]),
        ];
        db.commit(common::meta("after the upgrade"), events)
            .unwrap();
    }
    let db = Database::open_file(&path).unwrap();
    assert_eq!(db.tx(), TxId(5));
    assert!(db.view().edge("e2").is_some());
    let mut out = Vec::new();
    jsonl::export_events(db.log(), &mut out).unwrap();
    let out = String::from_utf8(out).unwrap();
    let expected = std::fs::read_to_string("tests/golden/v1.jsonl").unwrap();
    let (old, new) = out.split_at(expected.len());
    assert_eq!(old, expected);
    assert_eq!(new.lines().count(), 3, "{new}");
    assert!(new.contains("\"surabaya\""), "{new}");
    drop(db);

    let raw = redb::Database::open(&path).unwrap();
    let read = raw.begin_read().unwrap();
    let meta = read
        .open_table(redb::TableDefinition::<&str, &[u8]>::new("meta"))
        .unwrap();
    assert_eq!(
        meta.get("format").unwrap().unwrap().value(),
        2u32.to_le_bytes()
    );
    let keys = |name: &str| -> Vec<(u64, u32)> {
        let t = read
            .open_table(redb::TableDefinition::<(u64, u32), &[u8]>::new(name))
            .unwrap();
        t.iter().unwrap().map(|r| r.unwrap().0.value()).collect()
    };
    assert!(keys("events").iter().all(|(tx, _)| *tx <= 4));
    assert_eq!(keys("events").len(), 9, "the old rows stay where they were");
    assert_eq!(keys("runs"), vec![(5, 0)]);
}
