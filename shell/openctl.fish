# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_openctl_global_optspecs
    string join \n h/help V/version
end

function __fish_openctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_openctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_openctl_using_subcommand
    set -l cmd (__fish_openctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c openctl -n "__fish_openctl_needs_command" -s h -l help -d 'Print help'
complete -c openctl -n "__fish_openctl_needs_command" -s V -l version -d 'Print version'
complete -c openctl -n "__fish_openctl_needs_command" -f -a "session" -d 'Share, unshare and list Claude Code sessions'
complete -c openctl -n "__fish_openctl_needs_command" -f -a "share" -d 'Share a session (same as `openctl session share`)'
complete -c openctl -n "__fish_openctl_needs_command" -f -a "repo" -d 'Allow or deny repositories for sharing with a server'
complete -c openctl -n "__fish_openctl_needs_command" -f -a "daemon" -d 'Start, stop and inspect the background daemon that streams shares'
complete -c openctl -n "__fish_openctl_needs_command" -f -a "config" -d 'Read and change settings in ~/.openctl/config.json'
complete -c openctl -n "__fish_openctl_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c openctl -n "__fish_openctl_needs_command" -f -a "hook" -d 'Install or inspect the optional git post-commit reminder'
complete -c openctl -n "__fish_openctl_needs_command" -f -a "server" -d 'Run the embedded openctl server (API, live viewer, SQLite storage)'
complete -c openctl -n "__fish_openctl_needs_command" -f -a "demo" -d 'See a live share on this machine: embedded server, sample session, live updates'
complete -c openctl -n "__fish_openctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c openctl -n "__fish_openctl_using_subcommand session; and not __fish_seen_subcommand_from share unshare list redactions help" -s h -l help -d 'Print help'
complete -c openctl -n "__fish_openctl_using_subcommand session; and not __fish_seen_subcommand_from share unshare list redactions help" -s V -l version -d 'Print version'
complete -c openctl -n "__fish_openctl_using_subcommand session; and not __fish_seen_subcommand_from share unshare list redactions help" -f -a "share" -d 'Share a session and print its URL'
complete -c openctl -n "__fish_openctl_using_subcommand session; and not __fish_seen_subcommand_from share unshare list redactions help" -f -a "unshare" -d 'Stop sharing a session'
complete -c openctl -n "__fish_openctl_using_subcommand session; and not __fish_seen_subcommand_from share unshare list redactions help" -f -a "list" -d 'List Claude Code sessions of this project (or all) and their shares'
complete -c openctl -n "__fish_openctl_using_subcommand session; and not __fish_seen_subcommand_from share unshare list redactions help" -f -a "redactions" -d 'Show what redaction changes in a session before or after sharing'
complete -c openctl -n "__fish_openctl_using_subcommand session; and not __fish_seen_subcommand_from share unshare list redactions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c openctl -n "__fish_openctl_using_subcommand session; and __fish_seen_subcommand_from share" -s s -l server -d 'Server URL [default: $OPENCTL_SERVER_URL, config `server`, http://localhost:3000]' -r
complete -c openctl -n "__fish_openctl_using_subcommand session; and __fish_seen_subcommand_from share" -l timeout -d 'Seconds to wait for the daemon to start streaming' -r
complete -c openctl -n "__fish_openctl_using_subcommand session; and __fish_seen_subcommand_from share" -l allow-repo -d 'Allow the session\'s repository for this server without asking'
complete -c openctl -n "__fish_openctl_using_subcommand session; and __fish_seen_subcommand_from share" -l json -d 'Print one JSON object instead of the URL'
complete -c openctl -n "__fish_openctl_using_subcommand session; and __fish_seen_subcommand_from share" -l dry-run -d 'Send nothing: show what would be uploaded, with every redaction'
complete -c openctl -n "__fish_openctl_using_subcommand session; and __fish_seen_subcommand_from share" -s q -l quiet -d 'No progress messages on stderr'
complete -c openctl -n "__fish_openctl_using_subcommand session; and __fish_seen_subcommand_from share" -s h -l help -d 'Print help'
complete -c openctl -n "__fish_openctl_using_subcommand session; and __fish_seen_subcommand_from share" -s V -l version -d 'Print version'
complete -c openctl -n "__fish_openctl_using_subcommand session; and __fish_seen_subcommand_from unshare" -s s -l server -d 'Only stop sharing with this server [default: every server]' -r
complete -c openctl -n "__fish_openctl_using_subcommand session; and __fish_seen_subcommand_from unshare" -l timeout -d 'Seconds to wait for the daemon to complete the session on the server' -r
complete -c openctl -n "__fish_openctl_using_subcommand session; and __fish_seen_subcommand_from unshare" -l delete -d 'Also delete the session and its messages on the server'
complete -c openctl -n "__fish_openctl_using_subcommand session; and __fish_seen_subcommand_from unshare" -l json -d 'Print one JSON object describing what happened'
complete -c openctl -n "__fish_openctl_using_subcommand session; and __fish_seen_subcommand_from unshare" -s q -l quiet -d 'No progress messages on stderr'
complete -c openctl -n "__fish_openctl_using_subcommand session; and __fish_seen_subcommand_from unshare" -s h -l help -d 'Print help'
complete -c openctl -n "__fish_openctl_using_subcommand session; and __fish_seen_subcommand_from unshare" -s V -l version -d 'Print version'
complete -c openctl -n "__fish_openctl_using_subcommand session; and __fish_seen_subcommand_from list" -l all -d 'Sessions of every project, not only the current directory\'s'
complete -c openctl -n "__fish_openctl_using_subcommand session; and __fish_seen_subcommand_from list" -l json -d 'Print JSON'
complete -c openctl -n "__fish_openctl_using_subcommand session; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c openctl -n "__fish_openctl_using_subcommand session; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c openctl -n "__fish_openctl_using_subcommand session; and __fish_seen_subcommand_from redactions" -s s -l server -d 'Server URL [default: $OPENCTL_SERVER_URL, config `server`, http://localhost:3000]' -r
complete -c openctl -n "__fish_openctl_using_subcommand session; and __fish_seen_subcommand_from redactions" -l json -d 'Print JSON'
complete -c openctl -n "__fish_openctl_using_subcommand session; and __fish_seen_subcommand_from redactions" -s h -l help -d 'Print help'
complete -c openctl -n "__fish_openctl_using_subcommand session; and __fish_seen_subcommand_from redactions" -s V -l version -d 'Print version'
complete -c openctl -n "__fish_openctl_using_subcommand session; and __fish_seen_subcommand_from help" -f -a "share" -d 'Share a session and print its URL'
complete -c openctl -n "__fish_openctl_using_subcommand session; and __fish_seen_subcommand_from help" -f -a "unshare" -d 'Stop sharing a session'
complete -c openctl -n "__fish_openctl_using_subcommand session; and __fish_seen_subcommand_from help" -f -a "list" -d 'List Claude Code sessions of this project (or all) and their shares'
complete -c openctl -n "__fish_openctl_using_subcommand session; and __fish_seen_subcommand_from help" -f -a "redactions" -d 'Show what redaction changes in a session before or after sharing'
complete -c openctl -n "__fish_openctl_using_subcommand session; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c openctl -n "__fish_openctl_using_subcommand share" -s s -l server -d 'Server URL [default: $OPENCTL_SERVER_URL, config `server`, http://localhost:3000]' -r
complete -c openctl -n "__fish_openctl_using_subcommand share" -l timeout -d 'Seconds to wait for the daemon to start streaming' -r
complete -c openctl -n "__fish_openctl_using_subcommand share" -l allow-repo -d 'Allow the session\'s repository for this server without asking'
complete -c openctl -n "__fish_openctl_using_subcommand share" -l json -d 'Print one JSON object instead of the URL'
complete -c openctl -n "__fish_openctl_using_subcommand share" -l dry-run -d 'Send nothing: show what would be uploaded, with every redaction'
complete -c openctl -n "__fish_openctl_using_subcommand share" -s q -l quiet -d 'No progress messages on stderr'
complete -c openctl -n "__fish_openctl_using_subcommand share" -s h -l help -d 'Print help'
complete -c openctl -n "__fish_openctl_using_subcommand share" -s V -l version -d 'Print version'
complete -c openctl -n "__fish_openctl_using_subcommand repo; and not __fish_seen_subcommand_from allow deny list help" -s h -l help -d 'Print help'
complete -c openctl -n "__fish_openctl_using_subcommand repo; and not __fish_seen_subcommand_from allow deny list help" -s V -l version -d 'Print version'
complete -c openctl -n "__fish_openctl_using_subcommand repo; and not __fish_seen_subcommand_from allow deny list help" -f -a "allow" -d 'Allow a repository to be shared with a server'
complete -c openctl -n "__fish_openctl_using_subcommand repo; and not __fish_seen_subcommand_from allow deny list help" -f -a "deny" -d 'Stop allowing a repository (or, with --all, every repository)'
complete -c openctl -n "__fish_openctl_using_subcommand repo; and not __fish_seen_subcommand_from allow deny list help" -f -a "list" -d 'List allowed repositories'
complete -c openctl -n "__fish_openctl_using_subcommand repo; and not __fish_seen_subcommand_from allow deny list help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c openctl -n "__fish_openctl_using_subcommand repo; and __fish_seen_subcommand_from allow" -s s -l server -d 'Server URL [default: $OPENCTL_SERVER_URL, config `server`, http://localhost:3000]' -r
complete -c openctl -n "__fish_openctl_using_subcommand repo; and __fish_seen_subcommand_from allow" -s h -l help -d 'Print help'
complete -c openctl -n "__fish_openctl_using_subcommand repo; and __fish_seen_subcommand_from allow" -s V -l version -d 'Print version'
complete -c openctl -n "__fish_openctl_using_subcommand repo; and __fish_seen_subcommand_from deny" -s s -l server -d 'Server URL [default: $OPENCTL_SERVER_URL, config `server`, http://localhost:3000]' -r
complete -c openctl -n "__fish_openctl_using_subcommand repo; and __fish_seen_subcommand_from deny" -l all -d 'Deny every repository for the server'
complete -c openctl -n "__fish_openctl_using_subcommand repo; and __fish_seen_subcommand_from deny" -s h -l help -d 'Print help'
complete -c openctl -n "__fish_openctl_using_subcommand repo; and __fish_seen_subcommand_from deny" -s V -l version -d 'Print version'
complete -c openctl -n "__fish_openctl_using_subcommand repo; and __fish_seen_subcommand_from list" -s s -l server -d 'Server URL [default: $OPENCTL_SERVER_URL, config `server`, http://localhost:3000]' -r
complete -c openctl -n "__fish_openctl_using_subcommand repo; and __fish_seen_subcommand_from list" -l all -d 'List the repositories of every configured server'
complete -c openctl -n "__fish_openctl_using_subcommand repo; and __fish_seen_subcommand_from list" -l json -d 'Print JSON'
complete -c openctl -n "__fish_openctl_using_subcommand repo; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c openctl -n "__fish_openctl_using_subcommand repo; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c openctl -n "__fish_openctl_using_subcommand repo; and __fish_seen_subcommand_from help" -f -a "allow" -d 'Allow a repository to be shared with a server'
complete -c openctl -n "__fish_openctl_using_subcommand repo; and __fish_seen_subcommand_from help" -f -a "deny" -d 'Stop allowing a repository (or, with --all, every repository)'
complete -c openctl -n "__fish_openctl_using_subcommand repo; and __fish_seen_subcommand_from help" -f -a "list" -d 'List allowed repositories'
complete -c openctl -n "__fish_openctl_using_subcommand repo; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c openctl -n "__fish_openctl_using_subcommand daemon; and not __fish_seen_subcommand_from start stop status logs help" -s h -l help -d 'Print help'
complete -c openctl -n "__fish_openctl_using_subcommand daemon; and not __fish_seen_subcommand_from start stop status logs help" -s V -l version -d 'Print version'
complete -c openctl -n "__fish_openctl_using_subcommand daemon; and not __fish_seen_subcommand_from start stop status logs help" -f -a "start" -d 'Start the daemon in the background (no-op when it already runs)'
complete -c openctl -n "__fish_openctl_using_subcommand daemon; and not __fish_seen_subcommand_from start stop status logs help" -f -a "stop" -d 'Stop the daemon, flushing what it can first'
complete -c openctl -n "__fish_openctl_using_subcommand daemon; and not __fish_seen_subcommand_from start stop status logs help" -f -a "status" -d 'Show whether it runs and the state of every shared session'
complete -c openctl -n "__fish_openctl_using_subcommand daemon; and not __fish_seen_subcommand_from start stop status logs help" -f -a "logs" -d 'Show the daemon\'s log'
complete -c openctl -n "__fish_openctl_using_subcommand daemon; and not __fish_seen_subcommand_from start stop status logs help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c openctl -n "__fish_openctl_using_subcommand daemon; and __fish_seen_subcommand_from start" -l foreground -d 'Run attached to this terminal (for systemd, launchd and other service managers)'
complete -c openctl -n "__fish_openctl_using_subcommand daemon; and __fish_seen_subcommand_from start" -s h -l help -d 'Print help'
complete -c openctl -n "__fish_openctl_using_subcommand daemon; and __fish_seen_subcommand_from start" -s V -l version -d 'Print version'
complete -c openctl -n "__fish_openctl_using_subcommand daemon; and __fish_seen_subcommand_from stop" -s h -l help -d 'Print help'
complete -c openctl -n "__fish_openctl_using_subcommand daemon; and __fish_seen_subcommand_from stop" -s V -l version -d 'Print version'
complete -c openctl -n "__fish_openctl_using_subcommand daemon; and __fish_seen_subcommand_from status" -l json -d 'Print JSON'
complete -c openctl -n "__fish_openctl_using_subcommand daemon; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c openctl -n "__fish_openctl_using_subcommand daemon; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c openctl -n "__fish_openctl_using_subcommand daemon; and __fish_seen_subcommand_from logs" -s n -l lines -d 'How many of the last lines to show' -r
complete -c openctl -n "__fish_openctl_using_subcommand daemon; and __fish_seen_subcommand_from logs" -s f -l follow -d 'Keep printing new lines as they are written'
complete -c openctl -n "__fish_openctl_using_subcommand daemon; and __fish_seen_subcommand_from logs" -s h -l help -d 'Print help'
complete -c openctl -n "__fish_openctl_using_subcommand daemon; and __fish_seen_subcommand_from logs" -s V -l version -d 'Print version'
complete -c openctl -n "__fish_openctl_using_subcommand daemon; and __fish_seen_subcommand_from help" -f -a "start" -d 'Start the daemon in the background (no-op when it already runs)'
complete -c openctl -n "__fish_openctl_using_subcommand daemon; and __fish_seen_subcommand_from help" -f -a "stop" -d 'Stop the daemon, flushing what it can first'
complete -c openctl -n "__fish_openctl_using_subcommand daemon; and __fish_seen_subcommand_from help" -f -a "status" -d 'Show whether it runs and the state of every shared session'
complete -c openctl -n "__fish_openctl_using_subcommand daemon; and __fish_seen_subcommand_from help" -f -a "logs" -d 'Show the daemon\'s log'
complete -c openctl -n "__fish_openctl_using_subcommand daemon; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c openctl -n "__fish_openctl_using_subcommand config; and not __fish_seen_subcommand_from get set unset list help" -s h -l help -d 'Print help'
complete -c openctl -n "__fish_openctl_using_subcommand config; and not __fish_seen_subcommand_from get set unset list help" -s V -l version -d 'Print version'
complete -c openctl -n "__fish_openctl_using_subcommand config; and not __fish_seen_subcommand_from get set unset list help" -f -a "get" -d 'Print a setting\'s value'
complete -c openctl -n "__fish_openctl_using_subcommand config; and not __fish_seen_subcommand_from get set unset list help" -f -a "set" -d 'Change a setting'
complete -c openctl -n "__fish_openctl_using_subcommand config; and not __fish_seen_subcommand_from get set unset list help" -f -a "unset" -d 'Reset a setting to its default'
complete -c openctl -n "__fish_openctl_using_subcommand config; and not __fish_seen_subcommand_from get set unset list help" -f -a "list" -d 'List every setting with its value'
complete -c openctl -n "__fish_openctl_using_subcommand config; and not __fish_seen_subcommand_from get set unset list help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c openctl -n "__fish_openctl_using_subcommand config; and __fish_seen_subcommand_from get" -s s -l server -d 'For per-server settings: which server' -r
complete -c openctl -n "__fish_openctl_using_subcommand config; and __fish_seen_subcommand_from get" -l json -d 'Print the value in effect as JSON on stdout (after unset: the default)'
complete -c openctl -n "__fish_openctl_using_subcommand config; and __fish_seen_subcommand_from get" -s h -l help -d 'Print help'
complete -c openctl -n "__fish_openctl_using_subcommand config; and __fish_seen_subcommand_from get" -s V -l version -d 'Print version'
complete -c openctl -n "__fish_openctl_using_subcommand config; and __fish_seen_subcommand_from set" -s s -l server -d 'For per-server settings: which server' -r
complete -c openctl -n "__fish_openctl_using_subcommand config; and __fish_seen_subcommand_from set" -l json -d 'Print the new value as JSON on stdout'
complete -c openctl -n "__fish_openctl_using_subcommand config; and __fish_seen_subcommand_from set" -s h -l help -d 'Print help'
complete -c openctl -n "__fish_openctl_using_subcommand config; and __fish_seen_subcommand_from set" -s V -l version -d 'Print version'
complete -c openctl -n "__fish_openctl_using_subcommand config; and __fish_seen_subcommand_from unset" -s s -l server -d 'For per-server settings: which server' -r
complete -c openctl -n "__fish_openctl_using_subcommand config; and __fish_seen_subcommand_from unset" -l json -d 'Print the value in effect as JSON on stdout (after unset: the default)'
complete -c openctl -n "__fish_openctl_using_subcommand config; and __fish_seen_subcommand_from unset" -s h -l help -d 'Print help'
complete -c openctl -n "__fish_openctl_using_subcommand config; and __fish_seen_subcommand_from unset" -s V -l version -d 'Print version'
complete -c openctl -n "__fish_openctl_using_subcommand config; and __fish_seen_subcommand_from list" -s s -l server -d 'Show per-server settings of this server [default: the default server]' -r
complete -c openctl -n "__fish_openctl_using_subcommand config; and __fish_seen_subcommand_from list" -l json -d 'Print JSON'
complete -c openctl -n "__fish_openctl_using_subcommand config; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c openctl -n "__fish_openctl_using_subcommand config; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c openctl -n "__fish_openctl_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "get" -d 'Print a setting\'s value'
complete -c openctl -n "__fish_openctl_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "set" -d 'Change a setting'
complete -c openctl -n "__fish_openctl_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "unset" -d 'Reset a setting to its default'
complete -c openctl -n "__fish_openctl_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "list" -d 'List every setting with its value'
complete -c openctl -n "__fish_openctl_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c openctl -n "__fish_openctl_using_subcommand completions" -s h -l help -d 'Print help'
complete -c openctl -n "__fish_openctl_using_subcommand completions" -s V -l version -d 'Print version'
complete -c openctl -n "__fish_openctl_using_subcommand hook; and not __fish_seen_subcommand_from install uninstall status post-commit claude-session-end help" -s h -l help -d 'Print help'
complete -c openctl -n "__fish_openctl_using_subcommand hook; and not __fish_seen_subcommand_from install uninstall status post-commit claude-session-end help" -s V -l version -d 'Print version'
complete -c openctl -n "__fish_openctl_using_subcommand hook; and not __fish_seen_subcommand_from install uninstall status post-commit claude-session-end help" -f -a "install" -d 'Install the post-commit reminder in this repository'
complete -c openctl -n "__fish_openctl_using_subcommand hook; and not __fish_seen_subcommand_from install uninstall status post-commit claude-session-end help" -f -a "uninstall" -d 'Remove it, restoring any hook it replaced'
complete -c openctl -n "__fish_openctl_using_subcommand hook; and not __fish_seen_subcommand_from install uninstall status post-commit claude-session-end help" -f -a "status" -d 'Say whether it is installed here'
complete -c openctl -n "__fish_openctl_using_subcommand hook; and not __fish_seen_subcommand_from install uninstall status post-commit claude-session-end help" -f -a "post-commit" -d 'Run by the git hook: remind to share an active, unshared session'
complete -c openctl -n "__fish_openctl_using_subcommand hook; and not __fish_seen_subcommand_from install uninstall status post-commit claude-session-end help" -f -a "claude-session-end" -d 'Run by the Claude Code plugin\'s SessionEnd hook (reads the hook JSON on stdin)'
complete -c openctl -n "__fish_openctl_using_subcommand hook; and not __fish_seen_subcommand_from install uninstall status post-commit claude-session-end help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c openctl -n "__fish_openctl_using_subcommand hook; and __fish_seen_subcommand_from install" -l force -d 'Replace a post-commit hook openctl did not write (it is backed up)'
complete -c openctl -n "__fish_openctl_using_subcommand hook; and __fish_seen_subcommand_from install" -s h -l help -d 'Print help'
complete -c openctl -n "__fish_openctl_using_subcommand hook; and __fish_seen_subcommand_from install" -s V -l version -d 'Print version'
complete -c openctl -n "__fish_openctl_using_subcommand hook; and __fish_seen_subcommand_from uninstall" -s h -l help -d 'Print help'
complete -c openctl -n "__fish_openctl_using_subcommand hook; and __fish_seen_subcommand_from uninstall" -s V -l version -d 'Print version'
complete -c openctl -n "__fish_openctl_using_subcommand hook; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c openctl -n "__fish_openctl_using_subcommand hook; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c openctl -n "__fish_openctl_using_subcommand hook; and __fish_seen_subcommand_from post-commit" -s h -l help -d 'Print help'
complete -c openctl -n "__fish_openctl_using_subcommand hook; and __fish_seen_subcommand_from post-commit" -s V -l version -d 'Print version'
complete -c openctl -n "__fish_openctl_using_subcommand hook; and __fish_seen_subcommand_from claude-session-end" -s h -l help -d 'Print help'
complete -c openctl -n "__fish_openctl_using_subcommand hook; and __fish_seen_subcommand_from claude-session-end" -s V -l version -d 'Print version'
complete -c openctl -n "__fish_openctl_using_subcommand hook; and __fish_seen_subcommand_from help" -f -a "install" -d 'Install the post-commit reminder in this repository'
complete -c openctl -n "__fish_openctl_using_subcommand hook; and __fish_seen_subcommand_from help" -f -a "uninstall" -d 'Remove it, restoring any hook it replaced'
complete -c openctl -n "__fish_openctl_using_subcommand hook; and __fish_seen_subcommand_from help" -f -a "status" -d 'Say whether it is installed here'
complete -c openctl -n "__fish_openctl_using_subcommand hook; and __fish_seen_subcommand_from help" -f -a "post-commit" -d 'Run by the git hook: remind to share an active, unshared session'
complete -c openctl -n "__fish_openctl_using_subcommand hook; and __fish_seen_subcommand_from help" -f -a "claude-session-end" -d 'Run by the Claude Code plugin\'s SessionEnd hook (reads the hook JSON on stdin)'
complete -c openctl -n "__fish_openctl_using_subcommand hook; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c openctl -n "__fish_openctl_using_subcommand server" -l listen -d 'Address to listen on' -r
complete -c openctl -n "__fish_openctl_using_subcommand server" -l db -d 'SQLite database file [default: ~/.openctl/server.db]' -r -F
complete -c openctl -n "__fish_openctl_using_subcommand server" -l public-url -d 'Public base URL used in session links [default: from the request\'s Host]' -r
complete -c openctl -n "__fish_openctl_using_subcommand server" -l token -d 'Require this bearer token for writes' -r
complete -c openctl -n "__fish_openctl_using_subcommand server" -l max-connections -d 'Connections served at once; more wait, and idle ones make room [default: 512, fewer when the open-file limit is low]' -r
complete -c openctl -n "__fish_openctl_using_subcommand server" -l header-timeout -d 'Seconds a client has to send a request\'s headers' -r
complete -c openctl -n "__fish_openctl_using_subcommand server" -l body-timeout -d 'Seconds a client has to send a request body (plus 1 s per 64 KiB received)' -r
complete -c openctl -n "__fish_openctl_using_subcommand server" -l idle-timeout -d 'Seconds before closing a connection with no request, or whose client stopped reading' -r
complete -c openctl -n "__fish_openctl_using_subcommand server" -s h -l help -d 'Print help'
complete -c openctl -n "__fish_openctl_using_subcommand server" -s V -l version -d 'Print version'
complete -c openctl -n "__fish_openctl_using_subcommand demo" -l port -d 'Port for the embedded server [default: a free port]' -r
complete -c openctl -n "__fish_openctl_using_subcommand demo" -l duration -d 'Seconds over which the sample session keeps growing' -r
complete -c openctl -n "__fish_openctl_using_subcommand demo" -l once -d 'Exit once the sample session is complete instead of serving until Ctrl-C'
complete -c openctl -n "__fish_openctl_using_subcommand demo" -s h -l help -d 'Print help'
complete -c openctl -n "__fish_openctl_using_subcommand demo" -s V -l version -d 'Print version'
complete -c openctl -n "__fish_openctl_using_subcommand help; and not __fish_seen_subcommand_from session share repo daemon config completions hook server demo help" -f -a "session" -d 'Share, unshare and list Claude Code sessions'
complete -c openctl -n "__fish_openctl_using_subcommand help; and not __fish_seen_subcommand_from session share repo daemon config completions hook server demo help" -f -a "share" -d 'Share a session (same as `openctl session share`)'
complete -c openctl -n "__fish_openctl_using_subcommand help; and not __fish_seen_subcommand_from session share repo daemon config completions hook server demo help" -f -a "repo" -d 'Allow or deny repositories for sharing with a server'
complete -c openctl -n "__fish_openctl_using_subcommand help; and not __fish_seen_subcommand_from session share repo daemon config completions hook server demo help" -f -a "daemon" -d 'Start, stop and inspect the background daemon that streams shares'
complete -c openctl -n "__fish_openctl_using_subcommand help; and not __fish_seen_subcommand_from session share repo daemon config completions hook server demo help" -f -a "config" -d 'Read and change settings in ~/.openctl/config.json'
complete -c openctl -n "__fish_openctl_using_subcommand help; and not __fish_seen_subcommand_from session share repo daemon config completions hook server demo help" -f -a "completions" -d 'Print a shell completion script'
complete -c openctl -n "__fish_openctl_using_subcommand help; and not __fish_seen_subcommand_from session share repo daemon config completions hook server demo help" -f -a "hook" -d 'Install or inspect the optional git post-commit reminder'
complete -c openctl -n "__fish_openctl_using_subcommand help; and not __fish_seen_subcommand_from session share repo daemon config completions hook server demo help" -f -a "server" -d 'Run the embedded openctl server (API, live viewer, SQLite storage)'
complete -c openctl -n "__fish_openctl_using_subcommand help; and not __fish_seen_subcommand_from session share repo daemon config completions hook server demo help" -f -a "demo" -d 'See a live share on this machine: embedded server, sample session, live updates'
complete -c openctl -n "__fish_openctl_using_subcommand help; and not __fish_seen_subcommand_from session share repo daemon config completions hook server demo help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c openctl -n "__fish_openctl_using_subcommand help; and __fish_seen_subcommand_from session" -f -a "share" -d 'Share a session and print its URL'
complete -c openctl -n "__fish_openctl_using_subcommand help; and __fish_seen_subcommand_from session" -f -a "unshare" -d 'Stop sharing a session'
complete -c openctl -n "__fish_openctl_using_subcommand help; and __fish_seen_subcommand_from session" -f -a "list" -d 'List Claude Code sessions of this project (or all) and their shares'
complete -c openctl -n "__fish_openctl_using_subcommand help; and __fish_seen_subcommand_from session" -f -a "redactions" -d 'Show what redaction changes in a session before or after sharing'
complete -c openctl -n "__fish_openctl_using_subcommand help; and __fish_seen_subcommand_from repo" -f -a "allow" -d 'Allow a repository to be shared with a server'
complete -c openctl -n "__fish_openctl_using_subcommand help; and __fish_seen_subcommand_from repo" -f -a "deny" -d 'Stop allowing a repository (or, with --all, every repository)'
complete -c openctl -n "__fish_openctl_using_subcommand help; and __fish_seen_subcommand_from repo" -f -a "list" -d 'List allowed repositories'
complete -c openctl -n "__fish_openctl_using_subcommand help; and __fish_seen_subcommand_from daemon" -f -a "start" -d 'Start the daemon in the background (no-op when it already runs)'
complete -c openctl -n "__fish_openctl_using_subcommand help; and __fish_seen_subcommand_from daemon" -f -a "stop" -d 'Stop the daemon, flushing what it can first'
complete -c openctl -n "__fish_openctl_using_subcommand help; and __fish_seen_subcommand_from daemon" -f -a "status" -d 'Show whether it runs and the state of every shared session'
complete -c openctl -n "__fish_openctl_using_subcommand help; and __fish_seen_subcommand_from daemon" -f -a "logs" -d 'Show the daemon\'s log'
complete -c openctl -n "__fish_openctl_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "get" -d 'Print a setting\'s value'
complete -c openctl -n "__fish_openctl_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "set" -d 'Change a setting'
complete -c openctl -n "__fish_openctl_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "unset" -d 'Reset a setting to its default'
complete -c openctl -n "__fish_openctl_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "list" -d 'List every setting with its value'
complete -c openctl -n "__fish_openctl_using_subcommand help; and __fish_seen_subcommand_from hook" -f -a "install" -d 'Install the post-commit reminder in this repository'
complete -c openctl -n "__fish_openctl_using_subcommand help; and __fish_seen_subcommand_from hook" -f -a "uninstall" -d 'Remove it, restoring any hook it replaced'
complete -c openctl -n "__fish_openctl_using_subcommand help; and __fish_seen_subcommand_from hook" -f -a "status" -d 'Say whether it is installed here'
complete -c openctl -n "__fish_openctl_using_subcommand help; and __fish_seen_subcommand_from hook" -f -a "post-commit" -d 'Run by the git hook: remind to share an active, unshared session'
complete -c openctl -n "__fish_openctl_using_subcommand help; and __fish_seen_subcommand_from hook" -f -a "claude-session-end" -d 'Run by the Claude Code plugin\'s SessionEnd hook (reads the hook JSON on stdin)'
