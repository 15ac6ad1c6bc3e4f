//! Neo4j admin-import CSV in: node and relationship files as `neo4j-admin database import`
//! reads them, loaded into a knowledge base as **one transaction** (all of it or nothing),
//! streaming (one record in memory at a time; what is kept is the map of node ids and the
//! graph being built).
//!
//! # Files
//!
//! Each file starts with a header line; each header field is `name`, `name:type` or `:type`.
//!
//! Node files (`Label=FILE`; `A:B=FILE` gives two labels):
//! - `id:ID(Group)`, `:ID(Group)`, `name:ID` or `:ID`: the node's id, required, one per file.
//!   Ids are unique per group (no group: the global group). A named id column other than
//!   `id` is also stored as a property, as Neo4j does (`n.id` reads the node's id anyway).
//! - `:LABEL`: more labels, `;`-separated, added to the file's label.
//!
//! Relationship files (`TYPE=FILE`):
//! - `:START_ID(Group)` and `:END_ID(Group)`, required: node ids of the node files (of that
//!   group) of this import. A relationship to any other id is refused.
//! - `:TYPE`: the row's type; when that column is absent or empty, the file's type.
//! - Relationship ids are generated: `{type in lower case}-{file}-{row}`, the file counted
//!   from 1 in the order given and the row from 1 after the header (`party_to-1-17`). So the
//!   same files give the same ids; an import whose ids a knowledge base already holds is
//!   refused as a whole.
//!
//! Both:
//! - Property columns `key` or `key:type`, with type `string` (the default), `char`, `int`,
//!   `long`, `short`, `byte` (64-bit integers), `float`, `double` (finite 64-bit floats),
//!   `boolean` (`true`/`false`, any case), `date` (EDTF: `2007`, `2007-02`, `2007-02-06`,
//!   `19XX`, `2004?` … keep their precision), and their arrays (`string[]`, `int[]` …), whose
//!   elements are split on `;` ([`ImportOptions::array_delimiter`]). `:IGNORE` skips a column.
//!   Neo4j's `datetime`, `localdatetime`, `time`, `localtime`, `duration` and `point` are
//!   refused in the header.
//! - Columns named `valid_from` / `valid_to` (with any non-array type suffix, or none) are the
//!   fact's valid time instead of properties, as EDTF dates inclusive at their precision:
//!   an empty `valid_to` is an open end (`..`), an empty `valid_from` an unknown start; a
//!   file without such a column gives an open bound on that side (`../..` with neither).
//!   (The shared benchmark writes half-open intervals: a query asking "held on day d" in
//!   that sense compares `valid_to(r) > d` rather than using `AS OF`.)
//! - An empty field is an absent property, as in Neo4j (for types other than `string` a
//!   field of blanks is too). Ids, numbers, booleans and dates may have blanks (ASCII
//!   whitespace) around them.
//!
//! # Ids
//!
//! Node ids are global in diplograph. By default a node's id is its CSV id, and an id that
//! two groups use is refused with both places named. With
//! [`ImportOptions::namespace_ids`], every id of a named group becomes `Group:id`
//! (`Actor:A1`), so that groups may reuse ids (files exported per label with ids 1, 2, 3 …);
//! the CSV id is then kept as a property too (`id` for `id:ID(Actor)`).
//!
//! Nodes labelled `Source` are the knowledge base's citable sources: their file needs a
//! `key` column (a string, unique), or the knowledge base refuses them.
//!
//! # Sources and transaction
//!
//! [`ImportOptions::sources`] are citation keys applied to every imported node and
//! relationship; the knowledge base refuses keys that no `Source` node has (`Source` nodes
//! of the same import count, for the files after theirs). The transaction carries
//! [`ImportOptions::author`] and [`ImportOptions::message`].
//!
//! # Errors
//!
//! Every error names the file, and the line (and the column with its header) where one
//! applies: a missing file, a file without a header or without its id columns, an unknown
//! or unsupported type in the header, a row with another number of fields than the header,
//! a value that is not of its column's type, an empty or duplicate id, an id two groups use,
//! a relationship to an unknown id, and an event the knowledge base refuses (an unknown
//! source key, an id it already holds …). Nothing is written then.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use indicatif::ProgressBar;
use rustc_hash::FxHashMap;

use crate::db::{Database, EncodedEvents};
use crate::error::{CommitError, InterchangeError, TimeError};
use crate::event::{Event, Name, Names, Props, TxHeader, TxMeta};
use crate::graph::ids::IdTable;
use crate::log::Log;
use crate::time::{Bound, Date, ValidTime};
use crate::value::Value;

/// How to import.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// Citation keys of `Source` nodes supporting every imported fact.
    pub sources: Vec<String>,
    /// Who imports (the transaction's author).
    pub author: Option<String>,
    /// Why (the transaction's message); by default one naming the files' counts.
    pub message: Option<String>,
    /// A bar to advance: its length is set to the files' total size in bytes, its position to
    /// the bytes read, its message to the file being read (then `committing`). Styling,
    /// drawing and finishing it are the caller's.
    pub progress: Option<ProgressBar>,
    /// Node ids of named groups become `Group:id`, so that groups may share ids.
    pub namespace_ids: bool,
    /// The field delimiter (`,`).
    pub delimiter: u8,
    /// The delimiter of array elements and of `:LABEL` values (`;`).
    pub array_delimiter: u8,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            sources: Vec::new(),
            author: None,
            message: None,
            progress: None,
            namespace_ids: false,
            delimiter: b',',
            array_delimiter: b';',
        }
    }
}

/// Whether a file holds nodes or relationships.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A node file.
    Nodes,
    /// A relationship file.
    Relationships,
}

/// What one file brought.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileSummary {
    /// Nodes or relationships.
    pub kind: FileKind,
    /// The label or type given with the file.
    pub name: String,
    /// The file.
    pub path: PathBuf,
    /// Its data rows (one node or relationship each).
    pub rows: u64,
}

/// What an import wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportSummary {
    /// The transaction.
    pub tx: TxHeader,
    /// Nodes added.
    pub nodes: u64,
    /// Relationships added.
    pub relationships: u64,
    /// Nodes per label (a node with two labels counts for both).
    pub labels: BTreeMap<String, u64>,
    /// Relationships per type.
    pub types: BTreeMap<String, u64>,
    /// Per file, in the order imported.
    pub files: Vec<FileSummary>,
    /// The files' total size.
    pub bytes: u64,
}

impl ImportSummary {
    /// Events written (one per node and relationship).
    pub fn events(&self) -> u64 {
        self.tx.event_count
    }
}

/// Splits a command-line argument `Label=FILE` (or `TYPE=FILE`) at its first `=`. Without
/// one, the whole argument is the file and the label (type) is empty: the `:LABEL` (`:TYPE`)
/// column gives it.
pub fn parse_file_arg(arg: &str) -> (String, PathBuf) {
    match arg.split_once('=') {
        Some((name, path)) => (name.to_owned(), PathBuf::from(path)),
        None => (String::new(), PathBuf::from(arg)),
    }
}

/// The number of lines of a file (its newlines, and one more for a last line without one).
fn count_lines(path: &Path) -> std::io::Result<usize> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 1 << 16];
    let (mut lines, mut last) = (0, b'\n');
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        lines += buf[..n].iter().filter(|&&b| b == b'\n').count();
        last = buf[n - 1];
    }
    Ok(lines + usize::from(last != b'\n'))
}

/// Imports node files (all first, in order), then relationship files, as one transaction.
/// `nodes` pairs a label (`A:B` for two) with a file, `relationships` a type with a file.
///
/// # Errors
/// See the module documentation; nothing is written then.
pub fn import<L: Log>(
    db: &mut Database<L>,
    nodes: &[(String, PathBuf)],
    relationships: &[(String, PathBuf)],
    options: &ImportOptions,
) -> Result<ImportSummary, InterchangeError> {
    if nodes.is_empty() && relationships.is_empty() {
        return Err(InterchangeError::Io {
            file: "import".into(),
            detail: "no node or relationship files given".into(),
        });
    }
    // Every file first, so that a missing one is reported before anything is read.
    let mut sizes = Vec::with_capacity(nodes.len() + relationships.len());
    for (_, path) in nodes.iter().chain(relationships) {
        let meta = std::fs::metadata(path).map_err(|e| io_error(path, &e))?;
        if meta.is_dir() {
            return Err(InterchangeError::Io {
                file: display(path),
                detail: "is a directory, not a CSV file".into(),
            });
        }
        sizes.push(meta.len());
    }
    let bytes = sizes.iter().sum();
    if let Some(pb) = &options.progress {
        pb.set_length(bytes);
        pb.set_position(0);
    }
    let meta = TxMeta {
        author: options.author.clone(),
        message: Some(options.message.clone().unwrap_or_else(|| {
            format!(
                "import of {} node file(s) and {} relationship file(s) (Neo4j CSV)",
                nodes.len(),
                relationships.len()
            )
        })),
    };
    let mut importer = Importer {
        options,
        sources: options.sources.iter().map(Name::new).collect(),
        groups: Vec::new(),
        known: KnownIds::default(),
        node_files: Vec::new(),
        labels: FxHashMap::default(),
        types: FxHashMap::default(),
        files: Vec::new(),
        done: 0,
        nodes: 0,
        relationships: 0,
        id_buf: String::new(),
    };
    // Room for every row at once: a line is at most a row (a quoted field may span lines).
    let lines = |files: &[(String, PathBuf)]| -> Result<usize, InterchangeError> {
        files.iter().try_fold(0, |total, (_, path)| {
            Ok(total + count_lines(path).map_err(|e| io_error(path, &e))?)
        })
    };
    let node_rows = lines(nodes)?;
    let edge_rows = lines(relationships)?;
    let mut header = None;
    db.write(|w| {
        w.begin_tx(&meta, None)?;
        w.reserve(node_rows, edge_rows);
        // Two threads: this one validates, writes and applies the events the other reads
        // from the files and sends in batches. When this one fails, it stops listening,
        // and the reader stops at its next batch.
        let (send, receive) = std::sync::mpsc::sync_channel::<Batch>(8);
        let (recycle, spare) = std::sync::mpsc::channel::<EncodedEvents>();
        let importer = &mut importer;
        std::thread::scope(|scope| {
            let reader = scope.spawn(move || {
                let mut out = Batches::new(send, spare);
                let mut read = || {
                    for (i, (label, path)) in nodes.iter().enumerate() {
                        importer.node_file(&mut out, label, path)?;
                        importer.done += sizes[i];
                    }
                    for (i, (rel_type, path)) in relationships.iter().enumerate() {
                        importer.relationship_file(&mut out, i + 1, rel_type, path)?;
                        importer.done += sizes[nodes.len() + i];
                    }
                    Ok::<(), InterchangeError>(())
                };
                let result = read();
                // The rows before a bad one still go out: one of them may be refused,
                // and an earlier line's error is the one to report.
                let _ = out.flush();
                result
            });
            let mut failed = None;
            for mut batch in receive.iter() {
                if let Err((line, e)) = w.append_encoded(&mut batch.events) {
                    failed = Some(refused_in(&batch.file, line, e));
                    break;
                }
                // The reader may be done already; then the batch is simply dropped here.
                let _ = recycle.send(batch.events);
            }
            drop(receive);
            let read = reader.join().unwrap_or_else(|_| {
                Err(InterchangeError::Io {
                    file: "import".into(),
                    detail: "reading the CSV files stopped on an internal error (a bug in \
                             diplograph, please report it); nothing was written"
                        .into(),
                })
            });
            match failed {
                Some(e) => Err(e),
                None => read,
            }
        })?;
        if let Some(pb) = &options.progress {
            pb.set_position(bytes);
            pb.set_message("committing");
        }
        header = Some(w.end_tx()?);
        Ok::<(), InterchangeError>(())
    })?;
    let tx = header.ok_or_else(|| InterchangeError::Io {
        file: "import".into(),
        detail: "no transaction was written".into(),
    })?;
    let count = |m: FxHashMap<Name, u64>| m.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    Ok(ImportSummary {
        tx,
        nodes: importer.nodes,
        relationships: importer.relationships,
        labels: count(importer.labels),
        types: count(importer.types),
        files: importer.files,
        bytes,
    })
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

fn io_error(path: &Path, e: &std::io::Error) -> InterchangeError {
    InterchangeError::Io {
        file: display(path),
        detail: if e.kind() == std::io::ErrorKind::NotFound {
            "no such file".into()
        } else {
            format!("cannot read: {e}")
        },
    }
}

/// Where a node id was defined.
#[derive(Clone, Copy)]
struct Known {
    group: u32,
    file: u32,
    line: u64,
}

/// The node ids this import's node files defined, numbered in the order they were read
/// (ordinals). Finding an id, once per relationship end, reads one 4-byte place of an id
/// table run for the common `A1`, `A2`, … (a hash map from the id took two cache misses
/// into 40-byte entries); the group is that of the file the ordinal falls in, since a file
/// has one group and its ordinals are consecutive.
#[derive(Default)]
struct KnownIds {
    table: IdTable,
    /// By ordinal: the id as stored.
    ids: Vec<Name>,
    /// By ordinal: the line that defined it.
    lines: Vec<u64>,
    /// By node file: its first ordinal and its group.
    files: Vec<(u32, u32)>,
}

impl KnownIds {
    /// Starts the ids of a node file of `group`; files are numbered from 0 in this order.
    fn start_file(&mut self, group: u32) {
        let first = self.ids.len() as u32;
        self.files.push((first, group));
    }

    /// How many ids it holds.
    fn len(&self) -> usize {
        self.ids.len()
    }

    /// The ordinal of `id`.
    fn get(&self, id: &str) -> Option<u32> {
        self.table
            .get(id, |o| self.ids.get(o as usize).map(Name::as_str))
    }

    /// The node file that defined an ordinal's id.
    fn file(&self, ordinal: u32) -> usize {
        let after = self.files.partition_point(|&(first, _)| first <= ordinal);
        after.saturating_sub(1)
    }

    /// The group of an ordinal's id.
    fn group(&self, ordinal: u32) -> u32 {
        self.files.get(self.file(ordinal)).map_or(0, |&(_, g)| g)
    }

    /// Where an ordinal's id was defined.
    fn known(&self, ordinal: u32) -> Known {
        let file = self.file(ordinal);
        Known {
            group: self.files.get(file).map_or(0, |&(_, g)| g),
            file: file as u32,
            line: self.lines.get(ordinal as usize).copied().unwrap_or(0),
        }
    }

    /// Enters `id`, defined at `line` of the latest file; where it was defined before if it
    /// was.
    fn insert(&mut self, id: &Name, line: u64) -> Result<(), Known> {
        if let Some(first) = self.get(id) {
            return Err(self.known(first));
        }
        let ordinal = self.ids.len() as u32;
        let ids = &self.ids;
        self.table
            .insert_new(id, ordinal, |o| ids.get(o as usize).map(Name::as_str));
        self.ids.push(id.clone());
        self.lines.push(line);
        Ok(())
    }

    /// The id as stored of an ordinal whose id is `text`: made again from `text` when it is
    /// held inline (no read of the stored one), shared when it is allocated.
    fn name(&self, ordinal: u32, text: &str) -> Name {
        match self.ids.get(ordinal as usize) {
            Some(id) if text.len() > Name::INLINE_CAP => id.clone(),
            _ => Name::new(text),
        }
    }
}

struct Importer<'o> {
    options: &'o ImportOptions,
    sources: Names,
    /// ID group names; the index is the group.
    groups: Vec<String>,
    /// Node ids (as stored) and where they were defined.
    known: KnownIds,
    node_files: Vec<String>,
    labels: FxHashMap<Name, u64>,
    types: FxHashMap<Name, u64>,
    files: Vec<FileSummary>,
    /// Bytes of the files finished.
    done: u64,
    nodes: u64,
    relationships: u64,
    id_buf: String,
}

/// A value type of a property column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scalar {
    Str,
    Int,
    Float,
    Bool,
    Date,
}

impl Scalar {
    fn name(self) -> &'static str {
        match self {
            Scalar::Str => "string",
            Scalar::Int => "integer",
            Scalar::Float => "float",
            Scalar::Bool => "boolean",
            Scalar::Date => "date",
        }
    }
}

/// What a header field says a column is.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Spec {
    Id(String),
    StartId(String),
    EndId(String),
    Label,
    Type,
    Ignore,
    Data(Scalar, bool),
}

const TYPES_EXPECTED: &str = "string, char, int, long, short, byte, float, double, boolean, \
     date, an array of one of these such as `string[]`, or ID, START_ID, END_ID, LABEL, TYPE, IGNORE";

/// Splits a header field into its name and what it says.
fn parse_field(text: &str) -> Result<(&str, Spec), String> {
    let before_group = text.split_once('(').map_or(text, |(a, _)| a);
    let Some(colon) = before_group.rfind(':') else {
        return Ok((text, Spec::Data(Scalar::Str, false)));
    };
    let name = &text[..colon];
    let ty = &text[colon + 1..];
    let (base, group) = match ty.split_once('(') {
        Some((base, rest)) => match rest.strip_suffix(')') {
            Some(group) if !group.contains([')', '(']) => (base, Some(group)),
            _ => return Err(format!("`{ty}`: a group is written `ID(Group)`")),
        },
        None => (ty, None),
    };
    let lower = base.to_ascii_lowercase();
    let group_of = || group.unwrap_or("").to_owned();
    let spec = match lower.as_str() {
        "id" => Spec::Id(group_of()),
        "start_id" => Spec::StartId(group_of()),
        "end_id" => Spec::EndId(group_of()),
        _ if group.is_some() => {
            return Err(format!(
                "`{ty}`: only ID, START_ID and END_ID take a group in parentheses"
            ));
        }
        "label" => Spec::Label,
        "type" => Spec::Type,
        "ignore" => Spec::Ignore,
        _ => {
            let (scalar, array) = match lower.strip_suffix("[]") {
                Some(s) => (s, true),
                None => (lower.as_str(), false),
            };
            let scalar = match scalar {
                "string" | "char" => Scalar::Str,
                "int" | "long" | "short" | "byte" => Scalar::Int,
                "float" | "double" => Scalar::Float,
                "boolean" => Scalar::Bool,
                "date" => Scalar::Date,
                "datetime" | "localdatetime" | "time" | "localtime" | "duration" | "point" => {
                    return Err(format!(
                        "the type `{ty}` is not supported (dates are `date`, in EDTF; \
                         expected {TYPES_EXPECTED})"
                    ));
                }
                _ => return Err(format!("unknown type `{ty}` (expected {TYPES_EXPECTED})")),
            };
            if name.is_empty() {
                return Err(format!("a `{ty}` column needs a name (`name:{ty}`)"));
            }
            Spec::Data(scalar, array)
        }
    };
    Ok((name, spec))
}

/// A column as the importer uses it.
#[derive(Clone, Debug)]
enum Col {
    /// The node id; a property too when named (other than `id`, or with namespaced ids).
    Id(Option<Name>),
    StartId,
    EndId,
    Label,
    Type,
    Ignore,
    ValidFrom,
    ValidTo,
    Prop {
        key: Name,
        ty: Scalar,
        array: bool,
    },
}

/// A file's header, read.
struct Layout {
    cols: Vec<Col>,
    /// The header fields as written, for messages.
    heads: Vec<String>,
    /// The group of `:ID`, `:START_ID`, `:END_ID` (by kind).
    id_group: Option<String>,
    start_group: Option<String>,
    end_group: Option<String>,
    props: usize,
    /// The header's line.
    line: u64,
}

/// A CSV file open for reading records.
struct Source {
    reader: csv::Reader<File>,
    file: String,
}

impl Source {
    fn open(path: &Path, delimiter: u8) -> Result<Source, InterchangeError> {
        let f = File::open(path).map_err(|e| io_error(path, &e))?;
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .buffer_capacity(1 << 16)
            .from_reader(f);
        Ok(Source {
            reader,
            file: display(path),
        })
    }

    fn bad(&self, line: u64, detail: impl Into<String>) -> InterchangeError {
        InterchangeError::Line {
            file: self.file.clone(),
            line,
            detail: detail.into(),
        }
    }

    /// Reads the next record (checked to be UTF-8 as a whole); `false` at the end.
    fn next(&mut self, rec: &mut csv::StringRecord) -> Result<bool, InterchangeError> {
        self.reader.read_record(rec).map_err(|e| {
            let line = e.position().map_or(0, csv::Position::line);
            match e.into_kind() {
                csv::ErrorKind::Io(io) => InterchangeError::Io {
                    file: self.file.clone(),
                    detail: format!("cannot read: {io}"),
                },
                csv::ErrorKind::Utf8 { err, .. } => {
                    self.bad(line, format!("field {}: not UTF-8", err.field() + 1))
                }
                other => self.bad(line, format!("not CSV: {other:?}")),
            }
        })
    }

    fn bytes_read(&self) -> u64 {
        self.reader.position().byte()
    }

    /// Reads the header line into a layout. With `namespaced` ids, an `id:ID` column is kept
    /// as a property too, since the node's id differs from it.
    fn header(&mut self, kind: FileKind, namespaced: bool) -> Result<Layout, InterchangeError> {
        let mut rec = csv::StringRecord::new();
        if !self.next(&mut rec)? {
            return Err(self.bad(1, "the file is empty; expected a header line"));
        }
        let line = line_of(&rec);
        let mut layout = Layout {
            cols: Vec::with_capacity(rec.len()),
            heads: Vec::with_capacity(rec.len()),
            id_group: None,
            start_group: None,
            end_group: None,
            props: 0,
            line,
        };
        let mut names: Vec<&str> = Vec::new();
        let mut fields = Vec::with_capacity(rec.len());
        for (i, text) in rec.iter().enumerate() {
            let text = if i == 0 {
                text.strip_prefix('\u{feff}').unwrap_or(text)
            } else {
                text
            };
            fields.push(text.trim().to_owned());
        }
        for (i, text) in fields.iter().enumerate() {
            let at =
                |detail: String| self.bad(line, format!("column {} (`{text}`): {detail}", i + 1));
            let (name, spec) = parse_field(text).map_err(at)?;
            let twice = |what: &str| at(format!("a second {what} column"));
            let misplaced = |what: &str| {
                at(match kind {
                    FileKind::Nodes => format!("a node file has no {what} column"),
                    FileKind::Relationships => format!("a relationship file has no {what} column"),
                })
            };
            let col = match spec {
                Spec::Id(group) => {
                    if kind == FileKind::Relationships {
                        return Err(misplaced(":ID"));
                    }
                    if layout.id_group.is_some() {
                        return Err(twice(":ID"));
                    }
                    layout.id_group = Some(group);
                    let stored = !name.is_empty() && (name != "id" || namespaced);
                    if stored {
                        if names.contains(&name) {
                            return Err(at(format!("the column `{name}` is given twice")));
                        }
                        names.push(name);
                        layout.props += 1;
                    }
                    Col::Id(stored.then(|| Name::new(name)))
                }
                Spec::StartId(_) | Spec::EndId(_) if kind == FileKind::Nodes => {
                    return Err(misplaced(":START_ID or :END_ID"));
                }
                Spec::StartId(group) => {
                    if layout.start_group.is_some() {
                        return Err(twice(":START_ID"));
                    }
                    layout.start_group = Some(group);
                    Col::StartId
                }
                Spec::EndId(group) => {
                    if layout.end_group.is_some() {
                        return Err(twice(":END_ID"));
                    }
                    layout.end_group = Some(group);
                    Col::EndId
                }
                Spec::Label if kind == FileKind::Relationships => {
                    return Err(misplaced(":LABEL"));
                }
                Spec::Type if kind == FileKind::Nodes => return Err(misplaced(":TYPE")),
                Spec::Label | Spec::Type => {
                    let col = if spec == Spec::Label {
                        Col::Label
                    } else {
                        Col::Type
                    };
                    if layout
                        .cols
                        .iter()
                        .any(|c| std::mem::discriminant(c) == std::mem::discriminant(&col))
                    {
                        return Err(twice(if spec == Spec::Label {
                            ":LABEL"
                        } else {
                            ":TYPE"
                        }));
                    }
                    col
                }
                Spec::Ignore => Col::Ignore,
                Spec::Data(ty, array) => {
                    if names.contains(&name) {
                        return Err(at(format!("the column `{name}` is given twice")));
                    }
                    names.push(name);
                    match name {
                        "valid_from" | "valid_to" if array => {
                            return Err(at(format!("`{name}` is a date, not an array")));
                        }
                        "valid_from" => Col::ValidFrom,
                        "valid_to" => Col::ValidTo,
                        _ => {
                            layout.props += 1;
                            Col::Prop {
                                key: Name::new(name),
                                ty,
                                array,
                            }
                        }
                    }
                }
            };
            layout.cols.push(col);
            layout.heads.push(text.clone());
        }
        match kind {
            FileKind::Nodes if layout.id_group.is_none() => Err(self.bad(
                line,
                "a node file needs an :ID column (such as `id:ID(Actor)` or `:ID`)",
            )),
            FileKind::Relationships
                if layout.start_group.is_none() || layout.end_group.is_none() =>
            {
                Err(self.bad(
                    line,
                    "a relationship file needs a :START_ID and an :END_ID column \
                     (such as `:START_ID(Actor)` and `:END_ID(Agreement)`)",
                ))
            }
            _ => Ok(layout),
        }
    }
}

fn line_of(rec: &csv::StringRecord) -> u64 {
    rec.position().map_or(0, csv::Position::line)
}

/// Parses a date, quickly for the common `YYYY-MM-DD`.
fn parse_date(text: &str) -> Result<Date, TimeError> {
    let b = text.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        b.get(r)?.iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    if b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && let (Some(y), Some(m), Some(d)) = (digits(0..4), digits(5..7), digits(8..10))
    {
        return i32::try_from(y)
            .ok()
            .and_then(|y| Date::from_ymd(y, m, d))
            .ok_or_else(|| TimeError::BadDate {
                text: text.to_owned(),
            });
    }
    Date::parse(text)
}

/// Parses one non-empty field as its column's type.
fn scalar(ty: Scalar, text: &str) -> Result<Value, String> {
    let t = text.trim_ascii();
    match ty {
        Scalar::Str => Ok(Value::str(text)),
        Scalar::Int => t
            .parse::<i64>()
            .map(Value::Int)
            .map_err(|_| format!("`{text}` is not an integer")),
        Scalar::Float => match t.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Value::Float(f)),
            Ok(_) => Err(format!("`{text}` is not a finite number")),
            Err(_) => Err(format!("`{text}` is not a number")),
        },
        Scalar::Bool => {
            if t.eq_ignore_ascii_case("true") {
                Ok(Value::Bool(true))
            } else if t.eq_ignore_ascii_case("false") {
                Ok(Value::Bool(false))
            } else {
                Err(format!("`{text}` is not a boolean (true or false)"))
            }
        }
        Scalar::Date => parse_date(t).map(Value::Date).map_err(|e| e.to_string()),
    }
}

/// A property value, or `None` for an empty field.
fn value(
    ty: Scalar,
    array: bool,
    text: &str,
    array_delimiter: char,
) -> Result<Option<Value>, String> {
    if text.is_empty() || (ty != Scalar::Str && text.trim_ascii().is_empty()) {
        return Ok(None);
    }
    if !array {
        return scalar(ty, text).map(Some);
    }
    let items = text
        .split(array_delimiter)
        .map(|item| {
            if ty != Scalar::Str && item.trim_ascii().is_empty() {
                Err(format!(
                    "an empty element in `{text}`, an array of {} values",
                    ty.name()
                ))
            } else {
                scalar(ty, item)
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(Value::List(Arc::from(items))))
}

/// Labels written `A:B` or `A;B`.
fn split_labels(text: &str) -> Names {
    text.split([':', ';'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(Name::new)
        .collect()
}

/// How often the progress bar is moved.
const PROGRESS_EVERY: u64 = 4096;

/// The most node rows one import takes: their ordinals are `u32`s below the id table's empty
/// mark.
const MAX_NODES: usize = u32::MAX as usize - 1;

impl Importer<'_> {
    fn group(&mut self, name: &str) -> u32 {
        match self.groups.iter().position(|g| g == name) {
            Some(i) => i as u32,
            None => {
                self.groups.push(name.to_owned());
                (self.groups.len() - 1) as u32
            }
        }
    }

    /// Writes the node id for (`group`, `id`) into `id_buf`.
    fn node_key(&mut self, group: u32, id: &str) {
        self.id_buf.clear();
        let name = &self.groups[group as usize];
        if self.options.namespace_ids && !name.is_empty() {
            self.id_buf.push_str(name);
            self.id_buf.push(':');
        }
        self.id_buf.push_str(id);
    }

    fn progress(&self, src: &Source, file: &str) {
        if let Some(pb) = &self.options.progress {
            pb.set_message(file.to_owned());
            pb.set_position(self.done + src.bytes_read());
        }
    }

    fn node_file(
        &mut self,
        w: &mut Batches,
        label: &str,
        path: &Path,
    ) -> Result<(), InterchangeError> {
        let mut src = Source::open(path, self.options.delimiter)?;
        let layout = src.header(FileKind::Nodes, self.options.namespace_ids)?;
        let group_name = layout.id_group.clone().unwrap_or_default();
        let group = self.group(&group_name);
        self.node_files.push(src.file.clone());
        self.known.start_file(group);
        self.progress(&src, &src.file);
        let base = split_labels(label);
        let delim = char::from(self.options.array_delimiter);
        let width = layout.cols.len();
        let mut rec = csv::StringRecord::new();
        let mut rows = 0u64;
        while src.next(&mut rec)? {
            let line = line_of(&rec);
            if rec.len() != width {
                return Err(ragged(&src, line, width, rec.len()));
            }
            let mut id: &str = "";
            let mut labels = base.clone();
            let mut props: Props = Vec::with_capacity(layout.props);
            let mut from = Bound::Open;
            let mut to = Bound::Open;
            for (i, (col, text)) in layout.cols.iter().zip(rec.iter()).enumerate() {
                match col {
                    Col::Id(stored) => {
                        id = text.trim_ascii();
                        if id.is_empty() {
                            return Err(at_col(&src, line, i, &layout, "the id is empty"));
                        }
                        if let Some(key) = stored {
                            props.push((key.clone(), Value::str(id)));
                        }
                    }
                    Col::Label => {
                        for l in text.split(delim).map(str::trim).filter(|l| !l.is_empty()) {
                            if !labels.iter().any(|x| x == l) {
                                let l = Name::new(l);
                                *self.labels.entry(l.clone()).or_default() += 1;
                                labels.push(l);
                            }
                        }
                    }
                    Col::ValidFrom => from = bound(&src, line, i, &layout, text, Bound::Unknown)?,
                    Col::ValidTo => to = bound(&src, line, i, &layout, text, Bound::Open)?,
                    Col::Prop { key, ty, array } => match value(*ty, *array, text, delim) {
                        Ok(Some(v)) => props.push((key.clone(), v)),
                        Ok(None) => {}
                        Err(e) => return Err(at_col(&src, line, i, &layout, e)),
                    },
                    Col::Ignore | Col::StartId | Col::EndId | Col::Type => {}
                }
            }
            let valid = valid_time(&src, line, from, to)?;
            self.node_key(group, id);
            let node_id = Name::new(&self.id_buf);
            if self.known.len() >= MAX_NODES {
                return Err(src.bad(line, format!("an import takes at most {MAX_NODES} nodes")));
            }
            if let Err(first) = self.known.insert(&node_id, line) {
                return Err(self.clash(&src, line, &group_name, first));
            }
            let event = Event::NodeAdded {
                id: node_id,
                labels,
                props,
                valid,
                sources: self.sources.clone(),
            };
            w.push(&src, event, line)?;
            rows += 1;
            if rows.is_multiple_of(PROGRESS_EVERY) {
                self.progress(&src, &src.file);
            }
        }
        if rows > 0 {
            for l in base {
                *self.labels.entry(l).or_default() += rows;
            }
        }
        w.flush()?;
        self.nodes += rows;
        self.files.push(FileSummary {
            kind: FileKind::Nodes,
            name: label.to_owned(),
            path: path.to_owned(),
            rows,
        });
        Ok(())
    }

    fn clash(&self, src: &Source, line: u64, group: &str, first: Known) -> InterchangeError {
        let where_first = format!(
            "{}:{}",
            self.node_files
                .get(first.file as usize)
                .map_or("?", String::as_str),
            first.line
        );
        let first_group = self
            .groups
            .get(first.group as usize)
            .map_or("", String::as_str);
        let id = &self.id_buf;
        if first_group == group {
            src.bad(
                line,
                format!(
                    "the id `{id}`{} is given twice (first at {where_first})",
                    group_label(group)
                ),
            )
        } else {
            src.bad(
                line,
                format!(
                    "the id `{id}`{} is already the id of a node{} at {where_first}; node ids are \
                     global: make them unique across groups, or import with namespaced ids \
                     (`Group:id`)",
                    group_label(group),
                    group_label(first_group)
                ),
            )
        }
    }

    fn relationship_file(
        &mut self,
        w: &mut Batches,
        file_number: usize,
        rel_type: &str,
        path: &Path,
    ) -> Result<(), InterchangeError> {
        let mut src = Source::open(path, self.options.delimiter)?;
        let layout = src.header(FileKind::Relationships, false)?;
        let header_line = layout.line;
        let mut ends = [0u32; 2];
        for (slot, group) in ends
            .iter_mut()
            .zip([&layout.start_group, &layout.end_group])
        {
            let group = group.as_deref().unwrap_or("");
            *slot = match self.groups.iter().position(|g| g == group) {
                Some(i) => i as u32,
                None => {
                    return Err(src.bad(
                        header_line,
                        format!(
                            "no node file of this import has the ID group `{group}`{}",
                            if self.groups.is_empty() {
                                String::new()
                            } else {
                                format!(
                                    " (its groups: {})",
                                    self.groups
                                        .iter()
                                        .map(|g| format!("`{g}`"))
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                )
                            }
                        ),
                    ));
                }
            };
        }
        self.progress(&src, &src.file);
        let file_type = rel_type.trim();
        let file_type = (!file_type.is_empty()).then(|| Name::new(file_type));
        let mut lower_of: FxHashMap<Name, Name> = FxHashMap::default();
        let has_type_col = layout.cols.iter().any(|c| matches!(c, Col::Type));
        let file_lower = Name::new(file_type.as_deref().unwrap_or("").to_lowercase());
        let delim = char::from(self.options.array_delimiter);
        let width = layout.cols.len();
        let mut rec = csv::StringRecord::new();
        let mut rows = 0u64;
        let mut per_type: FxHashMap<Name, u64> = FxHashMap::default();
        // `{type}-{file}-`, kept while the type stays, then the row.
        let mut edge_id = String::new();
        let mut prefix_type = Name::default();
        let mut prefix_len = 0;
        let mut last: [(String, Option<Name>); 2] = Default::default();
        while src.next(&mut rec)? {
            let line = line_of(&rec);
            if rec.len() != width {
                return Err(ragged(&src, line, width, rec.len()));
            }
            let mut from_id = None;
            let mut to_id = None;
            let mut row_type = None;
            let mut props: Props = Vec::with_capacity(layout.props);
            let mut from = Bound::Open;
            let mut to = Bound::Open;
            for (i, (col, text)) in layout.cols.iter().zip(rec.iter()).enumerate() {
                match col {
                    Col::StartId | Col::EndId => {
                        let start = matches!(col, Col::StartId);
                        let id = text.trim_ascii();
                        if id.is_empty() {
                            return Err(at_col(&src, line, i, &layout, "the id is empty"));
                        }
                        let side = usize::from(!start);
                        let group = ends[side];
                        // Files are often sorted by one end: the same id row after row.
                        let (last_text, last_node) = &mut last[side];
                        let node = match last_node {
                            Some(node) if last_text == id => node.clone(),
                            _ => {
                                let node = self.resolve(group, id).ok_or_else(|| {
                                    at_col(&src, line, i, &layout, self.unknown(group, id))
                                })?;
                                last_text.clear();
                                last_text.push_str(id);
                                *last_node = Some(node.clone());
                                node
                            }
                        };
                        if start {
                            from_id = Some(node);
                        } else {
                            to_id = Some(node);
                        }
                    }
                    Col::Type => {
                        let t = text.trim_ascii();
                        if !t.is_empty() {
                            row_type = Some(Name::new(t));
                        }
                    }
                    Col::ValidFrom => from = bound(&src, line, i, &layout, text, Bound::Unknown)?,
                    Col::ValidTo => to = bound(&src, line, i, &layout, text, Bound::Open)?,
                    Col::Prop { key, ty, array } => match value(*ty, *array, text, delim) {
                        Ok(Some(v)) => props.push((key.clone(), v)),
                        Ok(None) => {}
                        Err(e) => return Err(at_col(&src, line, i, &layout, e)),
                    },
                    Col::Ignore | Col::Id(_) | Col::Label => {}
                }
            }
            let (Some(from_id), Some(to_id)) = (from_id, to_id) else {
                return Err(src.bad(line, "a relationship needs a start and an end"));
            };
            let valid = valid_time(&src, line, from, to)?;
            let Some(t) = row_type.or_else(|| file_type.clone()) else {
                return Err(src.bad(
                    line,
                    "the relationship has no type: give one with the file (`TYPE=FILE`) or in a \
                     :TYPE column",
                ));
            };
            rows += 1;
            // Without a :TYPE column every row has the file's type: no lookups per row.
            let lower = if has_type_col {
                *per_type.entry(t.clone()).or_default() += 1;
                match lower_of.get(&t) {
                    Some(l) => l.clone(),
                    None => {
                        let l = Name::new(t.to_lowercase());
                        lower_of.insert(t.clone(), l.clone());
                        l
                    }
                }
            } else {
                file_lower.clone()
            };
            if lower != prefix_type {
                edge_id.clear();
                edge_id.push_str(&lower);
                edge_id.push('-');
                push_number(&mut edge_id, file_number as u64);
                edge_id.push('-');
                prefix_len = edge_id.len();
                prefix_type = lower;
            }
            edge_id.truncate(prefix_len);
            push_number(&mut edge_id, rows);
            let event = Event::EdgeAdded {
                id: Name::new(&edge_id),
                rel_type: t,
                from: from_id,
                to: to_id,
                props,
                valid,
                sources: self.sources.clone(),
            };
            w.push(&src, event, line)?;
            if rows.is_multiple_of(PROGRESS_EVERY) {
                self.progress(&src, &src.file);
            }
        }
        if !has_type_col
            && let Some(t) = &file_type
            && rows > 0
        {
            per_type.insert(t.clone(), rows);
        }
        for (t, n) in per_type {
            *self.types.entry(t).or_default() += n;
        }
        w.flush()?;
        self.relationships += rows;
        self.files.push(FileSummary {
            kind: FileKind::Relationships,
            name: rel_type.to_owned(),
            path: path.to_owned(),
            rows,
        });
        Ok(())
    }

    /// The node id of (`group`, `id`), if a node file of this import defined it.
    fn resolve(&mut self, group: u32, id: &str) -> Option<Name> {
        self.node_key(group, id);
        let ordinal = self.known.get(&self.id_buf)?;
        (self.known.group(ordinal) == group).then(|| self.known.name(ordinal, &self.id_buf))
    }

    fn unknown(&self, group: u32, id: &str) -> String {
        let name = self.groups.get(group as usize).map_or("", String::as_str);
        let mut text = format!("no node{} has the id `{id}`", group_label(name));
        if let Some(k) = self.known.get(id).map(|o| self.known.group(o))
            && k != group
        {
            let other = self.groups.get(k as usize).map_or("", String::as_str);
            let _ = write!(text, " (a node{} has it)", group_label(other));
        }
        text
    }
}

/// Appends a number's decimal digits (without the formatting machinery: once per row).
fn push_number(buf: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // Only ASCII digits were written.
    buf.push_str(std::str::from_utf8(&digits[i..]).unwrap_or_default());
}

/// ` of group `X``, or ` of the global group` for the unnamed one.
fn group_label(group: &str) -> String {
    if group.is_empty() {
        " of the global group".into()
    } else {
        format!(" of group `{group}`")
    }
}

fn ragged(src: &Source, line: u64, width: usize, found: usize) -> InterchangeError {
    src.bad(
        line,
        format!("expected {width} fields, as in the header, but found {found}"),
    )
}

fn at_col(
    src: &Source,
    line: u64,
    i: usize,
    layout: &Layout,
    detail: impl std::fmt::Display,
) -> InterchangeError {
    let head = layout.heads.get(i).map_or("", String::as_str);
    src.bad(line, format!("column {} (`{head}`): {detail}", i + 1))
}

/// A valid-time bound from a `valid_from` / `valid_to` field; `empty` when there is none.
fn bound(
    src: &Source,
    line: u64,
    i: usize,
    layout: &Layout,
    text: &str,
    empty: Bound,
) -> Result<Bound, InterchangeError> {
    let t = text.trim_ascii();
    if t.is_empty() {
        return Ok(empty);
    }
    parse_date(t)
        .map(Bound::Date)
        .map_err(|e| at_col(src, line, i, layout, e))
}

fn valid_time(
    src: &Source,
    line: u64,
    from: Bound,
    to: Bound,
) -> Result<ValidTime, InterchangeError> {
    ValidTime::new(from, to).map_err(|_| {
        let show = |b: Bound| match b {
            Bound::Date(d) => d.to_string(),
            Bound::Open => "..".into(),
            Bound::Unknown => String::new(),
        };
        src.bad(
            line,
            format!(
                "valid_to `{}` comes before valid_from `{}`",
                show(to),
                show(from)
            ),
        )
    })
}

/// An event the knowledge base refused, placed at its line.
fn refused_in(file: &str, line: u64, e: CommitError) -> InterchangeError {
    match e {
        CommitError::Refused(e) => InterchangeError::Line {
            file: file.to_owned(),
            line,
            detail: format!("refused ({}): {}", e.summary, e.reason),
        },
        other => InterchangeError::Commit(other),
    }
}

/// Events read from one file, each with its line and already encoded, on their way to the
/// writing thread.
struct Batch {
    file: String,
    events: EncodedEvents,
}

/// The reading thread's side of the channel: events gathered into batches, one file each.
/// Encoding them here spares the writing thread, the slower of the two, a tenth of its work.
struct Batches {
    send: std::sync::mpsc::SyncSender<Batch>,
    /// Batches the writing thread has emptied, to fill again: no reallocation, and no
    /// freeing of this thread's memory on that one.
    spare: std::sync::mpsc::Receiver<EncodedEvents>,
    file: String,
    events: EncodedEvents,
}

impl Batches {
    /// Events per batch: enough to make sending cheap, few enough to keep both threads busy.
    const SIZE: usize = 4096;

    fn new(
        send: std::sync::mpsc::SyncSender<Batch>,
        spare: std::sync::mpsc::Receiver<EncodedEvents>,
    ) -> Batches {
        Batches {
            send,
            spare,
            file: String::new(),
            events: EncodedEvents::with_capacity(Self::SIZE),
        }
    }

    fn push(&mut self, src: &Source, event: Event, line: u64) -> Result<(), InterchangeError> {
        if self.events.is_empty() {
            self.file.clone_from(&src.file);
        }
        self.events
            .push(event, line)
            .map_err(|detail| InterchangeError::Line {
                file: src.file.clone(),
                line,
                detail: format!("cannot encode the event: {detail}"),
            })?;
        if self.events.len() >= Self::SIZE {
            self.flush()?;
        }
        Ok(())
    }

    /// Sends what is gathered; fails when the writing thread has stopped (its own error is
    /// the one reported).
    fn flush(&mut self) -> Result<(), InterchangeError> {
        if self.events.is_empty() {
            return Ok(());
        }
        let next = match self.spare.try_recv() {
            Ok(mut spare) => {
                spare.recycle();
                spare
            }
            Err(_) => EncodedEvents::with_capacity(Self::SIZE),
        };
        let events = std::mem::replace(&mut self.events, next);
        let batch = Batch {
            file: self.file.clone(),
            events,
        };
        self.send.send(batch).map_err(|_| InterchangeError::Io {
            file: self.file.clone(),
            detail: "the import stopped".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_fields() {
        assert_eq!(
            parse_field("id:ID(Actor)").unwrap(),
            ("id", Spec::Id("Actor".into()))
        );
        assert_eq!(parse_field(":ID").unwrap(), ("", Spec::Id(String::new())));
        assert_eq!(
            parse_field(":START_ID(Agreement)").unwrap(),
            ("", Spec::StartId("Agreement".into()))
        );
        assert_eq!(
            parse_field("name").unwrap(),
            ("name", Spec::Data(Scalar::Str, false))
        );
        assert_eq!(
            parse_field("year:int").unwrap(),
            ("year", Spec::Data(Scalar::Int, false))
        );
        assert_eq!(
            parse_field("tags:string[]").unwrap(),
            ("tags", Spec::Data(Scalar::Str, true))
        );
        assert_eq!(
            parse_field("a:b:LONG").unwrap(),
            ("a:b", Spec::Data(Scalar::Int, false))
        );
        assert_eq!(parse_field(":LABEL").unwrap(), ("", Spec::Label));
        assert!(
            parse_field("x:integer")
                .unwrap_err()
                .contains("unknown type")
        );
        assert!(
            parse_field("x:datetime")
                .unwrap_err()
                .contains("not supported")
        );
        assert!(parse_field("x:int(G)").is_err());
        assert!(parse_field(":int").is_err());
        assert!(parse_field("id:ID(A").is_err());
    }

    #[test]
    fn the_fast_date_path_agrees_with_edtf() {
        for text in [
            "2020-07-14",
            "1985-01-01",
            "2000-02-29",
            "0001-12-31",
            "2024-12-31",
        ] {
            assert_eq!(
                parse_date(text).unwrap(),
                Date::parse(text).unwrap(),
                "{text}"
            );
        }
        for text in [
            "2021-02-29",
            "2020-13-01",
            "2020-00-10",
            "2020-01-32",
            "2020-01-00",
        ] {
            assert!(parse_date(text).is_err(), "{text}");
            assert!(Date::parse(text).is_err(), "{text}");
        }
        assert_eq!(parse_date("2007-02").unwrap().to_string(), "2007-02");
    }

    #[test]
    fn numbers() {
        for n in [0, 7, 10, 99, 102_525, u64::MAX] {
            let mut s = String::from("x-");
            push_number(&mut s, n);
            assert_eq!(s, format!("x-{n}"));
        }
    }

    #[test]
    fn values() {
        assert_eq!(value(Scalar::Int, false, "", ';').unwrap(), None);
        assert_eq!(
            value(Scalar::Int, false, " 7 ", ';').unwrap(),
            Some(Value::Int(7))
        );
        assert!(value(Scalar::Int, false, "abc", ';').is_err());
        assert!(value(Scalar::Float, false, "NaN", ';').is_err());
        assert_eq!(
            value(Scalar::Bool, false, "TRUE", ';').unwrap(),
            Some(Value::Bool(true))
        );
        assert!(value(Scalar::Bool, false, "yes", ';').is_err());
        assert_eq!(
            value(Scalar::Int, true, "1;2", ';').unwrap(),
            Some(Value::List(Arc::from(vec![Value::Int(1), Value::Int(2)])))
        );
        assert!(value(Scalar::Int, true, "1;;2", ';').is_err());
        assert_eq!(
            value(Scalar::Str, true, "a;;b", ';').unwrap(),
            Some(Value::List(Arc::from(vec![
                Value::str("a"),
                Value::str(""),
                Value::str("b")
            ])))
        );
    }
}
