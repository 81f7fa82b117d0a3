//! Integration tests only: see `tests/media`.
