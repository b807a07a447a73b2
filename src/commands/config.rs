//! `openctl config get|set|unset|list`.

use anyhow::Result;
use serde_json::{json, Value};

use crate::cli::{ConfigCommand, ConfigKeyArgs, ConfigListArgs, ConfigSetArgs};
use crate::config::{self, Config, Key, Kind, Scope, KEYS};
use crate::error::CliError;
use crate::output;

pub fn run(cmd: ConfigCommand) -> Result<()> {
    match cmd {
        ConfigCommand::Get(args) => get(&args),
        ConfigCommand::Set(args) => set(&args),
        ConfigCommand::Unset(args) => unset(&args),
        ConfigCommand::List(args) => list(&args),
    }
}

/// The server a per-server key applies to; `-s` on a global key is a mistake.
fn target_server(key: &Key, flag: Option<&str>, cfg: &Config) -> Result<String> {
    match key.scope {
        Scope::PerServer => config::resolve_server(flag, cfg),
        Scope::Global if flag.is_some() => Err(CliError::usage(format!(
            "'{}' is a global setting; it does not take --server",
            key.name
        ))
        .into()),
        Scope::Global => Ok(String::new()),
    }
}

fn display(key: &Key, value: Option<&Value>) -> String {
    match value {
        Some(Value::String(s)) if key.kind == Kind::Secret && !s.is_empty() => "********".into(),
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => key.default.to_string(),
    }
}

/// The value in effect as JSON: the stored one, else the typed default
/// (`null` for a setting with no default, such as `token`).
fn in_effect(key: &Key, stored: Option<&Value>) -> Value {
    if let Some(v) = stored {
        return v.clone();
    }
    match key.kind {
        _ if key.default.is_empty() => Value::Null,
        Kind::Bool => Value::Bool(key.default == "true"),
        Kind::Seconds | Kind::Minutes => key
            .default
            .parse::<u64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(key.default.to_string())),
        Kind::Url | Kind::Secret => Value::String(key.default.to_string()),
    }
}

fn get(args: &ConfigKeyArgs) -> Result<()> {
    let key = config::key(&args.key)?;
    let cfg = Config::load()?;
    let server = target_server(key, args.server.as_deref(), &cfg)?;
    let value = cfg.get(key, &server);
    // get prints the real value (scripts need the token); list masks it.
    if args.json {
        return output::print_json(&in_effect(key, value));
    }
    match value {
        Some(Value::String(s)) => output::println(s),
        Some(v) => output::println(v.to_string()),
        None => output::println(display(key, None)),
    }
}

fn set(args: &ConfigSetArgs) -> Result<()> {
    let key = config::key(&args.key)?;
    let value = config::parse_value(key, &args.value)?;
    // Unchecked: set must be able to repair a bad value in the file.
    let cfg = Config::load_unchecked()?;
    let server = target_server(key, args.server.as_deref(), &cfg)?;
    Config::file()?.update(|map| {
        match key.scope {
            Scope::Global => {
                map.insert(key.json.to_string(), value.clone());
            }
            Scope::PerServer => {
                config::server_entry_mut(map, &server)?.insert(key.json.to_string(), value.clone());
            }
        }
        Ok(())
    })?;
    if args.json {
        output::print_json(&value)?;
    }
    let shown = display(key, Some(&value));
    match key.scope {
        Scope::Global => eprintln!("{} {} = {shown}", output::style_ok("✓"), key.name),
        Scope::PerServer => eprintln!(
            "{} {} = {shown} for {server}",
            output::style_ok("✓"),
            key.name
        ),
    }
    Ok(())
}

fn unset(args: &ConfigKeyArgs) -> Result<()> {
    let key = config::key(&args.key)?;
    // Unchecked: unset must be able to remove a bad value from the file.
    let cfg = Config::load_unchecked()?;
    let server = target_server(key, args.server.as_deref(), &cfg)?;
    let removed = Config::file()?.update(|map| {
        Ok(match key.scope {
            Scope::Global => map.remove(key.json).is_some(),
            Scope::PerServer => config::server_entry_mut(map, &server)?
                .remove(key.json)
                .is_some(),
        })
    })?;
    if args.json {
        output::print_json(&in_effect(key, None))?;
    }
    if removed {
        let default = if key.default.is_empty() {
            "not set".to_string()
        } else {
            format!("its default ({})", key.default)
        };
        eprintln!("{} {} reset: {default}", output::style_ok("✓"), key.name);
    } else {
        eprintln!("{} was not set; nothing changed", key.name);
    }
    Ok(())
}

fn list(args: &ConfigListArgs) -> Result<()> {
    let cfg = Config::load()?;
    let server = config::resolve_server(args.server.as_deref(), &cfg)?;
    if args.json {
        let mut obj = serde_json::Map::new();
        for key in KEYS {
            let v = cfg.get(key, &server);
            obj.insert(
                key.name.to_string(),
                json!({
                    "value": display(key, v),
                    "set": v.is_some(),
                    "scope": if key.scope == Scope::Global { "global" } else { "server" },
                    "server": (key.scope == Scope::PerServer).then(|| server.clone()),
                    "help": key.help,
                }),
            );
        }
        return output::print_json(&obj);
    }
    for key in KEYS {
        let v = cfg.get(key, &server);
        let scope = match key.scope {
            Scope::Global => String::new(),
            Scope::PerServer => format!("  [{server}]"),
        };
        let shown = match (&v, key.default.is_empty()) {
            (None, true) => "(not set)".to_string(),
            (None, false) => format!("{} (default)", display(key, None)),
            (Some(_), _) => display(key, v),
        };
        output::println(format!("{} = {shown}{scope}", key.name))?;
    }
    Ok(())
}
