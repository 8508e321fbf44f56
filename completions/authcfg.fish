# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_authcfg_global_optspecs
    string join \n store= h/help V/version
end

function __fish_authcfg_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_authcfg_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_authcfg_using_subcommand
    set -l cmd (__fish_authcfg_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c authcfg -n "__fish_authcfg_needs_command" -l store -d 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)' -r -F
complete -c authcfg -n "__fish_authcfg_needs_command" -s h -l help -d 'Print help'
complete -c authcfg -n "__fish_authcfg_needs_command" -s V -l version -d 'Print version'
complete -c authcfg -n "__fish_authcfg_needs_command" -f -a "init" -d 'Create the store and its master key'
complete -c authcfg -n "__fish_authcfg_needs_command" -f -a "add" -d 'Add a config: an OAuth2 account or a custom auth type'
complete -c authcfg -n "__fish_authcfg_needs_command" -f -a "list" -d 'List configs'
complete -c authcfg -n "__fish_authcfg_needs_command" -f -a "ls" -d 'List configs'
complete -c authcfg -n "__fish_authcfg_needs_command" -f -a "show" -d 'Show one config (secrets masked unless --reveal)'
complete -c authcfg -n "__fish_authcfg_needs_command" -f -a "edit" -d 'Change fields of a config'
complete -c authcfg -n "__fish_authcfg_needs_command" -f -a "remove" -d 'Remove a config'
complete -c authcfg -n "__fish_authcfg_needs_command" -f -a "rm" -d 'Remove a config'
complete -c authcfg -n "__fish_authcfg_needs_command" -f -a "import" -d 'Import configs from the seed\'s JSON shape ({"type", "name", "config"})'
complete -c authcfg -n "__fish_authcfg_needs_command" -f -a "export" -d 'Print configs as environment variables or files for other programs'
complete -c authcfg -n "__fish_authcfg_needs_command" -f -a "exec" -d 'Run a command with configs in its environment'
complete -c authcfg -n "__fish_authcfg_needs_command" -f -a "inject" -d 'Render {{ authcfg://NAME/FIELD }} references in a template'
complete -c authcfg -n "__fish_authcfg_needs_command" -f -a "token" -d 'Print a config\'s token (bearer token, OAuth2 access token, API key)'
complete -c authcfg -n "__fish_authcfg_needs_command" -f -a "header" -d 'Print a config\'s ready HTTP header line'
complete -c authcfg -n "__fish_authcfg_needs_command" -f -a "test" -d 'Prove configs work against the real service'
complete -c authcfg -n "__fish_authcfg_needs_command" -f -a "refresh" -d 'Refresh OAuth2 access tokens (automatic on use anyway)'
complete -c authcfg -n "__fish_authcfg_needs_command" -f -a "reauth" -d 'Run a new OAuth2 authorization for an existing config'
complete -c authcfg -n "__fish_authcfg_needs_command" -f -a "rotate" -d 'Rotate a credential (database passwords in two phases on the server)'
complete -c authcfg -n "__fish_authcfg_needs_command" -f -a "recipients" -d 'Who can decrypt the store: team members\' and CI keys'
complete -c authcfg -n "__fish_authcfg_needs_command" -f -a "trust" -d 'Trust the store\'s admin key (members: keys other than the master key)'
complete -c authcfg -n "__fish_authcfg_needs_command" -f -a "lock" -d 'Drop the master key cached in the session keyring (AUTHCFG_KEY_CACHE)'
complete -c authcfg -n "__fish_authcfg_needs_command" -f -a "history" -d 'Previous values of a config\'s secrets'
complete -c authcfg -n "__fish_authcfg_needs_command" -f -a "rollback" -d 'Restore a previous value from the history'
complete -c authcfg -n "__fish_authcfg_needs_command" -f -a "connectors" -d 'The native connector catalog (100+ services)'
complete -c authcfg -n "__fish_authcfg_needs_command" -f -a "providers" -d 'The built-in OAuth2 provider catalog'
complete -c authcfg -n "__fish_authcfg_needs_command" -f -a "log" -d 'Show the audit trail'
complete -c authcfg -n "__fish_authcfg_needs_command" -f -a "doctor" -d 'Check the key source, permissions, store health and audit chain'
complete -c authcfg -n "__fish_authcfg_needs_command" -f -a "completions" -d 'Print shell completions'
complete -c authcfg -n "__fish_authcfg_needs_command" -f -a "generate-docs"
complete -c authcfg -n "__fish_authcfg_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c authcfg -n "__fish_authcfg_using_subcommand init" -l identity-file -d 'Write the new master key to FILE (plaintext, mode 0600) that you keep safe yourself; the store remembers the path' -r -F
complete -c authcfg -n "__fish_authcfg_using_subcommand init" -l store -d 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)' -r -F
complete -c authcfg -n "__fish_authcfg_using_subcommand init" -l passphrase -d 'Keep the master key in a passphrase-protected file in the store (age scrypt) instead of the OS keyring; the passphrase comes from AUTHCFG_PASSPHRASE or a prompt'
complete -c authcfg -n "__fish_authcfg_using_subcommand init" -s h -l help -d 'Print help'
complete -c authcfg -n "__fish_authcfg_using_subcommand init" -s V -l version -d 'Print version'
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and not __fish_seen_subcommand_from oauth2 connector custom help" -l store -d 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)' -r -F
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and not __fish_seen_subcommand_from oauth2 connector custom help" -s h -l help -d 'Print help'
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and not __fish_seen_subcommand_from oauth2 connector custom help" -s V -l version -d 'Print version'
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and not __fish_seen_subcommand_from oauth2 connector custom help" -f -a "oauth2" -d 'OAuth2 provider account: runs the authorization flow (see `authcfg providers`)'
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and not __fish_seen_subcommand_from oauth2 connector custom help" -f -a "connector" -d 'Native connector: database, broker, storage or enterprise system (see `authcfg connectors`)'
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and not __fish_seen_subcommand_from oauth2 connector custom help" -f -a "custom" -d 'Custom auth: none, api-key, bearer, basic, oauth2 (manual), env'
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and not __fish_seen_subcommand_from oauth2 connector custom help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and __fish_seen_subcommand_from oauth2" -s n -l name -d 'Config name (default: the provider id); \'/\' groups accounts (google/marketing)' -r
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and __fish_seen_subcommand_from oauth2" -l client-id -d 'Your OAuth application\'s client ID' -r
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and __fish_seen_subcommand_from oauth2" -l scopes -d 'Space-separated scopes (default: the provider\'s)' -r
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and __fish_seen_subcommand_from oauth2" -l issuer -d 'custom: discover endpoints from this issuer (OpenID Connect / RFC 8414)' -r
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and __fish_seen_subcommand_from oauth2" -l set -d 'Provider parameter (tenant=..., domain=...) or field (token_url=..., auth_method=...)' -r
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and __fish_seen_subcommand_from oauth2" -l group -d 'Only the master key and this recipient group may decrypt it' -r
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and __fish_seen_subcommand_from oauth2" -l port -d 'Fixed loopback port, for providers that need an exact redirect URI' -r
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and __fish_seen_subcommand_from oauth2" -l timeout -d 'Give up waiting for the authorization after S seconds' -r
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and __fish_seen_subcommand_from oauth2" -l store -d 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)' -r -F
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and __fish_seen_subcommand_from oauth2" -l client-secret-stdin -d 'Read the client secret from standard input'
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and __fish_seen_subcommand_from oauth2" -l force -d 'Replace an existing config of the same name'
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and __fish_seen_subcommand_from oauth2" -l device -d 'Device authorization grant (RFC 8628), for machines without a browser'
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and __fish_seen_subcommand_from oauth2" -l manual -d 'Print the URL and paste the redirected URL (or the code) back'
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and __fish_seen_subcommand_from oauth2" -l client-credentials -d 'Client credentials grant (machine-to-machine, no user)'
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and __fish_seen_subcommand_from oauth2" -l no-browser -d 'Do not open a browser; print the URL only'
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and __fish_seen_subcommand_from oauth2" -s h -l help -d 'Print help'
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and __fish_seen_subcommand_from oauth2" -s V -l version -d 'Print version'
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and __fish_seen_subcommand_from connector" -s n -l name -d 'Config name (default: the connector id); \'/\' groups configs (prod/postgres)' -r
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and __fish_seen_subcommand_from connector" -l set -d 'Set a field: --set field=value (repeatable). Secret values given here are visible in `ps` and shell history; prefer --secret-stdin' -r
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and __fish_seen_subcommand_from connector" -l secret-stdin -d 'Read FIELD\'s value from standard input (one trailing newline is removed)' -r
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and __fish_seen_subcommand_from connector" -l group -d 'Only the master key and this recipient group may decrypt it' -r
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and __fish_seen_subcommand_from connector" -l timeout -d 'Seconds the connection test may take' -r
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and __fish_seen_subcommand_from connector" -l trust-host-key -d 'Trust an SSH server whose host key has this fingerprint (first contact; pinned in the config)' -r
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and __fish_seen_subcommand_from connector" -l store -d 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)' -r -F
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and __fish_seen_subcommand_from connector" -l force -d 'Replace an existing config of the same name'
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and __fish_seen_subcommand_from connector" -l no-test -d 'Save without testing the connection first'
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and __fish_seen_subcommand_from connector" -s h -l help -d 'Print help'
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and __fish_seen_subcommand_from connector" -s V -l version -d 'Print version'
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and __fish_seen_subcommand_from custom" -s n -l name -d 'Config name; \'/\' groups configs (prod/stripe)' -r
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and __fish_seen_subcommand_from custom" -l set -d 'Set a field: --set field=value (repeatable). Secret values given here are visible in `ps` and shell history; prefer --secret-stdin' -r
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and __fish_seen_subcommand_from custom" -l secret-stdin -d 'Read FIELD\'s value from standard input (one trailing newline is removed)' -r
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and __fish_seen_subcommand_from custom" -l group -d 'Only the master key and this recipient group may decrypt it' -r
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and __fish_seen_subcommand_from custom" -l store -d 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)' -r -F
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and __fish_seen_subcommand_from custom" -l force -d 'Replace an existing config of the same name'
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and __fish_seen_subcommand_from custom" -l allow-startup-vars -d 'env type: allow variables that change how programs start (LD_*, DYLD_*, BASH_ENV, PATH, PYTHONSTARTUP, NODE_OPTIONS, ...)'
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and __fish_seen_subcommand_from custom" -s h -l help -d 'Print help'
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and __fish_seen_subcommand_from custom" -s V -l version -d 'Print version'
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and __fish_seen_subcommand_from help" -f -a "oauth2" -d 'OAuth2 provider account: runs the authorization flow (see `authcfg providers`)'
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and __fish_seen_subcommand_from help" -f -a "connector" -d 'Native connector: database, broker, storage or enterprise system (see `authcfg connectors`)'
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and __fish_seen_subcommand_from help" -f -a "custom" -d 'Custom auth: none, api-key, bearer, basic, oauth2 (manual), env'
complete -c authcfg -n "__fish_authcfg_using_subcommand add; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c authcfg -n "__fish_authcfg_using_subcommand list" -l store -d 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)' -r -F
complete -c authcfg -n "__fish_authcfg_using_subcommand list" -l json -d 'Machine-readable output'
complete -c authcfg -n "__fish_authcfg_using_subcommand list" -s h -l help -d 'Print help'
complete -c authcfg -n "__fish_authcfg_using_subcommand list" -s V -l version -d 'Print version'
complete -c authcfg -n "__fish_authcfg_using_subcommand ls" -l store -d 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)' -r -F
complete -c authcfg -n "__fish_authcfg_using_subcommand ls" -l json -d 'Machine-readable output'
complete -c authcfg -n "__fish_authcfg_using_subcommand ls" -s h -l help -d 'Print help'
complete -c authcfg -n "__fish_authcfg_using_subcommand ls" -s V -l version -d 'Print version'
complete -c authcfg -n "__fish_authcfg_using_subcommand show" -l store -d 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)' -r -F
complete -c authcfg -n "__fish_authcfg_using_subcommand show" -l reveal -d 'Show secret values in full'
complete -c authcfg -n "__fish_authcfg_using_subcommand show" -l json -d 'The seed\'s JSON shape: {"type", "name", "config"}'
complete -c authcfg -n "__fish_authcfg_using_subcommand show" -s h -l help -d 'Print help'
complete -c authcfg -n "__fish_authcfg_using_subcommand show" -s V -l version -d 'Print version'
complete -c authcfg -n "__fish_authcfg_using_subcommand edit" -l set -d 'Set a field: --set field=value (repeatable). Secret values given here are visible in `ps` and shell history; prefer --secret-stdin' -r
complete -c authcfg -n "__fish_authcfg_using_subcommand edit" -l secret-stdin -d 'Read FIELD\'s value from standard input (one trailing newline is removed)' -r
complete -c authcfg -n "__fish_authcfg_using_subcommand edit" -l unset -d 'Remove an optional field (repeatable)' -r
complete -c authcfg -n "__fish_authcfg_using_subcommand edit" -l group -d 'Restrict it to a recipient group (re-encrypts it for that group)' -r
complete -c authcfg -n "__fish_authcfg_using_subcommand edit" -l store -d 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)' -r -F
complete -c authcfg -n "__fish_authcfg_using_subcommand edit" -l no-group -d 'Make it readable by every recipient again'
complete -c authcfg -n "__fish_authcfg_using_subcommand edit" -l allow-startup-vars -d 'env type: allow (or with --no-allow-startup-vars, refuse again) variables that change how programs start (LD_*, BASH_ENV, PATH, ...)'
complete -c authcfg -n "__fish_authcfg_using_subcommand edit" -l no-allow-startup-vars
complete -c authcfg -n "__fish_authcfg_using_subcommand edit" -s h -l help -d 'Print help'
complete -c authcfg -n "__fish_authcfg_using_subcommand edit" -s V -l version -d 'Print version'
complete -c authcfg -n "__fish_authcfg_using_subcommand remove" -l store -d 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)' -r -F
complete -c authcfg -n "__fish_authcfg_using_subcommand remove" -s y -l yes -d 'Do not ask for confirmation (required without a terminal)'
complete -c authcfg -n "__fish_authcfg_using_subcommand remove" -l keep-tokens -d 'OAuth2: remove without revoking the tokens at the provider'
complete -c authcfg -n "__fish_authcfg_using_subcommand remove" -s h -l help -d 'Print help'
complete -c authcfg -n "__fish_authcfg_using_subcommand remove" -s V -l version -d 'Print version'
complete -c authcfg -n "__fish_authcfg_using_subcommand rm" -l store -d 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)' -r -F
complete -c authcfg -n "__fish_authcfg_using_subcommand rm" -s y -l yes -d 'Do not ask for confirmation (required without a terminal)'
complete -c authcfg -n "__fish_authcfg_using_subcommand rm" -l keep-tokens -d 'OAuth2: remove without revoking the tokens at the provider'
complete -c authcfg -n "__fish_authcfg_using_subcommand rm" -s h -l help -d 'Print help'
complete -c authcfg -n "__fish_authcfg_using_subcommand rm" -s V -l version -d 'Print version'
complete -c authcfg -n "__fish_authcfg_using_subcommand import" -l prefix -d 'Put the imported configs under this group (e.g. imported/)' -r
complete -c authcfg -n "__fish_authcfg_using_subcommand import" -l store -d 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)' -r -F
complete -c authcfg -n "__fish_authcfg_using_subcommand import" -l force -d 'Replace configs that already exist'
complete -c authcfg -n "__fish_authcfg_using_subcommand import" -s h -l help -d 'Print help'
complete -c authcfg -n "__fish_authcfg_using_subcommand import" -s V -l version -d 'Print version'
complete -c authcfg -n "__fish_authcfg_using_subcommand export" -s f -l format -d 'Output format' -r -f -a "env\t'`export K=\'v\'` for eval in bash, zsh, dash, ksh'
fish\t'`set -gx K \'v\'` for fish'
powershell\t'`$env:K = \'v\'` for PowerShell'
dotenv\t'`K=v` lines as `docker --env-file` reads them (no quoting; no line breaks)'
gitlab\t'dotenv artifact for GitLab CI `artifacts:reports:dotenv`'
github\t'`::add-mask::` lines plus `K<<DELIM` entries appended to $GITHUB_ENV'
json\t'{"K": "v"}'
seed\t'The seed\'s {"type", "name", "config"} shape'"
complete -c authcfg -n "__fish_authcfg_using_subcommand export" -l prefix -d 'Prepend P to every variable, or NAME:P to one config\'s variables' -r
complete -c authcfg -n "__fish_authcfg_using_subcommand export" -l store -d 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)' -r -F
complete -c authcfg -n "__fish_authcfg_using_subcommand export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c authcfg -n "__fish_authcfg_using_subcommand export" -s V -l version -d 'Print version'
complete -c authcfg -n "__fish_authcfg_using_subcommand exec" -l prefix -d 'Prepend P to every variable, or NAME:P to one config\'s variables' -r
complete -c authcfg -n "__fish_authcfg_using_subcommand exec" -l store -d 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)' -r -F
complete -c authcfg -n "__fish_authcfg_using_subcommand exec" -s h -l help -d 'Print help'
complete -c authcfg -n "__fish_authcfg_using_subcommand exec" -s V -l version -d 'Print version'
complete -c authcfg -n "__fish_authcfg_using_subcommand inject" -s i -l input -d 'Template file, or - for standard input' -r -F
complete -c authcfg -n "__fish_authcfg_using_subcommand inject" -s o -l output -d 'Output file (mode 0600); standard output when omitted' -r -F
complete -c authcfg -n "__fish_authcfg_using_subcommand inject" -l store -d 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)' -r -F
complete -c authcfg -n "__fish_authcfg_using_subcommand inject" -s h -l help -d 'Print help'
complete -c authcfg -n "__fish_authcfg_using_subcommand inject" -s V -l version -d 'Print version'
complete -c authcfg -n "__fish_authcfg_using_subcommand token" -l store -d 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)' -r -F
complete -c authcfg -n "__fish_authcfg_using_subcommand token" -s h -l help -d 'Print help'
complete -c authcfg -n "__fish_authcfg_using_subcommand token" -s V -l version -d 'Print version'
complete -c authcfg -n "__fish_authcfg_using_subcommand header" -l store -d 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)' -r -F
complete -c authcfg -n "__fish_authcfg_using_subcommand header" -s h -l help -d 'Print help'
complete -c authcfg -n "__fish_authcfg_using_subcommand header" -s V -l version -d 'Print version'
complete -c authcfg -n "__fish_authcfg_using_subcommand test" -l timeout -d 'Seconds each probe may take, name resolution included' -r
complete -c authcfg -n "__fish_authcfg_using_subcommand test" -l jobs -d 'Probes run at once' -r
complete -c authcfg -n "__fish_authcfg_using_subcommand test" -l trust-host-key -d 'Trust an SSH server whose host key has this fingerprint (first contact; pinned in the config)' -r
complete -c authcfg -n "__fish_authcfg_using_subcommand test" -l store -d 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)' -r -F
complete -c authcfg -n "__fish_authcfg_using_subcommand test" -l all -d 'Every config in the store'
complete -c authcfg -n "__fish_authcfg_using_subcommand test" -l json -d 'Machine-readable output'
complete -c authcfg -n "__fish_authcfg_using_subcommand test" -s h -l help -d 'Print help'
complete -c authcfg -n "__fish_authcfg_using_subcommand test" -s V -l version -d 'Print version'
complete -c authcfg -n "__fish_authcfg_using_subcommand refresh" -l store -d 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)' -r -F
complete -c authcfg -n "__fish_authcfg_using_subcommand refresh" -l all -d 'Every OAuth2 config'
complete -c authcfg -n "__fish_authcfg_using_subcommand refresh" -l force -d 'Refresh even when the access token is still fresh'
complete -c authcfg -n "__fish_authcfg_using_subcommand refresh" -s h -l help -d 'Print help'
complete -c authcfg -n "__fish_authcfg_using_subcommand refresh" -s V -l version -d 'Print version'
complete -c authcfg -n "__fish_authcfg_using_subcommand reauth" -l scopes -d 'Replace the scopes' -r
complete -c authcfg -n "__fish_authcfg_using_subcommand reauth" -l port -d 'Fixed loopback port, for providers that need an exact redirect URI' -r
complete -c authcfg -n "__fish_authcfg_using_subcommand reauth" -l timeout -d 'Give up waiting for the authorization after S seconds' -r
complete -c authcfg -n "__fish_authcfg_using_subcommand reauth" -l store -d 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)' -r -F
complete -c authcfg -n "__fish_authcfg_using_subcommand reauth" -l device -d 'Device authorization grant (RFC 8628), for machines without a browser'
complete -c authcfg -n "__fish_authcfg_using_subcommand reauth" -l manual -d 'Print the URL and paste the redirected URL (or the code) back'
complete -c authcfg -n "__fish_authcfg_using_subcommand reauth" -l client-credentials -d 'Client credentials grant (machine-to-machine, no user)'
complete -c authcfg -n "__fish_authcfg_using_subcommand reauth" -l no-browser -d 'Do not open a browser; print the URL only'
complete -c authcfg -n "__fish_authcfg_using_subcommand reauth" -s h -l help -d 'Print help'
complete -c authcfg -n "__fish_authcfg_using_subcommand reauth" -s V -l version -d 'Print version'
complete -c authcfg -n "__fish_authcfg_using_subcommand rotate" -l identity-out -d 'With --master-key and a key from AUTHCFG_IDENTITY: write the new key here (0600) instead of stdout' -r -F
complete -c authcfg -n "__fish_authcfg_using_subcommand rotate" -l length -d 'Length of a generated value' -r
complete -c authcfg -n "__fish_authcfg_using_subcommand rotate" -l charset -d 'Characters of a generated value: alnum, hex or symbols' -r -f -a "alnum\t''
hex\t''
symbols\t''"
complete -c authcfg -n "__fish_authcfg_using_subcommand rotate" -l field -d 'The field to rotate (default: the type\'s secret field)' -r
complete -c authcfg -n "__fish_authcfg_using_subcommand rotate" -l admin -d 'Connect as this other config to change the password on the server' -r
complete -c authcfg -n "__fish_authcfg_using_subcommand rotate" -l timeout -d 'Seconds each server step may take' -r
complete -c authcfg -n "__fish_authcfg_using_subcommand rotate" -l store -d 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)' -r -F
complete -c authcfg -n "__fish_authcfg_using_subcommand rotate" -l master-key -d 'Rotate the store\'s master key instead (re-encrypts every config)'
complete -c authcfg -n "__fish_authcfg_using_subcommand rotate" -l finish -d 'With --master-key: forget the retained old key'
complete -c authcfg -n "__fish_authcfg_using_subcommand rotate" -l value-stdin -d 'Read the new value from standard input'
complete -c authcfg -n "__fish_authcfg_using_subcommand rotate" -l generate -d 'Generate a strong random value (the default for database passwords)'
complete -c authcfg -n "__fish_authcfg_using_subcommand rotate" -l dry-run -d 'Show what would happen, change nothing'
complete -c authcfg -n "__fish_authcfg_using_subcommand rotate" -s h -l help -d 'Print help'
complete -c authcfg -n "__fish_authcfg_using_subcommand rotate" -s V -l version -d 'Print version'
complete -c authcfg -n "__fish_authcfg_using_subcommand recipients; and not __fish_seen_subcommand_from list add remove help" -l store -d 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)' -r -F
complete -c authcfg -n "__fish_authcfg_using_subcommand recipients; and not __fish_seen_subcommand_from list add remove help" -s h -l help -d 'Print help'
complete -c authcfg -n "__fish_authcfg_using_subcommand recipients; and not __fish_seen_subcommand_from list add remove help" -s V -l version -d 'Print version'
complete -c authcfg -n "__fish_authcfg_using_subcommand recipients; and not __fish_seen_subcommand_from list add remove help" -f -a "list" -d 'The recipients every config is encrypted to, and the admin key'
complete -c authcfg -n "__fish_authcfg_using_subcommand recipients; and not __fish_seen_subcommand_from list add remove help" -f -a "add" -d 'Add an age public key (age1...) and re-encrypt every config to it'
complete -c authcfg -n "__fish_authcfg_using_subcommand recipients; and not __fish_seen_subcommand_from list add remove help" -f -a "remove" -d 'Remove a recipient by label, re-encrypt every config without it and replace the store keys it knew'
complete -c authcfg -n "__fish_authcfg_using_subcommand recipients; and not __fish_seen_subcommand_from list add remove help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c authcfg -n "__fish_authcfg_using_subcommand recipients; and __fish_seen_subcommand_from list" -l store -d 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)' -r -F
complete -c authcfg -n "__fish_authcfg_using_subcommand recipients; and __fish_seen_subcommand_from list" -l json
complete -c authcfg -n "__fish_authcfg_using_subcommand recipients; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c authcfg -n "__fish_authcfg_using_subcommand recipients; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c authcfg -n "__fish_authcfg_using_subcommand recipients; and __fish_seen_subcommand_from add" -l label -d 'A name for it (alice, ci-prod)' -r
complete -c authcfg -n "__fish_authcfg_using_subcommand recipients; and __fish_seen_subcommand_from add" -l group -d 'Groups it belongs to (repeatable): it can read configs of these groups' -r
complete -c authcfg -n "__fish_authcfg_using_subcommand recipients; and __fish_seen_subcommand_from add" -l store -d 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)' -r -F
complete -c authcfg -n "__fish_authcfg_using_subcommand recipients; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help'
complete -c authcfg -n "__fish_authcfg_using_subcommand recipients; and __fish_seen_subcommand_from add" -s V -l version -d 'Print version'
complete -c authcfg -n "__fish_authcfg_using_subcommand recipients; and __fish_seen_subcommand_from remove" -l store -d 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)' -r -F
complete -c authcfg -n "__fish_authcfg_using_subcommand recipients; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help'
complete -c authcfg -n "__fish_authcfg_using_subcommand recipients; and __fish_seen_subcommand_from remove" -s V -l version -d 'Print version'
complete -c authcfg -n "__fish_authcfg_using_subcommand recipients; and __fish_seen_subcommand_from help" -f -a "list" -d 'The recipients every config is encrypted to, and the admin key'
complete -c authcfg -n "__fish_authcfg_using_subcommand recipients; and __fish_seen_subcommand_from help" -f -a "add" -d 'Add an age public key (age1...) and re-encrypt every config to it'
complete -c authcfg -n "__fish_authcfg_using_subcommand recipients; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Remove a recipient by label, re-encrypt every config without it and replace the store keys it knew'
complete -c authcfg -n "__fish_authcfg_using_subcommand recipients; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c authcfg -n "__fish_authcfg_using_subcommand trust" -l store -d 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)' -r -F
complete -c authcfg -n "__fish_authcfg_using_subcommand trust" -s h -l help -d 'Print help'
complete -c authcfg -n "__fish_authcfg_using_subcommand trust" -s V -l version -d 'Print version'
complete -c authcfg -n "__fish_authcfg_using_subcommand lock" -l store -d 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)' -r -F
complete -c authcfg -n "__fish_authcfg_using_subcommand lock" -s h -l help -d 'Print help'
complete -c authcfg -n "__fish_authcfg_using_subcommand lock" -s V -l version -d 'Print version'
complete -c authcfg -n "__fish_authcfg_using_subcommand history" -l store -d 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)' -r -F
complete -c authcfg -n "__fish_authcfg_using_subcommand history" -l reveal -d 'Show the previous values in full'
complete -c authcfg -n "__fish_authcfg_using_subcommand history" -l json -d 'Machine-readable output'
complete -c authcfg -n "__fish_authcfg_using_subcommand history" -s h -l help -d 'Print help'
complete -c authcfg -n "__fish_authcfg_using_subcommand history" -s V -l version -d 'Print version'
complete -c authcfg -n "__fish_authcfg_using_subcommand rollback" -l to -d 'Which previous value (1 = the most recent)' -r
complete -c authcfg -n "__fish_authcfg_using_subcommand rollback" -l store -d 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)' -r -F
complete -c authcfg -n "__fish_authcfg_using_subcommand rollback" -s h -l help -d 'Print help'
complete -c authcfg -n "__fish_authcfg_using_subcommand rollback" -s V -l version -d 'Print version'
complete -c authcfg -n "__fish_authcfg_using_subcommand connectors" -l family -d 'Only this family: database, message_broker, file_storage, enterprise' -r
complete -c authcfg -n "__fish_authcfg_using_subcommand connectors" -l store -d 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)' -r -F
complete -c authcfg -n "__fish_authcfg_using_subcommand connectors" -l json -d 'Machine-readable output'
complete -c authcfg -n "__fish_authcfg_using_subcommand connectors" -s h -l help -d 'Print help'
complete -c authcfg -n "__fish_authcfg_using_subcommand connectors" -s V -l version -d 'Print version'
complete -c authcfg -n "__fish_authcfg_using_subcommand providers" -l store -d 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)' -r -F
complete -c authcfg -n "__fish_authcfg_using_subcommand providers" -l json -d 'Machine-readable output'
complete -c authcfg -n "__fish_authcfg_using_subcommand providers" -s h -l help -d 'Print help'
complete -c authcfg -n "__fish_authcfg_using_subcommand providers" -s V -l version -d 'Print version'
complete -c authcfg -n "__fish_authcfg_using_subcommand log" -s n -l limit -d 'Only the last N records' -r
complete -c authcfg -n "__fish_authcfg_using_subcommand log" -l store -d 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)' -r -F
complete -c authcfg -n "__fish_authcfg_using_subcommand log" -l verify -d 'Check the hash chain instead of printing records'
complete -c authcfg -n "__fish_authcfg_using_subcommand log" -l json -d 'Machine-readable output'
complete -c authcfg -n "__fish_authcfg_using_subcommand log" -s h -l help -d 'Print help'
complete -c authcfg -n "__fish_authcfg_using_subcommand log" -s V -l version -d 'Print version'
complete -c authcfg -n "__fish_authcfg_using_subcommand doctor" -l max-age -d 'Warn about credentials not rotated for more than DAYS days' -r
complete -c authcfg -n "__fish_authcfg_using_subcommand doctor" -l store -d 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)' -r -F
complete -c authcfg -n "__fish_authcfg_using_subcommand doctor" -l json -d 'Machine-readable output'
complete -c authcfg -n "__fish_authcfg_using_subcommand doctor" -s h -l help -d 'Print help'
complete -c authcfg -n "__fish_authcfg_using_subcommand doctor" -s V -l version -d 'Print version'
complete -c authcfg -n "__fish_authcfg_using_subcommand completions" -l store -d 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)' -r -F
complete -c authcfg -n "__fish_authcfg_using_subcommand completions" -s h -l help -d 'Print help'
complete -c authcfg -n "__fish_authcfg_using_subcommand completions" -s V -l version -d 'Print version'
complete -c authcfg -n "__fish_authcfg_using_subcommand generate-docs" -l out -d 'Directory that receives completions/ and man/' -r -F
complete -c authcfg -n "__fish_authcfg_using_subcommand generate-docs" -l store -d 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)' -r -F
complete -c authcfg -n "__fish_authcfg_using_subcommand generate-docs" -s h -l help -d 'Print help'
complete -c authcfg -n "__fish_authcfg_using_subcommand generate-docs" -s V -l version -d 'Print version'
complete -c authcfg -n "__fish_authcfg_using_subcommand help; and not __fish_seen_subcommand_from init add list show edit remove import export exec inject token header test refresh reauth rotate recipients trust lock history rollback connectors providers log doctor completions generate-docs help" -f -a "init" -d 'Create the store and its master key'
complete -c authcfg -n "__fish_authcfg_using_subcommand help; and not __fish_seen_subcommand_from init add list show edit remove import export exec inject token header test refresh reauth rotate recipients trust lock history rollback connectors providers log doctor completions generate-docs help" -f -a "add" -d 'Add a config: an OAuth2 account or a custom auth type'
complete -c authcfg -n "__fish_authcfg_using_subcommand help; and not __fish_seen_subcommand_from init add list show edit remove import export exec inject token header test refresh reauth rotate recipients trust lock history rollback connectors providers log doctor completions generate-docs help" -f -a "list" -d 'List configs'
complete -c authcfg -n "__fish_authcfg_using_subcommand help; and not __fish_seen_subcommand_from init add list show edit remove import export exec inject token header test refresh reauth rotate recipients trust lock history rollback connectors providers log doctor completions generate-docs help" -f -a "show" -d 'Show one config (secrets masked unless --reveal)'
complete -c authcfg -n "__fish_authcfg_using_subcommand help; and not __fish_seen_subcommand_from init add list show edit remove import export exec inject token header test refresh reauth rotate recipients trust lock history rollback connectors providers log doctor completions generate-docs help" -f -a "edit" -d 'Change fields of a config'
complete -c authcfg -n "__fish_authcfg_using_subcommand help; and not __fish_seen_subcommand_from init add list show edit remove import export exec inject token header test refresh reauth rotate recipients trust lock history rollback connectors providers log doctor completions generate-docs help" -f -a "remove" -d 'Remove a config'
complete -c authcfg -n "__fish_authcfg_using_subcommand help; and not __fish_seen_subcommand_from init add list show edit remove import export exec inject token header test refresh reauth rotate recipients trust lock history rollback connectors providers log doctor completions generate-docs help" -f -a "import" -d 'Import configs from the seed\'s JSON shape ({"type", "name", "config"})'
complete -c authcfg -n "__fish_authcfg_using_subcommand help; and not __fish_seen_subcommand_from init add list show edit remove import export exec inject token header test refresh reauth rotate recipients trust lock history rollback connectors providers log doctor completions generate-docs help" -f -a "export" -d 'Print configs as environment variables or files for other programs'
complete -c authcfg -n "__fish_authcfg_using_subcommand help; and not __fish_seen_subcommand_from init add list show edit remove import export exec inject token header test refresh reauth rotate recipients trust lock history rollback connectors providers log doctor completions generate-docs help" -f -a "exec" -d 'Run a command with configs in its environment'
complete -c authcfg -n "__fish_authcfg_using_subcommand help; and not __fish_seen_subcommand_from init add list show edit remove import export exec inject token header test refresh reauth rotate recipients trust lock history rollback connectors providers log doctor completions generate-docs help" -f -a "inject" -d 'Render {{ authcfg://NAME/FIELD }} references in a template'
complete -c authcfg -n "__fish_authcfg_using_subcommand help; and not __fish_seen_subcommand_from init add list show edit remove import export exec inject token header test refresh reauth rotate recipients trust lock history rollback connectors providers log doctor completions generate-docs help" -f -a "token" -d 'Print a config\'s token (bearer token, OAuth2 access token, API key)'
complete -c authcfg -n "__fish_authcfg_using_subcommand help; and not __fish_seen_subcommand_from init add list show edit remove import export exec inject token header test refresh reauth rotate recipients trust lock history rollback connectors providers log doctor completions generate-docs help" -f -a "header" -d 'Print a config\'s ready HTTP header line'
complete -c authcfg -n "__fish_authcfg_using_subcommand help; and not __fish_seen_subcommand_from init add list show edit remove import export exec inject token header test refresh reauth rotate recipients trust lock history rollback connectors providers log doctor completions generate-docs help" -f -a "test" -d 'Prove configs work against the real service'
complete -c authcfg -n "__fish_authcfg_using_subcommand help; and not __fish_seen_subcommand_from init add list show edit remove import export exec inject token header test refresh reauth rotate recipients trust lock history rollback connectors providers log doctor completions generate-docs help" -f -a "refresh" -d 'Refresh OAuth2 access tokens (automatic on use anyway)'
complete -c authcfg -n "__fish_authcfg_using_subcommand help; and not __fish_seen_subcommand_from init add list show edit remove import export exec inject token header test refresh reauth rotate recipients trust lock history rollback connectors providers log doctor completions generate-docs help" -f -a "reauth" -d 'Run a new OAuth2 authorization for an existing config'
complete -c authcfg -n "__fish_authcfg_using_subcommand help; and not __fish_seen_subcommand_from init add list show edit remove import export exec inject token header test refresh reauth rotate recipients trust lock history rollback connectors providers log doctor completions generate-docs help" -f -a "rotate" -d 'Rotate a credential (database passwords in two phases on the server)'
complete -c authcfg -n "__fish_authcfg_using_subcommand help; and not __fish_seen_subcommand_from init add list show edit remove import export exec inject token header test refresh reauth rotate recipients trust lock history rollback connectors providers log doctor completions generate-docs help" -f -a "recipients" -d 'Who can decrypt the store: team members\' and CI keys'
complete -c authcfg -n "__fish_authcfg_using_subcommand help; and not __fish_seen_subcommand_from init add list show edit remove import export exec inject token header test refresh reauth rotate recipients trust lock history rollback connectors providers log doctor completions generate-docs help" -f -a "trust" -d 'Trust the store\'s admin key (members: keys other than the master key)'
complete -c authcfg -n "__fish_authcfg_using_subcommand help; and not __fish_seen_subcommand_from init add list show edit remove import export exec inject token header test refresh reauth rotate recipients trust lock history rollback connectors providers log doctor completions generate-docs help" -f -a "lock" -d 'Drop the master key cached in the session keyring (AUTHCFG_KEY_CACHE)'
complete -c authcfg -n "__fish_authcfg_using_subcommand help; and not __fish_seen_subcommand_from init add list show edit remove import export exec inject token header test refresh reauth rotate recipients trust lock history rollback connectors providers log doctor completions generate-docs help" -f -a "history" -d 'Previous values of a config\'s secrets'
complete -c authcfg -n "__fish_authcfg_using_subcommand help; and not __fish_seen_subcommand_from init add list show edit remove import export exec inject token header test refresh reauth rotate recipients trust lock history rollback connectors providers log doctor completions generate-docs help" -f -a "rollback" -d 'Restore a previous value from the history'
complete -c authcfg -n "__fish_authcfg_using_subcommand help; and not __fish_seen_subcommand_from init add list show edit remove import export exec inject token header test refresh reauth rotate recipients trust lock history rollback connectors providers log doctor completions generate-docs help" -f -a "connectors" -d 'The native connector catalog (100+ services)'
complete -c authcfg -n "__fish_authcfg_using_subcommand help; and not __fish_seen_subcommand_from init add list show edit remove import export exec inject token header test refresh reauth rotate recipients trust lock history rollback connectors providers log doctor completions generate-docs help" -f -a "providers" -d 'The built-in OAuth2 provider catalog'
complete -c authcfg -n "__fish_authcfg_using_subcommand help; and not __fish_seen_subcommand_from init add list show edit remove import export exec inject token header test refresh reauth rotate recipients trust lock history rollback connectors providers log doctor completions generate-docs help" -f -a "log" -d 'Show the audit trail'
complete -c authcfg -n "__fish_authcfg_using_subcommand help; and not __fish_seen_subcommand_from init add list show edit remove import export exec inject token header test refresh reauth rotate recipients trust lock history rollback connectors providers log doctor completions generate-docs help" -f -a "doctor" -d 'Check the key source, permissions, store health and audit chain'
complete -c authcfg -n "__fish_authcfg_using_subcommand help; and not __fish_seen_subcommand_from init add list show edit remove import export exec inject token header test refresh reauth rotate recipients trust lock history rollback connectors providers log doctor completions generate-docs help" -f -a "completions" -d 'Print shell completions'
complete -c authcfg -n "__fish_authcfg_using_subcommand help; and not __fish_seen_subcommand_from init add list show edit remove import export exec inject token header test refresh reauth rotate recipients trust lock history rollback connectors providers log doctor completions generate-docs help" -f -a "generate-docs"
complete -c authcfg -n "__fish_authcfg_using_subcommand help; and not __fish_seen_subcommand_from init add list show edit remove import export exec inject token header test refresh reauth rotate recipients trust lock history rollback connectors providers log doctor completions generate-docs help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c authcfg -n "__fish_authcfg_using_subcommand help; and __fish_seen_subcommand_from add" -f -a "oauth2" -d 'OAuth2 provider account: runs the authorization flow (see `authcfg providers`)'
complete -c authcfg -n "__fish_authcfg_using_subcommand help; and __fish_seen_subcommand_from add" -f -a "connector" -d 'Native connector: database, broker, storage or enterprise system (see `authcfg connectors`)'
complete -c authcfg -n "__fish_authcfg_using_subcommand help; and __fish_seen_subcommand_from add" -f -a "custom" -d 'Custom auth: none, api-key, bearer, basic, oauth2 (manual), env'
complete -c authcfg -n "__fish_authcfg_using_subcommand help; and __fish_seen_subcommand_from recipients" -f -a "list" -d 'The recipients every config is encrypted to, and the admin key'
complete -c authcfg -n "__fish_authcfg_using_subcommand help; and __fish_seen_subcommand_from recipients" -f -a "add" -d 'Add an age public key (age1...) and re-encrypt every config to it'
complete -c authcfg -n "__fish_authcfg_using_subcommand help; and __fish_seen_subcommand_from recipients" -f -a "remove" -d 'Remove a recipient by label, re-encrypt every config without it and replace the store keys it knew'
