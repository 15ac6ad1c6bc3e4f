//! The commands behind the `diplograph` binary, writing to any output so tests can call them.

use std::fs::File;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::db::Database;
use crate::error::{InterchangeError, OpenError};
use crate::event::TxMeta;
use crate::graph::snapshot::Stats;
use crate::interchange::{bibtex, jsonl};
use crate::log::{Log, RedbLog};
use crate::query::eval::{Env, Params};
use crate::query::format::{self, Format};
use crate::query::{Session, Val, parser};
use crate::time::TxId;

/// The bundled dataset's bibliography: the 53 references of Syuryansyah (2024).
pub const BUNDLED_BIB: (&str, &str) = (
    "fixtures/references.bib",
    include_str!("../fixtures/references.bib"),
);

/// The bundled dataset's facts, as scripts in the language, in load order.
pub const BUNDLED_SCRIPTS: &[(&str, &str)] = &[
    (
        "fixtures/00-paper.dgq",
        include_str!("../fixtures/00-paper.dgq"),
    ),
    (
        "fixtures/10-actors.dgq",
        include_str!("../fixtures/10-actors.dgq"),
    ),
    (
        "fixtures/20-agreements.dgq",
        include_str!("../fixtures/20-agreements.dgq"),
    ),
    (
        "fixtures/30-programmes.dgq",
        include_str!("../fixtures/30-programmes.dgq"),
    ),
    (
        "fixtures/40-factors-laws.dgq",
        include_str!("../fixtures/40-factors-laws.dgq"),
    ),
    (
        "fixtures/50-corrections.dgq",
        include_str!("../fixtures/50-corrections.dgq"),
    ),
];

/// Who the bundled dataset's transactions name as their author.
pub const BUNDLED_AUTHOR: &str = "diplograph (bundled dataset)";

/// Loads the bundled dataset into a knowledge base: the bibliography (one transaction),
/// then each statement of the scripts (one transaction each), as a researcher would have
/// entered them. Returns the number of transactions written.
///
/// # Errors
/// When a statement fails (a broken fixture: the tests load it on every run).
pub fn load_bundled<L: Log>(kb: &mut Database<L>) -> Result<u64, CliError> {
    let before = kb.tx();
    let (name, text) = BUNDLED_BIB;
    let meta = TxMeta {
        author: Some(BUNDLED_AUTHOR.to_owned()),
        message: Some(format!(
            "the 53 references of Syuryansyah (2024), from {name}"
        )),
    };
    bibtex::import_bib(kb, text, name, meta)?;
    let mut session = Session::new();
    session.author = Some(BUNDLED_AUTHOR.to_owned());
    let mut sink = std::io::sink();
    for (name, text) in BUNDLED_SCRIPTS {
        run_script(
            kb,
            &mut session,
            text,
            name,
            Format::Json,
            &mut sink,
            &mut std::io::sink(),
        )?;
    }
    let _ = sink.flush();
    Ok(kb.tx().0 - before.0)
}

/// The environment variable that names the default knowledge base file.
pub const DB_ENV: &str = "DIPLOGRAPH_DB";

/// A command that failed; the binary prints it on one line and exits non-zero.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CliError {
    /// The knowledge base could not be opened.
    #[error(transparent)]
    Open(#[from] OpenError),
    /// Import or export failed.
    #[error(transparent)]
    Interchange(#[from] InterchangeError),
    /// Writing the output failed.
    #[error("cannot write output: {0}")]
    Output(#[from] std::io::Error),
    /// A file could not be read or created.
    #[error("{path}: {detail}")]
    File {
        /// The file.
        path: PathBuf,
        /// What failed.
        detail: String,
    },
    /// A statement failed: the rendered error, with line, column and caret.
    #[error("{0}")]
    Query(String),
    /// A bad argument.
    #[error("{0}")]
    Usage(String),
    /// No place for the default knowledge base.
    #[error("no data directory for the default knowledge base; pass `--db FILE` or set {DB_ENV}")]
    NoDataDir,
}

/// Where the default knowledge base lives: `$DIPLOGRAPH_DB`, or `diplograph/default.redb`
/// in the user's data directory.
///
/// # Errors
/// When neither is available.
pub fn default_db_path() -> Result<PathBuf, CliError> {
    if let Some(path) = std::env::var_os(DB_ENV).filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    dirs::data_dir()
        .map(|d| d.join("diplograph").join("default.redb"))
        .ok_or(CliError::NoDataDir)
}

/// Opens the knowledge base `db`, or the default one, creating the default from the bundled
/// dataset the first time (and saying so on `notice`).
///
/// # Errors
/// When the file is refused, or the default cannot be created.
pub fn open_kb(db: Option<&Path>, notice: &mut dyn Write) -> Result<Database<RedbLog>, CliError> {
    if let Some(path) = db {
        return Ok(Database::open_file(path)?);
    }
    let path = default_db_path()?;
    if path.exists() {
        return Ok(Database::open_file(&path)?);
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| CliError::File {
            path: parent.to_path_buf(),
            detail: e.to_string(),
        })?;
    }
    // An error opening is not ours to clean up (another process may be creating the same
    // file); an error filling it is.
    let mut kb = Database::open_file(&path)?;
    let created = load_bundled(&mut kb);
    match created {
        Ok(n) => {
            writeln!(
                notice,
                "created the default knowledge base at {} from the bundled dataset: Syuryansyah (2024), \
                 Paradiplomacy of Regional Governments in Indonesia: The Case of Banten Province ({n} transactions)",
                path.display()
            )?;
            Ok(kb)
        }
        Err(e) => {
            // Never leave a half-made default behind: the next run would trust it.
            drop(kb);
            let _ = std::fs::remove_file(&path);
            Err(e)
        }
    }
}

/// `log`: one line per transaction.
///
/// # Errors
/// When the log cannot be read or the output written.
pub fn log_command<L: Log>(
    kb: &Database<L>,
    from: Option<u64>,
    limit: Option<usize>,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let head = kb.log().head();
    let from = TxId(from.unwrap_or(1).max(1));
    let to = match limit {
        Some(n) => TxId(
            from.0
                .saturating_add(n as u64)
                .saturating_sub(1)
                .min(head.0),
        ),
        None => head,
    };
    let headers = kb
        .log()
        .headers(from, to)
        .map_err(|e| CliError::Open(e.into()))?;
    writeln!(
        out,
        "{:>6}  {:<30}  {:<12}  {:>7}  message",
        "tx", "recorded at (UTC)", "author", "events"
    )?;
    for h in headers {
        writeln!(
            out,
            "{:>6}  {:<30}  {:<12}  {:>7}  {}",
            h.tx.0,
            h.recorded_at.to_string(),
            h.meta.author.as_deref().unwrap_or("-"),
            h.event_count,
            h.meta.message.as_deref().unwrap_or("")
        )?;
    }
    Ok(())
}

/// `stats`: nodes by label and edges by type, at the latest or a past transaction.
///
/// # Errors
/// When the output cannot be written.
pub fn stats_command<L: Log>(
    kb: &Database<L>,
    at_tx: Option<u64>,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let view = match at_tx {
        Some(t) => kb.graph().view_at(TxId(t)),
        None => kb.view(),
    };
    let stats = Stats::of(&view);
    writeln!(out, "at tx {} of {}", stats.tx, kb.tx())?;
    writeln!(out, "{} nodes", stats.nodes)?;
    let width = stats
        .labels
        .keys()
        .chain(stats.types.keys())
        .map(|k| k.chars().count())
        .max()
        .unwrap_or(0);
    for (label, n) in &stats.labels {
        writeln!(out, "  :{label:<width$}  {n:>8}")?;
    }
    writeln!(out, "{} edges", stats.edges)?;
    for (t, n) in &stats.types {
        writeln!(out, "  :{t:<width$}  {n:>8}")?;
    }
    Ok(())
}

/// `export-events`: the whole log as JSON Lines.
///
/// # Errors
/// When the log cannot be read or the output written.
pub fn export_events_command<L: Log>(
    kb: &Database<L>,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    jsonl::export_events(kb.log(), out)?;
    out.flush()?;
    Ok(())
}

/// `import-events FILE`: a JSON Lines log into an empty knowledge base, whole or not at all.
///
/// # Errors
/// When the file cannot be read, a line is refused, or the knowledge base is not empty.
pub fn import_events_command<L: Log>(
    kb: &mut Database<L>,
    file: &Path,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let name = file.display().to_string();
    let n = if name == "-" {
        let stdin = std::io::stdin();
        jsonl::import_events(kb, &mut stdin.lock(), "-")?
    } else {
        let f = File::open(file).map_err(|e| CliError::File {
            path: file.to_path_buf(),
            detail: e.to_string(),
        })?;
        jsonl::import_events(kb, &mut BufReader::new(f), &name)?
    };
    writeln!(out, "imported {n} transactions (now at tx {})", kb.tx())?;
    Ok(())
}

/// Runs a script (one or more `;`-separated statements) and prints each result.
///
/// `name` names the source in messages (a file, or `query`). Statements run in order; on
/// the first error it stops: what earlier statements committed stays, the failing
/// statement wrote nothing, and the error names the source, the statement's number, line
/// and column.
///
/// # Errors
/// A statement that fails, or output that cannot be written.
pub fn run_script<L: Log>(
    kb: &mut Database<L>,
    session: &mut Session,
    source: &str,
    name: &str,
    format: Format,
    out: &mut dyn Write,
    warnings: &mut dyn Write,
) -> Result<usize, CliError> {
    let color = false;
    let script = parser::parse_script(source)
        .map_err(|e| CliError::Query(format!("{name}: {}", e.render(name, source, color))))?;
    let mut count = 0;
    for (i, statement) in script.statements.iter().enumerate() {
        let started = std::time::Instant::now();
        let outcome = session.execute(kb, source, statement).map_err(|e| {
            CliError::Query(format!(
                "{name}, statement {}: {}",
                i + 1,
                e.render(name, source, color)
            ))
        })?;
        for w in &outcome.warnings {
            write!(warnings, "{}", w.render(name, source, color))?;
        }
        let elapsed = (format == Format::Table).then(|| started.elapsed());
        if !outcome.output.columns.is_empty() || format == Format::Table {
            out.write_all(format::render(&outcome, format, elapsed).as_bytes())?;
        }
        count += 1;
    }
    if session.in_group() {
        return Err(CliError::Query(format!(
            "{name}: BEGIN without COMMIT at the end; the queued statements were not written"
        )));
    }
    Ok(count)
}

/// Parses `--param name=value`: the value is a literal of the language (`5`, `"Banten"`,
/// `[1, 2]`, `date("2007")`), or else taken as a string.
///
/// # Errors
/// When there is no `=`.
pub fn parse_param(kb: &Database<impl Log>, text: &str) -> Result<(String, Val), CliError> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| CliError::Usage(format!("--param expects name=value, found `{text}`")))?;
    let name = name.trim().trim_start_matches('$').to_owned();
    let value = match parser::parse_expression(value) {
        Ok(expr) => {
            let view = kb.view();
            let params = Params::new();
            let env = Env {
                view: &view,
                params: &params,
                names: &[],
                row: &[],
                aggregates: &[],
                memo: &Default::default(),
            };
            env.eval(&expr).unwrap_or_else(|_| Val::str(value))
        }
        Err(_) => Val::str(value),
    };
    Ok((name, value))
}

/// `import-bib FILE`: every entry of a BibTeX/BibLaTeX file as a `Source` node, in one
/// transaction.
///
/// # Errors
/// When the file cannot be read or parsed, or a key is already a Source's.
pub fn import_bib_command<L: Log>(
    kb: &mut Database<L>,
    file: &Path,
    author: Option<String>,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let name = file.display().to_string();
    let text = std::fs::read_to_string(file).map_err(|e| CliError::File {
        path: file.to_path_buf(),
        detail: e.to_string(),
    })?;
    let meta = TxMeta {
        author,
        message: Some(format!("import {name}")),
    };
    let header = bibtex::import_bib(kb, &text, &name, meta)?;
    writeln!(
        out,
        "imported {} sources from {name} in tx {}",
        header.event_count, header.tx
    )?;
    Ok(())
}

/// The bearer token for writes: the first line of `token_file`, or `$DIPLOGRAPH_TOKEN`;
/// none means the server takes no writes.
///
/// # Errors
/// An unreadable file, or a token shorter than [`crate::server::MIN_TOKEN_LEN`].
pub fn server_token(token_file: Option<&Path>) -> Result<Option<String>, CliError> {
    let token = match token_file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| CliError::File {
                path: path.to_owned(),
                detail: e.to_string(),
            })?;
            Some(text.lines().next().unwrap_or("").trim().to_owned())
        }
        None => std::env::var(TOKEN_ENV).ok().map(|t| t.trim().to_owned()),
    };
    match token {
        Some(t) if t.chars().count() < crate::server::MIN_TOKEN_LEN => {
            Err(CliError::Usage(format!(
                "the write token must have at least {} characters (this one has {}); make one with \
             `head -c 32 /dev/urandom | base64`",
                crate::server::MIN_TOKEN_LEN,
                t.chars().count()
            )))
        }
        other => Ok(other),
    }
}

/// The environment variable that may hold the server's write token.
pub const TOKEN_ENV: &str = "DIPLOGRAPH_TOKEN";

/// `serve`: the HTTP server on `bind` until Ctrl-C or SIGTERM, which finish the requests in
/// flight.
///
/// # Errors
/// When the address cannot be bound or the runtime cannot start.
pub fn serve_command(
    kb: Database<RedbLog>,
    bind: &str,
    config: crate::server::Config,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let runtime = crate::server::runtime()
        .map_err(|e| CliError::Usage(format!("cannot start the server's runtime: {e}")))?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .map_err(|e| CliError::Usage(format!("cannot listen on {bind}: {e}")))?;
        let addr = listener.local_addr()?;
        let writes = if config.token.is_some() {
            "writes need the bearer token"
        } else {
            "read-only: no write token configured"
        };
        writeln!(
            out,
            "diplograph serving http://{addr} at tx {} ({writes}); Ctrl-C stops it",
            kb.tx()
        )?;
        out.flush()?;
        let shutdown = tokio_util::sync::CancellationToken::new();
        let trigger = shutdown.clone();
        tokio::spawn(async move {
            crate::server::termination().await;
            trigger.cancel();
        });
        let kb = crate::server::serve(kb, listener, config, shutdown).await?;
        writeln!(out, "stopped at tx {}", kb.tx())?;
        Ok(())
    })
}

/// A progress bar on standard error for `LOAD CSV` (and imports), when it is a terminal;
/// none when piped, so scripts and logs stay clean.
pub fn terminal_progress() -> Option<crate::query::load_csv::ProgressFn> {
    use std::io::IsTerminal as _;
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = std::sync::Mutex::new(None::<indicatif::ProgressBar>);
    Some(crate::query::load_csv::ProgressFn(std::sync::Arc::new(
        move |done: u64, total: u64| {
            let mut slot = bar
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let b = slot.get_or_insert_with(|| {
                let b = indicatif::ProgressBar::new(total);
                if let Ok(style) = indicatif::ProgressStyle::with_template(
                    "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                ) {
                    b.set_style(style);
                }
                b
            });
            b.set_position(done);
            if done >= total {
                b.finish_and_clear();
                *slot = None;
            }
        },
    )))
}

/// `export`: the view (after `at_tx`, or the latest), or the subgraph a query returns, in
/// one of the export formats, to `out`.
///
/// # Errors
/// A query that fails or does not only read, or output that cannot be written.
pub fn export_command<L: Log>(
    kb: &mut Database<L>,
    session: &mut Session,
    format: crate::interchange::export::ExportFormat,
    query: Option<&str>,
    at_tx: Option<u64>,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    use crate::interchange::export::{export, selection_of};
    let Some(text) = query else {
        let head = kb.tx().0;
        let tx = match at_tx {
            Some(t) if t > head => {
                return Err(CliError::Usage(format!(
                    "--at-tx {t}: the knowledge base has {head} transactions"
                )));
            }
            Some(t) => TxId(t),
            None => kb.tx(),
        };
        export(&kb.graph().view_at(tx), None, format, out)?;
        return Ok(());
    };
    if at_tx.is_some() {
        return Err(CliError::Usage(
            "--at-tx goes with a whole export; in a query, write AT TX n".to_owned(),
        ));
    }
    let script = parser::parse_script(text)
        .map_err(|e| CliError::Query(format!("query: {}", e.render("query", text, false))))?;
    let [statement] = script.statements.as_slice() else {
        return Err(CliError::Usage(
            "--query takes one statement, whose result is exported".to_owned(),
        ));
    };
    let outcome = session
        .read_statement(kb.graph(), text, statement)
        .map_err(|e| CliError::Query(format!("query: {}", e.render("query", text, false))))?;
    // The view the query read: its transaction, and its valid time if it named one.
    let mut view = kb.graph().view_at(outcome.tx);
    if let crate::query::ast::Statement::Query(q) = statement
        && let Some(v) = &q.valid
    {
        view = view.during(v.node.days());
    }
    let selection = selection_of(&outcome);
    export(&view, Some(&selection), format, out)?;
    Ok(())
}

/// `import`: Neo4j admin-import style CSV files, all of them in one transaction.
///
/// # Errors
/// A file that cannot be read or parsed, or a refused event; nothing is written then.
pub fn import_csv_command<L: Log>(
    kb: &mut Database<L>,
    nodes: &[String],
    relationships: &[String],
    mut options: crate::interchange::neo4j_csv::ImportOptions,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    use crate::interchange::neo4j_csv::{import, parse_file_arg};
    use std::io::IsTerminal as _;
    let split = |args: &[String], what: &str| -> Result<Vec<(String, PathBuf)>, CliError> {
        args.iter()
            .map(|a| {
                let (name, path) = parse_file_arg(a);
                if name.is_empty() {
                    Err(CliError::Usage(format!(
                        "--{what} expects NAME=FILE (for example {}), found `{a}`",
                        if what == "nodes" {
                            "Actor=actors.csv"
                        } else {
                            "PARTY_TO=party_to.csv"
                        }
                    )))
                } else {
                    Ok((name, path))
                }
            })
            .collect()
    };
    let nodes = split(nodes, "nodes")?;
    let relationships = split(relationships, "relationships")?;
    if std::io::stderr().is_terminal() && options.progress.is_none() {
        let bar = indicatif::ProgressBar::new(0);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{msg:20} {bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        ) {
            bar.set_style(style);
        }
        options.progress = Some(bar);
    }
    let progress = options.progress.clone();
    let result = import(kb, &nodes, &relationships, &options);
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    let summary = result?;
    writeln!(
        out,
        "committed tx {} ({} events): {} nodes, {} relationships",
        summary.tx.tx,
        summary.events(),
        summary.nodes,
        summary.relationships
    )?;
    for (label, n) in &summary.labels {
        writeln!(out, "  :{label}  {n}")?;
    }
    for (t, n) in &summary.types {
        writeln!(out, "  :{t}  {n}")?;
    }
    Ok(())
}

/// `run --timing`: each statement of `source` once to warm up, then `repeat` times, and one
/// JSON line per statement: `{"statement": i, "median_ms", "min_ms", "max_ms", "rows"}`
/// (statements counted from 1 across the files run). A statement that writes runs once, and
/// its one time is reported: repeating it would write it again.
///
/// # Errors
/// The first statement that fails, naming the file and statement.
pub fn run_timed<L: Log>(
    kb: &mut Database<L>,
    session: &mut Session,
    source: &str,
    name: &str,
    repeat: usize,
    first: usize,
    out: &mut dyn Write,
) -> Result<usize, CliError> {
    let script = parser::parse_script(source)
        .map_err(|e| CliError::Query(format!("{name}: {}", e.render(name, source, false))))?;
    let fail = |i: usize, e: crate::query::QueryError| {
        CliError::Query(format!(
            "{name}, statement {}: {}",
            i + 1,
            e.render(name, source, false)
        ))
    };
    for (i, statement) in script.statements.iter().enumerate() {
        let reads = crate::query::session::only_reads(statement);
        let mut times = Vec::with_capacity(repeat);
        let mut rows = 0;
        let runs = if reads { repeat + 1 } else { 1 };
        for run in 0..runs {
            let started = std::time::Instant::now();
            let outcome = session
                .execute(kb, source, statement)
                .map_err(|e| fail(i, e))?;
            let elapsed = started.elapsed().as_secs_f64() * 1000.0;
            rows = outcome.output.rows.len();
            // The first run of a read warms up; a write's one run is its time.
            if run > 0 || !reads {
                times.push(elapsed);
            }
        }
        times.sort_by(f64::total_cmp);
        let median = match times.len() {
            0 => 0.0,
            n if n % 2 == 1 => times[n / 2],
            n => (times[n / 2 - 1] + times[n / 2]) / 2.0,
        };
        let line = serde_json::json!({
            "statement": first + i,
            "median_ms": median,
            "min_ms": times.first().copied().unwrap_or(0.0),
            "max_ms": times.last().copied().unwrap_or(0.0),
            "rows": rows,
            "runs": times.len(),
        });
        writeln!(out, "{line}")?;
    }
    Ok(script.statements.len())
}
