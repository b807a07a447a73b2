//! Integration tests: redact.
