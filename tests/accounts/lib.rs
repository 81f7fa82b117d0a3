//! Integration tests only: see `tests/accounts`.
