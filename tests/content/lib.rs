//! Integration tests only: see `tests/content`.
