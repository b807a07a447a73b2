//! Integration tests: plugin.
