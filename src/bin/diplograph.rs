//! The `diplograph` command: argument parsing and wiring, nothing else.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use diplograph::cli::{self, CliError};
use diplograph::query::Session;
use diplograph::query::format::Format;

// Queries build and drop many small rows, and replay and import many small values: mimalloc
// keeps that off glibc malloc's slow paths (measured in the README's workload table).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// An event-sourced, bitemporal knowledge graph of paradiplomacy.
#[derive(Parser)]
#[command(name = "diplograph", version, about)]
struct Args {
    /// The knowledge base file (default: $DIPLOGRAPH_DB, or one in your data directory,
    /// created from the bundled dataset the first time).
    #[arg(long, global = true, value_name = "FILE")]
    db: Option<PathBuf>,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// The interactive shell (the default): statements end with `;`, `:help` for help.
    /// Reads statements from standard input when it is not a terminal.
    Repl {
        #[command(flatten)]
        options: StatementOptions,
    },
    /// Run a query (or several, separated by `;`) and print the results.
    Query {
        /// The query text.
        query: String,
        /// Output format: table, json or csv.
        #[arg(long, short, default_value = "table")]
        format: Format,
        #[command(flatten)]
        options: StatementOptions,
    },
    /// Run script files (`.dgq`: statements separated by `;`), in order. Each statement that
    /// writes is one transaction (or BEGIN … COMMIT groups them); on error it stops, naming
    /// the file and statement, having written nothing of that statement.
    Run {
        /// The scripts.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Output format: table, json or csv.
        #[arg(long, short, default_value = "table")]
        format: Format,
        /// Time each statement instead of printing its rows: one warm-up run, then
        /// `--repeat` runs, and a JSON line per statement (median, min, max ms, rows).
        #[arg(long)]
        timing: bool,
        /// With --timing: how many timed runs after the warm-up.
        #[arg(long, default_value_t = 5, value_name = "N")]
        repeat: usize,
        #[command(flatten)]
        options: StatementOptions,
    },
    /// List transactions: number, time, author, event count, message.
    Log {
        /// First transaction to list.
        #[arg(long, value_name = "N")]
        from: Option<u64>,
        /// How many to list.
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
    },
    /// Count nodes by label and edges by type.
    Stats {
        /// Show the knowledge base as it was after transaction N.
        #[arg(long, value_name = "N")]
        at_tx: Option<u64>,
    },
    /// Write the whole event log as JSON Lines (lossless).
    ExportEvents {
        /// Output file (default: standard output).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Load a bibliography (BibTeX/BibLaTeX): each entry becomes a Source node that facts
    /// can cite by its key. One transaction: all of it, or nothing.
    ImportBib {
        /// The .bib file.
        file: PathBuf,
        /// Recorded as the author of the transaction.
        #[arg(long, value_name = "NAME")]
        author: Option<String>,
    },
    /// Serve the knowledge base over HTTP + JSON: POST /query, POST /transactions (with the
    /// bearer token), GET /transactions?from=N (a live stream), /schema, /health, /metrics.
    Serve {
        /// The address to listen on (loopback unless told otherwise).
        #[arg(long, default_value = "127.0.0.1:7878", value_name = "ADDR")]
        bind: String,
        /// A file whose first line is the bearer token writes need (else $DIPLOGRAPH_TOKEN;
        /// with neither, the server takes no writes).
        #[arg(long, value_name = "FILE")]
        token_file: Option<PathBuf>,
        /// Seconds a query or write may run.
        #[arg(long, default_value_t = 30, value_name = "SECONDS")]
        timeout: u64,
        /// Rows a result may have.
        #[arg(long, default_value_t = 100_000, value_name = "N")]
        max_rows: usize,
        /// The largest request body, in bytes.
        #[arg(long, default_value_t = 16 * 1024 * 1024, value_name = "BYTES")]
        max_body: usize,
        /// Connections served at once.
        #[arg(long, default_value_t = 256, value_name = "N")]
        max_connections: usize,
    },
    /// Load Neo4j admin-import style CSV files (`id:ID(Label)`, `:START_ID(Label)`,
    /// `:END_ID(Label)`, typed columns such as `year:int` or `signed:date`; `valid_from` and
    /// `valid_to` columns become valid time) in one transaction: all of it, or nothing.
    Import {
        /// A node file and its label, `Label=FILE`; repeatable.
        #[arg(long, value_name = "LABEL=FILE")]
        nodes: Vec<String>,
        /// A relationship file and its type, `TYPE=FILE`; repeatable.
        #[arg(long, value_name = "TYPE=FILE")]
        relationships: Vec<String>,
        /// A citation key every imported fact cites (a Source with that key must exist);
        /// repeatable.
        #[arg(long = "source", value_name = "KEY")]
        sources: Vec<String>,
        /// Recorded as the author of the transaction.
        #[arg(long, value_name = "NAME")]
        author: Option<String>,
        /// Make every node id `Group:id` (for files whose ids clash across groups).
        #[arg(long)]
        namespace_ids: bool,
        /// The field separator.
        #[arg(long, default_value = ",", value_name = "CHAR")]
        delimiter: char,
        /// The separator inside array fields (`tags:string[]`).
        #[arg(long, default_value = ";", value_name = "CHAR")]
        array_delimiter: char,
    },
    /// Export the graph for other tools: GEXF (Gephi, with valid times as spells), GraphML
    /// (networkx, igraph), DOT (Graphviz), CSV or JSON — the whole view, or the nodes and
    /// relationships a query returns.
    Export {
        /// gexf, graphml, dot, csv or json.
        #[arg(long, short)]
        format: diplograph::interchange::export::ExportFormat,
        /// Export only what this query returns (its nodes, relationships and paths).
        #[arg(long, short, value_name = "QUERY")]
        query: Option<String>,
        /// Export the knowledge base as it was after transaction N.
        #[arg(long, value_name = "N")]
        at_tx: Option<u64>,
        /// Output file (default: standard output).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        #[command(flatten)]
        options: StatementOptions,
    },
    /// Load a JSON Lines event log into an empty knowledge base (`-` reads standard input).
    ImportEvents {
        /// The file written by `export-events`.
        file: PathBuf,
    },
}

/// Parameters, limits and authorship of the statements a command runs.
#[derive(clap::Args)]
struct StatementOptions {
    /// A parameter, `name=value` (a literal such as 5, "Banten", [1, 2]); repeatable.
    #[arg(long = "param", short = 'p', value_name = "NAME=VALUE")]
    params: Vec<String>,
    /// Seconds a statement may run (0: no limit).
    #[arg(long, default_value_t = TIMEOUT_SECONDS, value_name = "SECONDS")]
    timeout: u64,
    /// Rows a result, or a table along the way (the matches an aggregate counts), may have.
    #[arg(long, default_value_t = MAX_ROWS, value_name = "N")]
    max_rows: usize,
    /// Recorded as the author of the transactions written.
    #[arg(long, value_name = "NAME")]
    author: Option<String>,
}

const TIMEOUT_SECONDS: u64 = 60;
// Ten million rows along the way is about a gigabyte: an aggregate over every relationship
// of a knowledge base of all known agreements (10^6–10^7) still runs.
const MAX_ROWS: usize = 10_000_000;

impl Default for StatementOptions {
    /// What the shell gets when `diplograph` is run with no command.
    fn default() -> StatementOptions {
        StatementOptions {
            params: Vec::new(),
            timeout: TIMEOUT_SECONDS,
            max_rows: MAX_ROWS,
            author: None,
        }
    }
}

fn session<L: diplograph::log::Log>(
    kb: &diplograph::Database<L>,
    options: &StatementOptions,
) -> Result<Session, CliError> {
    let mut s = Session::new();
    s.timeout = (options.timeout > 0).then(|| std::time::Duration::from_secs(options.timeout));
    s.max_rows = options.max_rows;
    s.author = options.author.clone();
    s.progress = cli::terminal_progress();
    for p in &options.params {
        let (k, v) = cli::parse_param(kb, p)?;
        s.params.insert(k, v);
    }
    Ok(s)
}

fn run(args: Args) -> Result<(), CliError> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut notice = std::io::stderr();
    let mut kb = cli::open_kb(args.db.as_deref(), &mut notice)?;
    let command = args.command.unwrap_or(Command::Repl {
        options: StatementOptions::default(),
    });
    let result = match command {
        Command::Repl { options } => {
            drop(out);
            let s = session(&kb, &options)?;
            diplograph::repl::run(&mut kb, s)
        }
        Command::Query {
            query,
            format,
            options,
        } => {
            let mut s = session(&kb, &options)?;
            let mut err = std::io::stderr();
            cli::run_script(&mut kb, &mut s, &query, "query", format, &mut out, &mut err)?;
            Ok(())
        }
        Command::Run {
            files,
            format,
            timing,
            repeat,
            options,
        } => {
            let mut s = session(&kb, &options)?;
            let mut err = std::io::stderr();
            let mut first = 1;
            for file in files {
                let source = std::fs::read_to_string(&file).map_err(|e| CliError::File {
                    path: file.clone(),
                    detail: e.to_string(),
                })?;
                let name = file.display().to_string();
                if timing {
                    let repeat = repeat.max(1);
                    first +=
                        cli::run_timed(&mut kb, &mut s, &source, &name, repeat, first, &mut out)?;
                } else {
                    cli::run_script(&mut kb, &mut s, &source, &name, format, &mut out, &mut err)?;
                }
            }
            Ok(())
        }
        Command::Log { from, limit } => cli::log_command(&kb, from, limit, &mut out),
        Command::Stats { at_tx } => cli::stats_command(&kb, at_tx, &mut out),
        Command::ExportEvents { output: None } => cli::export_events_command(&kb, &mut out),
        Command::ExportEvents { output: Some(path) } => {
            let file = std::fs::File::create(&path).map_err(|e| CliError::File {
                path: path.clone(),
                detail: e.to_string(),
            })?;
            let mut w = std::io::BufWriter::new(file);
            cli::export_events_command(&kb, &mut w)?;
            w.flush()?;
            Ok(())
        }
        Command::ImportBib { file, author } => {
            cli::import_bib_command(&mut kb, &file, author, &mut out)
        }
        Command::ImportEvents { file } => cli::import_events_command(&mut kb, &file, &mut out),
        Command::Import {
            nodes,
            relationships,
            sources,
            author,
            namespace_ids,
            delimiter,
            array_delimiter,
        } => {
            let byte = |c: char, what: &str| {
                u8::try_from(c)
                    .ok()
                    .filter(u8::is_ascii)
                    .ok_or_else(|| CliError::Usage(format!("--{what} must be one ASCII character")))
            };
            let options = diplograph::interchange::neo4j_csv::ImportOptions {
                sources,
                author,
                message: Some("import of CSV files".to_owned()),
                namespace_ids,
                delimiter: byte(delimiter, "delimiter")?,
                array_delimiter: byte(array_delimiter, "array-delimiter")?,
                ..Default::default()
            };
            cli::import_csv_command(&mut kb, &nodes, &relationships, options, &mut out)
        }
        Command::Export {
            format,
            query,
            at_tx,
            output,
            options,
        } => {
            let mut s = session(&kb, &options)?;
            match output {
                None => {
                    cli::export_command(&mut kb, &mut s, format, query.as_deref(), at_tx, &mut out)
                }
                Some(path) => {
                    let file = std::fs::File::create(&path).map_err(|e| CliError::File {
                        path: path.clone(),
                        detail: e.to_string(),
                    })?;
                    let mut w = std::io::BufWriter::new(file);
                    cli::export_command(&mut kb, &mut s, format, query.as_deref(), at_tx, &mut w)?;
                    w.flush().map_err(|e| CliError::File {
                        path: path.clone(),
                        detail: e.to_string(),
                    })?;
                    Ok(())
                }
            }
        }
        Command::Serve {
            bind,
            token_file,
            timeout,
            max_rows,
            max_body,
            max_connections,
        } => {
            let config = diplograph::server::Config {
                token: cli::server_token(token_file.as_deref())?,
                limits: diplograph::server::Limits {
                    max_body,
                    timeout: std::time::Duration::from_secs(timeout.max(1)),
                    max_rows,
                    max_connections: max_connections.max(1),
                },
            };
            return cli::serve_command(kb, &bind, config, &mut out);
        }
    };
    // A command that fails on the way returns early and drops the knowledge base as usual.
    kb.close_for_exit();
    result
}

fn main() -> ExitCode {
    // mimalloc asks the kernel for transparent huge pages, and on this machine a fault of
    // one often costs far more than the small pages it replaces: opening the scale-10
    // workload took 3.7–6.0 s with them (median 5.4, system time 1.1–3.7 s) and 4.0–4.6 s
    // without (median 4.2, system time 1.1–1.3 s), four interleaved runs each; a scale-1
    // import 0.73–1.10 s against 0.79–0.87 s. Queries ran alike. So: none, for this
    // process only.
    #[cfg(target_os = "linux")]
    let _ = nix::sys::prctl::set_thp_disable(true);
    // The storage engine panics on some kinds of file damage; the log catches that and
    // reports the file as damaged, so its panic message would only be noise.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !info.location().is_some_and(|l| l.file().contains("/redb-")) {
            default_hook(info);
        }
    }));
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
