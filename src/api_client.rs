//! HTTP client for the server API (CONTRACT.md), shared by the CLI and the daemon.
