//! `openctl server`: the embedded server.

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
    })
}
