//! `openctl server`: the embedded server.

use std::time::Duration;

use anyhow::Result;

use crate::cli::ServerArgs;
use crate::server::{self, RunOptions};

pub fn run(args: &ServerArgs) -> Result<()> {
    let db_path = match &args.db {
        Some(path) => path.clone(),
        None => crate::paths::ensure_openctl_home()?.join("server.db"),
    };
    server::run(RunOptions {
        listen: args.listen.clone(),
        db_path,
        public_url: args.public_url.clone(),
        token: args.token.clone().filter(|t| !t.is_empty()),
        limits: server::Limits {
            max_connections: args.max_connections as usize,
            header_timeout: Duration::from_secs(args.header_timeout),
            body_timeout: Duration::from_secs(args.body_timeout),
            idle_timeout: Duration::from_secs(args.idle_timeout),
        },
    })
}
