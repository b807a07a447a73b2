#!/bin/sh
# Claude Code SessionEnd hook of the openctl plugin. Claude Code passes the
# hook's JSON on stdin; `openctl hook claude-session-end` parses it (with a
# JSON parser) and, when the session is shared, records the end so the
# openctl daemon sends what is left and completes it at once. A hook must
# never break Claude Code: this always exits 0.
if command -v openctl >/dev/null 2>&1; then
    openctl hook claude-session-end || true
else
    cat >/dev/null  # consume the input so Claude Code's write never fails
fi
exit 0
