
use builtin;
use str;

set edit:completion:arg-completer[openctl] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'openctl'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'openctl'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand session 'Share, unshare and list Claude Code sessions'
            cand share 'Share a session (same as `openctl session share`)'
            cand repo 'Allow or deny repositories for sharing with a server'
            cand daemon 'Start, stop and inspect the background daemon that streams shares'
            cand config 'Read and change settings in ~/.openctl/config.json'
            cand completions 'Print a shell completion script'
            cand hook 'Install or inspect the optional git post-commit reminder'
            cand server 'Run the embedded openctl server (API, live viewer, SQLite storage)'
            cand demo 'See a live share on this machine: embedded server, sample session, live updates'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'openctl;session'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand share 'Share a session and print its URL'
            cand unshare 'Stop sharing a session'
            cand list 'List Claude Code sessions of this project (or all) and their shares'
            cand redactions 'Show what redaction changes in a session before or after sharing'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'openctl;session;share'= {
            cand -s 'Server URL [default: $OPENCTL_SERVER_URL, config `server`, http://localhost:3000]'
            cand --server 'Server URL [default: $OPENCTL_SERVER_URL, config `server`, http://localhost:3000]'
            cand --timeout 'Seconds to wait for the daemon to start streaming'
            cand --allow-repo 'Allow the session''s repository for this server without asking'
            cand --json 'Print one JSON object instead of the URL'
            cand --dry-run 'Send nothing: show what would be uploaded, with every redaction'
            cand -q 'No progress messages on stderr'
            cand --quiet 'No progress messages on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'openctl;session;unshare'= {
            cand -s 'Only stop sharing with this server [default: every server]'
            cand --server 'Only stop sharing with this server [default: every server]'
            cand --timeout 'Seconds to wait for the daemon to complete the session on the server'
            cand --delete 'Also delete the session and its messages on the server'
            cand --json 'Print one JSON object describing what happened'
            cand -q 'No progress messages on stderr'
            cand --quiet 'No progress messages on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'openctl;session;list'= {
            cand --all 'Sessions of every project, not only the current directory''s'
            cand --json 'Print JSON'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'openctl;session;redactions'= {
            cand -s 'Server URL [default: $OPENCTL_SERVER_URL, config `server`, http://localhost:3000]'
            cand --server 'Server URL [default: $OPENCTL_SERVER_URL, config `server`, http://localhost:3000]'
            cand --json 'Print JSON'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'openctl;session;help'= {
            cand share 'Share a session and print its URL'
            cand unshare 'Stop sharing a session'
            cand list 'List Claude Code sessions of this project (or all) and their shares'
            cand redactions 'Show what redaction changes in a session before or after sharing'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'openctl;session;help;share'= {
        }
        &'openctl;session;help;unshare'= {
        }
        &'openctl;session;help;list'= {
        }
        &'openctl;session;help;redactions'= {
        }
        &'openctl;session;help;help'= {
        }
        &'openctl;share'= {
            cand -s 'Server URL [default: $OPENCTL_SERVER_URL, config `server`, http://localhost:3000]'
            cand --server 'Server URL [default: $OPENCTL_SERVER_URL, config `server`, http://localhost:3000]'
            cand --timeout 'Seconds to wait for the daemon to start streaming'
            cand --allow-repo 'Allow the session''s repository for this server without asking'
            cand --json 'Print one JSON object instead of the URL'
            cand --dry-run 'Send nothing: show what would be uploaded, with every redaction'
            cand -q 'No progress messages on stderr'
            cand --quiet 'No progress messages on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'openctl;repo'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand allow 'Allow a repository to be shared with a server'
            cand deny 'Stop allowing a repository (or, with --all, every repository)'
            cand list 'List allowed repositories'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'openctl;repo;allow'= {
            cand -s 'Server URL [default: $OPENCTL_SERVER_URL, config `server`, http://localhost:3000]'
            cand --server 'Server URL [default: $OPENCTL_SERVER_URL, config `server`, http://localhost:3000]'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'openctl;repo;deny'= {
            cand -s 'Server URL [default: $OPENCTL_SERVER_URL, config `server`, http://localhost:3000]'
            cand --server 'Server URL [default: $OPENCTL_SERVER_URL, config `server`, http://localhost:3000]'
            cand --all 'Deny every repository for the server'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'openctl;repo;list'= {
            cand -s 'Server URL [default: $OPENCTL_SERVER_URL, config `server`, http://localhost:3000]'
            cand --server 'Server URL [default: $OPENCTL_SERVER_URL, config `server`, http://localhost:3000]'
            cand --all 'List the repositories of every configured server'
            cand --json 'Print JSON'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'openctl;repo;help'= {
            cand allow 'Allow a repository to be shared with a server'
            cand deny 'Stop allowing a repository (or, with --all, every repository)'
            cand list 'List allowed repositories'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'openctl;repo;help;allow'= {
        }
        &'openctl;repo;help;deny'= {
        }
        &'openctl;repo;help;list'= {
        }
        &'openctl;repo;help;help'= {
        }
        &'openctl;daemon'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand start 'Start the daemon in the background (no-op when it already runs)'
            cand stop 'Stop the daemon, flushing what it can first'
            cand status 'Show whether it runs and the state of every shared session'
            cand logs 'Show the daemon''s log'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'openctl;daemon;start'= {
            cand --foreground 'Run attached to this terminal (for systemd, launchd and other service managers)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'openctl;daemon;stop'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'openctl;daemon;status'= {
            cand --json 'Print JSON'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'openctl;daemon;logs'= {
            cand -n 'How many of the last lines to show'
            cand --lines 'How many of the last lines to show'
            cand -f 'Keep printing new lines as they are written'
            cand --follow 'Keep printing new lines as they are written'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'openctl;daemon;help'= {
            cand start 'Start the daemon in the background (no-op when it already runs)'
            cand stop 'Stop the daemon, flushing what it can first'
            cand status 'Show whether it runs and the state of every shared session'
            cand logs 'Show the daemon''s log'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'openctl;daemon;help;start'= {
        }
        &'openctl;daemon;help;stop'= {
        }
        &'openctl;daemon;help;status'= {
        }
        &'openctl;daemon;help;logs'= {
        }
        &'openctl;daemon;help;help'= {
        }
        &'openctl;config'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand get 'Print a setting''s value'
            cand set 'Change a setting'
            cand unset 'Reset a setting to its default'
            cand list 'List every setting with its value'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'openctl;config;get'= {
            cand -s 'For per-server settings: which server'
            cand --server 'For per-server settings: which server'
            cand --json 'Print the value in effect as JSON on stdout (after unset: the default)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'openctl;config;set'= {
            cand -s 'For per-server settings: which server'
            cand --server 'For per-server settings: which server'
            cand --json 'Print the new value as JSON on stdout'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'openctl;config;unset'= {
            cand -s 'For per-server settings: which server'
            cand --server 'For per-server settings: which server'
            cand --json 'Print the value in effect as JSON on stdout (after unset: the default)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'openctl;config;list'= {
            cand -s 'Show per-server settings of this server [default: the default server]'
            cand --server 'Show per-server settings of this server [default: the default server]'
            cand --json 'Print JSON'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'openctl;config;help'= {
            cand get 'Print a setting''s value'
            cand set 'Change a setting'
            cand unset 'Reset a setting to its default'
            cand list 'List every setting with its value'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'openctl;config;help;get'= {
        }
        &'openctl;config;help;set'= {
        }
        &'openctl;config;help;unset'= {
        }
        &'openctl;config;help;list'= {
        }
        &'openctl;config;help;help'= {
        }
        &'openctl;completions'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'openctl;hook'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand install 'Install the post-commit reminder in this repository'
            cand uninstall 'Remove it, restoring any hook it replaced'
            cand status 'Say whether it is installed here'
            cand post-commit 'Run by the git hook: remind to share an active, unshared session'
            cand claude-session-end 'Run by the Claude Code plugin''s SessionEnd hook (reads the hook JSON on stdin)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'openctl;hook;install'= {
            cand --force 'Replace a post-commit hook openctl did not write (it is backed up)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'openctl;hook;uninstall'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'openctl;hook;status'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'openctl;hook;post-commit'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'openctl;hook;claude-session-end'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'openctl;hook;help'= {
            cand install 'Install the post-commit reminder in this repository'
            cand uninstall 'Remove it, restoring any hook it replaced'
            cand status 'Say whether it is installed here'
            cand post-commit 'Run by the git hook: remind to share an active, unshared session'
            cand claude-session-end 'Run by the Claude Code plugin''s SessionEnd hook (reads the hook JSON on stdin)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'openctl;hook;help;install'= {
        }
        &'openctl;hook;help;uninstall'= {
        }
        &'openctl;hook;help;status'= {
        }
        &'openctl;hook;help;post-commit'= {
        }
        &'openctl;hook;help;claude-session-end'= {
        }
        &'openctl;hook;help;help'= {
        }
        &'openctl;server'= {
            cand --listen 'Address to listen on'
            cand --db 'SQLite database file [default: ~/.openctl/server.db]'
            cand --public-url 'Public base URL used in session links [default: from the request''s Host]'
            cand --token 'Require this bearer token for writes'
            cand --max-connections 'Connections served at once; more wait, and idle ones make room [default: 512, fewer when the open-file limit is low]'
            cand --header-timeout 'Seconds a client has to send a request''s headers'
            cand --body-timeout 'Seconds a client has to send a request body (plus 1 s per 64 KiB received)'
            cand --idle-timeout 'Seconds before closing a connection with no request, or whose client stopped reading'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'openctl;demo'= {
            cand --port 'Port for the embedded server [default: a free port]'
            cand --duration 'Seconds over which the sample session keeps growing'
            cand --once 'Exit once the sample session is complete instead of serving until Ctrl-C'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'openctl;help'= {
            cand session 'Share, unshare and list Claude Code sessions'
            cand share 'Share a session (same as `openctl session share`)'
            cand repo 'Allow or deny repositories for sharing with a server'
            cand daemon 'Start, stop and inspect the background daemon that streams shares'
            cand config 'Read and change settings in ~/.openctl/config.json'
            cand completions 'Print a shell completion script'
            cand hook 'Install or inspect the optional git post-commit reminder'
            cand server 'Run the embedded openctl server (API, live viewer, SQLite storage)'
            cand demo 'See a live share on this machine: embedded server, sample session, live updates'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'openctl;help;session'= {
            cand share 'Share a session and print its URL'
            cand unshare 'Stop sharing a session'
            cand list 'List Claude Code sessions of this project (or all) and their shares'
            cand redactions 'Show what redaction changes in a session before or after sharing'
        }
        &'openctl;help;session;share'= {
        }
        &'openctl;help;session;unshare'= {
        }
        &'openctl;help;session;list'= {
        }
        &'openctl;help;session;redactions'= {
        }
        &'openctl;help;share'= {
        }
        &'openctl;help;repo'= {
            cand allow 'Allow a repository to be shared with a server'
            cand deny 'Stop allowing a repository (or, with --all, every repository)'
            cand list 'List allowed repositories'
        }
        &'openctl;help;repo;allow'= {
        }
        &'openctl;help;repo;deny'= {
        }
        &'openctl;help;repo;list'= {
        }
        &'openctl;help;daemon'= {
            cand start 'Start the daemon in the background (no-op when it already runs)'
            cand stop 'Stop the daemon, flushing what it can first'
            cand status 'Show whether it runs and the state of every shared session'
            cand logs 'Show the daemon''s log'
        }
        &'openctl;help;daemon;start'= {
        }
        &'openctl;help;daemon;stop'= {
        }
        &'openctl;help;daemon;status'= {
        }
        &'openctl;help;daemon;logs'= {
        }
        &'openctl;help;config'= {
            cand get 'Print a setting''s value'
            cand set 'Change a setting'
            cand unset 'Reset a setting to its default'
            cand list 'List every setting with its value'
        }
        &'openctl;help;config;get'= {
        }
        &'openctl;help;config;set'= {
        }
        &'openctl;help;config;unset'= {
        }
        &'openctl;help;config;list'= {
        }
        &'openctl;help;completions'= {
        }
        &'openctl;help;hook'= {
            cand install 'Install the post-commit reminder in this repository'
            cand uninstall 'Remove it, restoring any hook it replaced'
            cand status 'Say whether it is installed here'
            cand post-commit 'Run by the git hook: remind to share an active, unshared session'
            cand claude-session-end 'Run by the Claude Code plugin''s SessionEnd hook (reads the hook JSON on stdin)'
        }
        &'openctl;help;hook;install'= {
        }
        &'openctl;help;hook;uninstall'= {
        }
        &'openctl;help;hook;status'= {
        }
        &'openctl;help;hook;post-commit'= {
        }
        &'openctl;help;hook;claude-session-end'= {
        }
        &'openctl;help;server'= {
        }
        &'openctl;help;demo'= {
        }
        &'openctl;help;help'= {
        }
    ]
    $completions[$command]
}
