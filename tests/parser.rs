//! The parser: every example of `grammar/diplograph.ebnf` parses; the tree each rule builds;
//! syntax errors name line, column, what was expected and what was found; and no input —
//! random or a mutation of a real query — makes it panic.

use diplograph::query::ast::*;
use diplograph::query::parser::{parse_expression, parse_script, parse_statement};
use proptest::prelude::*;

const GRAMMAR: &str = include_str!("../grammar/diplograph.ebnf");

fn query(text: &str) -> Query {
    match parse_statement(text) {
        Ok(Statement::Query(q)) => q,
        other => panic!("{text}: {other:?}"),
    }
}

fn expr(text: &str) -> ExprKind {
    parse_expression(text)
        .unwrap_or_else(|e| panic!("{text}: {}", e.render("t", text, false)))
        .kind
}

fn pattern_of(q: &Query) -> &PathPattern {
    match &q.clauses[0] {
        Clause::Match { patterns, .. } => &patterns[0],
        other => panic!("{other:?}"),
    }
}

/// `(rule, entry, example)` for every example line of the grammar.
fn examples() -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let mut rule = String::new();
    for line in GRAMMAR.lines() {
        if let Some((name, _)) = line.split_once(" = ")
            && !name.starts_with(' ')
            && !name.starts_with('(')
        {
            rule = name.trim().to_owned();
        }
        let Some(rest) = line.trim().strip_prefix("(* example [") else {
            continue;
        };
        let (entry, text) = rest.split_once("]: ").expect("example [entry]: text");
        let text = text
            .strip_suffix(" *)")
            .expect("an example ends with ` *)`");
        out.push((rule.clone(), entry.to_owned(), text.to_owned()));
    }
    out
}

#[test]
fn every_example_in_the_grammar_parses() {
    let all = examples();
    assert!(all.len() >= 60, "only {} examples", all.len());
    for (rule, entry, text) in &all {
        let result = match entry.as_str() {
            "statement" => parse_script(text).map(|_| ()),
            "expression" => parse_expression(text).map(|_| ()),
            "pattern" => parse_script(&format!("MATCH {text} RETURN 1")).map(|_| ()),
            other => panic!("unknown entry `{other}` for {rule}"),
        };
        if let Err(e) = result {
            panic!("{rule}: {}", e.render(rule, text, false));
        }
    }
}

#[test]
fn every_rule_has_an_example_and_a_parser_function() {
    let source = include_str!("../src/query/parser.rs");
    let mut rules = Vec::new();
    for line in GRAMMAR.lines() {
        if let Some((name, _)) = line.split_once(" = ")
            && !name.starts_with(' ')
            && !name.starts_with('(')
        {
            rules.push(name.trim().to_owned());
        }
    }
    let with_examples: Vec<String> = examples().into_iter().map(|(r, _, _)| r).collect();
    // Lexical sub-rules (escape, exponent) are part of their parent's function.
    for rule in rules
        .iter()
        .filter(|r| !matches!(r.as_str(), "escape" | "exponent"))
    {
        assert!(with_examples.contains(rule), "rule `{rule}` has no example");
        assert!(
            source.contains(&format!("fn {rule}(")),
            "rule `{rule}` has no parser function of that name"
        );
    }
}

#[test]
fn node_and_relationship_patterns() {
    let q = query(
        r#"MATCH (v:Actor:Province {name: "Banten"})-[r:PARTY_TO|PART_OF*1..3]->() RETURN v"#,
    );
    let p = pattern_of(&q);
    assert_eq!(p.start.var.as_ref().unwrap().node, "v");
    let labels: Vec<&str> = p.start.labels.iter().map(|l| l.node.as_str()).collect();
    assert_eq!(labels, ["Actor", "Province"]);
    assert_eq!(p.start.props[0].0.node, "name");
    let (r, end) = &p.steps[0];
    assert_eq!(r.direction, Direction::Right);
    assert_eq!(r.types.len(), 2);
    assert_eq!(
        r.length,
        Some(Length {
            min: 1,
            max: Some(3)
        })
    );
    assert!(end.var.is_none() && end.labels.is_empty());

    let dirs: Vec<Direction> = pattern_of(&query(
        "MATCH (a)<-[:T]-(b)-[:T]-(c)--(d)<--(e)-->(f) RETURN a",
    ))
    .steps
    .iter()
    .map(|(r, _)| r.direction)
    .collect();
    use Direction::*;
    assert_eq!(dirs, [Left, Both, Both, Left, Right]);

    for (text, min, max) in [
        ("*", 1, None),
        ("*2", 2, Some(2)),
        ("*..4", 1, Some(4)),
        ("*2..", 2, None),
        ("*0..1", 0, Some(1)),
    ] {
        let q = query(&format!("MATCH (a)-[{text}]->(b) RETURN a"));
        assert_eq!(
            pattern_of(&q).steps[0].0.length,
            Some(Length { min, max }),
            "{text}"
        );
    }
    assert!(parse_statement("MATCH (a)<-[:T]->(b) RETURN a").is_err());
    assert!(parse_statement("MATCH (a)-[*3..1]->(b) RETURN a").is_err());
}

#[test]
fn named_and_shortest_paths_and_several_patterns() {
    let q = query(r#"MATCH p = shortestPath((a {id: "x"})-[:T*]-(b)), (c) RETURN length(p)"#);
    let Clause::Match { patterns, .. } = &q.clauses[0] else {
        panic!()
    };
    assert_eq!(patterns.len(), 2);
    assert_eq!(patterns[0].var.as_ref().unwrap().node, "p");
    assert_eq!(patterns[0].kind, PathKind::Shortest);
    let q = query("MATCH p = allShortestPaths((a)-[*]-(b)) RETURN p");
    assert_eq!(pattern_of(&q).kind, PathKind::AllShortest);
}

#[test]
fn clauses_in_order() {
    let q = query(
        "MATCH (a) OPTIONAL MATCH (a)-->(b) WHERE b.x > 1 WITH a, count(b) AS n WHERE n > 0 \
         UNWIND [1] AS one RETURN DISTINCT a.name AS name, n ORDER BY n DESC, name SKIP 1 LIMIT 2",
    );
    let kinds: Vec<&str> = q
        .clauses
        .iter()
        .map(|c| match c {
            Clause::Match {
                optional: false, ..
            } => "match",
            Clause::Match {
                optional: true,
                filter: Some(_),
                ..
            } => "optional match where",
            Clause::With(p) if p.filter.is_some() => "with where",
            Clause::Unwind { .. } => "unwind",
            Clause::Return(p) if p.distinct && p.skip.is_some() && p.limit.is_some() => "return",
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "match",
            "optional match where",
            "with where",
            "unwind",
            "return"
        ]
    );
    let Some(Clause::Return(p)) = q.clauses.last() else {
        panic!()
    };
    assert_eq!(p.items[0].alias.as_ref().unwrap().node, "name");
    assert_eq!(p.items[0].text, "a.name");
    assert!(p.order[0].descending && !p.order[1].descending);
    assert!(
        query("MATCH (a) RETURN *")
            .clauses
            .iter()
            .any(|c| matches!(c, Clause::Return(p) if p.star))
    );
}

#[test]
fn precedence_and_operators() {
    // a OR (b AND c)
    let ExprKind::Binary(BinaryOp::Or, _, right) = expr("a OR b AND c") else {
        panic!()
    };
    assert!(matches!(right.kind, ExprKind::Binary(BinaryOp::And, _, _)));
    // 1 + (2 * 3)
    let ExprKind::Binary(BinaryOp::Add, _, right) = expr("1 + 2 * 3") else {
        panic!()
    };
    assert!(matches!(right.kind, ExprKind::Binary(BinaryOp::Mul, _, _)));
    // NOT binds looser than comparison
    let ExprKind::Unary(UnaryOp::Not, inner) = expr("NOT a = 1") else {
        panic!()
    };
    assert!(matches!(inner.kind, ExprKind::Binary(BinaryOp::Eq, _, _)));
    for (text, op) in [
        ("a IN [1]", BinaryOp::In),
        ("a STARTS WITH 'x'", BinaryOp::StartsWith),
        ("a ENDS WITH 'x'", BinaryOp::EndsWith),
        ("a CONTAINS 'x'", BinaryOp::Contains),
        ("a <> 1", BinaryOp::Ne),
        ("a != 1", BinaryOp::Ne),
        ("a <= 1", BinaryOp::Le),
        ("a XOR b", BinaryOp::Xor),
        ("2 ^ 3", BinaryOp::Pow),
        ("7 % 2", BinaryOp::Mod),
    ] {
        assert!(
            matches!(expr(text), ExprKind::Binary(o, _, _) if o == op),
            "{text}"
        );
    }
    assert!(matches!(
        expr("a IS NOT NULL"),
        ExprKind::IsNull { negated: true, .. }
    ));
    assert!(matches!(
        expr("a IS NULL"),
        ExprKind::IsNull { negated: false, .. }
    ));
    assert!(matches!(expr("n:Actor:Province"), ExprKind::HasLabels(_, l) if l.len() == 2));
    assert!(matches!(expr("count(*)"), ExprKind::CountStar));
    assert!(matches!(
        expr("count(DISTINCT x)"),
        ExprKind::Call { distinct: true, .. }
    ));
    assert!(matches!(expr("$name"), ExprKind::Parameter(n) if n == "name"));
    assert!(matches!(
        expr("-9223372036854775808"),
        ExprKind::Literal(Literal::Int(i64::MIN))
    ));
    assert!(matches!(
        expr("CASE x WHEN 1 THEN 2 END"),
        ExprKind::Case {
            subject: Some(_),
            ..
        }
    ));
}

#[test]
fn literals_unicode_escapes_and_comments() {
    assert_eq!(
        expr(r#""Präfektur Kyōto""#),
        ExprKind::Literal(Literal::Str("Präfektur Kyōto".into()))
    );
    assert_eq!(
        expr(r"'it\'s'"),
        ExprKind::Literal(Literal::Str("it's".into()))
    );
    assert_eq!(
        expr(r#""a\tb\nc\"d\\e\u00e5""#),
        ExprKind::Literal(Literal::Str("a\tb\nc\"d\\eå".into()))
    );
    assert!(matches!(expr("Timrå"), ExprKind::Variable(v) if v == "Timrå"));
    assert!(matches!(expr("`two words`"), ExprKind::Variable(v) if v == "two words"));
    assert!(matches!(expr("1.5e3"), ExprKind::Literal(Literal::Float(f)) if f == 1500.0));
    assert!(
        matches!(expr("[1, 'a', null, true, {k: 2}]"), ExprKind::List(items) if items.len() == 5)
    );
    let s =
        parse_script("/* a\n comment */ MATCH (n) // to the end\n RETURN n; // last\n").unwrap();
    assert_eq!(s.statements.len(), 1);
    // keywords in any case
    assert!(parse_statement("match (n) where n.x = 1 return n order by n.x desc limit 1").is_ok());
    assert!(parse_statement("MaTcH (n) ReTuRn n").is_ok());
    // a keyword does not eat the start of a name
    assert!(matches!(expr("orders"), ExprKind::Variable(v) if v == "orders"));
    assert!(matches!(expr("asset"), ExprKind::Variable(v) if v == "asset"));
}

#[test]
fn time_selectors_and_writes() {
    let q = query("AT TX 12 AS OF 2005 MATCH (n) RETURN n");
    assert_eq!(q.at.unwrap().node, TxTime::Tx(12));
    assert!(matches!(q.valid.unwrap().node, ValidSelector::AsOf(d) if d.to_string() == "2005"));
    let q = query("DURING 2000/2010 AT \"2026-01-01T00:00:00Z\" MATCH (n) RETURN n");
    assert!(matches!(q.valid.unwrap().node, ValidSelector::During(_)));
    assert!(matches!(q.at.unwrap().node, TxTime::Timestamp(t) if t == "2026-01-01T00:00:00Z"));

    let q = query(
        r#"MATCH (a) SET a.stage = "MoU", a += {x: 1} VALID FROM 2007-02-06 TO 2010 SOURCE "a", "b""#,
    );
    let Clause::Set { items, meta, .. } = &q.clauses[1] else {
        panic!()
    };
    assert_eq!(items.len(), 2);
    assert_eq!(
        meta.valid.as_ref().unwrap().node.to_string(),
        "2007-02-06/2010"
    );
    assert_eq!(
        meta.sources
            .iter()
            .map(|s| s.node.as_str())
            .collect::<Vec<_>>(),
        ["a", "b"]
    );
    let q = query("MATCH (a)-[r]->() END r, a AT 2015 SOURCE \"k\"");
    assert!(
        matches!(&q.clauses[1], Clause::End { targets, date, .. } if targets.len() == 2 && date.node.to_string() == "2015")
    );
    let q = query("MATCH (a) REMOVE a.x, a.y");
    assert!(matches!(&q.clauses[1], Clause::Set { items, .. } if items.len() == 2));
    assert!(
        matches!(parse_statement("RETRACT TX 3 REASON \"typo\""), Ok(Statement::Retract { tx, .. }) if tx.node == 3)
    );
    let s = parse_script("BEGIN; CREATE (a); COMMIT; ROLLBACK").unwrap();
    assert!(matches!(
        s.statements.as_slice(),
        [
            Statement::Begin(_),
            Statement::Query(_),
            Statement::Commit(_),
            Statement::Rollback(_)
        ]
    ));
    let q = query("CREATE (a:X) VALID 1985/..");
    assert!(
        matches!(&q.clauses[0], Clause::Create { meta, .. } if meta.valid.as_ref().unwrap().node.to_string() == "1985/..")
    );
}

/// The error's message and its line and column.
fn error(text: &str) -> (String, (usize, usize)) {
    let e = parse_script(text).expect_err(text);
    let at = e.line_column(text).unwrap();
    (e.message, at)
}

#[test]
fn errors_say_what_was_expected_and_what_was_found_where() {
    let cases: &[(&str, &str, (usize, usize))] = &[
        (
            "MATCH (n:Actor, m) RETURN n",
            "expected `)` to close the node pattern, found `,`",
            (1, 15),
        ),
        (
            "MATCH (n\nRETURN n",
            "expected `)` to close the node pattern, found `RETURN`",
            (2, 1),
        ),
        ("MATCH (n) RETRUN n", "found `RETRUN`", (1, 11)),
        ("RETURN \"abc", "unterminated string", (1, 8)),
        (
            "AS OF 2005-13 MATCH (n) RETURN n",
            "bad date `2005-13`",
            (1, 7),
        ),
        (
            "MATCH (n)-[:A*x]->(m) RETURN m",
            "expected a length",
            (1, 15),
        ),
        (
            "MATCH (n) RETURN n LIMIT",
            "expected a number after LIMIT, found the end of the input",
            (1, 25),
        ),
        (
            "RETURN [1, 2",
            "expected `,` or `]` to close the list",
            (1, 13),
        ),
        ("RETURN 99999999999999999999", "out of range", (1, 8)),
        ("RETURN 'a\\qb'", "unknown escape `\\q`", (1, 10)),
        ("RETURN 1 /* open", "unterminated comment", (1, 10)),
        ("MATCH (n) DELETE n", "append-only", (1, 11)),
        ("MATCH (n) RETURN n MATCH (m)", "after RETURN", (1, 20)),
        ("MATCH (a) SET a:Label", "labels are fixed", (1, 16)),
        (
            "MATCH (a) END a VALID TO 2015",
            "END takes `AT <date>`",
            (1, 17),
        ),
        ("RETRACT TX 3", "REASON", (1, 13)),
    ];
    for (text, wanted, at) in cases {
        let (message, got_at) = error(text);
        assert!(message.contains(wanted), "{text}: {message}");
        assert_eq!(got_at, *at, "{text}: {message}");
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    for open in ["(", "[", "NOT ", "-", "{a: "] {
        let text = format!("RETURN {}", open.repeat(100_000));
        let e = parse_script(&text).expect_err("too deep");
        assert!(
            e.message.contains("nests more than"),
            "{open}: {}",
            e.message
        );
    }
}

// ----- no panics ----------------------------------------------------------------------------

const SEEDS: &[&str] = &[
    r#"MATCH (b:Actor {name: "Banten"})-[:PARTY_TO]->(a:Agreement)<-[:PARTY_TO]-(p) WHERE p <> b RETURN p.name, valid_from(a) AS s ORDER BY s"#,
    r#"AT TX 12 AS OF 2005 MATCH p = shortestPath((a)-[:T*1..3]-(b {id: 'x'})) RETURN length(p), nodes(p)[0..2]"#,
    r#"MATCH (a) SET a.stage = "MoU" VALID FROM 2010-02 TO 2012 SOURCE "k", "l""#,
    r#"UNWIND [1, 2.5, null, {k: $p}] AS x WITH x WHERE x IS NOT NULL RETURN count(DISTINCT x) /* c */ // d"#,
    "BEGIN; CREATE (:A {n: 'Timrå\\u00e5'})-[:R]->(b); RETRACT TX 3 REASON \"x\"; COMMIT",
    "RETURN CASE WHEN a THEN b ELSE c END, -1e3, `odd name`, x:L, a STARTS WITH 'b' OR NOT c",
];

fn mutate(seed: &str, ops: &[(u8, usize, usize, char)]) -> String {
    let mut chars: Vec<char> = seed.chars().collect();
    for &(op, a, b, c) in ops {
        if chars.is_empty() {
            chars.push(c);
            continue;
        }
        let i = a % chars.len();
        let j = (i + b % 8).min(chars.len());
        match op % 4 {
            0 => {
                chars.drain(i..j);
            }
            1 => chars.insert(i, c),
            2 => {
                let dup: Vec<char> = chars[i..j].to_vec();
                let at = b % chars.len();
                chars.splice(at..at, dup);
            }
            _ => chars[i] = c,
        }
    }
    chars.into_iter().collect()
}

fn syntax_char() -> impl Strategy<Value = char> {
    prop::sample::select(
        "()[]{}<>-=:;,.*$`'\"\\/|+!?^%~ \n\taAzZ09_éåō\u{0}\u{200b}ΣMATCHRETURNWHERE"
            .chars()
            .collect::<Vec<_>>(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 50_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_text_never_panics(text in prop::collection::vec(syntax_char(), 0..80)) {
        let text: String = text.into_iter().collect();
        let _ = parse_script(&text);
    }

    #[test]
    fn mutated_queries_never_panic(
        seed in 0..SEEDS.len(),
        ops in prop::collection::vec((any::<u8>(), any::<usize>(), any::<usize>(), syntax_char()), 1..6),
    ) {
        let text = mutate(SEEDS[seed], &ops);
        if let Err(e) = parse_script(&text) {
            // Every error points inside the text (or just past its end).
            let span = e.span.expect("syntax errors have a span");
            prop_assert!(span.start <= text.len());
            let _ = e.render("fuzz", &text, false);
        }
    }
}
