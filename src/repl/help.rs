//! `:help` and `:help <topic>`.

/// The overview.
pub const OVERVIEW: &str = "\
Statements end with `;` and may span several lines. Tab completes keywords, labels, types,
properties, node names (inside quotes) and commands. For example:
  MATCH (b:Actor {name: \"Banten\"})-[:PARTY_TO]->(a:Agreement) RETURN a.title, a.stage;
  AS OF 2005 MATCH (p:Programme) RETURN p.name;
  HISTORY (a:Agreement {id: \"banten-incheon\"});
  TIMELINE 2000 .. 2024 MATCH (a:Agreement) RETURN count(a);
Commands:
  :help [topic]       this text, or one topic: time writes history timeline diff call
                      pin replay functions
  :schema             labels, relationship types and the properties they use
  :stats              nodes by label and relationships by type
  :log                the transactions: number, time, author, events, message
  :pin                what to cite for the last result: its tx, query and hash
  :replay [from] [to] step through the transactions, showing what each changed
  :format table|json|csv
  :timing on|off      show how long each statement took
  :source FILE        run the statements of a file
  :quit               leave (or Ctrl-D); Ctrl-C drops the input or stops a statement
The grammar is in grammar/diplograph.ebnf; the vocabulary in the README.";

/// The topics, each with its text.
pub const TOPICS: &[(&str, &str)] = &[
    (
        "time",
        "\
Two times. Valid time is when a fact held in the world; transaction time is when this
knowledge base learned it.
  AS OF 2005 MATCH …            facts that held at some day of 2005
  DURING 2000/2010 MATCH …      facts that held at some day of the interval
  AT TX 12 MATCH …              the knowledge base as it was after transaction 12
  AT 2026-01-31 MATCH …         … as it was at that instant (UTC)
  AT TX 12 AS OF 2005 MATCH …   both
Dates are EDTF and keep their precision: 1985, 2007-02, 2007-02-06, 2000/2004, 1985/..
A year covers the whole year: 2000/2004 holds on 2004-12-31 and not in 2005.
valid_from(x), valid_to(x), sources(x) and tx(x) tell a fact's times and sources;
valid_from(x, \"stage\") and the others with a property name tell those of the version
that gives the property its value (since when an agreement has stood at its stage).",
    ),
    (
        "writes",
        "\
Each statement that writes is one transaction; BEGIN; …; COMMIT groups several.
  CREATE (:Actor {id: \"x\", name: \"X\"}) VALID FROM 2010 SOURCE \"key\"
  MATCH (a:Agreement {id: \"g\"}) SET a.stage = \"MoU\" VALID FROM 2012 SOURCE \"key\"
  MATCH (a:Agreement {id: \"g\"}) END a AT 2020 SOURCE \"key\"
  RETRACT TX 12 REASON \"recorded under the wrong province\"
Nothing is deleted: END closes a fact in the world, RETRACT hides a transaction from
later states while AT TX before it still shows it. Sources are keys of Source nodes.",
    ),
    (
        "history",
        "\
HISTORY <pattern> [WHERE …] lists every event that touched each matched node or
relationship, oldest first: tx, recorded time, author, message, valid time, sources,
retractions included.
  HISTORY (a:Agreement {id: \"banten-incheon\"});
  HISTORY AT TX 28 (p:Programme)-[r:PART_OF]->(g);   the record up to tx 28
Named variables choose what is listed; with none, every element of the pattern.",
    ),
    (
        "timeline",
        "\
TIMELINE <from> .. <to> [STEP n YEARS|MONTHS] [BY column] <query> runs the query as of
each point and gives one row per point; numeric columns are charted under the table.
  TIMELINE 2000 .. 2024 STEP 4 YEARS BY province
    MATCH (p:Actor)-[:PARTY_TO]->(a:Agreement)
    WHERE p.name IN [\"Banten\", \"Yogyakarta\", \"Surabaya\"]
    RETURN p.name AS province, count(a) AS agreements;
BY turns the values of one column into columns, side by side. Points with months
(2007-01 .. 2007-12) step by months.",
    ),
    (
        "diff",
        "\
Two kinds of change, kept apart.
  DIFF AS OF 2005, 2022          what changed in the world between two valid times: what
                                 began, ended, or changed value (a stage, say)
  DIFF AS OF 2005, 2022 AT TX 20 … as the record stood after tx 20
  DIFF AT TX 27, TX 30           what transactions 28 to 30 changed in the record: facts
                                 added, set, ended, corrected, retracted
Each line names its transaction and sources.",
    ),
    (
        "call",
        "\
CALL <algorithm>([{options}]) [YIELD column [AS name], …] [WHERE …] runs a graph
algorithm on the query's view (AT TX, AS OF and DURING apply), one row per node:
  degree()       node, degree, indegree, outdegree
  pagerank()     node, score      (options damping, iterations, tolerance)
  betweenness()  node, score      (normalized)
  closeness()    node, score      (normalized)
  components()   node, component, size
  distance({from: n})  node, distance (hops)
Options for all: labels: [\"Actor\", \"Agreement\"] and types: [\"PARTY_TO\"] choose what the
algorithm sees; directed: true follows relationships' directions (default: both ways).
  CALL pagerank({types: [\"PARTY_TO\"]}) YIELD node, score WHERE node:Actor
  RETURN node.name, score ORDER BY score DESC LIMIT 5;",
    ),
    (
        "pin",
        "\
:pin prints what to cite for the last result: the transaction it read, its query with
AT TX n, and a SHA-256 hash of its columns and rows. Running the pinned query again, on
this knowledge base or a copy of its log, gives the same rows and the same hash, however
much was recorded since. JSON output (:format json) carries the same `pin` field.",
    ),
    (
        "replay",
        "\
:replay [from] [to] steps through transactions from..to (default: all), showing for each
its time, author and message and what it added, set, ended or retracted. Enter shows the
next, q stops.",
    ),
    (
        "functions",
        "Aggregates: count collect min max sum avg, with DISTINCT; grouping is implicit.",
    ),
    ("commands", OVERVIEW),
];

/// The text for `:help <topic>`, or a message naming the topics.
pub fn topic(name: &str) -> String {
    let name = name.trim().trim_start_matches(':').to_lowercase();
    match TOPICS.iter().find(|(t, _)| *t == name) {
        Some((_, text)) if name == "functions" => {
            format!(
                "Functions: {}\n{text}",
                wrap(crate::query::eval::FUNCTIONS, 78)
            )
        }
        Some((_, text)) => (*text).to_owned(),
        None => {
            let names: Vec<&str> = TOPICS.iter().map(|(t, _)| *t).collect();
            format!("no help topic `{name}`; topics: {}", names.join(", "))
        }
    }
}

/// Words joined by spaces, broken into lines of at most `width` characters.
fn wrap(words: &[&str], width: usize) -> String {
    let mut out = String::new();
    let mut line = 0;
    for w in words {
        if line > 0 && line + 1 + w.len() > width {
            out.push('\n');
            line = 0;
        } else if line > 0 {
            out.push(' ');
            line += 1;
        }
        out.push_str(w);
        line += w.len();
    }
    out
}
