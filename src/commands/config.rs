//! `openctl config get|set|unset|list`.
//!
//! Every value shown is the one in effect, from the same resolution the
//! other commands use ([`Config::setting`]), with where it comes from:
//! `--server`, the environment, config.json or the default.

use anyhow::Result;
use serde_json::{json, Value};

use crate::cli::{
    ConfigCommand, ConfigGetArgs, ConfigKey, ConfigListArgs, ConfigSetArgs, ConfigUnsetArgs,
};
use crate::config::{self, Config, Key, Kind, Scope, Setting, Source, KEYS};
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

/// `--server` on a global setting is a mistake (except for reading
/// `server` itself, whose value the flag is).
fn reject_server_flag(key: &Key, flag: Option<&str>, reading: bool) -> Result<()> {
    let allowed = key.scope == Scope::PerServer || (reading && key.name == "server");
    if flag.is_some() && !allowed {
        return Err(CliError::usage(format!(
            "'{}' is a global setting; it does not take --server",
            key.name
        ))
        .into());
    }
    Ok(())
}

/// A value for people: a token masked unless `reveal`; `None` when not set.
fn shown(key: &Key, value: &Value, reveal: bool) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) if key.kind == Kind::Secret && !reveal => Some(crate::redact::preview(s)),
        Value::String(s) => Some(s.clone()),
        v => Some(v.to_string()),
    }
}

/// Where a setting comes from, for people: `default`, `from
/// $OPENCTL_SERVER_URL`, … (`not set` for a token there is none of), and
/// for a per-server setting which server, and why that one when a flag or
/// the environment chose it.
fn provenance(setting: &Setting) -> String {
    let mut text = if setting.value.is_null() {
        "not set".to_string()
    } else {
        setting.source.describe()
    };
    if let Some(server) = &setting.server {
        text.push_str(&format!(" for {}", server.value));
        if matches!(server.source, Source::Flag | Source::Env(_)) {
            text.push_str(&format!(", server {}", server.source.describe()));
        }
    }
    text
}

/// The JSON of a setting: the same shape for get, set, unset and each
/// entry of list.
fn to_json(setting: &Setting, reveal: bool) -> Value {
    let key = setting.key;
    let value = match &setting.value {
        Value::String(s) if key.kind == Kind::Secret && !reveal => {
            Value::String(crate::redact::preview(s))
        }
        v => v.clone(),
    };
    json!({
        "key": key.name,
        "value": value,
        "source": setting.source.kind(),
        "origin": setting.source.origin(),
        "set": setting.stored,
        "scope": if key.scope == Scope::Global { "global" } else { "server" },
        "server": setting.server.as_ref().map(|s| s.value.clone()),
        "server_source": setting.server.as_ref().map(|s| s.source.kind()),
        "help": key.help,
    })
}

fn get(args: &ConfigGetArgs) -> Result<()> {
    let flag = args.setting.server.as_deref();
    let key = config::key(&args.setting.key)?;
    reject_server_flag(key, flag, true)?;
    let setting = Config::load()?.setting(key, flag)?;
    // --json is for scripts: the token in full (documented in --help).
    if args.json {
        return output::print_json(&to_json(&setting, true));
    }
    output::println(shown(key, &setting.value, args.show_secret).unwrap_or_default())?;
    let mut note = provenance(&setting);
    if key.kind == Kind::Secret && setting.value.is_string() && !args.show_secret {
        note.push_str("; masked: --show-secret or --json prints it");
    }
    eprintln!("{}", output::style_dim(&format!("({note})")));
    Ok(())
}

/// Store `value` for a setting in config.json, or remove it (`None`), for
/// the server `--server` names when it is per-server. Returns whether the
/// file had a value, and the setting now in effect.
fn write(target: &ConfigKey, value: Option<&Value>) -> Result<(bool, Setting)> {
    let flag = target.server.as_deref();
    let key = config::key(&target.key)?;
    reject_server_flag(key, flag, false)?;
    // Unchecked: set and unset must be able to repair a bad value.
    let server = match key.scope {
        Scope::PerServer => config::resolve_server(flag, &Config::load_unchecked()?)?,
        Scope::Global => String::new(),
    };
    let had = Config::file()?.update(|map| {
        let map = match key.scope {
            Scope::Global => map,
            Scope::PerServer => config::server_entry_mut(map, &server)?,
        };
        Ok(match value {
            Some(v) => map.insert(key.json.to_string(), v.clone()).is_some(),
            None => map.remove(key.json).is_some(),
        })
    })?;
    Ok((had, Config::load_unchecked()?.setting(key, flag)?))
}

/// After set or unset: say when what config.json now holds is not what
/// commands use, because the environment overrides it.
fn warn_if_overridden(setting: &Setting) {
    if let Source::Env(var) = &setting.source {
        output::warn(format!(
            "${var} is set: commands use {} until it is unset",
            shown(setting.key, &setting.value, false).unwrap_or_default()
        ));
    }
}

fn set(args: &ConfigSetArgs) -> Result<()> {
    let key = config::key(&args.setting.key)?;
    let value = config::parse_value(key, &args.value)?;
    let (_, now) = write(&args.setting, Some(&value))?;
    if args.json {
        output::print_json(&to_json(&now, false))?;
    }
    let value = shown(key, &value, false).unwrap_or_default();
    match &now.server {
        None => eprintln!("{} {} = {value}", output::style_ok("✓"), key.name),
        Some(server) => eprintln!(
            "{} {} = {value} for {}",
            output::style_ok("✓"),
            key.name,
            server.value
        ),
    }
    warn_if_overridden(&now);
    Ok(())
}

fn unset(args: &ConfigUnsetArgs) -> Result<()> {
    let (removed, now) = write(&args.setting, None)?;
    if args.json {
        output::print_json(&to_json(&now, false))?;
    }
    let name = now.key.name;
    if removed {
        let effect = match shown(now.key, &now.value, false) {
            Some(v) => format!("{v} ({})", provenance(&now)),
            None => provenance(&now),
        };
        eprintln!("{} {name} reset: {effect}", output::style_ok("✓"));
    } else {
        eprintln!("{name} was not set; nothing changed");
    }
    warn_if_overridden(&now);
    Ok(())
}

fn list(args: &ConfigListArgs) -> Result<()> {
    let cfg = Config::load()?;
    let settings = KEYS
        .iter()
        .map(|key| cfg.setting(key, args.server.as_deref()))
        .collect::<Result<Vec<_>>>()?;
    if args.json {
        let obj: serde_json::Map<String, Value> = settings
            .iter()
            .map(|s| (s.key.name.to_string(), to_json(s, args.show_secret)))
            .collect();
        return output::print_json(&obj);
    }
    for setting in &settings {
        let key = setting.key;
        let value = shown(key, &setting.value, args.show_secret);
        output::println(format!(
            "{} = {}  ({})",
            key.name,
            value.as_deref().unwrap_or("-"),
            provenance(setting)
        ))?;
    }
    Ok(())
}
