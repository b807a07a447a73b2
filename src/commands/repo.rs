//! `openctl repo allow|deny|list`: which repositories may be shared with
//! which server.

use std::path::{Path, PathBuf};

use anyhow::Result;
use serde_json::json;

use crate::cli::{RepoCommand, RepoDenyArgs, RepoListArgs, RepoPathArgs};
use crate::config::{self, Config};
use crate::output;
use crate::repo;

pub fn run(cmd: RepoCommand) -> Result<()> {
    match cmd {
        RepoCommand::Allow(args) => allow(&args),
        RepoCommand::Deny(args) => deny(&args),
        RepoCommand::List(args) => list(&args),
    }
}

fn allow(args: &RepoPathArgs) -> Result<()> {
    let cfg = Config::load()?;
    let server = config::resolve_server(args.server.server.as_deref(), &cfg)?;
    let path = args.path.clone().unwrap_or_else(|| PathBuf::from("."));
    let identity = repo::identify(&path)?;
    if config::allow_repo(&server, &identity.id)? {
        eprintln!(
            "{} Allowed {} for {server}",
            output::style_ok("✓"),
            identity.id
        );
    } else {
        eprintln!("{} is already allowed for {server}", identity.id);
    }
    Ok(())
}

fn deny(args: &RepoDenyArgs) -> Result<()> {
    let cfg = Config::load()?;
    let server = config::resolve_server(args.server.server.as_deref(), &cfg)?;
    if args.all {
        let repos = cfg.allowed_repos(&server);
        for r in &repos {
            config::deny_repo(&server, r)?;
        }
        eprintln!("Denied {} repositories for {server}", repos.len());
        return Ok(());
    }
    let target = args.path.clone().unwrap_or_else(|| ".".to_string());
    // An id that is in the allowlist verbatim (e.g. from tab completion)
    // is removed as is; otherwise the argument is a path to identify.
    let id = if cfg.is_repo_allowed(&server, &target) {
        target
    } else {
        repo::identify(Path::new(&target))?.id
    };
    if config::deny_repo(&server, &id)? {
        eprintln!("{} Denied {id} for {server}", output::style_ok("✓"));
    } else {
        eprintln!("{id} was not allowed for {server}; nothing changed");
    }
    Ok(())
}

fn list(args: &RepoListArgs) -> Result<()> {
    let cfg = Config::load()?;
    let servers = if args.all {
        cfg.servers()
    } else {
        vec![config::resolve_server(args.server.server.as_deref(), &cfg)?]
    };
    if args.json {
        let obj: serde_json::Map<String, serde_json::Value> = servers
            .iter()
            .map(|s| (s.clone(), json!(cfg.allowed_repos(s))))
            .collect();
        return output::print_json(&obj);
    }
    let mut any = false;
    for server in &servers {
        let repos = cfg.allowed_repos(server);
        if args.all {
            if repos.is_empty() {
                continue;
            }
            output::println(format!("{server}:"))?;
            for r in repos {
                output::println(format!("  {r}"))?;
                any = true;
            }
        } else {
            for r in repos {
                output::println(r)?;
                any = true;
            }
        }
    }
    if !any {
        eprintln!(
            "No repositories are allowed for {}. Run: openctl repo allow [PATH]",
            servers.join(", ")
        );
    }
    Ok(())
}
