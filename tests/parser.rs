//! The parser (`src/query/parser.rs`) against its grammar (`grammar/diplograph.ebnf`):
//!
//! - every rule of the grammar is a parser function of the same name, has an example, and
//!   every example parses;
//! - the tree each construct builds (structure, precedence, spans);
//! - syntax errors: the message ("expected …, found …"), the line and column, the span;
//! - no input panics or overflows the stack: deep nesting and long chains are errors, and
//!   100,000 random or mutated inputs go through `parse_script`.

use diplograph::query::ast::*;
use diplograph::query::parser::{
    MAX_DEPTH, parse_expression, parse_script, parse_statement, split_statements,
};
use proptest::prelude::*;
use std::sync::LazyLock;

const GRAMMAR: &str = include_str!("../grammar/diplograph.ebnf");
const PARSER: &str = include_str!("../src/query/parser.rs");

// ----- helpers ---------------------------------------------------------------------------------

fn query(text: &str) -> Query {
    match parse_statement(text) {
        Ok(Statement::Query(q)) => q,
        Ok(other) => panic!("{text}: not a query: {other:?}"),
        Err(e) => panic!("{}", e.render("query", text, false)),
    }
}

fn expr(text: &str) -> Expr {
    parse_expression(text).unwrap_or_else(|e| panic!("{}", e.render("expression", text, false)))
}

fn kind(text: &str) -> ExprKind {
    expr(text).kind
}

fn first_pattern(q: &Query) -> &PathPattern {
    match &q.clauses[0] {
        Clause::Match { patterns, .. } => &patterns[0],
        other => panic!("not a MATCH: {other:?}"),
    }
}

fn names(idents: &[Ident]) -> Vec<&str> {
    idents.iter().map(|i| i.node.as_str()).collect()
}

fn projection(q: &Query) -> Projection {
    match q.clauses.last() {
        Some(Clause::Return(p) | Clause::With(p)) => p.clone(),
        other => panic!("no projection: {other:?}"),
    }
}

fn binary(e: &Expr) -> (BinaryOp, &Expr, &Expr) {
    match &e.kind {
        ExprKind::Binary(op, a, b) => (*op, a, b),
        other => panic!("not a binary operation: {other:?}"),
    }
}

fn literal(e: &Expr) -> &Literal {
    match &e.kind {
        ExprKind::Literal(l) => l,
        other => panic!("not a literal: {other:?}"),
    }
}

/// The syntax error of `text` (as a script): message, (line, column), and the text it spans.
fn error(text: &str) -> (String, (usize, usize), String) {
    let shown: String = text.chars().take(80).collect();
    let Err(e) = parse_script(text) else {
        panic!("parsed, but should not: {shown}")
    };
    assert_eq!(e.kind, diplograph::query::ErrorKind::Syntax, "{shown}");
    let span = e.span.expect("syntax errors have a span");
    let at = e.line_column(text).expect("a span");
    (e.message, at, text[span.start..span.end].to_owned())
}

// ----- the grammar -----------------------------------------------------------------------------

/// The rules of the grammar, in order.
fn rules() -> Vec<String> {
    GRAMMAR
        .lines()
        .filter_map(|line| {
            let (name, _) = line.split_once(" = ")?;
            let ok = !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_');
            ok.then(|| name.to_owned())
        })
        .collect()
}

/// `(rule, example)` for every `(* example: … *)` line, with the rule it follows.
fn examples() -> Vec<(String, String)> {
    let mut rule = String::new();
    let mut out = Vec::new();
    for line in GRAMMAR.lines() {
        if let Some((name, _)) = line.split_once(" = ")
            && name.chars().all(|c| c.is_ascii_lowercase() || c == '_')
        {
            rule = name.to_owned();
        }
        if let Some(example) = line.trim().strip_prefix("(* example: ") {
            let text = example
                .strip_suffix(" *)")
                .unwrap_or_else(|| panic!("an example is one line ending with ` *)`: {line}"));
            out.push((rule.clone(), text.to_owned()));
        }
    }
    out
}

/// Parser functions documented as a rule: `/// `name`: …` just above `fn name(`.
fn rule_functions() -> Vec<String> {
    let lines: Vec<&str> = PARSER.lines().map(str::trim).collect();
    let mut out = Vec::new();
    for (k, line) in lines.iter().enumerate() {
        let Some(rest) = line.strip_prefix("/// `") else {
            continue;
        };
        let Some((name, _)) = rest.split_once("`: ") else {
            continue;
        };
        let function = lines[k..]
            .iter()
            .find(|l| !l.starts_with("///"))
            .copied()
            .unwrap_or_default();
        assert!(
            function.starts_with(&format!("fn {name}(")),
            "the doc of rule `{name}` is not on `fn {name}(`: {function}"
        );
        out.push(name.to_owned());
    }
    out
}

#[test]
fn every_rule_is_a_function_of_its_name_and_has_an_example() {
    let rules = rules();
    assert!(rules.len() >= 70, "only {} rules", rules.len());
    let functions = rule_functions();
    for rule in &rules {
        assert!(
            functions.contains(rule),
            "rule `{rule}` has no parser function documented as it"
        );
    }
    for function in &functions {
        assert!(
            rules.contains(function),
            "`fn {function}` is documented as a rule the grammar does not have"
        );
    }
    let with_example: Vec<String> = examples().into_iter().map(|(rule, _)| rule).collect();
    for rule in &rules {
        assert!(with_example.contains(rule), "rule `{rule}` has no example");
    }
}

#[test]
fn every_example_in_the_grammar_parses() {
    let examples = examples();
    assert!(examples.len() >= rules().len());
    for (rule, text) in &examples {
        if let Err(e) = parse_script(text) {
            panic!("the example of `{rule}`:\n{}", e.render(rule, text, false));
        }
    }
}

// ----- statements ------------------------------------------------------------------------------

#[test]
fn scripts_split_into_statements_with_their_spans() {
    let text = "BEGIN;\n  CREATE (a:X) ; ;\n/* c */ COMMIT // end\n;ROLLBACK;";
    let split = split_statements(text).unwrap();
    let spans: Vec<&str> = split.iter().map(|(s, _)| &text[s.start..s.end]).collect();
    assert_eq!(spans, ["BEGIN", "CREATE (a:X)", "COMMIT", "ROLLBACK"]);
    assert!(matches!(
        parse_script(text).unwrap().statements.as_slice(),
        [
            Statement::Begin(_),
            Statement::Query(_),
            Statement::Commit(_),
            Statement::Rollback(_)
        ]
    ));
    assert!(parse_script("").unwrap().statements.is_empty());
    assert!(
        parse_script(" ;; // nothing\n")
            .unwrap()
            .statements
            .is_empty()
    );
    assert_eq!(
        parse_script("RETURN 1; RETURN 2").unwrap().statements.len(),
        2
    );
}

#[test]
fn one_statement_with_an_optional_semicolon() {
    assert!(parse_statement("RETURN 1;").is_ok());
    assert!(parse_statement("RETURN 1 ; // done").is_ok());
    let e = parse_statement("RETURN 1; RETURN 2").unwrap_err();
    assert!(e.message.contains("found `RETURN`"), "{}", e.message);
    let e = parse_statement("").unwrap_err();
    assert!(
        e.message.starts_with("expected a statement"),
        "{}",
        e.message
    );
}

#[test]
fn retract_statement() {
    let text = "  RETRACT TX 3 REASON \"typo\"";
    let Ok(Statement::Retract { tx, reason, span }) = parse_statement(text) else {
        panic!()
    };
    assert_eq!(tx.node, 3);
    assert_eq!(reason.node, "typo");
    assert_eq!(&text[span.start..span.end], "RETRACT TX 3 REASON \"typo\"");
    assert!(matches!(
        parse_statement("retract tx 3 reason 'x'"),
        Ok(Statement::Retract { .. })
    ));
}

// ----- time selectors --------------------------------------------------------------------------

#[test]
fn time_prefix_in_either_order() {
    let q = query("AT TX 12 AS OF 2005 MATCH (n) RETURN n");
    assert_eq!(q.at.unwrap().node, TxTime::Tx(12));
    assert!(matches!(q.valid.unwrap().node, ValidSelector::AsOf(d) if d.to_string() == "2005"));

    let text = "AS OF 2007-02-06 AT TX 3 MATCH (n) RETURN n";
    let q = query(text);
    let valid = q.valid.unwrap();
    assert_eq!(&text[valid.span.start..valid.span.end], "AS OF 2007-02-06");
    assert_eq!(q.at.unwrap().node, TxTime::Tx(3));

    let q = query("DURING 2000/2010 MATCH (n) RETURN n");
    assert!(
        matches!(q.valid.unwrap().node, ValidSelector::During(t) if t.to_string() == "2000/2010")
    );
    let q = query("during 1985/.. return 1");
    assert!(
        matches!(q.valid.unwrap().node, ValidSelector::During(t) if t.to_string() == "1985/..")
    );
    let q = query("AS OF \"2005\" RETURN 1");
    assert!(matches!(q.valid.unwrap().node, ValidSelector::AsOf(d) if d.to_string() == "2005"));
    for date in ["19XX", "2004?", "2004~", "2007-02"] {
        let q = query(&format!("AS OF {date} RETURN 1"));
        assert!(
            matches!(q.valid.unwrap().node, ValidSelector::AsOf(d) if d.to_string() == date),
            "{date}"
        );
    }
}

#[test]
fn transaction_time_as_a_number_or_a_timestamp() {
    for (text, written) in [
        ("AT 2025-01-01 RETURN 1", "2025-01-01"),
        ("AT 2025-01-01T10:00:00Z RETURN 1", "2025-01-01T10:00:00Z"),
        (
            "AT 2025-01-01T10:00:00.5+01:00 RETURN 1",
            "2025-01-01T10:00:00.5+01:00",
        ),
        (
            "AT \"2026-01-01T00:00:00Z\" DURING 2000/2010 RETURN 1",
            "2026-01-01T00:00:00Z",
        ),
    ] {
        let q = query(text);
        assert_eq!(
            q.at.unwrap().node,
            TxTime::Timestamp(written.to_owned()),
            "{text}"
        );
    }
}

// ----- clauses ---------------------------------------------------------------------------------

#[test]
fn reading_clauses_in_order() {
    let q = query(
        "MATCH (a) OPTIONAL MATCH (a)-->(b) WHERE b.x > 1 WITH a, count(b) AS n WHERE n > 0 \
         UNWIND [1] AS one RETURN DISTINCT a.name AS name, n ORDER BY n DESC, name SKIP 1 LIMIT 2",
    );
    assert!(matches!(
        &q.clauses[0],
        Clause::Match {
            optional: false,
            filter: None,
            ..
        }
    ));
    assert!(matches!(
        &q.clauses[1],
        Clause::Match {
            optional: true,
            filter: Some(_),
            ..
        }
    ));
    assert!(matches!(&q.clauses[2], Clause::With(p) if p.filter.is_some() && p.items.len() == 2));
    assert!(matches!(&q.clauses[3], Clause::Unwind { alias, .. } if alias.node == "one"));
    let p = projection(&q);
    assert!(p.distinct && !p.star && p.skip.is_some() && p.limit.is_some() && p.filter.is_none());
    assert_eq!(p.items[0].alias.as_ref().unwrap().node, "name");
    assert_eq!(p.items[0].text, "a.name");
    assert_eq!(p.items[1].text, "n");
    assert!(p.order[0].descending && !p.order[1].descending);
    let directions: Vec<bool> = projection(&query(
        "RETURN 1 ORDER BY a ASC, b ASCENDING, c DESC, d DESCENDING, e",
    ))
    .order
    .iter()
    .map(|s| s.descending)
    .collect();
    assert_eq!(directions, [false, false, true, true, false]);
}

#[test]
fn projections_with_star_and_their_texts() {
    let p = projection(&query("MATCH (a) RETURN *"));
    assert!(p.star && p.items.is_empty());
    let p = projection(&query("MATCH (a) WITH *, a.x AS x RETURN x"));
    assert_eq!(p.items.len(), 1);
    let q = query("MATCH (a) WITH DISTINCT * RETURN a");
    assert!(matches!(&q.clauses[1], Clause::With(p) if p.star && p.distinct));
    let p = projection(&query(
        "MATCH (p) RETURN p.name, count(a), count( * ), toUpper( p.name ) , 1+2 AS three",
    ));
    let texts: Vec<&str> = p.items.iter().map(|i| i.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "p.name",
            "count(a)",
            "count( * )",
            "toUpper( p.name )",
            "1+2"
        ]
    );
    let text = "MATCH (p) RETURN p.name AS n LIMIT 3";
    let p = projection(&query(text));
    assert_eq!(
        &text[p.span.start..p.span.end],
        "RETURN p.name AS n LIMIT 3"
    );
}

#[test]
fn writes_with_valid_time_and_sources() {
    let q = query(
        r#"MATCH (a) SET a.stage = "MoU", a += {x: 1} VALID FROM 2007-02-06 TO 2010 SOURCE "a", "b""#,
    );
    let Clause::Set { items, meta, .. } = &q.clauses[1] else {
        panic!()
    };
    assert!(
        matches!(&items[0], SetItem::Property { var, key, .. } if var.node == "a" && key.node == "stage")
    );
    assert!(
        matches!(&items[1], SetItem::Merge { value, .. } if matches!(value.kind, ExprKind::Map(_)))
    );
    let valid = meta.valid.as_ref().unwrap().node;
    assert_eq!(valid.to_string(), "2007-02-06/2010");
    let sources: Vec<&str> = meta.sources.iter().map(|s| s.node.as_str()).collect();
    assert_eq!(sources, ["a", "b"]);

    let meta_of = |text: &str| match query(text).clauses.pop() {
        Some(
            Clause::Create { meta, .. } | Clause::Merge { meta, .. } | Clause::Set { meta, .. },
        ) => meta,
        other => panic!("{other:?}"),
    };
    let since = meta_of("CREATE (a:X) VALID FROM 2007-02-06");
    assert_eq!(since.valid.unwrap().node.to_string(), "2007-02-06/..");
    let interval = meta_of("CREATE (a:X) VALID 1985/.. SOURCES 'k'");
    assert_eq!(interval.valid.unwrap().node.to_string(), "1985/..");
    assert_eq!(interval.sources.len(), 1);
    let merged = meta_of("MERGE (s:Sector {name: 'tourism'}) VALID \"2006\"");
    assert_eq!(merged.valid.unwrap().node.to_string(), "2006");
    assert_eq!(meta_of("CREATE (a)").valid, None);

    let q = query("CREATE (a:A {n: 1})-[:R]->(b:B), (c)");
    assert!(matches!(&q.clauses[0], Clause::Create { patterns, .. } if patterns.len() == 2));
}

#[test]
fn remove_is_a_set_to_null() {
    let q = query("MATCH (a) REMOVE a.x, a.`y z` VALID FROM 2020");
    let Clause::Set { items, meta, .. } = &q.clauses[1] else {
        panic!()
    };
    let keys: Vec<&str> = items
        .iter()
        .map(|i| match i {
            SetItem::Property { key, value, .. } => {
                assert_eq!(value.kind, ExprKind::Literal(Literal::Null));
                key.node.as_str()
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(keys, ["x", "y z"]);
    assert!(meta.valid.is_some());
}

#[test]
fn end_closes_facts_at_a_date() {
    let text = "MATCH (a)-[r]->() END r, a AT 2015 SOURCE \"k\"";
    let q = query(text);
    let Clause::End {
        targets,
        date,
        meta,
        span,
    } = &q.clauses[1]
    else {
        panic!()
    };
    assert_eq!(names(targets), ["r", "a"]);
    assert_eq!(date.node.to_string(), "2015");
    assert_eq!(meta.sources.len(), 1);
    assert!(meta.valid.is_none());
    assert_eq!(&text[span.start..span.end], "END r, a AT 2015 SOURCE \"k\"");
    let (message, _, at) = error("MATCH (r) END r AT 2015 VALID 2010");
    assert!(message.starts_with("END takes `AT <date>`"), "{message}");
    assert_eq!(at, "VALID");
}

// ----- patterns --------------------------------------------------------------------------------

#[test]
fn node_patterns() {
    let q = query(r#"MATCH (v:Actor:Province {name: "Banten", since: 1985}), () RETURN v"#);
    let Clause::Match { patterns, .. } = &q.clauses[0] else {
        panic!()
    };
    let v = &patterns[0].start;
    assert_eq!(v.var.as_ref().unwrap().node, "v");
    assert_eq!(names(&v.labels), ["Actor", "Province"]);
    let keys: Vec<&str> = v.props.iter().map(|(k, _)| k.node.as_str()).collect();
    assert_eq!(keys, ["name", "since"]);
    let empty = &patterns[1].start;
    assert!(empty.var.is_none() && empty.labels.is_empty() && empty.props.is_empty());
    let text = "MATCH ( n :A ) RETURN n";
    let span = first_pattern(&query(text)).start.span;
    assert_eq!(&text[span.start..span.end], "( n :A )");
}

#[test]
fn relationship_directions_types_and_properties() {
    use Direction::*;
    let q = query("MATCH (a)<-[:T]-(b)-[:T]-(c)--(d)<--(e)-->(f)-[r]->(g) RETURN a");
    let directions: Vec<Direction> = first_pattern(&q)
        .steps
        .iter()
        .map(|(r, _)| r.direction)
        .collect();
    assert_eq!(directions, [Left, Both, Both, Left, Right, Right]);

    let q = query(r#"MATCH (a)-[r:PARTY_TO|PART_OF|:COVERS {claim: "p. 72"}]->(b) RETURN r"#);
    let (r, b) = &first_pattern(&q).steps[0];
    assert_eq!(r.var.as_ref().unwrap().node, "r");
    assert_eq!(names(&r.types), ["PARTY_TO", "PART_OF", "COVERS"]);
    assert_eq!(r.props[0].0.node, "claim");
    assert_eq!(r.length, None);
    assert_eq!(b.var.as_ref().unwrap().node, "b");

    for text in ["(a)<-[:T]->(b)", "(a)<-->(b)"] {
        let (message, _, at) = error(&format!("MATCH {text} RETURN a"));
        assert!(message.contains("points one way"), "{message}");
        assert!(at.starts_with("<-") && at.ends_with("->"), "{at}");
    }
}

#[test]
fn variable_length_relationships() {
    for (text, min, max) in [
        ("*", 1, None),
        ("*3", 3, Some(3)),
        ("*1..3", 1, Some(3)),
        ("*..3", 1, Some(3)),
        ("*2..", 2, None),
        ("*0..1", 0, Some(1)),
        ("* 2 .. 4", 2, Some(4)),
        (":T*", 1, None),
        ("r:T*2 {x: 1}", 2, Some(2)),
    ] {
        let q = query(&format!("MATCH (a)-[{text}]->(b) RETURN a"));
        assert_eq!(
            first_pattern(&q).steps[0].0.length,
            Some(Length { min, max }),
            "{text}"
        );
    }
    let (message, _, _) = error("MATCH (a)-[*3..1]->(b) RETURN a");
    assert!(message.contains("is empty"), "{message}");
    let (message, _, at) = error("MATCH (a)-[*99999999999]->(b) RETURN a");
    assert!(message.contains("too large"), "{message}");
    assert_eq!(at, "99999999999");
}

#[test]
fn named_and_shortest_paths() {
    let q = query(r#"MATCH p = shortestPath((a {id: "x"})-[:T*]-(b)), (c) RETURN length(p)"#);
    let Clause::Match { patterns, .. } = &q.clauses[0] else {
        panic!()
    };
    assert_eq!(patterns.len(), 2);
    assert_eq!(patterns[0].var.as_ref().unwrap().node, "p");
    assert_eq!(patterns[0].kind, PathKind::Shortest);
    assert_eq!(patterns[0].steps.len(), 1);
    assert_eq!(patterns[1].kind, PathKind::Plain);
    let q = query("MATCH p = allShortestPaths((a)-[*]-(b)) RETURN p");
    assert_eq!(first_pattern(&q).kind, PathKind::AllShortest);
    let q = query("MATCH SHORTESTPATH((a)-[*]-(b)) RETURN a");
    assert_eq!(first_pattern(&q).kind, PathKind::Shortest);
    assert!(first_pattern(&q).var.is_none());
    let q = query("MATCH p = (a)-->(b) RETURN p");
    assert_eq!(first_pattern(&q).var.as_ref().unwrap().node, "p");
}

// ----- expressions -----------------------------------------------------------------------------

#[test]
fn precedence_loosest_first() {
    // a OR (b AND c)
    let e = expr("a OR b AND c");
    let (op, _, right) = binary(&e);
    assert_eq!(op, BinaryOp::Or);
    assert_eq!(binary(right).0, BinaryOp::And);
    // (a AND b) XOR c, then OR d
    let e = expr("a AND b XOR c OR d");
    let (op, left, _) = binary(&e);
    assert_eq!(op, BinaryOp::Or);
    assert_eq!(binary(left).0, BinaryOp::Xor);
    // NOT (a = 1)
    let ExprKind::Unary(UnaryOp::Not, inner) = kind("NOT a = 1") else {
        panic!()
    };
    assert_eq!(binary(&inner).0, BinaryOp::Eq);
    // (1 + (2 * 3)) < 10
    let e = expr("1 + 2 * 3 < 10");
    let (op, left, _) = binary(&e);
    assert_eq!(op, BinaryOp::Lt);
    let (op, _, right) = binary(left);
    assert_eq!(op, BinaryOp::Add);
    assert_eq!(binary(right).0, BinaryOp::Mul);
    // 2 * (3 ^ 2), and a sign binds tighter than ^: (-2) ^ 2
    let e = expr("2 * 3 ^ 2");
    assert_eq!(binary(binary(&e).2).0, BinaryOp::Pow);
    let e = expr("-2 ^ 2");
    let (op, left, _) = binary(&e);
    assert_eq!(op, BinaryOp::Pow);
    assert_eq!(literal(left), &Literal::Int(-2));
    // left associative: (1 - 2) - 3
    let e = expr("1 - 2 - 3");
    assert_eq!(binary(binary(&e).1).0, BinaryOp::Sub);
    // the property binds tighter than the sign: -(a.b)
    assert!(
        matches!(kind("-a.b"), ExprKind::Unary(UnaryOp::Neg, e) if matches!(e.kind, ExprKind::Property(..)))
    );
    // parentheses
    let e = expr("(1 + 2) * 3");
    assert_eq!(binary(binary(&e).1).0, BinaryOp::Add);
}

#[test]
fn every_operator() {
    for (text, op) in [
        ("a OR b", BinaryOp::Or),
        ("a XOR b", BinaryOp::Xor),
        ("a AND b", BinaryOp::And),
        ("a = 1", BinaryOp::Eq),
        ("a <> 1", BinaryOp::Ne),
        ("a != 1", BinaryOp::Ne),
        ("a < 1", BinaryOp::Lt),
        ("a <= 1", BinaryOp::Le),
        ("a > 1", BinaryOp::Gt),
        ("a >= 1", BinaryOp::Ge),
        ("a<-1", BinaryOp::Lt),
        ("a IN [1]", BinaryOp::In),
        ("a STARTS WITH 'x'", BinaryOp::StartsWith),
        ("a ENDS WITH 'x'", BinaryOp::EndsWith),
        ("a CONTAINS 'x'", BinaryOp::Contains),
        ("a + 1", BinaryOp::Add),
        ("a - 1", BinaryOp::Sub),
        ("a * 1", BinaryOp::Mul),
        ("a / 1", BinaryOp::Div),
        ("a % 1", BinaryOp::Mod),
        ("a ^ 1", BinaryOp::Pow),
    ] {
        assert_eq!(binary(&expr(text)).0, op, "{text}");
    }
    assert!(matches!(
        kind("a IS NULL"),
        ExprKind::IsNull { negated: false, .. }
    ));
    assert!(matches!(
        kind("a is not null"),
        ExprKind::IsNull { negated: true, .. }
    ));
    assert!(
        matches!(kind("NOT NOT a"), ExprKind::Unary(UnaryOp::Not, e) if matches!(e.kind, ExprKind::Unary(UnaryOp::Not, _)))
    );
    assert!(matches!(kind("-a"), ExprKind::Unary(UnaryOp::Neg, _)));
    assert!(matches!(kind("+a"), ExprKind::Variable(v) if v == "a"));
    let ExprKind::HasLabels(node, labels) = kind("n:Actor:Province") else {
        panic!()
    };
    assert!(matches!(node.kind, ExprKind::Variable(_)));
    assert_eq!(names(&labels), ["Actor", "Province"]);
}

#[test]
fn postfix_property_index_and_slice() {
    let ExprKind::Property(base, key) = kind("a.b.c") else {
        panic!()
    };
    assert_eq!(key.node, "c");
    assert!(matches!(base.kind, ExprKind::Property(_, k) if k.node == "b"));
    assert!(matches!(kind("xs[0]"), ExprKind::Index(..)));
    assert!(matches!(kind("m['k']"), ExprKind::Index(..)));
    assert!(matches!(
        kind("xs[1..3]"),
        ExprKind::Slice(_, Some(_), Some(_))
    ));
    assert!(matches!(kind("xs[1..]"), ExprKind::Slice(_, Some(_), None)));
    assert!(matches!(kind("xs[..2]"), ExprKind::Slice(_, None, Some(_))));
    assert!(matches!(kind("xs[..]"), ExprKind::Slice(_, None, None)));
    assert!(
        matches!(kind("collect(x)[0].name"), ExprKind::Property(b, _) if matches!(b.kind, ExprKind::Index(..)))
    );
    assert!(matches!(kind("a.end"), ExprKind::Property(_, k) if k.node == "end"));
}

#[test]
fn atoms() {
    assert_eq!(kind("count(*)"), ExprKind::CountStar);
    assert_eq!(kind("COUNT ( * )"), ExprKind::CountStar);
    assert!(
        matches!(kind("count(DISTINCT x)"), ExprKind::Call { distinct: true, args, .. } if args.len() == 1)
    );
    assert!(matches!(kind("timestamp()"), ExprKind::Call { args, .. } if args.is_empty()));
    assert!(
        matches!(kind("coalesce(a, b, 1)"), ExprKind::Call { name, args, .. } if name.node == "coalesce" && args.len() == 3)
    );
    assert!(matches!(kind("$name"), ExprKind::Parameter(n) if n == "name"));
    assert!(matches!(kind("$0"), ExprKind::Parameter(n) if n == "0"));
    assert!(matches!(kind("$`a b`"), ExprKind::Parameter(n) if n == "a b"));
    assert!(
        matches!(kind("[1, 'a', null, [true], {k: 2}]"), ExprKind::List(items) if items.len() == 5)
    );
    assert!(matches!(kind("[]"), ExprKind::List(items) if items.is_empty()));
    assert!(matches!(kind("{}"), ExprKind::Map(entries) if entries.is_empty()));
    let ExprKind::Map(entries) = kind("{name: 'x', `two words`: 1, end: 2}") else {
        panic!()
    };
    let keys: Vec<&str> = entries.iter().map(|(k, _)| k.node.as_str()).collect();
    assert_eq!(keys, ["name", "two words", "end"]);
    let ExprKind::Case {
        subject,
        branches,
        otherwise,
    } = kind("CASE x WHEN 1 THEN 'a' WHEN 2 THEN 'b' ELSE 'c' END")
    else {
        panic!()
    };
    assert!(subject.is_some() && branches.len() == 2 && otherwise.is_some());
    let ExprKind::Case {
        subject, otherwise, ..
    } = kind("case when a then b end")
    else {
        panic!()
    };
    assert!(subject.is_none() && otherwise.is_none());
    let text = " ( (a) ) ";
    let e = expr(text);
    assert_eq!(&text[e.span.start..e.span.end], "( (a) )");
}

#[test]
fn literals() {
    assert_eq!(literal(&expr("42")), &Literal::Int(42));
    assert_eq!(literal(&expr("-42")), &Literal::Int(-42));
    assert_eq!(
        literal(&expr("9223372036854775807")),
        &Literal::Int(i64::MAX)
    );
    assert_eq!(
        literal(&expr("-9223372036854775808")),
        &Literal::Int(i64::MIN)
    );
    assert!(matches!(
        kind("- -9223372036854775808"),
        ExprKind::Unary(UnaryOp::Neg, _)
    ));
    assert!(matches!(
        kind("-(-9223372036854775808)"),
        ExprKind::Unary(UnaryOp::Neg, _)
    ));
    for (text, value) in [
        ("1.5", 1.5),
        ("1e3", 1000.0),
        ("2.5E-3", 0.0025),
        (".5", 0.5),
        ("6.", 6.0),
        ("-0.25", -0.25),
    ] {
        assert_eq!(literal(&expr(text)), &Literal::Float(value), "{text}");
    }
    for (text, value) in [
        ("true", Literal::Bool(true)),
        ("TRUE", Literal::Bool(true)),
        ("False", Literal::Bool(false)),
        ("null", Literal::Null),
        ("NULL", Literal::Null),
    ] {
        assert_eq!(literal(&expr(text)), &value, "{text}");
    }
}

#[test]
fn strings_escapes_and_unicode() {
    let string = |text: &str| match literal(&expr(text)) {
        Literal::Str(s) => s.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(string(r#""Präfektur Kyōto""#), "Präfektur Kyōto");
    assert_eq!(string("'Timrå'"), "Timrå");
    assert_eq!(string(r"'it\'s'"), "it's");
    assert_eq!(string(r#""say \"hi\"""#), "say \"hi\"");
    assert_eq!(string(r#""a\tb\nc\rd\\e\u00e5\/""#), "a\tb\nc\rd\\eå/");
    assert_eq!(string(r#""\u4eac\u90FD""#), "京都");
    assert_eq!(string("'two\nlines'"), "two\nlines");
    assert_eq!(string("\"\""), "");
}

#[test]
fn identifiers_unicode_backquoted_and_reserved() {
    let variable = |text: &str| match kind(text) {
        ExprKind::Variable(v) => v,
        other => panic!("{text}: {other:?}"),
    };
    assert_eq!(variable("Timrå"), "Timrå");
    assert_eq!(variable("Präfektur"), "Präfektur");
    assert_eq!(variable("京都"), "京都");
    assert_eq!(variable("_x1"), "_x1");
    // a decomposed å (a + combining ring) stays one name
    assert_eq!(variable("Timra\u{30a}"), "Timra\u{30a}");
    assert_eq!(variable("`two words`"), "two words");
    assert_eq!(variable("`order`"), "order");
    assert_eq!(variable("`odd``one`"), "odd`one");
    // a keyword does not eat the start of a name
    for name in [
        "orders", "asset", "ends_at", "notable", "income", "isolated", "endpoint",
    ] {
        assert_eq!(variable(name), name);
    }
    // reserved words are keys, labels and types, but not variables
    let q = query("MATCH (n:Match)-[:ORDER]->(m) RETURN n.return AS end");
    assert_eq!(names(&first_pattern(&q).start.labels), ["Match"]);
    assert!(parse_expression("return").is_err());
    let (message, _, at) = error("UNWIND [1] AS end RETURN 1");
    assert!(message.contains("reserved word"), "{message}");
    assert_eq!(at, "end");
}

#[test]
fn keywords_in_any_case() {
    for text in [
        "MATCH (n) WHERE n.x = 1 RETURN n ORDER BY n.x DESC LIMIT 1",
        "match (n) where n.x = 1 return n order by n.x desc limit 1",
        "Match (n) Where n.x = 1 Return n Order By n.x Desc Limit 1",
        "oPtIoNaL mAtCh (n) ReTuRn DiStInCt n",
        "as of 2005 at tx 1 match (n) return n",
        "unwind [1] as x with x skip 0 return x",
        "create (a) valid from 2000 to 2001 sources 'k'",
    ] {
        assert!(
            parse_statement(text).is_ok(),
            "{}",
            parse_statement(text).unwrap_err().message
        );
    }
}

#[test]
fn comments_anywhere() {
    let text = "/* a\n comment */ MATCH (n /* inside */ : // here\n Actor) // to the end\n \
                WHERE /**/ n.x = 1 RETURN n; // last\n";
    let s = parse_script(text).unwrap();
    assert_eq!(s.statements.len(), 1);
    let Statement::Query(q) = &s.statements[0] else {
        panic!()
    };
    assert_eq!(names(&first_pattern(q).start.labels), ["Actor"]);
    assert!(matches!(
        kind("1 /* c */ + // d\n 2"),
        ExprKind::Binary(BinaryOp::Add, ..)
    ));
    assert!(matches!(kind("4 / 2"), ExprKind::Binary(BinaryOp::Div, ..)));
}

// ----- errors ----------------------------------------------------------------------------------

#[test]
fn errors_say_what_was_expected_and_what_was_found_where() {
    // (text, start of the message, line and column, the offending text)
    let cases: &[(&str, &str, (usize, usize), &str)] = &[
        (
            "MATCH (n:Actor, m) RETURN n",
            "expected `)` to close the node pattern, found `,`",
            (1, 15),
            ",",
        ),
        (
            "MATCH (n RETURN n",
            "expected `)` to close the node pattern, found `RETURN`",
            (1, 10),
            "RETURN",
        ),
        (
            "MATCH (n:Actor\nRETURN n",
            "expected `)` to close the node pattern, found `RETURN`",
            (2, 1),
            "RETURN",
        ),
        (
            "RETURN \"abc",
            "unterminated string: `\"` without its closing `\"`",
            (1, 8),
            "\"",
        ),
        (
            "MATCH (n) RETRUN n",
            "expected a clause (MATCH, OPTIONAL MATCH, WHERE after MATCH, WITH, UNWIND, LOAD CSV, CALL, RETURN, \
             CREATE, MERGE, SET, REMOVE, END) or `;`, found `RETRUN` (did you mean RETURN?)",
            (1, 11),
            "RETRUN",
        ),
        (
            "AS OF 2005-13 MATCH (n) RETURN n",
            "`2005-13` is not an EDTF date",
            (1, 7),
            "2005-13",
        ),
        (
            "MATCH (n)-[:A*x]->(m) RETURN m",
            "expected a length such as `*`, `*2`, `*1..3` or `*..5`, then `]`, found `x`",
            (1, 15),
            "x",
        ),
        (
            "MATCH (n) RETURN n LIMIT",
            "expected a number after LIMIT, found the end of the input",
            (1, 25),
            "",
        ),
        (
            "RETURN [1, 2",
            "expected `,` or `]` to close the list, found the end of the input",
            (1, 13),
            "",
        ),
        (
            "RETURN 99999999999999999999",
            "the integer 99999999999999999999 is out of range",
            (1, 8),
            "99999999999999999999",
        ),
        (
            "RETURN 1.5e400",
            "the number 1.5e400 is out of range",
            (1, 8),
            "1.5e400",
        ),
        ("RETURN 12abc", "`12abc` is not a number", (1, 8), "12abc"),
        ("RETURN 'a\\qb'", "unknown escape `\\q`", (1, 10), "\\q"),
        (
            "RETURN 'a\\u00zz'",
            "bad escape `\\u00`: expected four hex digits",
            (1, 10),
            "\\u00",
        ),
        (
            "RETURN '\\uD800'",
            "bad escape `\\uD800`: a surrogate",
            (1, 9),
            "\\uD800",
        ),
        ("RETURN 1 /* open", "unterminated comment", (1, 10), "/*"),
        ("RETURN `open", "unterminated name", (1, 8), "`"),
        (
            "MATCH (n) DELETE n",
            "DELETE is not supported: the log is append-only",
            (1, 11),
            "DELETE",
        ),
        (
            "MATCH (n) DETACH DELETE n",
            "DELETE is not supported",
            (1, 11),
            "DETACH",
        ),
        (
            "MATCH (n) RETURN n MATCH (m)",
            "expected `;` or the end of the query after RETURN, found `MATCH`",
            (1, 20),
            "MATCH",
        ),
        (
            "UNWIND [1] AS x WHERE x > 1 RETURN x",
            "expected a clause or `;`, found `WHERE`: WHERE belongs to MATCH",
            (1, 17),
            "WHERE",
        ),
        (
            "MATCH (n) RETURN n AS OF 2005",
            "expected `;` or the end of the query after RETURN, found `2005`",
            (1, 26),
            "2005",
        ),
        (
            "MATCH (n) AS OF 2005 RETURN n",
            "expected a clause or `;`, found `AS`: AT and AS OF/DURING come first",
            (1, 11),
            "AS",
        ),
        ("MATCH (a) SET a:Label", "labels are fixed", (1, 16), ":"),
        (
            "MATCH (a) SET a = {x: 1}",
            "`name = {…}` would replace every property",
            (1, 17),
            "=",
        ),
        (
            "MATCH (a) END a VALID TO 2015",
            "END takes `AT <date>`",
            (1, 17),
            "VALID",
        ),
        (
            "CREATE (a) SOURCE 'k' VALID 2000",
            "VALID comes before SOURCE",
            (1, 23),
            "VALID",
        ),
        (
            "CREATE (a) VALID FROM 2010 TO 2005",
            "the interval `2010/2005` ends before it starts",
            (1, 23),
            "2010 TO 2005",
        ),
        (
            "CREATE (a) VALID 2010/2005",
            "the interval `2010/2005` ends before it starts",
            (1, 18),
            "2010/2005",
        ),
        ("MERGE (a), (b)", "MERGE takes one pattern", (1, 10), ","),
        (
            "RETRACT TX 3",
            "expected REASON \"…\" after the transaction number",
            (1, 13),
            "",
        ),
        ("AS OF 2005", "expected a clause (MATCH", (1, 11), ""),
        (
            "RETURN a STARTS 'x'",
            "expected WITH after STARTS, found `'x'`",
            (1, 17),
            "'x'",
        ),
        (
            "RETURN a IS 1",
            "expected NULL or NOT NULL after IS, found `1`",
            (1, 13),
            "1",
        ),
        (
            "RETURN CASE WHEN a THEN b c END",
            "expected WHEN, ELSE or END in CASE, found `c`",
            (1, 27),
            "c",
        ),
        (
            "RETURN f(*)",
            "`*` as an argument is only for count(*)",
            (1, 10),
            "*",
        ),
        (
            "RETURN 1 +",
            "expected an expression after `+`, found the end of the input",
            (1, 11),
            "",
        ),
        (
            "MATCH (a) WHERE a.x = RETURN a",
            "expected an expression after `=`, found `RETURN`",
            (1, 23),
            "RETURN",
        ),
        (
            "MATCH (a)-[r:T]-> RETURN a",
            "expected a node pattern `(…)` after the relationship, found `RETURN`",
            (1, 19),
            "RETURN",
        ),
        (
            "MATCH (a)-(b) RETURN a",
            "expected `[`, `-` or `->` after `-`, found `(`",
            (1, 11),
            "(",
        ),
        (
            "MATCH (end) RETURN 1",
            "expected a variable, `:Label`, `{…}` or `)` in the node pattern, found `end`, a \
             reserved word",
            (1, 8),
            "end",
        ),
        (
            "RETURN ``",
            "a name in backquotes cannot be empty",
            (1, 8),
            "``",
        ),
        (
            "RETURN $",
            "expected a parameter name right after `$`, found the end of the input",
            (1, 9),
            "",
        ),
        (
            "BEGIN MATCH",
            "expected `;` or the end of the input after the statement, found `MATCH`",
            (1, 7),
            "MATCH",
        ),
        (
            "RETURN 1;\n;\nMATCH (n:Actor, m) RETURN n",
            "expected `)` to close the node pattern",
            (3, 15),
            ",",
        ),
        (
            "RETURN \"Kyōto\", é(",
            "expected an argument or `)`, found the end of the input",
            (1, 19),
            "",
        ),
    ];
    for &(text, wanted, at, offending) in cases {
        let (message, got_at, got_offending) = error(text);
        assert!(
            message.starts_with(wanted),
            "{text}\n  got:  {message}\n  want: {wanted}"
        );
        assert_eq!(
            (got_at, got_offending.as_str()),
            (at, offending),
            "{text}: {message}"
        );
    }
}

#[test]
fn errors_render_with_line_column_and_caret() {
    let text = "MATCH (n)\nRETRUN n";
    let e = parse_script(text).unwrap_err();
    let rendered = e.render("query.dgq", text, false);
    assert!(rendered.contains("line 2, column 1"), "{rendered}");
    assert!(rendered.contains("RETRUN n"), "{rendered}");
}

#[test]
fn keywords_are_matched_without_unicode_case_folding() {
    // U+212A KELVIN SIGN lower-cases to `k`: nom's `tag_no_case` would split inside it.
    for text in [
        "ROLLBAC\u{212a}",
        "MATCH (n) RETURN n S\u{212a}IP 1",
        "RETURN 1 \u{212a}",
        "MATCH (n) WHERE n.x \u{130}S NULL RETURN n",
    ] {
        assert!(parse_script(text).is_err(), "{text}");
    }
}

// ----- depth -----------------------------------------------------------------------------------

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    for open in [
        "(",
        "[",
        "NOT ",
        "-",
        "+",
        "{a: ",
        "f(",
        "a[",
        "CASE WHEN ",
        "CASE ",
        "1 + (",
        "x[..",
    ] {
        let text = format!("RETURN {}", open.repeat(100_000));
        let (message, _, _) = error(&text);
        assert!(message.contains("nests more than"), "{open}: {message}");
    }
}

#[test]
fn long_chains_are_an_error_not_a_stack_overflow() {
    for (first, repeated) in [
        ("1", " + 1"),
        ("a", " OR a"),
        ("a", " AND a"),
        ("a", " < a"),
        ("a", ".b"),
        ("a", "[0]"),
        ("a", "[0..1]"),
        ("a", " IS NULL"),
    ] {
        let text = format!("RETURN {first}{}", repeated.repeat(100_000));
        let (message, _, _) = error(&text);
        assert!(message.contains("nests more than"), "{repeated}: {message}");
    }
    // a chain shorter than the limit is fine; labels are one test, however many
    let text = format!("RETURN 1{}", " + 1".repeat(MAX_DEPTH as usize - 2));
    assert!(parse_script(&text).is_ok());
    let text = format!("RETURN a{}", ":L".repeat(100_000));
    assert!(parse_script(&text).is_ok());
}

/// The deepest nesting the parser accepts, of each kind, parses on a thread with the default
/// 2 MiB stack — in a debug build too.
#[test]
fn the_deepest_accepted_nesting_fits_in_a_default_thread_stack() {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            // (opening, closing, nesting levels per opening): the whole expression is one level
            let kinds: [(&str, &str, usize); 11] = [
                ("(", ")", 1),
                ("[", "]", 1),
                ("{a: ", "}", 1),
                ("f(", ")", 1),
                ("a[", "]", 1),
                ("CASE WHEN 1 THEN ", " END", 1),
                ("1 = (", ")", 1),
                ("-", "", 1),
                ("NOT ", "", 1),
                ("x[1..(", ")]", 2),
                ("{a: 1, b: [", "]}", 2),
            ];
            for (open, close, levels) in kinds {
                let nested = |n: usize| format!("RETURN {}1{}", open.repeat(n), close.repeat(n));
                let deepest = (1..=MAX_DEPTH as usize)
                    .rev()
                    .find(|&n| parse_script(&nested(n)).is_ok())
                    .unwrap_or(0);
                assert_eq!(deepest, (MAX_DEPTH as usize - 1) / levels, "{open}");
                let e = parse_script(&nested(deepest + 1)).unwrap_err();
                assert!(
                    e.message.contains("nests more than"),
                    "{open}: {}",
                    e.message
                );
            }
        })
        .unwrap()
        .join()
        .unwrap();
}

// ----- no panics -------------------------------------------------------------------------------

/// Valid statements to mutate: the grammar's examples, and a few more.
static SEEDS: LazyLock<Vec<String>> = LazyLock::new(|| {
    let mut seeds: Vec<String> = examples().into_iter().map(|(_, text)| text).collect();
    seeds.extend(
        [
            r#"MATCH (b:Actor {name: "Banten"})-[:PARTY_TO]->(a:Agreement)<-[:PARTY_TO]-(p) WHERE p <> b RETURN p.name, valid_from(a) AS s ORDER BY s"#,
            r#"AT TX 12 AS OF 2005 MATCH p = shortestPath((a)-[:T*1..3]-(b {id: 'x'})) RETURN length(p), nodes(p)[0..2]"#,
            r#"MATCH (a) SET a.stage = "MoU" VALID FROM 2010-02 TO 2012 SOURCE "k", "l""#,
            r#"UNWIND [1, 2.5, null, {k: $p}] AS x WITH x WHERE x IS NOT NULL RETURN count(DISTINCT x) /* c */ // d"#,
            "BEGIN; CREATE (:A {n: 'Timrå\\u00e5'})-[:R]->(b); RETRACT TX 3 REASON \"x\"; COMMIT",
            "RETURN CASE WHEN a THEN b ELSE c END, -1e3, `odd name`, x:L, a STARTS WITH 'b' OR NOT c",
            "AT 2025-01-01T10:00:00Z DURING 19XX/2004? MATCH (a)<-[r*2..]-(b) END r AT 2015-06",
        ]
        .map(String::from),
    );
    seeds
});

fn mutate(seed: &str, ops: &[(u8, usize, usize, char)]) -> String {
    let mut chars: Vec<char> = seed.chars().collect();
    for &(op, a, b, c) in ops {
        if chars.is_empty() {
            chars.push(c);
            continue;
        }
        let i = a % chars.len();
        let j = (i + 1 + b % 12).min(chars.len());
        match op % 5 {
            0 => {
                chars.drain(i..j);
            }
            1 => chars.insert(i, c),
            2 => {
                let copy: Vec<char> = chars[i..j].to_vec();
                let at = b % (chars.len() + 1);
                chars.splice(at..at, copy);
            }
            3 => chars[i] = c,
            _ => {
                let copy: Vec<char> = chars[i..j].to_vec();
                chars.splice(
                    i..i,
                    copy.iter().cycle().take(copy.len() * (1 + b % 40)).copied(),
                );
            }
        }
    }
    chars.into_iter().collect()
}

const CHARS: &str = "()[]{}<>-=:;,.*$`'\"\\/|+!?^%~ \n\taAzZXT09_éåōΣ京\u{0}\u{200b}\u{212a}\u{130}\u{30a}\u{feff}😀";

fn syntax_char() -> impl Strategy<Value = char> {
    prop::sample::select(CHARS.chars().collect::<Vec<_>>())
}

fn token() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "MATCH",
        "OPTIONAL",
        "WHERE",
        "RETURN",
        "WITH",
        "UNWIND",
        "AS",
        "CREATE",
        "MERGE",
        "SET",
        "REMOVE",
        "END",
        "AT",
        "TX",
        "OF",
        "DURING",
        "VALID",
        "FROM",
        "TO",
        "SOURCE",
        "BEGIN",
        "COMMIT",
        "RETRACT",
        "REASON",
        "ORDER",
        "BY",
        "DESC",
        "SKIP",
        "LIMIT",
        "DISTINCT",
        "AND",
        "OR",
        "XOR",
        "NOT",
        "IN",
        "IS",
        "NULL",
        "STARTS",
        "CONTAINS",
        "CASE",
        "WHEN",
        "THEN",
        "ELSE",
        "count",
        "shortestPath",
        "(",
        ")",
        "[",
        "]",
        "{",
        "}",
        "-",
        "->",
        "<-",
        "--",
        ":",
        ",",
        ".",
        "..",
        "*",
        "=",
        "+=",
        "<>",
        "$p",
        "n",
        "`x`",
        "1",
        "2.5",
        "'s'",
        "\"t\"",
        "2005",
        "2000/2010",
        "19XX",
        ";",
        "/*",
        "*/",
        "//",
        "\n",
    ])
}

/// What must hold of any input: no panic, and an error points inside the text, at character
/// boundaries; a script that parses splits into statements that parse alone.
fn check(text: &str) -> Result<(), TestCaseError> {
    match split_statements(text) {
        Err(e) => {
            let span = e.span.expect("syntax errors have a span");
            prop_assert!(span.start <= span.end && span.end <= text.len(), "{span:?}");
            prop_assert!(text.is_char_boundary(span.start) && text.is_char_boundary(span.end));
            let _ = e.render("fuzz", text, false);
        }
        Ok(statements) => {
            let mut end = 0;
            for (span, _) in statements {
                prop_assert!(end <= span.start && span.start < span.end && span.end <= text.len());
                end = span.end;
                let alone = &text[span.start..span.end];
                prop_assert!(
                    parse_statement(alone).is_ok(),
                    "{alone:?} does not parse alone"
                );
            }
        }
    }
    Ok(())
}

proptest! {
    // 30,000 + 30,000 + 40,000 = 100,000 inputs.
    #![proptest_config(ProptestConfig { cases: 30_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_characters_never_panic(text in prop::collection::vec(syntax_char(), 0..120)) {
        check(&text.into_iter().collect::<String>())?;
    }

    #[test]
    fn random_tokens_never_panic(tokens in prop::collection::vec(token(), 0..40), spaced in any::<bool>()) {
        check(&tokens.join(if spaced { " " } else { "" }))?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_queries_never_panic(
        seed in any::<prop::sample::Index>(),
        ops in prop::collection::vec((any::<u8>(), any::<usize>(), any::<usize>(), syntax_char()), 1..6),
    ) {
        check(&mutate(&SEEDS[seed.index(SEEDS.len())], &ops))?;
    }
}
