//! Integration tests: completions.
