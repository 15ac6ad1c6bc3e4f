//! Writes the golden log `tests/golden/v1.redb` and its JSON Lines export `v1.jsonl`.
//!
//! Run once per format version (`cargo run --example make_golden`), commit both files, and
//! never regenerate them: `tests/golden.rs` proves every later build still reads them.

use std::sync::Arc;

use diplograph::event::{Event, Name, Target, TxMeta};
use diplograph::interchange::jsonl;
use diplograph::time::{Date, Timestamp, TxId, ValidTime};
use diplograph::{Database, Value};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::path::Path::new("tests/golden");
    let path = dir.join("v1.redb");
    if path.exists() {
        return Err(format!(
            "{} exists; golden files are never regenerated",
            path.display()
        )
        .into());
    }
    let mut db = Database::open_file(&path)?;
    let s = |x: &str| Name::new(x);
    let v = |x: &str| ValidTime::parse(x).expect("valid time");
    let d = |x: &str| Date::parse(x).expect("date");
    let txs: Vec<(Option<&str>, &str, Vec<Event>)> = vec![
        (
            Some("golden"),
            "sources",
            vec![Event::NodeAdded {
                id: Name::new("src-1"),
                labels: vec![s("Source")].into(),
                props: vec![
                    (s("key"), Value::str("syuryansyah2024")),
                    (s("year"), Value::Int(2024)),
                ],
                valid: ValidTime::ALWAYS,
                sources: vec![].into(),
            }],
        ),
        (
            None,
            "every kind of value and date",
            vec![
                Event::NodeAdded {
                    id: Name::new("banten"),
                    labels: vec![s("Actor"), s("Province")].into(),
                    props: vec![
                        (s("name"), Value::str("Banten")),
                        (
                            s("alt"),
                            Value::str("Präfektur Kyōto \"quoted\" \\ \u{1F30F}"),
                        ),
                        (s("population"), Value::Int(-12_000_000)),
                        (s("share"), Value::Float(0.125)),
                        (s("coastal"), Value::Bool(true)),
                        (s("founded"), Value::Date(d("2000-10-04"))),
                        (
                            s("tags"),
                            Value::List(Arc::from(vec![
                                Value::str("gateway"),
                                Value::Int(1),
                                Value::Null,
                            ])),
                        ),
                    ],
                    valid: v("2000/.."),
                    sources: vec![s("syuryansyah2024")].into(),
                },
                Event::NodeAdded {
                    id: Name::new("incheon"),
                    labels: vec![s("Actor")].into(),
                    props: vec![],
                    valid: v("19XX?/2004~"),
                    sources: vec![].into(),
                },
                Event::EdgeAdded {
                    id: Name::new("e1"),
                    rel_type: s("PARTY_TO"),
                    from: Name::new("banten"),
                    to: Name::new("incheon"),
                    props: vec![(s("role"), Value::str("signatory"))],
                    valid: v("2007-02-06/"),
                    sources: vec![s("syuryansyah2024")].into(),
                },
            ],
        ),
        (
            Some("golden"),
            "changes",
            vec![
                Event::PropertiesSet {
                    target: Target::Node(Name::new("banten")),
                    props: vec![(s("stage"), Value::str("MoU")), (s("share"), Value::Null)],
                    valid: v("2010-21/2012-08"),
                    sources: vec![].into(),
                },
                Event::PropertiesSet {
                    target: Target::Edge(Name::new("e1")),
                    props: vec![(s("role"), Value::str("host"))],
                    valid: v("../2008"),
                    sources: vec![s("syuryansyah2024")].into(),
                },
                Event::NodeEnded {
                    id: Name::new("incheon"),
                    end: d("2004-XX"),
                    sources: vec![].into(),
                },
                Event::EdgeEnded {
                    id: Name::new("e1"),
                    end: d("2019"),
                    sources: vec![s("syuryansyah2024")].into(),
                },
            ],
        ),
        (
            Some("golden"),
            "a correction",
            vec![Event::TxRetracted {
                tx: TxId(3),
                reason: "wrong stage".to_owned(),
            }],
        ),
    ];
    db.write(|w| {
        for (i, (author, message, events)) in txs.into_iter().enumerate() {
            let meta = TxMeta {
                author: author.map(str::to_owned),
                message: Some(message.to_owned()),
            };
            let at =
                Timestamp::from_unix_nanos(1_764_320_000_000_000_000 + i as i64 * 1_000_123_456);
            w.begin_tx(&meta, Some(at))?;
            for e in events {
                w.append(e)?;
            }
            w.end_tx()?;
        }
        Ok::<(), diplograph::CommitError>(())
    })?;
    let mut out = std::fs::File::create(dir.join("v1.jsonl"))?;
    jsonl::export_events(db.log(), &mut out)?;
    println!("wrote {} and v1.jsonl", path.display());
    Ok(())
}
