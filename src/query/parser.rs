//! The parser (being written).
