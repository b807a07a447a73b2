//! The embedded openctl server (issue 3): HTTP API of CONTRACT.md, SQLite
//! storage, live viewer page.
