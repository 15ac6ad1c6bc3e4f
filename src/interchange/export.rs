//! Export (being written).
