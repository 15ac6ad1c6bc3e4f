//! Getting data in and out in other tools' formats.

pub mod bibtex;
pub mod jsonl;
pub mod export;
pub mod neo4j_csv;
