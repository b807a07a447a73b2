//! `openctl-daemon`: the daemon alone, the same as `openctl daemon start
//! --foreground`. A separate binary so the process that runs all day maps
//! only the daemon's code, not the CLI's and the server's (issue 7: daemon
//! RSS). `openctl` starts it when it sits next to it.

fn main() {
    std::process::exit(openctl::run_daemon_binary());
}
