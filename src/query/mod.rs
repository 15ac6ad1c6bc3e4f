//! The query language: text → [`ast`] (parser) → plan → rows, on a view of the graph.
//!
//! - [`ast`]: the syntax tree, with spans into the source.
//! - [`parser`]: nom parsers, one function per grammar rule (`grammar/diplograph.ebnf`).
//! - [`error`]: errors and warnings that point into the text, rendered with a caret.

pub mod algo;
pub mod ast;
pub mod change;
pub mod compiled;
pub mod error;
pub mod parser;

pub use error::{Cause, ErrorKind, QueryError, Warning};
pub mod eval;
pub mod exec;
pub mod filter;
pub mod format;
pub mod load_csv;
pub mod session;
pub mod value;

pub use exec::{Budget, Output};
pub use session::{Outcome, Session};
pub use value::{Cell, Val};
