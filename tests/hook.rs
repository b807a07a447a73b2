//! Integration tests: hook.
