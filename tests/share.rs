//! Integration tests: share.
