//! Integration tests only: see `tests/graph`.
