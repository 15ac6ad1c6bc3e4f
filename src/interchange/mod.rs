//! Getting data in and out in other tools' formats.

pub mod bibtex;
pub mod jsonl;
