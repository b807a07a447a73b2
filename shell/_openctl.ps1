
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'openctl' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'openctl'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'openctl' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('session', 'session', [CompletionResultType]::ParameterValue, 'Share, unshare and list Claude Code sessions')
            [CompletionResult]::new('share', 'share', [CompletionResultType]::ParameterValue, 'Share a session (same as `openctl session share`)')
            [CompletionResult]::new('repo', 'repo', [CompletionResultType]::ParameterValue, 'Allow or deny repositories for sharing with a server')
            [CompletionResult]::new('daemon', 'daemon', [CompletionResultType]::ParameterValue, 'Start, stop and inspect the background daemon that streams shares')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Read and change settings in ~/.openctl/config.json')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('hook', 'hook', [CompletionResultType]::ParameterValue, 'Install or inspect the optional git post-commit reminder')
            [CompletionResult]::new('server', 'server', [CompletionResultType]::ParameterValue, 'Run the embedded openctl server (API, live viewer, SQLite storage)')
            [CompletionResult]::new('demo', 'demo', [CompletionResultType]::ParameterValue, 'See a live share on this machine: embedded server, sample session, live updates')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'openctl;session' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('share', 'share', [CompletionResultType]::ParameterValue, 'Share a session and print its URL')
            [CompletionResult]::new('unshare', 'unshare', [CompletionResultType]::ParameterValue, 'Stop sharing a session')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List Claude Code sessions of this project (or all) and their shares')
            [CompletionResult]::new('redactions', 'redactions', [CompletionResultType]::ParameterValue, 'Show what redaction changes in a session before or after sharing')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'openctl;session;share' {
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Server URL [default: $OPENCTL_SERVER_URL, config `server`, http://localhost:3000]')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Server URL [default: $OPENCTL_SERVER_URL, config `server`, http://localhost:3000]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the daemon to start streaming')
            [CompletionResult]::new('--allow-repo', '--allow-repo', [CompletionResultType]::ParameterName, 'Allow the session''s repository for this server without asking')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON object instead of the URL')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Send nothing: show what would be uploaded, with every redaction')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress messages on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress messages on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'openctl;session;unshare' {
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Only stop sharing with this server [default: every server]')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Only stop sharing with this server [default: every server]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the daemon to complete the session on the server')
            [CompletionResult]::new('--delete', '--delete', [CompletionResultType]::ParameterName, 'Also delete the session and its messages on the server')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON object describing what happened')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress messages on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress messages on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'openctl;session;list' {
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Sessions of every project, not only the current directory''s')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'openctl;session;redactions' {
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Server URL [default: $OPENCTL_SERVER_URL, config `server`, http://localhost:3000]')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Server URL [default: $OPENCTL_SERVER_URL, config `server`, http://localhost:3000]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'openctl;session;help' {
            [CompletionResult]::new('share', 'share', [CompletionResultType]::ParameterValue, 'Share a session and print its URL')
            [CompletionResult]::new('unshare', 'unshare', [CompletionResultType]::ParameterValue, 'Stop sharing a session')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List Claude Code sessions of this project (or all) and their shares')
            [CompletionResult]::new('redactions', 'redactions', [CompletionResultType]::ParameterValue, 'Show what redaction changes in a session before or after sharing')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'openctl;session;help;share' {
            break
        }
        'openctl;session;help;unshare' {
            break
        }
        'openctl;session;help;list' {
            break
        }
        'openctl;session;help;redactions' {
            break
        }
        'openctl;session;help;help' {
            break
        }
        'openctl;share' {
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Server URL [default: $OPENCTL_SERVER_URL, config `server`, http://localhost:3000]')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Server URL [default: $OPENCTL_SERVER_URL, config `server`, http://localhost:3000]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for the daemon to start streaming')
            [CompletionResult]::new('--allow-repo', '--allow-repo', [CompletionResultType]::ParameterName, 'Allow the session''s repository for this server without asking')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON object instead of the URL')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Send nothing: show what would be uploaded, with every redaction')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress messages on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress messages on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'openctl;repo' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('allow', 'allow', [CompletionResultType]::ParameterValue, 'Allow a repository to be shared with a server')
            [CompletionResult]::new('deny', 'deny', [CompletionResultType]::ParameterValue, 'Stop allowing a repository (or, with --all, every repository)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List allowed repositories')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'openctl;repo;allow' {
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Server URL [default: $OPENCTL_SERVER_URL, config `server`, http://localhost:3000]')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Server URL [default: $OPENCTL_SERVER_URL, config `server`, http://localhost:3000]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'openctl;repo;deny' {
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Server URL [default: $OPENCTL_SERVER_URL, config `server`, http://localhost:3000]')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Server URL [default: $OPENCTL_SERVER_URL, config `server`, http://localhost:3000]')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Deny every repository for the server')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'openctl;repo;list' {
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Server URL [default: $OPENCTL_SERVER_URL, config `server`, http://localhost:3000]')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Server URL [default: $OPENCTL_SERVER_URL, config `server`, http://localhost:3000]')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'List the repositories of every configured server')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'openctl;repo;help' {
            [CompletionResult]::new('allow', 'allow', [CompletionResultType]::ParameterValue, 'Allow a repository to be shared with a server')
            [CompletionResult]::new('deny', 'deny', [CompletionResultType]::ParameterValue, 'Stop allowing a repository (or, with --all, every repository)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List allowed repositories')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'openctl;repo;help;allow' {
            break
        }
        'openctl;repo;help;deny' {
            break
        }
        'openctl;repo;help;list' {
            break
        }
        'openctl;repo;help;help' {
            break
        }
        'openctl;daemon' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('start', 'start', [CompletionResultType]::ParameterValue, 'Start the daemon in the background (no-op when it already runs)')
            [CompletionResult]::new('stop', 'stop', [CompletionResultType]::ParameterValue, 'Stop the daemon, flushing what it can first')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show whether it runs and the state of every shared session')
            [CompletionResult]::new('logs', 'logs', [CompletionResultType]::ParameterValue, 'Show the daemon''s log')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'openctl;daemon;start' {
            [CompletionResult]::new('--foreground', '--foreground', [CompletionResultType]::ParameterName, 'Run attached to this terminal (for systemd, launchd and other service managers)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'openctl;daemon;stop' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'openctl;daemon;status' {
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'openctl;daemon;logs' {
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'How many of the last lines to show')
            [CompletionResult]::new('--lines', '--lines', [CompletionResultType]::ParameterName, 'How many of the last lines to show')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Keep printing new lines as they are written')
            [CompletionResult]::new('--follow', '--follow', [CompletionResultType]::ParameterName, 'Keep printing new lines as they are written')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'openctl;daemon;help' {
            [CompletionResult]::new('start', 'start', [CompletionResultType]::ParameterValue, 'Start the daemon in the background (no-op when it already runs)')
            [CompletionResult]::new('stop', 'stop', [CompletionResultType]::ParameterValue, 'Stop the daemon, flushing what it can first')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show whether it runs and the state of every shared session')
            [CompletionResult]::new('logs', 'logs', [CompletionResultType]::ParameterValue, 'Show the daemon''s log')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'openctl;daemon;help;start' {
            break
        }
        'openctl;daemon;help;stop' {
            break
        }
        'openctl;daemon;help;status' {
            break
        }
        'openctl;daemon;help;logs' {
            break
        }
        'openctl;daemon;help;help' {
            break
        }
        'openctl;config' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Print a setting''s value')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Change a setting')
            [CompletionResult]::new('unset', 'unset', [CompletionResultType]::ParameterValue, 'Reset a setting to its default')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List every setting with its value')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'openctl;config;get' {
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'For per-server settings: which server')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'For per-server settings: which server')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the value in effect as JSON on stdout (after unset: the default)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'openctl;config;set' {
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'For per-server settings: which server')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'For per-server settings: which server')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the new value as JSON on stdout')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'openctl;config;unset' {
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'For per-server settings: which server')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'For per-server settings: which server')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the value in effect as JSON on stdout (after unset: the default)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'openctl;config;list' {
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Show per-server settings of this server [default: the default server]')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Show per-server settings of this server [default: the default server]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'openctl;config;help' {
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Print a setting''s value')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Change a setting')
            [CompletionResult]::new('unset', 'unset', [CompletionResultType]::ParameterValue, 'Reset a setting to its default')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List every setting with its value')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'openctl;config;help;get' {
            break
        }
        'openctl;config;help;set' {
            break
        }
        'openctl;config;help;unset' {
            break
        }
        'openctl;config;help;list' {
            break
        }
        'openctl;config;help;help' {
            break
        }
        'openctl;completions' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'openctl;hook' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Install the post-commit reminder in this repository')
            [CompletionResult]::new('uninstall', 'uninstall', [CompletionResultType]::ParameterValue, 'Remove it, restoring any hook it replaced')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Say whether it is installed here')
            [CompletionResult]::new('post-commit', 'post-commit', [CompletionResultType]::ParameterValue, 'Run by the git hook: remind to share an active, unshared session')
            [CompletionResult]::new('claude-session-end', 'claude-session-end', [CompletionResultType]::ParameterValue, 'Run by the Claude Code plugin''s SessionEnd hook (reads the hook JSON on stdin)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'openctl;hook;install' {
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace a post-commit hook openctl did not write (it is backed up)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'openctl;hook;uninstall' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'openctl;hook;status' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'openctl;hook;post-commit' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'openctl;hook;claude-session-end' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'openctl;hook;help' {
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Install the post-commit reminder in this repository')
            [CompletionResult]::new('uninstall', 'uninstall', [CompletionResultType]::ParameterValue, 'Remove it, restoring any hook it replaced')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Say whether it is installed here')
            [CompletionResult]::new('post-commit', 'post-commit', [CompletionResultType]::ParameterValue, 'Run by the git hook: remind to share an active, unshared session')
            [CompletionResult]::new('claude-session-end', 'claude-session-end', [CompletionResultType]::ParameterValue, 'Run by the Claude Code plugin''s SessionEnd hook (reads the hook JSON on stdin)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'openctl;hook;help;install' {
            break
        }
        'openctl;hook;help;uninstall' {
            break
        }
        'openctl;hook;help;status' {
            break
        }
        'openctl;hook;help;post-commit' {
            break
        }
        'openctl;hook;help;claude-session-end' {
            break
        }
        'openctl;hook;help;help' {
            break
        }
        'openctl;server' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Address to listen on')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'SQLite database file [default: ~/.openctl/server.db]')
            [CompletionResult]::new('--public-url', '--public-url', [CompletionResultType]::ParameterName, 'Public base URL used in session links [default: from the request''s Host]')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Require this bearer token for writes')
            [CompletionResult]::new('--max-connections', '--max-connections', [CompletionResultType]::ParameterName, 'Connections served at once; more wait, and idle ones make room [default: 512, fewer when the open-file limit is low]')
            [CompletionResult]::new('--header-timeout', '--header-timeout', [CompletionResultType]::ParameterName, 'Seconds a client has to send a request''s headers')
            [CompletionResult]::new('--body-timeout', '--body-timeout', [CompletionResultType]::ParameterName, 'Seconds a client has to send a request body (plus 1 s per 64 KiB received)')
            [CompletionResult]::new('--idle-timeout', '--idle-timeout', [CompletionResultType]::ParameterName, 'Seconds before closing a connection with no request, or whose client stopped reading')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'openctl;demo' {
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Port for the embedded server [default: a free port]')
            [CompletionResult]::new('--duration', '--duration', [CompletionResultType]::ParameterName, 'Seconds over which the sample session keeps growing')
            [CompletionResult]::new('--once', '--once', [CompletionResultType]::ParameterName, 'Exit once the sample session is complete instead of serving until Ctrl-C')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'openctl;help' {
            [CompletionResult]::new('session', 'session', [CompletionResultType]::ParameterValue, 'Share, unshare and list Claude Code sessions')
            [CompletionResult]::new('share', 'share', [CompletionResultType]::ParameterValue, 'Share a session (same as `openctl session share`)')
            [CompletionResult]::new('repo', 'repo', [CompletionResultType]::ParameterValue, 'Allow or deny repositories for sharing with a server')
            [CompletionResult]::new('daemon', 'daemon', [CompletionResultType]::ParameterValue, 'Start, stop and inspect the background daemon that streams shares')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Read and change settings in ~/.openctl/config.json')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('hook', 'hook', [CompletionResultType]::ParameterValue, 'Install or inspect the optional git post-commit reminder')
            [CompletionResult]::new('server', 'server', [CompletionResultType]::ParameterValue, 'Run the embedded openctl server (API, live viewer, SQLite storage)')
            [CompletionResult]::new('demo', 'demo', [CompletionResultType]::ParameterValue, 'See a live share on this machine: embedded server, sample session, live updates')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'openctl;help;session' {
            [CompletionResult]::new('share', 'share', [CompletionResultType]::ParameterValue, 'Share a session and print its URL')
            [CompletionResult]::new('unshare', 'unshare', [CompletionResultType]::ParameterValue, 'Stop sharing a session')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List Claude Code sessions of this project (or all) and their shares')
            [CompletionResult]::new('redactions', 'redactions', [CompletionResultType]::ParameterValue, 'Show what redaction changes in a session before or after sharing')
            break
        }
        'openctl;help;session;share' {
            break
        }
        'openctl;help;session;unshare' {
            break
        }
        'openctl;help;session;list' {
            break
        }
        'openctl;help;session;redactions' {
            break
        }
        'openctl;help;share' {
            break
        }
        'openctl;help;repo' {
            [CompletionResult]::new('allow', 'allow', [CompletionResultType]::ParameterValue, 'Allow a repository to be shared with a server')
            [CompletionResult]::new('deny', 'deny', [CompletionResultType]::ParameterValue, 'Stop allowing a repository (or, with --all, every repository)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List allowed repositories')
            break
        }
        'openctl;help;repo;allow' {
            break
        }
        'openctl;help;repo;deny' {
            break
        }
        'openctl;help;repo;list' {
            break
        }
        'openctl;help;daemon' {
            [CompletionResult]::new('start', 'start', [CompletionResultType]::ParameterValue, 'Start the daemon in the background (no-op when it already runs)')
            [CompletionResult]::new('stop', 'stop', [CompletionResultType]::ParameterValue, 'Stop the daemon, flushing what it can first')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show whether it runs and the state of every shared session')
            [CompletionResult]::new('logs', 'logs', [CompletionResultType]::ParameterValue, 'Show the daemon''s log')
            break
        }
        'openctl;help;daemon;start' {
            break
        }
        'openctl;help;daemon;stop' {
            break
        }
        'openctl;help;daemon;status' {
            break
        }
        'openctl;help;daemon;logs' {
            break
        }
        'openctl;help;config' {
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Print a setting''s value')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Change a setting')
            [CompletionResult]::new('unset', 'unset', [CompletionResultType]::ParameterValue, 'Reset a setting to its default')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List every setting with its value')
            break
        }
        'openctl;help;config;get' {
            break
        }
        'openctl;help;config;set' {
            break
        }
        'openctl;help;config;unset' {
            break
        }
        'openctl;help;config;list' {
            break
        }
        'openctl;help;completions' {
            break
        }
        'openctl;help;hook' {
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Install the post-commit reminder in this repository')
            [CompletionResult]::new('uninstall', 'uninstall', [CompletionResultType]::ParameterValue, 'Remove it, restoring any hook it replaced')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Say whether it is installed here')
            [CompletionResult]::new('post-commit', 'post-commit', [CompletionResultType]::ParameterValue, 'Run by the git hook: remind to share an active, unshared session')
            [CompletionResult]::new('claude-session-end', 'claude-session-end', [CompletionResultType]::ParameterValue, 'Run by the Claude Code plugin''s SessionEnd hook (reads the hook JSON on stdin)')
            break
        }
        'openctl;help;hook;install' {
            break
        }
        'openctl;help;hook;uninstall' {
            break
        }
        'openctl;help;hook;status' {
            break
        }
        'openctl;help;hook;post-commit' {
            break
        }
        'openctl;help;hook;claude-session-end' {
            break
        }
        'openctl;help;server' {
            break
        }
        'openctl;help;demo' {
            break
        }
        'openctl;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
