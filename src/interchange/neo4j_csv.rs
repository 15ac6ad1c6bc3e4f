//! Neo4j admin-import CSV (being written).
