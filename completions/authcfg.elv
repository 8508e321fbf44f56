
use builtin;
use str;

set edit:completion:arg-completer[authcfg] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'authcfg'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'authcfg'= {
            cand --store 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand init 'Create the store and its master key'
            cand add 'Add a config: an OAuth2 account or a custom auth type'
            cand list 'List configs'
            cand ls 'List configs'
            cand show 'Show one config (secrets masked unless --reveal)'
            cand edit 'Change fields of a config'
            cand remove 'Remove a config'
            cand rm 'Remove a config'
            cand import 'Import configs from the seed''s JSON shape ({"type", "name", "config"})'
            cand export 'Print configs as environment variables or files for other programs'
            cand exec 'Run a command with configs in its environment'
            cand inject 'Render {{ authcfg://NAME/FIELD }} references in a template'
            cand token 'Print a config''s token (bearer token, OAuth2 access token, API key)'
            cand header 'Print a config''s ready HTTP header line'
            cand test 'Prove configs work against the real service'
            cand refresh 'Refresh OAuth2 access tokens (automatic on use anyway)'
            cand reauth 'Run a new OAuth2 authorization for an existing config'
            cand rotate 'Rotate a credential (database passwords in two phases on the server)'
            cand recipients 'Who can decrypt the store: team members'' and CI keys'
            cand trust 'Trust the store''s admin key (members: keys other than the master key)'
            cand lock 'Drop the master key cached in the session keyring (AUTHCFG_KEY_CACHE)'
            cand history 'Previous values of a config''s secrets'
            cand rollback 'Restore a previous value from the history'
            cand connectors 'The native connector catalog (100+ services)'
            cand providers 'The built-in OAuth2 provider catalog'
            cand log 'Show the audit trail'
            cand doctor 'Check the key source, permissions, store health and audit chain'
            cand completions 'Print shell completions'
            cand generate-docs 'generate-docs'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'authcfg;init'= {
            cand --identity-file 'Write the new master key to FILE (plaintext, mode 0600) that you keep safe yourself; the store remembers the path'
            cand --store 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)'
            cand --passphrase 'Keep the master key in a passphrase-protected file in the store (age scrypt) instead of the OS keyring; the passphrase comes from AUTHCFG_PASSPHRASE or a prompt'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'authcfg;add'= {
            cand --store 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand oauth2 'OAuth2 provider account: runs the authorization flow (see `authcfg providers`)'
            cand connector 'Native connector: database, broker, storage or enterprise system (see `authcfg connectors`)'
            cand custom 'Custom auth: none, api-key, bearer, basic, oauth2 (manual), env'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'authcfg;add;oauth2'= {
            cand -n 'Config name (default: the provider id); ''/'' groups accounts (google/marketing)'
            cand --name 'Config name (default: the provider id); ''/'' groups accounts (google/marketing)'
            cand --client-id 'Your OAuth application''s client ID'
            cand --scopes 'Space-separated scopes (default: the provider''s)'
            cand --issuer 'custom: discover endpoints from this issuer (OpenID Connect / RFC 8414)'
            cand --set 'Provider parameter (tenant=..., domain=...) or field (token_url=..., auth_method=...)'
            cand --group 'Only the master key and this recipient group may decrypt it'
            cand --port 'Fixed loopback port, for providers that need an exact redirect URI'
            cand --timeout 'Give up waiting for the authorization after S seconds'
            cand --store 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)'
            cand --client-secret-stdin 'Read the client secret from standard input'
            cand --force 'Replace an existing config of the same name'
            cand --device 'Device authorization grant (RFC 8628), for machines without a browser'
            cand --manual 'Print the URL and paste the redirected URL (or the code) back'
            cand --client-credentials 'Client credentials grant (machine-to-machine, no user)'
            cand --no-browser 'Do not open a browser; print the URL only'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'authcfg;add;connector'= {
            cand -n 'Config name (default: the connector id); ''/'' groups configs (prod/postgres)'
            cand --name 'Config name (default: the connector id); ''/'' groups configs (prod/postgres)'
            cand --set 'Set a field: --set field=value (repeatable). Secret values given here are visible in `ps` and shell history; prefer --secret-stdin'
            cand --secret-stdin 'Read FIELD''s value from standard input (one trailing newline is removed)'
            cand --group 'Only the master key and this recipient group may decrypt it'
            cand --timeout 'Seconds the connection test may take'
            cand --trust-host-key 'Trust an SSH server whose host key has this fingerprint (first contact; pinned in the config)'
            cand --store 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)'
            cand --force 'Replace an existing config of the same name'
            cand --no-test 'Save without testing the connection first'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'authcfg;add;custom'= {
            cand -n 'Config name; ''/'' groups configs (prod/stripe)'
            cand --name 'Config name; ''/'' groups configs (prod/stripe)'
            cand --set 'Set a field: --set field=value (repeatable). Secret values given here are visible in `ps` and shell history; prefer --secret-stdin'
            cand --secret-stdin 'Read FIELD''s value from standard input (one trailing newline is removed)'
            cand --group 'Only the master key and this recipient group may decrypt it'
            cand --store 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)'
            cand --force 'Replace an existing config of the same name'
            cand --allow-startup-vars 'env type: allow variables that change how programs start (LD_*, DYLD_*, BASH_ENV, PATH, PYTHONSTARTUP, NODE_OPTIONS, ...)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'authcfg;add;help'= {
            cand oauth2 'OAuth2 provider account: runs the authorization flow (see `authcfg providers`)'
            cand connector 'Native connector: database, broker, storage or enterprise system (see `authcfg connectors`)'
            cand custom 'Custom auth: none, api-key, bearer, basic, oauth2 (manual), env'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'authcfg;add;help;oauth2'= {
        }
        &'authcfg;add;help;connector'= {
        }
        &'authcfg;add;help;custom'= {
        }
        &'authcfg;add;help;help'= {
        }
        &'authcfg;list'= {
            cand --store 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)'
            cand --json 'Machine-readable output'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'authcfg;ls'= {
            cand --store 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)'
            cand --json 'Machine-readable output'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'authcfg;show'= {
            cand --store 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)'
            cand --reveal 'Show secret values in full'
            cand --json 'The seed''s JSON shape: {"type", "name", "config"}'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'authcfg;edit'= {
            cand --set 'Set a field: --set field=value (repeatable). Secret values given here are visible in `ps` and shell history; prefer --secret-stdin'
            cand --secret-stdin 'Read FIELD''s value from standard input (one trailing newline is removed)'
            cand --unset 'Remove an optional field (repeatable)'
            cand --group 'Restrict it to a recipient group (re-encrypts it for that group)'
            cand --store 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)'
            cand --no-group 'Make it readable by every recipient again'
            cand --allow-startup-vars 'env type: allow (or with --no-allow-startup-vars, refuse again) variables that change how programs start (LD_*, BASH_ENV, PATH, ...)'
            cand --no-allow-startup-vars 'no-allow-startup-vars'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'authcfg;remove'= {
            cand --store 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)'
            cand -y 'Do not ask for confirmation (required without a terminal)'
            cand --yes 'Do not ask for confirmation (required without a terminal)'
            cand --keep-tokens 'OAuth2: remove without revoking the tokens at the provider'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'authcfg;rm'= {
            cand --store 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)'
            cand -y 'Do not ask for confirmation (required without a terminal)'
            cand --yes 'Do not ask for confirmation (required without a terminal)'
            cand --keep-tokens 'OAuth2: remove without revoking the tokens at the provider'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'authcfg;import'= {
            cand --prefix 'Put the imported configs under this group (e.g. imported/)'
            cand --store 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)'
            cand --force 'Replace configs that already exist'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'authcfg;export'= {
            cand -f 'Output format'
            cand --format 'Output format'
            cand --prefix 'Prepend P to every variable, or NAME:P to one config''s variables'
            cand --store 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'authcfg;exec'= {
            cand --prefix 'Prepend P to every variable, or NAME:P to one config''s variables'
            cand --store 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'authcfg;inject'= {
            cand -i 'Template file, or - for standard input'
            cand --input 'Template file, or - for standard input'
            cand -o 'Output file (mode 0600); standard output when omitted'
            cand --output 'Output file (mode 0600); standard output when omitted'
            cand --store 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'authcfg;token'= {
            cand --store 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'authcfg;header'= {
            cand --store 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'authcfg;test'= {
            cand --timeout 'Seconds each probe may take, name resolution included'
            cand --jobs 'Probes run at once'
            cand --trust-host-key 'Trust an SSH server whose host key has this fingerprint (first contact; pinned in the config)'
            cand --store 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)'
            cand --all 'Every config in the store'
            cand --json 'Machine-readable output'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'authcfg;refresh'= {
            cand --store 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)'
            cand --all 'Every OAuth2 config'
            cand --force 'Refresh even when the access token is still fresh'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'authcfg;reauth'= {
            cand --scopes 'Replace the scopes'
            cand --port 'Fixed loopback port, for providers that need an exact redirect URI'
            cand --timeout 'Give up waiting for the authorization after S seconds'
            cand --store 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)'
            cand --device 'Device authorization grant (RFC 8628), for machines without a browser'
            cand --manual 'Print the URL and paste the redirected URL (or the code) back'
            cand --client-credentials 'Client credentials grant (machine-to-machine, no user)'
            cand --no-browser 'Do not open a browser; print the URL only'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'authcfg;rotate'= {
            cand --identity-out 'With --master-key and a key from AUTHCFG_IDENTITY: write the new key here (0600) instead of stdout'
            cand --length 'Length of a generated value'
            cand --charset 'Characters of a generated value: alnum, hex or symbols'
            cand --field 'The field to rotate (default: the type''s secret field)'
            cand --admin 'Connect as this other config to change the password on the server'
            cand --timeout 'Seconds each server step may take'
            cand --store 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)'
            cand --master-key 'Rotate the store''s master key instead (re-encrypts every config)'
            cand --finish 'With --master-key: forget the retained old key'
            cand --value-stdin 'Read the new value from standard input'
            cand --generate 'Generate a strong random value (the default for database passwords)'
            cand --dry-run 'Show what would happen, change nothing'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'authcfg;recipients'= {
            cand --store 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand list 'The recipients every config is encrypted to, and the admin key'
            cand add 'Add an age public key (age1...) and re-encrypt every config to it'
            cand remove 'Remove a recipient by label, re-encrypt every config without it and replace the store keys it knew'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'authcfg;recipients;list'= {
            cand --store 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)'
            cand --json 'json'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'authcfg;recipients;add'= {
            cand --label 'A name for it (alice, ci-prod)'
            cand --group 'Groups it belongs to (repeatable): it can read configs of these groups'
            cand --store 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'authcfg;recipients;remove'= {
            cand --store 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'authcfg;recipients;help'= {
            cand list 'The recipients every config is encrypted to, and the admin key'
            cand add 'Add an age public key (age1...) and re-encrypt every config to it'
            cand remove 'Remove a recipient by label, re-encrypt every config without it and replace the store keys it knew'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'authcfg;recipients;help;list'= {
        }
        &'authcfg;recipients;help;add'= {
        }
        &'authcfg;recipients;help;remove'= {
        }
        &'authcfg;recipients;help;help'= {
        }
        &'authcfg;trust'= {
            cand --store 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'authcfg;lock'= {
            cand --store 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'authcfg;history'= {
            cand --store 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)'
            cand --reveal 'Show the previous values in full'
            cand --json 'Machine-readable output'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'authcfg;rollback'= {
            cand --to 'Which previous value (1 = the most recent)'
            cand --store 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'authcfg;connectors'= {
            cand --family 'Only this family: database, message_broker, file_storage, enterprise'
            cand --store 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)'
            cand --json 'Machine-readable output'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'authcfg;providers'= {
            cand --store 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)'
            cand --json 'Machine-readable output'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'authcfg;log'= {
            cand -n 'Only the last N records'
            cand --limit 'Only the last N records'
            cand --store 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)'
            cand --verify 'Check the hash chain instead of printing records'
            cand --json 'Machine-readable output'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'authcfg;doctor'= {
            cand --max-age 'Warn about credentials not rotated for more than DAYS days'
            cand --store 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)'
            cand --json 'Machine-readable output'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'authcfg;completions'= {
            cand --store 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'authcfg;generate-docs'= {
            cand --out 'Directory that receives completions/ and man/'
            cand --store 'Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'authcfg;help'= {
            cand init 'Create the store and its master key'
            cand add 'Add a config: an OAuth2 account or a custom auth type'
            cand list 'List configs'
            cand show 'Show one config (secrets masked unless --reveal)'
            cand edit 'Change fields of a config'
            cand remove 'Remove a config'
            cand import 'Import configs from the seed''s JSON shape ({"type", "name", "config"})'
            cand export 'Print configs as environment variables or files for other programs'
            cand exec 'Run a command with configs in its environment'
            cand inject 'Render {{ authcfg://NAME/FIELD }} references in a template'
            cand token 'Print a config''s token (bearer token, OAuth2 access token, API key)'
            cand header 'Print a config''s ready HTTP header line'
            cand test 'Prove configs work against the real service'
            cand refresh 'Refresh OAuth2 access tokens (automatic on use anyway)'
            cand reauth 'Run a new OAuth2 authorization for an existing config'
            cand rotate 'Rotate a credential (database passwords in two phases on the server)'
            cand recipients 'Who can decrypt the store: team members'' and CI keys'
            cand trust 'Trust the store''s admin key (members: keys other than the master key)'
            cand lock 'Drop the master key cached in the session keyring (AUTHCFG_KEY_CACHE)'
            cand history 'Previous values of a config''s secrets'
            cand rollback 'Restore a previous value from the history'
            cand connectors 'The native connector catalog (100+ services)'
            cand providers 'The built-in OAuth2 provider catalog'
            cand log 'Show the audit trail'
            cand doctor 'Check the key source, permissions, store health and audit chain'
            cand completions 'Print shell completions'
            cand generate-docs 'generate-docs'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'authcfg;help;init'= {
        }
        &'authcfg;help;add'= {
            cand oauth2 'OAuth2 provider account: runs the authorization flow (see `authcfg providers`)'
            cand connector 'Native connector: database, broker, storage or enterprise system (see `authcfg connectors`)'
            cand custom 'Custom auth: none, api-key, bearer, basic, oauth2 (manual), env'
        }
        &'authcfg;help;add;oauth2'= {
        }
        &'authcfg;help;add;connector'= {
        }
        &'authcfg;help;add;custom'= {
        }
        &'authcfg;help;list'= {
        }
        &'authcfg;help;show'= {
        }
        &'authcfg;help;edit'= {
        }
        &'authcfg;help;remove'= {
        }
        &'authcfg;help;import'= {
        }
        &'authcfg;help;export'= {
        }
        &'authcfg;help;exec'= {
        }
        &'authcfg;help;inject'= {
        }
        &'authcfg;help;token'= {
        }
        &'authcfg;help;header'= {
        }
        &'authcfg;help;test'= {
        }
        &'authcfg;help;refresh'= {
        }
        &'authcfg;help;reauth'= {
        }
        &'authcfg;help;rotate'= {
        }
        &'authcfg;help;recipients'= {
            cand list 'The recipients every config is encrypted to, and the admin key'
            cand add 'Add an age public key (age1...) and re-encrypt every config to it'
            cand remove 'Remove a recipient by label, re-encrypt every config without it and replace the store keys it knew'
        }
        &'authcfg;help;recipients;list'= {
        }
        &'authcfg;help;recipients;add'= {
        }
        &'authcfg;help;recipients;remove'= {
        }
        &'authcfg;help;trust'= {
        }
        &'authcfg;help;lock'= {
        }
        &'authcfg;help;history'= {
        }
        &'authcfg;help;rollback'= {
        }
        &'authcfg;help;connectors'= {
        }
        &'authcfg;help;providers'= {
        }
        &'authcfg;help;log'= {
        }
        &'authcfg;help;doctor'= {
        }
        &'authcfg;help;completions'= {
        }
        &'authcfg;help;generate-docs'= {
        }
        &'authcfg;help;help'= {
        }
    ]
    $completions[$command]
}
