//! Neo4j admin-import CSV in (`interchange::neo4j_csv`): typed columns, arrays, dates with
//! their precision, valid time from `valid_from`/`valid_to`, `:LABEL` and `:TYPE`, id groups,
//! sources; every refusal names its file and line and writes nothing; and the shared
//! benchmark's workload at scale 0.01 when its generator is there.

use std::path::{Path, PathBuf};
use std::process::Command;

use diplograph::interchange::neo4j_csv::{
    FileKind, ImportOptions, ImportSummary, import, parse_file_arg,
};
use diplograph::log::{Log, MemoryLog};
use diplograph::query::{Session, parser};
use diplograph::time::Bound;
use diplograph::{Database, DayRange, Event, TxMeta, Value};
use tempfile::TempDir;

fn put(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn spec(name: &str, path: &Path) -> (String, PathBuf) {
    (name.to_owned(), path.to_owned())
}

/// A knowledge base holding one transaction: the Source `k`.
fn kb() -> Database<MemoryLog> {
    let mut db = Database::open(MemoryLog::new()).unwrap();
    db.commit(
        TxMeta::default(),
        vec![Event::NodeAdded {
            id: "k".into(),
            labels: ["Source".into()].into_iter().collect(),
            props: vec![("key".into(), Value::str("k"))],
            valid: Default::default(),
            sources: Default::default(),
        }],
    )
    .unwrap();
    db
}

fn rows<L: Log>(db: &mut Database<L>, q: &str) -> Vec<Vec<String>> {
    let script = parser::parse_script(q).unwrap();
    let mut s = Session::new();
    let mut out = Vec::new();
    for st in &script.statements {
        out = s
            .execute(db, q, st)
            .unwrap()
            .output
            .rows
            .iter()
            .map(|r| r.iter().map(ToString::to_string).collect())
            .collect();
    }
    out
}

const ACTORS: &str = "\
id:ID(Actor),name,kind,population:int,area:float,coastal:boolean,founded:date,aliases:string[],codes:int[],:LABEL
A1,Banten,province,11900000,9662.92,true,2000-10-17,Banten Province;Provinsi Banten,36;360,Province
A2,Incheon,city,,1062.6,TRUE,1981,,,City;Port
A3,Kyoto,prefecture,2578000,,false,1868-06,Kyōto,,
";
const AGREEMENTS: &str = "\
id:ID(Agreement),title,signed:date,valid_from
G1,\"LoI Banten–Incheon, on ports\",2007-02-06,2007-02-06
";
const STAGES: &str = "id:ID(Stage),name\nT1,LoI\nT2,MoU\n";
const PARTY_TO: &str = "\
:START_ID(Actor),:END_ID(Agreement),role
A1,G1,initiator
A2,G1,partner
";
const IN_STAGE: &str = "\
:START_ID(Agreement),:END_ID(Stage),valid_from:date,valid_to:date
G1,T1,2007-02-06,2010-03
G1,T2,2010-04,
";
const LINKS: &str = "\
:START_ID(Actor),:END_ID(Actor),:TYPE,since:int
A1,A2,SISTER_OF,2005
A2,A3,,
";

struct Fixture {
    _dir: TempDir,
    nodes: Vec<(String, PathBuf)>,
    rels: Vec<(String, PathBuf)>,
}

fn fixture() -> Fixture {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let nodes = vec![
        spec("Actor", &put(d, "actors.csv", ACTORS)),
        spec("Agreement", &put(d, "agreements.csv", AGREEMENTS)),
        spec("Stage", &put(d, "stages.csv", STAGES)),
    ];
    let rels = vec![
        spec("PARTY_TO", &put(d, "party_to.csv", PARTY_TO)),
        spec("IN_STAGE", &put(d, "in_stage.csv", IN_STAGE)),
        spec("KNOWS", &put(d, "links.csv", LINKS)),
    ];
    Fixture {
        _dir: dir,
        nodes,
        rels,
    }
}

fn imported() -> (Database<MemoryLog>, ImportSummary) {
    let f = fixture();
    let mut db = kb();
    let summary = import(&mut db, &f.nodes, &f.rels, &ImportOptions::default()).unwrap();
    (db, summary)
}

#[test]
fn typed_columns_arrays_and_empty_fields() {
    let (db, _) = imported();
    let v = db.view();
    let banten = v.node("A1").unwrap();
    assert_eq!(banten.property("name"), Some(&Value::str("Banten")));
    assert_eq!(banten.property("population"), Some(&Value::Int(11_900_000)));
    assert_eq!(banten.property("area"), Some(&Value::Float(9662.92)));
    assert_eq!(banten.property("coastal"), Some(&Value::Bool(true)));
    assert_eq!(
        banten.property("aliases").unwrap().to_string(),
        r#"["Banten Province", "Provinsi Banten"]"#
    );
    assert_eq!(banten.property("codes").unwrap().to_string(), "[36, 360]");
    // `id:ID` is the node's id, not also a property; `n.id` reads it.
    assert_eq!(banten.property("id"), None);

    let incheon = v.node("A2").unwrap();
    assert_eq!(incheon.property("coastal"), Some(&Value::Bool(true)));
    // Empty fields are absent, not empty strings.
    for key in ["population", "aliases", "codes"] {
        assert_eq!(incheon.property(key), None, "{key}");
    }
    let kyoto = v.node("A3").unwrap();
    assert_eq!(kyoto.property("area"), None);
    assert_eq!(kyoto.property("coastal"), Some(&Value::Bool(false)));
    // One element, and a non-ASCII one.
    assert_eq!(
        kyoto.property("aliases").unwrap().to_string(),
        r#"["Kyōto"]"#
    );

    // Dates keep their precision.
    let date = |id: &str| v.node(id).unwrap().property("founded").unwrap().to_string();
    assert_eq!(date("A1"), r#"date("2000-10-17")"#);
    assert_eq!(date("A2"), r#"date("1981")"#);
    assert_eq!(date("A3"), r#"date("1868-06")"#);

    // A quoted field with the delimiter in it.
    let g = v.node("G1").unwrap();
    assert_eq!(
        g.property("title"),
        Some(&Value::str("LoI Banten–Incheon, on ports"))
    );
    assert_eq!(
        g.property("signed").unwrap().to_string(),
        r#"date("2007-02-06")"#
    );
}

#[test]
fn labels_types_ids_and_the_summary() {
    let (db, s) = imported();
    let v = db.view();
    let labels = |id: &str| {
        let mut l = v.node(id).unwrap().labels();
        l.sort_unstable();
        l
    };
    assert_eq!(labels("A1"), ["Actor", "Province"]);
    assert_eq!(labels("A2"), ["Actor", "City", "Port"]);
    assert_eq!(labels("A3"), ["Actor"]);
    assert_eq!(labels("T1"), ["Stage"]);

    // Relationship ids: type in lower case, file from 1, row from 1.
    let e = v.edge("party_to-1-2").unwrap();
    assert_eq!((e.from().id(), e.to().id()), ("A2", "G1"));
    assert_eq!(e.property("role"), Some(&Value::str("partner")));
    assert_eq!(v.edge("in_stage-2-1").unwrap().to().id(), "T1");
    // :TYPE gives the row's type; empty, the file's.
    let sister = v.edge("sister_of-3-1").unwrap();
    assert_eq!(sister.rel_type(), "SISTER_OF");
    assert_eq!(sister.property("since"), Some(&Value::Int(2005)));
    let knows = v.edge("knows-3-2").unwrap();
    assert_eq!(knows.rel_type(), "KNOWS");
    assert_eq!(knows.property("since"), None);

    assert_eq!(s.nodes, 6);
    assert_eq!(s.relationships, 6);
    assert_eq!(s.events(), 12);
    assert_eq!(s.tx.tx.0, 2);
    assert_eq!(db.tx().0, 2);
    let count = |m: &std::collections::BTreeMap<String, u64>, k: &str| m.get(k).copied();
    assert_eq!(count(&s.labels, "Actor"), Some(3));
    assert_eq!(count(&s.labels, "Port"), Some(1));
    assert_eq!(count(&s.labels, "Stage"), Some(2));
    assert_eq!(count(&s.types, "PARTY_TO"), Some(2));
    assert_eq!(count(&s.types, "SISTER_OF"), Some(1));
    assert_eq!(count(&s.types, "KNOWS"), Some(1));
    assert_eq!(s.files.len(), 6);
    assert_eq!(s.files[0].kind, FileKind::Nodes);
    assert_eq!(s.files[5].kind, FileKind::Relationships);
    assert_eq!((s.files[4].name.as_str(), s.files[4].rows), ("IN_STAGE", 2));
    assert!(
        s.tx.meta
            .message
            .as_deref()
            .unwrap()
            .contains("3 node file(s)")
    );

    assert_eq!(
        parse_file_arg("Actor=data/a=b.csv"),
        ("Actor".to_owned(), PathBuf::from("data/a=b.csv"))
    );
    assert_eq!(
        parse_file_arg("rels.csv"),
        (String::new(), PathBuf::from("rels.csv"))
    );
}

#[test]
fn valid_from_and_valid_to_are_valid_time() {
    let (mut db, _) = imported();
    {
        let v = db.view();
        let t1 = v.edge("in_stage-2-1").unwrap();
        assert_eq!(t1.valid().to_string(), "2007-02-06/2010-03");
        assert_eq!(t1.property("valid_from"), None);
        assert_eq!(t1.property("valid_to"), None);
        // An empty valid_to is an open end.
        assert_eq!(
            v.edge("in_stage-2-2").unwrap().valid().to_string(),
            "2010-04/.."
        );
        // A node file's valid_from (without a type) is the node's.
        assert_eq!(v.node("G1").unwrap().valid().to_string(), "2007-02-06/..");
        // Without the columns: always.
        assert_eq!(v.node("A1").unwrap().valid().to_string(), "../..");

        let stage_during = |range: &str| {
            let v = db.view().during(DayRange::parse(range).unwrap());
            let mut s: Vec<String> = v
                .edges_of_type("IN_STAGE")
                .map(|e| e.to().id().to_owned())
                .collect();
            s.sort();
            s
        };
        assert_eq!(stage_during("2008"), ["T1"]);
        // The end is inclusive at its precision: all of March 2010.
        assert_eq!(stage_during("2010-03-31"), ["T1"]);
        assert_eq!(stage_during("2010-04-01"), ["T2"]);
        assert_eq!(stage_during("2030"), ["T2"]);
        assert!(stage_during("2006").is_empty());
    }
    let q = "AS OF 2008 MATCH (g:Agreement)-[s:IN_STAGE]->(t:Stage) RETURN g.id, t.name";
    assert_eq!(rows(&mut db, q), [["G1", "LoI"]]);
    let q = "MATCH (g:Agreement)-[s:IN_STAGE]->(t:Stage) WHERE valid_to(s) IS NULL RETURN t.name";
    assert_eq!(rows(&mut db, q), [["MoU"]]);
    let q = r#"MATCH (a:Actor {name: "Incheon"})-[:PARTY_TO]->(g) RETURN a.id, g.id"#;
    assert_eq!(rows(&mut db, q), [["A2", "G1"]]);
}

#[test]
fn an_empty_valid_from_is_an_unknown_start() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let nodes = [spec(
        "Stage",
        &put(
            d,
            "s.csv",
            ":ID,valid_from:date,valid_to:date\nx,,2001\ny,,\n",
        ),
    )];
    let mut db = kb();
    import(&mut db, &nodes, &[], &ImportOptions::default()).unwrap();
    let v = db.view();
    let x = v.node("x").unwrap().valid();
    assert_eq!((x.from, x.to.to_owned()), (Bound::Unknown, x.to));
    assert_eq!(x.to_string(), "/2001");
    assert_eq!(v.node("y").unwrap().valid().to_string(), "/..");
}

#[test]
fn sources_are_cited_by_every_fact() {
    let f = fixture();
    let mut db = kb();
    let options = ImportOptions {
        sources: vec!["k".into()],
        author: Some("tester".into()),
        message: Some("the small story".into()),
        ..ImportOptions::default()
    };
    let s = import(&mut db, &f.nodes, &f.rels, &options).unwrap();
    assert_eq!(s.tx.meta.author.as_deref(), Some("tester"));
    assert_eq!(s.tx.meta.message.as_deref(), Some("the small story"));
    let v = db.view();
    assert!(
        v.nodes()
            .filter(|n| n.id() != "k")
            .all(|n| n.sources() == ["k"])
    );
    assert_eq!(v.edges().count(), 6);
    assert!(v.edges().all(|e| e.sources() == ["k"]));
}

#[test]
fn namespaced_ids_let_groups_share_ids() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let nodes = [
        spec(
            "Actor",
            &put(d, "a.csv", "id:ID(Actor),name\n1,Banten\n2,Incheon\n"),
        ),
        spec("Sector", &put(d, "s.csv", "id:ID(Sector),name\n1,trade\n")),
    ];
    let rels = [spec(
        "IN",
        &put(d, "r.csv", ":START_ID(Actor),:END_ID(Sector)\n2,1\n"),
    )];
    // By default the clash is refused, naming both places.
    let mut db = kb();
    let e = import(&mut db, &nodes, &rels, &ImportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("s.csv:2"), "{e}");
    assert!(
        e.contains("group `Sector`") && e.contains("group `Actor`"),
        "{e}"
    );
    assert!(e.contains("a.csv:2"), "{e}");
    assert_eq!(db.tx().0, 1);

    let options = ImportOptions {
        namespace_ids: true,
        ..ImportOptions::default()
    };
    import(&mut db, &nodes, &rels, &options).unwrap();
    let v = db.view();
    assert_eq!(
        v.node("Actor:1").unwrap().property("name"),
        Some(&Value::str("Banten"))
    );
    // The CSV id stays a property, since the node's id is another.
    assert_eq!(
        v.node("Sector:1").unwrap().property("id"),
        Some(&Value::str("1"))
    );
    let e = v.edge("in-1-1").unwrap();
    assert_eq!((e.from().id(), e.to().id()), ("Actor:2", "Sector:1"));
}

/// Ids of every shape (running numbers, far numbers, leading zeros, words, ids longer than
/// an inline name) in several node files of two groups: each relationship end finds its node
/// and its group, and a duplicate names the file and line that first defined it.
#[test]
fn ids_of_every_shape_and_several_files_resolve() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let long = "https://example.org/actor/province-of-banten";
    let a1 = format!("id:ID(Actor),name\nA1,Banten\nA900000,Incheon\n{long},Banten again\n");
    let a2 = "id:ID(Actor),name\nA007,Kyoto\nA7,Busan\nbanten,Banten in words\n";
    let nodes = [
        spec("Actor", &put(d, "a1.csv", &a1)),
        spec("Org", &put(d, "o.csv", "id:ID(Org),name\nO1,ASEAN\n")),
        spec("Actor", &put(d, "a2.csv", a2)),
    ];
    let pairs = [
        ("A1", "O1"),
        ("A900000", "O1"),
        (long, "O1"),
        ("A007", "O1"),
        ("A7", "O1"),
        ("banten", "O1"),
    ];
    let mut text = String::from(":START_ID(Actor),:END_ID(Org)\n");
    for (a, o) in pairs {
        text.push_str(&format!("{a},{o}\n"));
    }
    let rels = [spec("MEMBER_OF", &put(d, "m.csv", &text))];
    let mut db = kb();
    import(&mut db, &nodes, &rels, &ImportOptions::default()).unwrap();
    let v = db.view();
    for (i, (a, o)) in pairs.iter().enumerate() {
        let e = v.edge(&format!("member_of-1-{}", i + 1)).unwrap();
        assert_eq!((e.from().id(), e.to().id()), (*a, *o));
    }
    assert_eq!(
        v.node("A7").unwrap().property("name"),
        Some(&Value::str("Busan"))
    );

    // An Org id as an Actor end names the group that has it.
    let bad = [spec(
        "MEMBER_OF",
        &put(d, "b.csv", ":START_ID(Actor),:END_ID(Org)\nA7,O1\nO1,O1\n"),
    )];
    let e = import(&mut kb(), &nodes, &bad, &ImportOptions::default())
        .unwrap_err()
        .to_string();
    has(&e, &["b.csv:3:", "`O1`", "(a node of group `Org` has it)"]);
    // A long id given again in a later file names the first file and line.
    let again = [
        nodes[0].clone(),
        spec(
            "Actor",
            &put(d, "a3.csv", &format!("id:ID(Actor),name\nA2,x\n{long},y\n")),
        ),
    ];
    let e = import(&mut kb(), &again, &[], &ImportOptions::default())
        .unwrap_err()
        .to_string();
    has(&e, &["a3.csv:3:", long, "given twice", "a1.csv:4"]);
}

#[test]
fn a_global_group_and_a_named_id_column() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let nodes = [spec(
        "Person",
        &put(d, "p.csv", "personId:ID,name\np1,Ann\np2,Bo\n"),
    )];
    let rels = [spec(
        "KNOWS",
        &put(d, "k.csv", ":START_ID,:END_ID\np1,p2\n"),
    )];
    let mut db = kb();
    import(&mut db, &nodes, &rels, &ImportOptions::default()).unwrap();
    let v = db.view();
    // A named id column other than `id` is a property too, as in Neo4j.
    assert_eq!(
        v.node("p1").unwrap().property("personId"),
        Some(&Value::str("p1"))
    );
    assert_eq!(v.edge("knows-1-1").unwrap().to().id(), "p2");
}

#[test]
fn a_bom_crlf_line_ends_blank_lines_and_ignored_columns() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let text =
        "\u{feff}id:ID(Actor),name,:IGNORE,n:int\r\nA1,Banten,junk,1\r\n\r\nA2,Incheon,,2\r\n";
    let nodes = [
        spec("Actor", &put(d, "a.csv", text)),
        // A second file of the same label.
        spec("Actor", &put(d, "b.csv", "id:ID(Actor),name\nA3,Kyoto\n")),
    ];
    let mut db = kb();
    let s = import(&mut db, &nodes, &[], &ImportOptions::default()).unwrap();
    assert_eq!(s.labels.get("Actor"), Some(&3));
    let v = db.view();
    let a1 = v.node("A1").unwrap();
    assert_eq!(a1.property("n"), Some(&Value::Int(1)));
    assert_eq!(a1.properties().len(), 2, "{:?}", a1.properties());
    assert_eq!(
        v.node("A2").unwrap().property("name"),
        Some(&Value::str("Incheon"))
    );
    assert!(v.node("A3").is_some());
}

#[test]
fn a_field_that_is_not_utf8_is_refused() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("a.csv");
    std::fs::write(&path, b"id:ID(Actor),name\nA1,Banten\nA2,Inch\xffeon\n").unwrap();
    let mut db = kb();
    let e = import(
        &mut db,
        &[spec("Actor", &path)],
        &[],
        &ImportOptions::default(),
    )
    .unwrap_err()
    .to_string();
    has(&e, &["a.csv:3:", "field 2", "UTF-8"]);
    assert_eq!(db.tx().0, 1);
}

#[test]
fn progress_reaches_the_total_size() {
    let f = fixture();
    let mut db = kb();
    let pb = indicatif::ProgressBar::hidden();
    let options = ImportOptions {
        progress: Some(pb.clone()),
        ..ImportOptions::default()
    };
    let s = import(&mut db, &f.nodes, &f.rels, &options).unwrap();
    assert!(s.bytes > 0);
    assert_eq!(pb.length(), Some(s.bytes));
    assert_eq!(pb.position(), s.bytes);
}

#[test]
fn an_import_into_a_file_survives_reopening() {
    let f = fixture();
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("kb.redb");
    let imported = {
        let mut db = Database::open_file(&path).unwrap();
        import(&mut db, &f.nodes, &f.rels, &ImportOptions::default()).unwrap();
        diplograph::graph::snapshot::Snapshot::of(&db.view())
    };
    let db = Database::open_file(&path).unwrap();
    // The events were encoded on the reading thread: what the log holds is what was applied.
    assert!(diplograph::graph::snapshot::Snapshot::of(&db.view()) == imported);
    let v = db.view();
    assert_eq!(v.nodes().count(), 6);
    assert_eq!(v.edges().count(), 6);
    assert_eq!(
        v.node("A3")
            .unwrap()
            .property("founded")
            .unwrap()
            .to_string(),
        r#"date("1868-06")"#
    );
}

// ---------------------------------------------------------------------------- refusals

/// Imports the fixture with `file` replaced by `text` (or with `extra` node files), into a
/// knowledge base holding one transaction; expects an error, checks that nothing was
/// written, and returns its message.
fn refused_with(
    replace: &[(&str, &str)],
    options: &ImportOptions,
    edit: impl FnOnce(&mut Vec<(String, PathBuf)>, &mut Vec<(String, PathBuf)>, &Path),
) -> String {
    let mut f = fixture();
    let dir = f.nodes[0].1.parent().unwrap().to_owned();
    for (name, text) in replace {
        put(&dir, name, text);
    }
    edit(&mut f.nodes, &mut f.rels, &dir);
    let mut db = kb();
    let before = db.view().nodes().count();
    let e = import(&mut db, &f.nodes, &f.rels, options)
        .expect_err("the import should be refused")
        .to_string();
    assert_eq!(db.tx().0, 1, "nothing is written: {e}");
    assert_eq!(db.view().nodes().count(), before, "{e}");
    assert_eq!(db.view().edges().count(), 0, "{e}");
    assert_eq!(db.log().head().0, 1, "{e}");
    // The knowledge base is still usable.
    let again = import(
        &mut db,
        &fixture().nodes,
        &fixture().rels,
        &ImportOptions::default(),
    );
    assert!(again.is_ok(), "{again:?}");
    e
}

fn refused(file: &str, text: &str) -> String {
    refused_with(&[(file, text)], &ImportOptions::default(), |_, _, _| {})
}

fn has(e: &str, parts: &[&str]) {
    for p in parts {
        assert!(e.contains(p), "`{p}` is not in: {e}");
    }
}

#[test]
fn a_missing_file_is_refused_before_anything_is_read() {
    let e = refused_with(&[], &ImportOptions::default(), |_, rels, dir| {
        rels.push(spec("CITES", &dir.join("cites.csv")));
    });
    has(&e, &["cites.csv", "no such file"]);
}

#[test]
fn a_ragged_row_is_refused() {
    let text = "id:ID(Actor),name,kind\nA1,Banten,province\nA2,Incheon\nA3,Kyoto,prefecture\n";
    let e = refused("actors.csv", text);
    has(&e, &["actors.csv:3:", "expected 3 fields", "found 2"]);
    let text = "id:ID(Actor),name\nA1,Banten\nA2,Incheon,city\nA3,Kyoto\n";
    has(&refused("actors.csv", text), &["actors.csv:3:", "found 3"]);
}

#[test]
fn a_value_not_of_its_type_is_refused() {
    let text = "id:ID(Actor),name,year:int\nA1,Banten,2000\nA2,Incheon,abc\nA3,Kyoto,1\n";
    has(
        &refused("actors.csv", text),
        &[
            "actors.csv:3:",
            "column 3 (`year:int`)",
            "`abc` is not an integer",
        ],
    );
    let text = "id:ID(Actor),name,area:double\nA1,Banten,1.5\nA2,Incheon,x\nA3,Kyoto,\n";
    has(
        &refused("actors.csv", text),
        &["actors.csv:3:", "area:double"],
    );
    let text = "id:ID(Actor),name,coastal:boolean\nA1,Banten,yes\nA2,Incheon,\nA3,Kyoto,\n";
    has(
        &refused("actors.csv", text),
        &["actors.csv:2:", "`yes` is not a boolean"],
    );
    let text = "id:ID(Actor),codes:int[]\nA1,1;x\nA2,\nA3,\n";
    has(
        &refused("actors.csv", text),
        &["actors.csv:2:", "codes:int[]", "`x`"],
    );
}

#[test]
fn a_bad_date_is_refused() {
    let text = "id:ID(Agreement),signed:date\nG1,2007-02-30\n";
    has(
        &refused("agreements.csv", text),
        &[
            "agreements.csv:2:",
            "column 2 (`signed:date`)",
            "2007-02-30",
            "EDTF",
        ],
    );
    let text = "id:ID(Agreement),signed:date\nG1,Feb 2007\n";
    has(
        &refused("agreements.csv", text),
        &["agreements.csv:2:", "Feb 2007"],
    );
    let text =
        ":START_ID(Agreement),:END_ID(Stage),valid_from:date,valid_to:date\nG1,T1,2007,soon\n";
    has(
        &refused("in_stage.csv", text),
        &["in_stage.csv:2:", "column 4 (`valid_to:date`)", "soon"],
    );
    let text = ":START_ID(Agreement),:END_ID(Stage),valid_from,valid_to\nG1,T1,2007,2010\nG1,T2,2010,2009\n";
    has(
        &refused("in_stage.csv", text),
        &[
            "in_stage.csv:3:",
            "valid_to `2009` comes before valid_from `2010`",
        ],
    );
}

#[test]
fn a_duplicate_id_is_refused() {
    let text = "id:ID(Actor),name\nA1,Banten\nA2,Incheon\nA1,Banten again\n";
    has(
        &refused("actors.csv", text),
        &["actors.csv:4:", "`A1`", "given twice", "actors.csv:2"],
    );
    // Across groups (ids are global).
    let text = "id:ID(Stage),name\nT1,LoI\nA2,MoU\n";
    has(
        &refused("stages.csv", text),
        &[
            "stages.csv:3:",
            "`A2`",
            "group `Actor`",
            "actors.csv:3",
            "namespaced",
        ],
    );
    // An empty one.
    let text = "id:ID(Stage),name\nT1,LoI\n,MoU\n";
    has(
        &refused("stages.csv", text),
        &["stages.csv:3:", "the id is empty"],
    );
}

#[test]
fn a_relationship_to_an_unknown_id_is_refused() {
    let text = ":START_ID(Actor),:END_ID(Agreement),role\nA1,G1,initiator\nA9,G1,partner\n";
    has(
        &refused("party_to.csv", text),
        &[
            "party_to.csv:3:",
            "column 1 (`:START_ID(Actor)`)",
            "no node of group `Actor` has the id `A9`",
        ],
    );
    // An id of another group.
    let text = ":START_ID(Actor),:END_ID(Agreement),role\nA1,A2,initiator\n";
    has(
        &refused("party_to.csv", text),
        &[
            "party_to.csv:2:",
            "column 2 (`:END_ID(Agreement)`)",
            "(a node of group `Actor` has it)",
        ],
    );
    // A group no node file has.
    let text = ":START_ID(Actr),:END_ID(Agreement)\nA1,G1\n";
    has(
        &refused("party_to.csv", text),
        &["party_to.csv:1:", "ID group `Actr`", "`Actor`"],
    );
}

#[test]
fn an_unknown_header_type_is_refused() {
    let text = "id:ID(Actor),name,year:integer\nA1,Banten,2000\n";
    has(
        &refused("actors.csv", text),
        &[
            "actors.csv:1:",
            "column 3 (`year:integer`)",
            "unknown type `integer`",
        ],
    );
    let text = "id:ID(Actor),seen:datetime\nA1,2000-01-01T00:00\n";
    has(
        &refused("actors.csv", text),
        &["actors.csv:1:", "not supported"],
    );
    let text = "id:ID(Actor),name,name\nA1,Banten,B\n";
    has(
        &refused("actors.csv", text),
        &["actors.csv:1:", "`name` is given twice"],
    );
}

#[test]
fn files_without_their_id_columns_are_refused() {
    let text = "name,kind\nBanten,province\n";
    has(
        &refused("actors.csv", text),
        &["actors.csv:1:", "a node file needs an :ID column"],
    );
    let text = ":START_ID(Actor),role\nA1,initiator\n";
    has(
        &refused("party_to.csv", text),
        &["party_to.csv:1:", "needs a :START_ID and an :END_ID"],
    );
    has(
        &refused("party_to.csv", ""),
        &["party_to.csv:1:", "empty; expected a header"],
    );
    let text = "id:ID(Actor),:END_ID(Actor)\nA1,A1\n";
    has(
        &refused("actors.csv", text),
        &["actors.csv:1:", "node file has no :START_ID or :END_ID"],
    );
}

#[test]
fn a_relationship_without_a_type_is_refused() {
    let e = refused_with(&[], &ImportOptions::default(), |_, rels, _| {
        rels[2].0 = String::new();
    });
    has(&e, &["links.csv:3:", "no type"]);
}

#[test]
fn refusals_of_the_knowledge_base_name_the_line() {
    // An unknown source key.
    let options = ImportOptions {
        sources: vec!["nope".into()],
        ..ImportOptions::default()
    };
    let e = refused_with(&[], &options, |_, _, _| {});
    has(
        &e,
        &["actors.csv:2:", "refused", "no Source node has key `nope`"],
    );
    // A node id the knowledge base already holds.
    let text = "id:ID(Actor),name\nA1,Banten\nk,Not the source\n";
    has(
        &refused("actors.csv", text),
        &[
            "actors.csv:3:",
            "refused",
            "a node with id `k` already exists",
        ],
    );
}

#[test]
fn an_error_on_the_last_row_writes_nothing() {
    // Every node and most relationships are appended before the error.
    let text = "\
:START_ID(Actor),:END_ID(Actor),:TYPE,since:int
A1,A2,SISTER_OF,2005
A2,A3,,2006
A3,A1,,later
";
    has(&refused("links.csv", text), &["links.csv:4:", "`later`"]);
}

#[test]
fn line_numbers_count_lines_inside_quoted_fields() {
    let text = "id:ID(Actor),name,year:int\nA1,\"Ban\nten\",2000\nA2,Incheon,x\n";
    has(&refused("actors.csv", text), &["actors.csv:4:", "`x`"]);
}

// ---------------------------------------------------------------------------- the workload

#[test]
fn the_shared_benchmark_workload_at_scale_0_01() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench/gen.py");
    if !script.exists() {
        eprintln!("skipped: {} is not there", script.display());
        return;
    }
    let dir = TempDir::new().unwrap();
    let out = match Command::new("python3")
        .arg(&script)
        .args(["--scale", "0.01", "--seed", "42", "--out"])
        .arg(dir.path())
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            eprintln!("skipped: python3 cannot be run ({e})");
            return;
        }
    };
    assert!(
        out.status.success(),
        "gen.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = |f: &str| dir.path().join(format!("{f}.csv"));
    let nodes: Vec<_> = [
        ("Actor", "actors"),
        ("Agreement", "agreements"),
        ("Sector", "sectors"),
        ("Stage", "stages"),
        ("Source", "sources"),
    ]
    .iter()
    .map(|(l, f)| spec(l, &file(f)))
    .collect();
    let rels: Vec<_> = [
        ("PARTY_TO", "party_to"),
        ("COVERS", "covers"),
        ("IN_STAGE", "in_stage"),
        ("CITES", "cites"),
    ]
    .iter()
    .map(|(t, f)| spec(t, &file(f)))
    .collect();
    let path = dir.path().join("kb.redb");
    let mut db = Database::open_file(&path).unwrap();
    let s = import(&mut db, &nodes, &rels, &ImportOptions::default()).unwrap();
    let expect = [
        ("Actor", 100),
        ("Agreement", 500),
        ("Sector", 16),
        ("Stage", 6),
        ("Source", 20),
    ];
    for (label, n) in expect {
        assert_eq!(s.labels.get(label).copied(), Some(n), "{label}");
        assert_eq!(
            db.view().nodes_with_label(label).count() as u64,
            n,
            "{label}"
        );
    }
    let expect = [
        ("PARTY_TO", 1_025),
        ("COVERS", 1_472),
        ("IN_STAGE", 1_362),
        ("CITES", 391),
    ];
    for (t, n) in expect {
        assert_eq!(s.types.get(t).copied(), Some(n), "{t}");
        assert_eq!(db.view().edges_of_type(t).count() as u64, n, "{t}");
    }
    assert_eq!(s.nodes, 642);
    assert_eq!(s.relationships, 4_250);
    assert_eq!(db.tx().0, 1);
    assert_eq!(
        rows(&mut db, r#"MATCH (a:Actor {name: "Banten"}) RETURN a.id"#),
        [["A1"]]
    );
    // Every agreement has exactly one open stage interval.
    assert_eq!(
        rows(
            &mut db,
            "MATCH (g:Agreement)-[s:IN_STAGE]->(:Stage) WHERE valid_to(s) IS NULL RETURN count(DISTINCT g)"
        ),
        [["500"]]
    );
    drop(db);
    let db = Database::open_file(&path).unwrap();
    assert_eq!(db.view().edges().count(), 4_250);
}

/// Rows are read on one thread and written on another; an error is still the one at the
/// earliest line: a row the knowledge base refuses (a node that exists) before a row that
/// does not parse, and a bad row after thousands of good ones; and nothing is written.
#[test]
fn the_earliest_error_is_reported_when_reading_runs_ahead() {
    let dir = TempDir::new().unwrap();
    let mut db = kb();
    let mut error_of = |name: &str, text: &str| -> String {
        let nodes = put(dir.path(), name, text);
        let options = ImportOptions::default();
        match import(&mut db, &[spec("N", &nodes)], &[], &options) {
            Ok(_) => panic!("{name} was imported"),
            Err(e) => e.to_string(),
        }
    };
    // `k` exists already (the Source): refused at line 3; line 4 does not parse.
    let text = error_of("n.csv", "id:ID,n:int\nfirst,1\nk,2\nbad,not-a-number\n");
    assert!(text.contains("n.csv:3: refused"), "{text}");
    // A bad row far into a long file: found, and nothing of the rows before it is kept.
    let mut long = String::from("id:ID,n:int\n");
    for i in 0..20_000 {
        long.push_str(&format!("x{i},{i}\n"));
    }
    long.push_str("y,oops\n");
    let text = error_of("long.csv", &long);
    assert!(text.contains("long.csv:20002:"), "{text}");
    assert_eq!(db.tx().0, 1, "nothing was written");
    assert_eq!(
        rows(&mut db, "MATCH (n:N) RETURN count(*)"),
        vec![vec!["0"]]
    );
}
