//! Integration tests: server.
