//! The command-line interface: every command and flag, defined once. The
//! static completion scripts and the dynamic completer are generated from it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use clap_complete::engine::{ArgValueCandidates, ArgValueCompleter, PathCompleter};

use crate::complete;

/// Share a Claude Code session live in the browser.
#[derive(Debug, Parser)]
#[command(
    name = "openctl",
    version,
    about = "Share a Claude Code session live: every prompt, answer, tool call and diff as it happens",
    long_about = None,
    propagate_version = true,
    after_help = "Run `openctl demo` to see a live share on this machine, or `openctl share` inside a project."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Share, unshare and list Claude Code sessions
    #[command(subcommand)]
    Session(SessionCommand),
    /// Share a session (same as `openctl session share`)
    Share(ShareArgs),
    /// Allow or deny repositories for sharing with a server
    #[command(subcommand)]
    Repo(RepoCommand),
    /// Start, stop and inspect the background daemon that streams shares
    #[command(subcommand)]
    Daemon(DaemonCommand),
    /// Read and change settings in ~/.openctl/config.json
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Print a shell completion script
    Completions(CompletionsArgs),
    /// Install or inspect the optional git post-commit reminder
    #[command(subcommand)]
    Hook(HookCommand),
    /// Run the embedded openctl server (API, live viewer, SQLite storage)
    Server(ServerArgs),
    /// See a live share on this machine: embedded server, sample session, live updates
    Demo(DemoArgs),
}

#[derive(Debug, Subcommand)]
pub enum SessionCommand {
    /// Share a session and print its URL
    Share(ShareArgs),
    /// Stop sharing a session
    Unshare(UnshareArgs),
    /// List Claude Code sessions of this project (or all) and their shares
    List(ListArgs),
    /// Show what redaction changes in a session before or after sharing
    Redactions(RedactionsArgs),
}

/// Which server: `--server`, else OPENCTL_SERVER_URL, else config `server`,
/// else http://localhost:3000.
#[derive(Debug, Clone, Args, Default)]
pub struct ServerFlag {
    /// Server URL [default: $OPENCTL_SERVER_URL, config `server`, http://localhost:3000]
    #[arg(short = 's', long = "server", value_name = "URL",
          add = ArgValueCandidates::new(complete::servers))]
    pub server: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ShareArgs {
    /// Session: full UUID, unique UUID prefix, or path to a .jsonl transcript
    /// [default: $CLAUDE_SESSION_ID, else the newest session of this directory's project]
    #[arg(value_name = "SESSION", add = ArgValueCompleter::new(complete::sessions))]
    pub session: Option<String>,
    #[command(flatten)]
    pub server: ServerFlag,
    /// Allow the session's repository for this server without asking
    #[arg(long)]
    pub allow_repo: bool,
    /// Print one JSON object instead of the URL
    #[arg(long)]
    pub json: bool,
    /// Seconds to wait for the daemon to start streaming
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub timeout: u64,
    /// Send nothing: show what would be uploaded, with every redaction
    #[arg(long)]
    pub dry_run: bool,
    /// No progress messages on stderr
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Args)]
pub struct UnshareArgs {
    /// Session: full UUID, unique UUID prefix, or path to a .jsonl transcript
    #[arg(value_name = "SESSION", add = ArgValueCandidates::new(complete::shared_sessions))]
    pub session: Option<String>,
    /// Only stop sharing with this server [default: every server]
    #[arg(short = 's', long = "server", value_name = "URL",
          add = ArgValueCandidates::new(complete::servers))]
    pub server: Option<String>,
    /// Also delete the session and its messages on the server
    #[arg(long)]
    pub delete: bool,
    /// Seconds to wait for the daemon to complete the session on the server
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub timeout: u64,
    /// Print one JSON object describing what happened
    #[arg(long)]
    pub json: bool,
    /// No progress messages on stderr
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// Sessions of every project, not only the current directory's
    #[arg(long)]
    pub all: bool,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct RedactionsArgs {
    /// Session: full UUID, unique UUID prefix, or path to a .jsonl transcript
    #[arg(value_name = "SESSION", add = ArgValueCompleter::new(complete::sessions))]
    pub session: String,
    #[command(flatten)]
    pub server: ServerFlag,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum RepoCommand {
    /// Allow a repository to be shared with a server
    Allow(RepoPathArgs),
    /// Stop allowing a repository (or, with --all, every repository)
    Deny(RepoDenyArgs),
    /// List allowed repositories
    List(RepoListArgs),
}

#[derive(Debug, Clone, Args)]
pub struct RepoPathArgs {
    /// A path inside the repository [default: the current directory]
    #[arg(value_name = "PATH", add = ArgValueCompleter::new(PathCompleter::dir()))]
    pub path: Option<PathBuf>,
    #[command(flatten)]
    pub server: ServerFlag,
}

#[derive(Debug, Clone, Args)]
pub struct RepoDenyArgs {
    /// A path inside the repository, or an allowed repository id [default: the current directory]
    #[arg(value_name = "PATH_OR_REPO", add = ArgValueCandidates::new(complete::allowed_repos),
          conflicts_with = "all")]
    pub path: Option<String>,
    #[command(flatten)]
    pub server: ServerFlag,
    /// Deny every repository for the server
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Clone, Args)]
pub struct RepoListArgs {
    #[command(flatten)]
    pub server: ServerFlag,
    /// List the repositories of every configured server
    #[arg(long, conflicts_with = "server")]
    pub all: bool,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum DaemonCommand {
    /// Start the daemon in the background (no-op when it already runs)
    Start(DaemonStartArgs),
    /// Stop the daemon, flushing what it can first
    Stop,
    /// Show whether it runs and the state of every shared session
    Status(DaemonStatusArgs),
    /// Show the daemon's log
    Logs(DaemonLogsArgs),
}

#[derive(Debug, Clone, Args)]
pub struct DaemonStartArgs {
    /// Run attached to this terminal (for systemd, launchd and other service managers)
    #[arg(long)]
    pub foreground: bool,
}

#[derive(Debug, Clone, Args)]
pub struct DaemonStatusArgs {
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct DaemonLogsArgs {
    /// Keep printing new lines as they are written
    #[arg(short, long)]
    pub follow: bool,
    /// How many of the last lines to show
    #[arg(short = 'n', long, value_name = "N", default_value_t = 100)]
    pub lines: usize,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print a setting's value
    Get(ConfigKeyArgs),
    /// Change a setting
    Set(ConfigSetArgs),
    /// Reset a setting to its default
    Unset(ConfigKeyArgs),
    /// List every setting with its value
    List(ConfigListArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ConfigKeyArgs {
    /// Setting name
    #[arg(value_name = "KEY", add = ArgValueCandidates::new(complete::config_keys))]
    pub key: String,
    /// For per-server settings: which server
    #[arg(short = 's', long = "server", value_name = "URL",
          add = ArgValueCandidates::new(complete::servers))]
    pub server: Option<String>,
    /// Print the value in effect as JSON on stdout (after unset: the default)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ConfigSetArgs {
    /// Setting name
    #[arg(value_name = "KEY", add = ArgValueCandidates::new(complete::config_keys))]
    pub key: String,
    /// New value
    #[arg(value_name = "VALUE")]
    pub value: String,
    /// For per-server settings: which server
    #[arg(short = 's', long = "server", value_name = "URL",
          add = ArgValueCandidates::new(complete::servers))]
    pub server: Option<String>,
    /// Print the new value as JSON on stdout
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ConfigListArgs {
    /// Print JSON
    #[arg(long)]
    pub json: bool,
    /// Show per-server settings of this server [default: the default server]
    #[arg(short = 's', long = "server", value_name = "URL",
          add = ArgValueCandidates::new(complete::servers))]
    pub server: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Powershell,
    Elvish,
}

#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell to print a completion script for
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Install the post-commit reminder in this repository
    Install(HookInstallArgs),
    /// Remove it, restoring any hook it replaced
    Uninstall,
    /// Say whether it is installed here
    Status,
    /// Run by the git hook: remind to share an active, unshared session
    #[command(name = "post-commit")]
    PostCommit,
    /// Run by the Claude Code plugin's SessionEnd hook (reads the hook JSON on stdin)
    #[command(name = "claude-session-end", hide = true)]
    ClaudeSessionEnd,
}

#[derive(Debug, Clone, Args)]
pub struct HookInstallArgs {
    /// Replace a post-commit hook openctl did not write (it is backed up)
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// Address to listen on
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:3000")]
    pub listen: String,
    /// SQLite database file [default: ~/.openctl/server.db]
    #[arg(long, value_name = "PATH", add = ArgValueCompleter::new(PathCompleter::file()))]
    pub db: Option<PathBuf>,
    /// Public base URL used in session links [default: from the request's Host]
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// Require this bearer token for writes
    #[arg(
        long,
        value_name = "TOKEN",
        env = "OPENCTL_SERVER_TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
    /// Connections served at once; more wait, and idle ones make room
    /// [default: 512, fewer when the open-file limit is low]
    #[arg(long, value_name = "N", default_value_t = 512,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
    /// Seconds a client has to send a request's headers
    #[arg(long, value_name = "SECS", default_value_t = 20,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub header_timeout: u64,
    /// Seconds a client has to send a request body (plus 1 s per 64 KiB received)
    #[arg(long, value_name = "SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub body_timeout: u64,
    /// Seconds before closing a connection with no request, or whose client stopped reading
    #[arg(long, value_name = "SECS", default_value_t = 75,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub idle_timeout: u64,
}

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Port for the embedded server [default: a free port]
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,
    /// Seconds over which the sample session keeps growing
    #[arg(long, value_name = "SECS", default_value_t = 20)]
    pub duration: u64,
    /// Exit once the sample session is complete instead of serving until Ctrl-C
    #[arg(long)]
    pub once: bool,
}
