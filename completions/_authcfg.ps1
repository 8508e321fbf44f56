
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'authcfg' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'authcfg'
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
        'authcfg' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create the store and its master key')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a config: an OAuth2 account or a custom auth type')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List configs')
            [CompletionResult]::new('ls', 'ls', [CompletionResultType]::ParameterValue, 'List configs')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one config (secrets masked unless --reveal)')
            [CompletionResult]::new('edit', 'edit', [CompletionResultType]::ParameterValue, 'Change fields of a config')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a config')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Remove a config')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Import configs from the seed''s JSON shape ({"type", "name", "config"})')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Print configs as environment variables or files for other programs')
            [CompletionResult]::new('exec', 'exec', [CompletionResultType]::ParameterValue, 'Run a command with configs in its environment')
            [CompletionResult]::new('inject', 'inject', [CompletionResultType]::ParameterValue, 'Render {{ authcfg://NAME/FIELD }} references in a template')
            [CompletionResult]::new('token', 'token', [CompletionResultType]::ParameterValue, 'Print a config''s token (bearer token, OAuth2 access token, API key)')
            [CompletionResult]::new('header', 'header', [CompletionResultType]::ParameterValue, 'Print a config''s ready HTTP header line')
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Prove configs work against the real service')
            [CompletionResult]::new('refresh', 'refresh', [CompletionResultType]::ParameterValue, 'Refresh OAuth2 access tokens (automatic on use anyway)')
            [CompletionResult]::new('reauth', 'reauth', [CompletionResultType]::ParameterValue, 'Run a new OAuth2 authorization for an existing config')
            [CompletionResult]::new('rotate', 'rotate', [CompletionResultType]::ParameterValue, 'Rotate a credential (database passwords in two phases on the server)')
            [CompletionResult]::new('recipients', 'recipients', [CompletionResultType]::ParameterValue, 'Who can decrypt the store: team members'' and CI keys')
            [CompletionResult]::new('trust', 'trust', [CompletionResultType]::ParameterValue, 'Trust the store''s admin key (members: keys other than the master key)')
            [CompletionResult]::new('lock', 'lock', [CompletionResultType]::ParameterValue, 'Drop the master key cached in the session keyring (AUTHCFG_KEY_CACHE)')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'Previous values of a config''s secrets')
            [CompletionResult]::new('rollback', 'rollback', [CompletionResultType]::ParameterValue, 'Restore a previous value from the history')
            [CompletionResult]::new('connectors', 'connectors', [CompletionResultType]::ParameterValue, 'The native connector catalog (100+ services)')
            [CompletionResult]::new('providers', 'providers', [CompletionResultType]::ParameterValue, 'The built-in OAuth2 provider catalog')
            [CompletionResult]::new('log', 'log', [CompletionResultType]::ParameterValue, 'Show the audit trail')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Check the key source, permissions, store health and audit chain')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions')
            [CompletionResult]::new('generate-docs', 'generate-docs', [CompletionResultType]::ParameterValue, 'generate-docs')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'authcfg;init' {
            [CompletionResult]::new('--identity-file', '--identity-file', [CompletionResultType]::ParameterName, 'Write the new master key to FILE (plaintext, mode 0600) that you keep safe yourself; the store remembers the path')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)')
            [CompletionResult]::new('--passphrase', '--passphrase', [CompletionResultType]::ParameterName, 'Keep the master key in a passphrase-protected file in the store (age scrypt) instead of the OS keyring; the passphrase comes from AUTHCFG_PASSPHRASE or a prompt')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'authcfg;add' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('oauth2', 'oauth2', [CompletionResultType]::ParameterValue, 'OAuth2 provider account: runs the authorization flow (see `authcfg providers`)')
            [CompletionResult]::new('connector', 'connector', [CompletionResultType]::ParameterValue, 'Native connector: database, broker, storage or enterprise system (see `authcfg connectors`)')
            [CompletionResult]::new('custom', 'custom', [CompletionResultType]::ParameterValue, 'Custom auth: none, api-key, bearer, basic, oauth2 (manual), env')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'authcfg;add;oauth2' {
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Config name (default: the provider id); ''/'' groups accounts (google/marketing)')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Config name (default: the provider id); ''/'' groups accounts (google/marketing)')
            [CompletionResult]::new('--client-id', '--client-id', [CompletionResultType]::ParameterName, 'Your OAuth application''s client ID')
            [CompletionResult]::new('--scopes', '--scopes', [CompletionResultType]::ParameterName, 'Space-separated scopes (default: the provider''s)')
            [CompletionResult]::new('--issuer', '--issuer', [CompletionResultType]::ParameterName, 'custom: discover endpoints from this issuer (OpenID Connect / RFC 8414)')
            [CompletionResult]::new('--set', '--set', [CompletionResultType]::ParameterName, 'Provider parameter (tenant=..., domain=...) or field (token_url=..., auth_method=...)')
            [CompletionResult]::new('--group', '--group', [CompletionResultType]::ParameterName, 'Only the master key and this recipient group may decrypt it')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Fixed loopback port, for providers that need an exact redirect URI')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up waiting for the authorization after S seconds')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)')
            [CompletionResult]::new('--client-secret-stdin', '--client-secret-stdin', [CompletionResultType]::ParameterName, 'Read the client secret from standard input')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace an existing config of the same name')
            [CompletionResult]::new('--device', '--device', [CompletionResultType]::ParameterName, 'Device authorization grant (RFC 8628), for machines without a browser')
            [CompletionResult]::new('--manual', '--manual', [CompletionResultType]::ParameterName, 'Print the URL and paste the redirected URL (or the code) back')
            [CompletionResult]::new('--client-credentials', '--client-credentials', [CompletionResultType]::ParameterName, 'Client credentials grant (machine-to-machine, no user)')
            [CompletionResult]::new('--no-browser', '--no-browser', [CompletionResultType]::ParameterName, 'Do not open a browser; print the URL only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'authcfg;add;connector' {
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Config name (default: the connector id); ''/'' groups configs (prod/postgres)')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Config name (default: the connector id); ''/'' groups configs (prod/postgres)')
            [CompletionResult]::new('--set', '--set', [CompletionResultType]::ParameterName, 'Set a field: --set field=value (repeatable). Secret values given here are visible in `ps` and shell history; prefer --secret-stdin')
            [CompletionResult]::new('--secret-stdin', '--secret-stdin', [CompletionResultType]::ParameterName, 'Read FIELD''s value from standard input (one trailing newline is removed)')
            [CompletionResult]::new('--group', '--group', [CompletionResultType]::ParameterName, 'Only the master key and this recipient group may decrypt it')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds the connection test may take')
            [CompletionResult]::new('--trust-host-key', '--trust-host-key', [CompletionResultType]::ParameterName, 'Trust an SSH server whose host key has this fingerprint (first contact; pinned in the config)')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace an existing config of the same name')
            [CompletionResult]::new('--no-test', '--no-test', [CompletionResultType]::ParameterName, 'Save without testing the connection first')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'authcfg;add;custom' {
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Config name; ''/'' groups configs (prod/stripe)')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Config name; ''/'' groups configs (prod/stripe)')
            [CompletionResult]::new('--set', '--set', [CompletionResultType]::ParameterName, 'Set a field: --set field=value (repeatable). Secret values given here are visible in `ps` and shell history; prefer --secret-stdin')
            [CompletionResult]::new('--secret-stdin', '--secret-stdin', [CompletionResultType]::ParameterName, 'Read FIELD''s value from standard input (one trailing newline is removed)')
            [CompletionResult]::new('--group', '--group', [CompletionResultType]::ParameterName, 'Only the master key and this recipient group may decrypt it')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace an existing config of the same name')
            [CompletionResult]::new('--allow-startup-vars', '--allow-startup-vars', [CompletionResultType]::ParameterName, 'env type: allow variables that change how programs start (LD_*, DYLD_*, BASH_ENV, PATH, PYTHONSTARTUP, NODE_OPTIONS, ...)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'authcfg;add;help' {
            [CompletionResult]::new('oauth2', 'oauth2', [CompletionResultType]::ParameterValue, 'OAuth2 provider account: runs the authorization flow (see `authcfg providers`)')
            [CompletionResult]::new('connector', 'connector', [CompletionResultType]::ParameterValue, 'Native connector: database, broker, storage or enterprise system (see `authcfg connectors`)')
            [CompletionResult]::new('custom', 'custom', [CompletionResultType]::ParameterValue, 'Custom auth: none, api-key, bearer, basic, oauth2 (manual), env')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'authcfg;add;help;oauth2' {
            break
        }
        'authcfg;add;help;connector' {
            break
        }
        'authcfg;add;help;custom' {
            break
        }
        'authcfg;add;help;help' {
            break
        }
        'authcfg;list' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine-readable output')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'authcfg;ls' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine-readable output')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'authcfg;show' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)')
            [CompletionResult]::new('--reveal', '--reveal', [CompletionResultType]::ParameterName, 'Show secret values in full')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'The seed''s JSON shape: {"type", "name", "config"}')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'authcfg;edit' {
            [CompletionResult]::new('--set', '--set', [CompletionResultType]::ParameterName, 'Set a field: --set field=value (repeatable). Secret values given here are visible in `ps` and shell history; prefer --secret-stdin')
            [CompletionResult]::new('--secret-stdin', '--secret-stdin', [CompletionResultType]::ParameterName, 'Read FIELD''s value from standard input (one trailing newline is removed)')
            [CompletionResult]::new('--unset', '--unset', [CompletionResultType]::ParameterName, 'Remove an optional field (repeatable)')
            [CompletionResult]::new('--group', '--group', [CompletionResultType]::ParameterName, 'Restrict it to a recipient group (re-encrypts it for that group)')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)')
            [CompletionResult]::new('--no-group', '--no-group', [CompletionResultType]::ParameterName, 'Make it readable by every recipient again')
            [CompletionResult]::new('--allow-startup-vars', '--allow-startup-vars', [CompletionResultType]::ParameterName, 'env type: allow (or with --no-allow-startup-vars, refuse again) variables that change how programs start (LD_*, BASH_ENV, PATH, ...)')
            [CompletionResult]::new('--no-allow-startup-vars', '--no-allow-startup-vars', [CompletionResultType]::ParameterName, 'no-allow-startup-vars')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'authcfg;remove' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask for confirmation (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask for confirmation (required without a terminal)')
            [CompletionResult]::new('--keep-tokens', '--keep-tokens', [CompletionResultType]::ParameterName, 'OAuth2: remove without revoking the tokens at the provider')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'authcfg;rm' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask for confirmation (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask for confirmation (required without a terminal)')
            [CompletionResult]::new('--keep-tokens', '--keep-tokens', [CompletionResultType]::ParameterName, 'OAuth2: remove without revoking the tokens at the provider')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'authcfg;import' {
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Put the imported configs under this group (e.g. imported/)')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace configs that already exist')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'authcfg;export' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Prepend P to every variable, or NAME:P to one config''s variables')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'authcfg;exec' {
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Prepend P to every variable, or NAME:P to one config''s variables')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'authcfg;inject' {
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Template file, or - for standard input')
            [CompletionResult]::new('--input', '--input', [CompletionResultType]::ParameterName, 'Template file, or - for standard input')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output file (mode 0600); standard output when omitted')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output file (mode 0600); standard output when omitted')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'authcfg;token' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'authcfg;header' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'authcfg;test' {
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds each probe may take, name resolution included')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Probes run at once')
            [CompletionResult]::new('--trust-host-key', '--trust-host-key', [CompletionResultType]::ParameterName, 'Trust an SSH server whose host key has this fingerprint (first contact; pinned in the config)')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Every config in the store')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine-readable output')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'authcfg;refresh' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Every OAuth2 config')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Refresh even when the access token is still fresh')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'authcfg;reauth' {
            [CompletionResult]::new('--scopes', '--scopes', [CompletionResultType]::ParameterName, 'Replace the scopes')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Fixed loopback port, for providers that need an exact redirect URI')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up waiting for the authorization after S seconds')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)')
            [CompletionResult]::new('--device', '--device', [CompletionResultType]::ParameterName, 'Device authorization grant (RFC 8628), for machines without a browser')
            [CompletionResult]::new('--manual', '--manual', [CompletionResultType]::ParameterName, 'Print the URL and paste the redirected URL (or the code) back')
            [CompletionResult]::new('--client-credentials', '--client-credentials', [CompletionResultType]::ParameterName, 'Client credentials grant (machine-to-machine, no user)')
            [CompletionResult]::new('--no-browser', '--no-browser', [CompletionResultType]::ParameterName, 'Do not open a browser; print the URL only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'authcfg;rotate' {
            [CompletionResult]::new('--identity-out', '--identity-out', [CompletionResultType]::ParameterName, 'With --master-key and a key from AUTHCFG_IDENTITY: write the new key here (0600) instead of stdout')
            [CompletionResult]::new('--length', '--length', [CompletionResultType]::ParameterName, 'Length of a generated value')
            [CompletionResult]::new('--charset', '--charset', [CompletionResultType]::ParameterName, 'Characters of a generated value: alnum, hex or symbols')
            [CompletionResult]::new('--field', '--field', [CompletionResultType]::ParameterName, 'The field to rotate (default: the type''s secret field)')
            [CompletionResult]::new('--admin', '--admin', [CompletionResultType]::ParameterName, 'Connect as this other config to change the password on the server')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds each server step may take')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)')
            [CompletionResult]::new('--master-key', '--master-key', [CompletionResultType]::ParameterName, 'Rotate the store''s master key instead (re-encrypts every config)')
            [CompletionResult]::new('--finish', '--finish', [CompletionResultType]::ParameterName, 'With --master-key: forget the retained old key')
            [CompletionResult]::new('--value-stdin', '--value-stdin', [CompletionResultType]::ParameterName, 'Read the new value from standard input')
            [CompletionResult]::new('--generate', '--generate', [CompletionResultType]::ParameterName, 'Generate a strong random value (the default for database passwords)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would happen, change nothing')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'authcfg;recipients' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'The recipients every config is encrypted to, and the admin key')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add an age public key (age1...) and re-encrypt every config to it')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a recipient by label, re-encrypt every config without it and replace the store keys it knew')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'authcfg;recipients;list' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'json')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'authcfg;recipients;add' {
            [CompletionResult]::new('--label', '--label', [CompletionResultType]::ParameterName, 'A name for it (alice, ci-prod)')
            [CompletionResult]::new('--group', '--group', [CompletionResultType]::ParameterName, 'Groups it belongs to (repeatable): it can read configs of these groups')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'authcfg;recipients;remove' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'authcfg;recipients;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'The recipients every config is encrypted to, and the admin key')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add an age public key (age1...) and re-encrypt every config to it')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a recipient by label, re-encrypt every config without it and replace the store keys it knew')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'authcfg;recipients;help;list' {
            break
        }
        'authcfg;recipients;help;add' {
            break
        }
        'authcfg;recipients;help;remove' {
            break
        }
        'authcfg;recipients;help;help' {
            break
        }
        'authcfg;trust' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'authcfg;lock' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'authcfg;history' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)')
            [CompletionResult]::new('--reveal', '--reveal', [CompletionResultType]::ParameterName, 'Show the previous values in full')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine-readable output')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'authcfg;rollback' {
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Which previous value (1 = the most recent)')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'authcfg;connectors' {
            [CompletionResult]::new('--family', '--family', [CompletionResultType]::ParameterName, 'Only this family: database, message_broker, file_storage, enterprise')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine-readable output')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'authcfg;providers' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine-readable output')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'authcfg;log' {
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Only the last N records')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Only the last N records')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)')
            [CompletionResult]::new('--verify', '--verify', [CompletionResultType]::ParameterName, 'Check the hash chain instead of printing records')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine-readable output')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'authcfg;doctor' {
            [CompletionResult]::new('--max-age', '--max-age', [CompletionResultType]::ParameterName, 'Warn about credentials not rotated for more than DAYS days')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine-readable output')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'authcfg;completions' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'authcfg;generate-docs' {
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'Directory that receives completions/ and man/')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'authcfg;help' {
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create the store and its master key')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a config: an OAuth2 account or a custom auth type')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List configs')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one config (secrets masked unless --reveal)')
            [CompletionResult]::new('edit', 'edit', [CompletionResultType]::ParameterValue, 'Change fields of a config')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a config')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Import configs from the seed''s JSON shape ({"type", "name", "config"})')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Print configs as environment variables or files for other programs')
            [CompletionResult]::new('exec', 'exec', [CompletionResultType]::ParameterValue, 'Run a command with configs in its environment')
            [CompletionResult]::new('inject', 'inject', [CompletionResultType]::ParameterValue, 'Render {{ authcfg://NAME/FIELD }} references in a template')
            [CompletionResult]::new('token', 'token', [CompletionResultType]::ParameterValue, 'Print a config''s token (bearer token, OAuth2 access token, API key)')
            [CompletionResult]::new('header', 'header', [CompletionResultType]::ParameterValue, 'Print a config''s ready HTTP header line')
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Prove configs work against the real service')
            [CompletionResult]::new('refresh', 'refresh', [CompletionResultType]::ParameterValue, 'Refresh OAuth2 access tokens (automatic on use anyway)')
            [CompletionResult]::new('reauth', 'reauth', [CompletionResultType]::ParameterValue, 'Run a new OAuth2 authorization for an existing config')
            [CompletionResult]::new('rotate', 'rotate', [CompletionResultType]::ParameterValue, 'Rotate a credential (database passwords in two phases on the server)')
            [CompletionResult]::new('recipients', 'recipients', [CompletionResultType]::ParameterValue, 'Who can decrypt the store: team members'' and CI keys')
            [CompletionResult]::new('trust', 'trust', [CompletionResultType]::ParameterValue, 'Trust the store''s admin key (members: keys other than the master key)')
            [CompletionResult]::new('lock', 'lock', [CompletionResultType]::ParameterValue, 'Drop the master key cached in the session keyring (AUTHCFG_KEY_CACHE)')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'Previous values of a config''s secrets')
            [CompletionResult]::new('rollback', 'rollback', [CompletionResultType]::ParameterValue, 'Restore a previous value from the history')
            [CompletionResult]::new('connectors', 'connectors', [CompletionResultType]::ParameterValue, 'The native connector catalog (100+ services)')
            [CompletionResult]::new('providers', 'providers', [CompletionResultType]::ParameterValue, 'The built-in OAuth2 provider catalog')
            [CompletionResult]::new('log', 'log', [CompletionResultType]::ParameterValue, 'Show the audit trail')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Check the key source, permissions, store health and audit chain')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions')
            [CompletionResult]::new('generate-docs', 'generate-docs', [CompletionResultType]::ParameterValue, 'generate-docs')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'authcfg;help;init' {
            break
        }
        'authcfg;help;add' {
            [CompletionResult]::new('oauth2', 'oauth2', [CompletionResultType]::ParameterValue, 'OAuth2 provider account: runs the authorization flow (see `authcfg providers`)')
            [CompletionResult]::new('connector', 'connector', [CompletionResultType]::ParameterValue, 'Native connector: database, broker, storage or enterprise system (see `authcfg connectors`)')
            [CompletionResult]::new('custom', 'custom', [CompletionResultType]::ParameterValue, 'Custom auth: none, api-key, bearer, basic, oauth2 (manual), env')
            break
        }
        'authcfg;help;add;oauth2' {
            break
        }
        'authcfg;help;add;connector' {
            break
        }
        'authcfg;help;add;custom' {
            break
        }
        'authcfg;help;list' {
            break
        }
        'authcfg;help;show' {
            break
        }
        'authcfg;help;edit' {
            break
        }
        'authcfg;help;remove' {
            break
        }
        'authcfg;help;import' {
            break
        }
        'authcfg;help;export' {
            break
        }
        'authcfg;help;exec' {
            break
        }
        'authcfg;help;inject' {
            break
        }
        'authcfg;help;token' {
            break
        }
        'authcfg;help;header' {
            break
        }
        'authcfg;help;test' {
            break
        }
        'authcfg;help;refresh' {
            break
        }
        'authcfg;help;reauth' {
            break
        }
        'authcfg;help;rotate' {
            break
        }
        'authcfg;help;recipients' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'The recipients every config is encrypted to, and the admin key')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add an age public key (age1...) and re-encrypt every config to it')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a recipient by label, re-encrypt every config without it and replace the store keys it knew')
            break
        }
        'authcfg;help;recipients;list' {
            break
        }
        'authcfg;help;recipients;add' {
            break
        }
        'authcfg;help;recipients;remove' {
            break
        }
        'authcfg;help;trust' {
            break
        }
        'authcfg;help;lock' {
            break
        }
        'authcfg;help;history' {
            break
        }
        'authcfg;help;rollback' {
            break
        }
        'authcfg;help;connectors' {
            break
        }
        'authcfg;help;providers' {
            break
        }
        'authcfg;help;log' {
            break
        }
        'authcfg;help;doctor' {
            break
        }
        'authcfg;help;completions' {
            break
        }
        'authcfg;help;generate-docs' {
            break
        }
        'authcfg;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
