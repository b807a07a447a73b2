//! The daemon (issue 4): watches the share allowlist, tails transcripts,
//! pushes to every server a session is shared with.
