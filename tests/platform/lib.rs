//! Integration tests of the platform live in `tests/platform/`; this library is empty.
