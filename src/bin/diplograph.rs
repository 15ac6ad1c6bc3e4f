//! The `diplograph` command: argument parsing and wiring, nothing else.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use diplograph::cli::{self, CliError};

/// An event-sourced, bitemporal knowledge graph of paradiplomacy.
#[derive(Parser)]
#[command(name = "diplograph", version, about)]
struct Args {
    /// The knowledge base file (default: $DIPLOGRAPH_DB, or one in your data directory,
    /// created from the bundled dataset the first time).
    #[arg(long, global = true, value_name = "FILE")]
    db: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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
    /// Load a JSON Lines event log into an empty knowledge base (`-` reads standard input).
    ImportEvents {
        /// The file written by `export-events`.
        file: PathBuf,
    },
}

fn run(args: Args) -> Result<(), CliError> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut notice = std::io::stderr();
    let mut kb = cli::open_kb(args.db.as_deref(), &mut notice)?;
    match args.command {
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
        Command::ImportEvents { file } => cli::import_events_command(&mut kb, &file, &mut out),
    }
}

fn main() -> ExitCode {
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
