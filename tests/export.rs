//! Graph export (`interchange::export`): each format read back and compared with the view —
//! GraphML by a small quick-xml reader and by networkx, GEXF's dynamic spells, DOT rendered by
//! Graphviz, JSON and CSV parsed again — and a query's selection exported alone.
//!
//! The checks that need Python's networkx or Graphviz's `dot` print why they are skipped when
//! those are missing, and pass.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::process::{Command, Stdio};

use diplograph::Database;
use diplograph::graph::View;
use diplograph::interchange::export::{ExportFormat, Selection, export, selection_of};
use diplograph::log::MemoryLog;
use diplograph::query::{Outcome, Session, parser};
use diplograph::value::Value;
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

/// A node name with a quote, a newline, markup characters and non-ASCII text.
const TRICKY: &str = "Quote \"q\" <&'> back\\slash\nsecond line";

const KB: &str = r#"
CREATE (:Source {key: "paper2024", title: "Paradiplomacy in Banten"}),
       (:Source {key: "news2021"});
CREATE (:Actor {id: "banten", name: "Banten", kind: "province"})
VALID FROM 1985 SOURCE "paper2024";
CREATE (:Actor {id: "timra", name: "Timrå", kind: "municipality", population: 18000, area: 1.5})
SOURCE "paper2024", "news2021";
CREATE (:Actor:City {id: "incheon", name: "인천 Incheon", note: "a <&\"'> b"})
VALID FROM 2000-03 TO 2010 SOURCE "paper2024";
CREATE (:Actor {id: "tricky", name: "Quote \"q\" <&'> back\\slash\nsecond line", big: 10000000000});
MATCH (b:Actor {id: "banten"}), (x:Actor {id: "incheon"})
CREATE (a:Agreement {id: "banten-incheon", title: "LoI Banten–Incheon",
                     topics: ["trade", "culture"], signed: date("2007-02-06"), binding: false}),
       (b)-[:PARTY_TO {id: "p1", role: "signatory"}]->(a), (x)-[:PARTY_TO {id: "p2"}]->(a)
VALID FROM 2007-02-06 SOURCE "paper2024";
MATCH (b:Actor {id: "banten"}), (t:Actor {id: "timra"})
CREATE (b)-[:COOPERATES_WITH {id: "c1", since: 1999, weight: 2}]->(t)
VALID FROM 1999 SOURCE "news2021";
MATCH (b:Actor {id: "banten"}), (t:Actor {id: "tricky"})
CREATE (t)-[:COOPERATES_WITH {id: "c2", weight: 0.5, note: "line one\nline \"two\""}]->(b);
MATCH (a:Agreement {id: "banten-incheon"}) END a AT 2015 SOURCE "news2021";
MATCH ()-[r:COOPERATES_WITH {id: "c1"}]->() END r AT 2004-06 SOURCE "news2021";
"#;

fn kb() -> Database<MemoryLog> {
    let mut db = Database::open(MemoryLog::new()).unwrap();
    let mut s = Session::new();
    for st in parser::parse_script(KB).unwrap().statements {
        s.execute(&mut db, KB, &st).unwrap();
    }
    db
}

/// Runs one reading statement.
fn query(db: &Database<MemoryLog>, q: &str) -> Outcome {
    let script = parser::parse_script(q).unwrap();
    let [st] = &script.statements[..] else {
        panic!("one statement expected")
    };
    Session::new().read_statement(db.graph(), q, st).unwrap()
}

fn exported(view: &View<'_>, selection: Option<&Selection>, format: ExportFormat) -> String {
    let mut out = Vec::new();
    export(view, selection, format, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// The text form the export promises for a property value.
fn text_of(v: &Value) -> String {
    match v {
        Value::Str(s) => s.to_string(),
        Value::Float(f) => format!("{f:?}"),
        Value::Date(d) => d.to_string(),
        Value::List(_) => json_of(v).to_string(),
        other => other.to_string(),
    }
}

fn json_of(v: &Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::json!(b),
        Value::Int(i) => serde_json::json!(i),
        Value::Float(f) => serde_json::json!(f),
        Value::List(items) => items.iter().map(json_of).collect(),
        other => serde_json::Value::String(text_of(other)),
    }
}

/// Every attribute the view holds for each node and edge, as the export writes them.
type Attrs = BTreeMap<String, String>;
/// Nodes by id.
type Nodes = BTreeMap<String, Attrs>;
/// Edges by id: source, target, attributes.
type Edges = BTreeMap<String, (String, String, Attrs)>;

fn expected_nodes(view: &View<'_>) -> Nodes {
    view.nodes()
        .map(|n| {
            let mut a: Attrs = n
                .properties()
                .into_iter()
                .map(|(k, v)| (k.to_owned(), text_of(v)))
                .collect();
            a.insert("labels".into(), n.labels().join(":"));
            a.insert("valid".into(), n.valid().to_string());
            a.insert("sources".into(), n.sources().join(";"));
            (n.id().to_owned(), a)
        })
        .collect()
}

fn expected_edges(view: &View<'_>) -> Edges {
    view.edges()
        .map(|e| {
            let mut a: Attrs = e
                .properties()
                .into_iter()
                .map(|(k, v)| (k.to_owned(), text_of(v)))
                .collect();
            a.insert("type".into(), e.rel_type().to_owned());
            a.insert("valid".into(), e.valid().to_string());
            a.insert("sources".into(), e.sources().join(";"));
            (
                e.id().to_owned(),
                (e.from().id().to_owned(), e.to().id().to_owned(), a),
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// A small XML reader for the tests: elements with attributes and their text.

#[derive(Debug, Default, Clone)]
struct Element {
    name: String,
    attrs: BTreeMap<String, String>,
    text: String,
    children: Vec<Element>,
}

impl Element {
    fn all<'a>(&'a self, name: &str) -> Vec<&'a Element> {
        let mut found = Vec::new();
        self.walk(name, &mut found);
        found
    }

    fn walk<'a>(&'a self, name: &str, found: &mut Vec<&'a Element>) {
        if self.name == name {
            found.push(self);
        }
        for c in &self.children {
            c.walk(name, found);
        }
    }

    fn attr(&self, key: &str) -> Option<&str> {
        self.attrs.get(key).map(String::as_str)
    }
}

fn element_of(start: &BytesStart<'_>) -> Element {
    let name = start.name().as_ref().to_owned();
    let attrs = start
        .attributes()
        .map(|a| {
            let a = a.unwrap();
            let key = a.key.as_ref().to_owned();
            let value = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .unwrap()
                .into_owned();
            (key, value)
        })
        .collect();
    Element {
        name,
        attrs,
        ..Element::default()
    }
}

/// Parses a whole document, failing on anything not well-formed (mismatched or unclosed tags,
/// bad references).
fn parse_xml(text: &str) -> Element {
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut stack = vec![Element::default()];
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) => stack.push(element_of(&e)),
            Event::Empty(e) => {
                let el = element_of(&e);
                stack.last_mut().unwrap().children.push(el);
            }
            Event::End(_) => {
                let el = stack.pop().unwrap();
                assert!(!stack.is_empty(), "unbalanced end tag");
                stack.last_mut().unwrap().children.push(el);
            }
            Event::Text(t) => {
                let s = t.xml10_content();
                stack.last_mut().unwrap().text.push_str(&s);
            }
            Event::GeneralRef(r) => {
                let s = if r.is_char_ref() {
                    r.resolve_char_ref().unwrap().unwrap().to_string()
                } else {
                    let name = r.xml10_content();
                    quick_xml::escape::resolve_predefined_entity(&name)
                        .unwrap_or_else(|| panic!("unknown entity &{name};"))
                        .to_owned()
                };
                stack.last_mut().unwrap().text.push_str(&s);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(stack.len(), 1, "unclosed elements");
    let mut root = stack.pop().unwrap();
    assert_eq!(root.children.len(), 1, "one root element");
    root.children.pop().unwrap()
}

// ---------------------------------------------------------------------------------------
// GraphML

/// GraphML read back: key id → name per domain, then each node's and edge's data by name.
fn read_graphml(text: &str) -> (Nodes, Edges, BTreeMap<String, String>) {
    let root = parse_xml(text);
    assert_eq!(root.name, "graphml");
    let mut names = BTreeMap::new();
    let mut types = BTreeMap::new();
    for k in root.all("key") {
        let id = k.attr("id").unwrap().to_owned();
        names.insert(id.clone(), k.attr("attr.name").unwrap().to_owned());
        types.insert(
            format!(
                "{}:{}",
                k.attr("for").unwrap(),
                k.attr("attr.name").unwrap()
            ),
            k.attr("attr.type").unwrap().to_owned(),
        );
    }
    let data = |el: &Element| -> Attrs {
        el.children
            .iter()
            .filter(|c| c.name == "data")
            .map(|d| (names[d.attr("key").unwrap()].clone(), d.text.clone()))
            .collect()
    };
    let graph = &root.all("graph")[0];
    assert_eq!(graph.attr("edgedefault"), Some("directed"));
    let nodes = root
        .all("node")
        .into_iter()
        .map(|n| (n.attr("id").unwrap().to_owned(), data(n)))
        .collect();
    let edges = root
        .all("edge")
        .into_iter()
        .map(|e| {
            (
                e.attr("id").unwrap().to_owned(),
                (
                    e.attr("source").unwrap().to_owned(),
                    e.attr("target").unwrap().to_owned(),
                    data(e),
                ),
            )
        })
        .collect();
    (nodes, edges, types)
}

#[test]
fn graphml_read_back_holds_what_the_view_holds() {
    let db = kb();
    let view = db.view();
    let text = exported(&view, None, ExportFormat::Graphml);
    let (nodes, edges, types) = read_graphml(&text);
    assert_eq!(nodes, expected_nodes(&view));
    assert_eq!(edges, expected_edges(&view));

    // Spot checks of what the comparison above covers, so that a failure reads plainly.
    assert_eq!(nodes["banten"]["valid"], "1985/..");
    assert_eq!(nodes["incheon"]["labels"], "Actor:City");
    assert_eq!(nodes["incheon"]["name"], "인천 Incheon");
    assert_eq!(nodes["incheon"]["note"], "a <&\"'> b");
    assert_eq!(nodes["tricky"]["name"], TRICKY);
    assert_eq!(nodes["timra"]["sources"], "paper2024;news2021");
    assert_eq!(nodes["banten-incheon"]["topics"], r#"["trade","culture"]"#);
    assert_eq!(nodes["banten-incheon"]["valid"], "2007-02-06/2015");
    assert_eq!(edges["c1"].2["valid"], "1999/2004-06");

    // Types as the values allow.
    assert_eq!(types["node:population"], "int");
    assert_eq!(types["node:big"], "long");
    assert_eq!(types["node:area"], "double");
    assert_eq!(types["node:binding"], "boolean");
    assert_eq!(types["node:signed"], "string");
    assert_eq!(types["node:topics"], "string");
    assert_eq!(types["edge:weight"], "double", "2 and 0.5 make a double");
    assert_eq!(types["edge:type"], "string");

    // Deterministic.
    assert_eq!(text, exported(&view, None, ExportFormat::Graphml));
}

fn python_with(module: &str) -> Result<(), String> {
    match Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
    {
        Err(e) => Err(format!("python3 cannot run ({e})")),
        Ok(o) if !o.status.success() => Err(format!(
            "python3 has no {module} ({})",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Ok(_) => Ok(()),
    }
}

fn run_python(script: &str, input: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("graph");
    std::fs::write(&path, input).unwrap();
    let out = Command::new("python3")
        .args(["-c", script, path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn graphml_is_read_by_networkx() {
    if let Err(why) = python_with("networkx") {
        println!("skipped: networkx check of GraphML: {why}");
        return;
    }
    let db = kb();
    let view = db.view();
    let text = exported(&view, None, ExportFormat::Graphml);
    let script = r#"
import json, sys
import networkx as nx
g = nx.read_graphml(sys.argv[1])
edges = {}
for u, v, d in g.edges(data=True):
    edges[d["id"]] = [u, v, d]
print(json.dumps({
    "directed": g.is_directed(),
    "nodes": len(g), "edges": g.number_of_edges(),
    "node_data": {n: d for n, d in g.nodes(data=True)},
    "edges_data": edges,
}))
"#;
    let got: serde_json::Value = serde_json::from_str(&run_python(script, &text)).unwrap();
    assert_eq!(got["directed"], true);
    assert_eq!(got["nodes"], view.nodes().count());
    assert_eq!(got["edges"], view.edges().count());
    let nd = &got["node_data"];
    assert_eq!(nd["tricky"]["name"], TRICKY);
    assert_eq!(nd["incheon"]["name"], "인천 Incheon");
    assert_eq!(nd["incheon"]["note"], "a <&\"'> b");
    assert_eq!(nd["incheon"]["labels"], "Actor:City");
    assert_eq!(nd["banten"]["valid"], "1985/..");
    assert_eq!(nd["timra"]["population"], 18000, "an int attribute");
    assert_eq!(nd["timra"]["area"], 1.5, "a double attribute");
    assert_eq!(nd["tricky"]["big"], 10_000_000_000_i64, "a long attribute");
    assert_eq!(
        nd["banten-incheon"]["binding"], false,
        "a boolean attribute"
    );
    assert_eq!(nd["banten-incheon"]["topics"], r#"["trade","culture"]"#);
    assert_eq!(nd["timra"]["sources"], "paper2024;news2021");
    let ed = &got["edges_data"];
    assert_eq!(ed["p1"][0], "banten");
    assert_eq!(ed["p1"][1], "banten-incheon");
    assert_eq!(ed["p1"][2]["type"], "PARTY_TO");
    assert_eq!(ed["p1"][2]["role"], "signatory");
    assert_eq!(ed["c1"][2]["valid"], "1999/2004-06");
    assert_eq!(ed["c1"][2]["weight"], 2.0);
    assert_eq!(ed["c2"][2]["note"], "line one\nline \"two\"");
}

// ---------------------------------------------------------------------------------------
// GEXF

#[test]
fn gexf_is_dynamic_with_spells_on_first_and_last_days() {
    let db = kb();
    let view = db.view();
    let text = exported(&view, None, ExportFormat::Gexf);
    let root = parse_xml(&text);
    assert_eq!(root.name, "gexf");
    assert_eq!(root.attr("version"), Some("1.3"));
    let graph = root.all("graph")[0];
    assert_eq!(graph.attr("mode"), Some("dynamic"));
    assert_eq!(graph.attr("timeformat"), Some("date"));
    assert_eq!(graph.attr("defaultedgetype"), Some("directed"));

    let node = |id: &str| {
        root.all("node")
            .into_iter()
            .find(|n| n.attr("id") == Some(id))
            .unwrap_or_else(|| panic!("no node {id}"))
            .clone()
    };
    let edge = |id: &str| {
        root.all("edge")
            .into_iter()
            .find(|n| n.attr("id") == Some(id))
            .unwrap_or_else(|| panic!("no edge {id}"))
            .clone()
    };
    let spell = |el: &Element| el.all("spell").first().map(|s| (*s).clone());

    // 1985/.. starts on the first day of 1985 and has no end.
    let banten = spell(&node("banten")).unwrap();
    assert_eq!(banten.attr("start"), Some("1985-01-01"));
    assert_eq!(banten.attr("end"), None);
    // 2000-03/2010: the first day of March 2000 to the last day of 2010.
    let incheon = spell(&node("incheon")).unwrap();
    assert_eq!(incheon.attr("start"), Some("2000-03-01"));
    assert_eq!(incheon.attr("end"), Some("2010-12-31"));
    // Ended with END … AT 2015.
    let agreement = spell(&node("banten-incheon")).unwrap();
    assert_eq!(agreement.attr("start"), Some("2007-02-06"));
    assert_eq!(agreement.attr("end"), Some("2015-12-31"));
    // An edge ended at 2004-06: the last day of June.
    let c1 = spell(&edge("c1")).unwrap();
    assert_eq!(c1.attr("start"), Some("1999-01-01"));
    assert_eq!(c1.attr("end"), Some("2004-06-30"));
    // Valid always: no spell.
    assert!(spell(&node("timra")).is_none());

    // Labels and attributes.
    assert_eq!(node("tricky").attr("label"), Some(TRICKY));
    assert_eq!(
        node("banten-incheon").attr("label"),
        Some("LoI Banten–Incheon")
    );
    assert_eq!(edge("p1").attr("label"), Some("PARTY_TO"));
    assert_eq!(edge("p1").attr("source"), Some("banten"));
    let titles: BTreeMap<(String, String), String> = root
        .all("attributes")
        .into_iter()
        .flat_map(|a| {
            let class = a.attr("class").unwrap().to_owned();
            a.all("attribute").into_iter().map(move |x| {
                (
                    (class.clone(), x.attr("id").unwrap().to_owned()),
                    x.attr("title").unwrap().to_owned(),
                )
            })
        })
        .collect();
    let attvalues = |el: &Element, class: &str| -> Attrs {
        el.all("attvalue")
            .into_iter()
            .map(|v| {
                let key = (class.to_owned(), v.attr("for").unwrap().to_owned());
                (titles[&key].clone(), v.attr("value").unwrap().to_owned())
            })
            .collect()
    };
    let expected = expected_nodes(&view);
    for n in root.all("node") {
        let id = n.attr("id").unwrap();
        assert_eq!(attvalues(n, "node"), expected[id], "node {id}");
    }
    let expected = expected_edges(&view);
    for e in root.all("edge") {
        let id = e.attr("id").unwrap();
        assert_eq!(attvalues(e, "edge"), expected[id].2, "edge {id}");
    }
}

#[test]
fn gexf_is_read_by_networkx() {
    if let Err(why) = python_with("networkx") {
        println!("skipped: networkx check of GEXF: {why}");
        return;
    }
    let db = kb();
    let view = db.view();
    let text = exported(&view, None, ExportFormat::Gexf);
    let script = r#"
import json, sys
import networkx as nx
g = nx.read_gexf(sys.argv[1], version="1.3")
print(json.dumps({
    "nodes": len(g), "edges": g.number_of_edges(),
    "banten": g.nodes["banten"], "incheon": g.nodes["incheon"], "tricky": g.nodes["tricky"],
}))
"#;
    let got: serde_json::Value = serde_json::from_str(&run_python(script, &text)).unwrap();
    assert_eq!(got["nodes"], view.nodes().count());
    assert_eq!(got["edges"], view.edges().count());
    // networkx reads a missing end as the string "None" (it applies `str` to the absent
    // attribute); Gephi reads it as unbounded.
    assert_eq!(
        got["banten"]["spells"],
        serde_json::json!([["1985-01-01", "None"]])
    );
    assert_eq!(
        got["incheon"]["spells"],
        serde_json::json!([["2000-03-01", "2010-12-31"]])
    );
    assert_eq!(got["incheon"]["name"], "인천 Incheon");
    assert_eq!(got["tricky"]["label"], TRICKY);
    assert_eq!(got["tricky"]["big"], 10_000_000_000_i64);
}

// ---------------------------------------------------------------------------------------
// DOT

#[test]
fn dot_quotes_everything_and_renders_with_graphviz() {
    let db = kb();
    let view = db.view();
    let text = exported(&view, None, ExportFormat::Dot);
    assert!(text.contains("digraph diplograph {"), "{text}");
    // The newline and quotes of the tricky name are escaped, not written raw.
    assert!(
        text.contains(r#"label="Quote \"q\" <&'> back\\slash\nsecond line""#),
        "{text}"
    );
    assert!(text.contains(r#""banten" -> "banten-incheon" [label="PARTY_TO""#));
    assert!(text.contains(r#""prop.name"="Timrå""#));
    // One line per statement: no raw newline inside any.
    let statements = text
        .lines()
        .filter(|l| l.trim_end().ends_with("];"))
        .count();
    assert_eq!(statements, view.nodes().count() + view.edges().count());

    let Ok(mut child) = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        println!("skipped: rendering DOT: Graphviz `dot` is not on PATH");
        return;
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "dot failed: {stderr}");
    assert!(stderr.trim().is_empty(), "dot warned: {stderr}");
    let svg = String::from_utf8(out.stdout).unwrap();
    assert!(svg.contains("<svg"));
    assert!(svg.contains("Timrå"));
    // The tricky name shows as two text lines of its node.
    assert!(svg.contains("back\\slash"), "{svg}");
    assert!(svg.contains(">second line</text>"), "{svg}");
}

// ---------------------------------------------------------------------------------------
// JSON and CSV

#[test]
fn json_parses_back_to_the_view() {
    let db = kb();
    let view = db.view();
    let text = exported(&view, None, ExportFormat::Json);
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let nodes = doc["nodes"].as_array().unwrap();
    let rels = doc["relationships"].as_array().unwrap();
    assert_eq!(nodes.len(), view.nodes().count());
    assert_eq!(rels.len(), view.edges().count());
    let ids: Vec<&str> = nodes.iter().map(|n| n["id"].as_str().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "sorted by id");
    for n in nodes {
        let id = n["id"].as_str().unwrap();
        let node = view.node(id).unwrap();
        assert_eq!(n["labels"], serde_json::json!(node.labels()));
        assert_eq!(n["valid"], node.valid().to_string());
        assert_eq!(n["sources"], serde_json::json!(node.sources()));
        let props = n["properties"].as_object().unwrap();
        assert_eq!(props.len(), node.properties().len(), "{id}");
        for (k, v) in node.properties() {
            let got = &props[k];
            match v {
                Value::Int(i) => assert_eq!(got, i),
                Value::Float(f) => assert_eq!(got, f),
                Value::Bool(b) => assert_eq!(got, b),
                Value::List(items) => assert_eq!(got.as_array().unwrap().len(), items.len()),
                other => assert_eq!(got.as_str().unwrap(), text_of(other)),
            }
        }
    }
    let agreement = nodes.iter().find(|n| n["id"] == "banten-incheon").unwrap();
    assert_eq!(
        agreement["properties"]["topics"],
        serde_json::json!(["trade", "culture"])
    );
    assert_eq!(agreement["properties"]["signed"], "2007-02-06");
    for r in rels {
        let e = view.edge(r["id"].as_str().unwrap()).unwrap();
        assert_eq!(r["type"], e.rel_type());
        assert_eq!(r["from"], e.from().id());
        assert_eq!(r["to"], e.to().id());
        assert_eq!(r["valid"], e.valid().to_string());
        assert_eq!(r["sources"], serde_json::json!(e.sources()));
    }
}

#[test]
fn csv_is_one_table_that_parses_back() {
    let db = kb();
    let view = db.view();
    let text = exported(&view, None, ExportFormat::Csv);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        &header[..10],
        [
            "kind",
            "id",
            "labels",
            "type",
            "from",
            "to",
            "valid",
            "valid_first_day",
            "valid_last_day",
            "sources"
        ]
    );
    // The property `kind` collides with the kind column.
    assert!(header.contains(&"prop.kind".to_owned()), "{header:?}");
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert!(rows.iter().all(|r| r.len() == header.len()), "rectangular");
    let nodes: Vec<&csv::StringRecord> = rows.iter().filter(|r| &r[0] == "node").collect();
    let rels: Vec<&csv::StringRecord> = rows.iter().filter(|r| &r[0] == "relationship").collect();
    assert_eq!(nodes.len(), view.nodes().count());
    assert_eq!(rels.len(), view.edges().count());
    assert_eq!(nodes.len() + rels.len(), rows.len());

    // Property keys that collide with a fixed column are prefixed.
    let column = |key: &str| {
        if key == "kind" {
            "prop.kind".to_owned()
        } else {
            key.to_owned()
        }
    };
    let expected = expected_nodes(&view);
    for r in &nodes {
        for (k, v) in &expected[&r[1]] {
            assert_eq!(&r[col(&column(k))], v, "node {} column {k}", &r[1]);
        }
    }
    let expected = expected_edges(&view);
    for r in &rels {
        let (from, to, want) = &expected[&r[1]];
        assert_eq!(&r[col("from")], from);
        assert_eq!(&r[col("to")], to);
        for (k, v) in want {
            assert_eq!(&r[col(&column(k))], v, "edge {} column {k}", &r[1]);
        }
    }
    let banten = nodes.iter().find(|r| &r[1] == "banten").unwrap();
    assert_eq!(&banten[col("valid_first_day")], "1985-01-01");
    assert_eq!(&banten[col("valid_last_day")], "");
    let tricky = nodes.iter().find(|r| &r[1] == "tricky").unwrap();
    assert_eq!(&tricky[col("name")], TRICKY, "quotes and newline survive");
    let c1 = rels.iter().find(|r| &r[1] == "c1").unwrap();
    assert_eq!(&c1[col("valid_last_day")], "2004-06-30");
}

// ---------------------------------------------------------------------------------------
// Selections

#[test]
fn a_selection_exports_only_the_subgraph_the_query_returned() {
    let db = kb();
    let outcome = query(
        &db,
        r#"MATCH (b:Actor {id: "banten"})-[r:PARTY_TO]->(a:Agreement) RETURN r"#,
    );
    let sel = selection_of(&outcome);
    assert_eq!(sel.edges().collect::<Vec<_>>(), ["p1"]);
    assert_eq!(
        sel.nodes().collect::<Vec<_>>(),
        ["banten", "banten-incheon"],
        "a relationship brings its end nodes"
    );
    let view = db.graph().view_at(outcome.tx);
    let doc: serde_json::Value =
        serde_json::from_str(&exported(&view, Some(&sel), ExportFormat::Json)).unwrap();
    let ids = |key: &str| -> Vec<String> {
        doc[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids("nodes"), ["banten", "banten-incheon"]);
    assert_eq!(ids("relationships"), ["p1"]);

    // Nodes only: no relationship comes along, even between two selected nodes.
    let outcome = query(
        &db,
        r#"MATCH (b:Actor {id: "banten"})-[:COOPERATES_WITH]->(t) RETURN b, collect(t) AS partners"#,
    );
    let sel = selection_of(&outcome);
    let (nodes, edges, _) = read_graphml(&exported(&view, Some(&sel), ExportFormat::Graphml));
    assert_eq!(nodes.keys().collect::<Vec<_>>(), ["banten", "timra"]);
    assert!(edges.is_empty());

    // A path brings its nodes and relationships.
    let outcome = query(
        &db,
        r#"MATCH p = (:Actor {id: "tricky"})-[:COOPERATES_WITH]->(:Actor)-[:PARTY_TO]->(:Agreement) RETURN p"#,
    );
    let sel = selection_of(&outcome);
    let (nodes, edges, _) = read_graphml(&exported(&view, Some(&sel), ExportFormat::Graphml));
    assert_eq!(
        nodes.keys().collect::<Vec<_>>(),
        ["banten", "banten-incheon", "tricky"]
    );
    assert_eq!(edges.keys().collect::<Vec<_>>(), ["c2", "p1"]);

    // Scalars select nothing; an empty selection exports an empty graph.
    let outcome = query(&db, "MATCH (a:Actor) RETURN a.name");
    let sel = selection_of(&outcome);
    assert!(sel.is_empty());
    let text = exported(&view, Some(&sel), ExportFormat::Gexf);
    let root = parse_xml(&text);
    assert!(root.all("node").is_empty());
}

#[test]
fn a_past_or_restricted_view_exports_what_it_shows() {
    let db = kb();
    // As of 1990: Banten (from 1985), Timrå (always) and the tricky node; Incheon and the
    // agreement not yet.
    let view = db
        .view()
        .during(diplograph::DayRange::parse("1990").unwrap());
    let (nodes, edges, _) = read_graphml(&exported(&view, None, ExportFormat::Graphml));
    let sources: Vec<String> = db
        .view()
        .nodes_with_label("Source")
        .map(|n| n.id().to_owned())
        .collect();
    let mut want: Vec<&str> = vec!["banten", "timra", "tricky"];
    want.extend(sources.iter().map(String::as_str));
    want.sort();
    assert_eq!(nodes.keys().collect::<Vec<_>>(), want);
    assert_eq!(edges.keys().collect::<Vec<_>>(), ["c2"]);
    let text = exported(&view, None, ExportFormat::Gexf);
    assert!(text.contains("valid time 1990-01-01/1990-12-31"), "{text}");
}

#[test]
fn control_characters_keep_xml_well_formed() {
    let mut db = Database::open(MemoryLog::new()).unwrap();
    let script = r#"CREATE (:Actor {id: "bell", name: "ring\u0007 the\tbell\r"});"#;
    let mut s = Session::new();
    for st in parser::parse_script(script).unwrap().statements {
        s.execute(&mut db, script, &st).unwrap();
    }
    let view = db.view();
    for format in [ExportFormat::Gexf, ExportFormat::Graphml] {
        let text = exported(&view, None, format);
        let root = parse_xml(&text);
        assert_eq!(root.all("node").len(), 1, "{format}");
    }
    let (nodes, _, _) = read_graphml(&exported(&view, None, ExportFormat::Graphml));
    assert_eq!(nodes["bell"]["name"], "ring\u{FFFD} the\tbell\r");
    for format in ExportFormat::ALL {
        exported(&view, None, format);
    }
}
