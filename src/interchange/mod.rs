//! Getting data in and out in other tools' formats.

pub mod bibtex;
pub mod export;
pub mod jsonl;
pub mod neo4j_csv;
