//! The git post-commit reminder and the Claude Code hook helpers (issue 6).
