//! The reference sections of `authcfg --help` and `man authcfg`: EXIT
//! STATUS (from `error::Exit`, the codes the program exits with), ENVIRONMENT
//! (from `settings::VARIABLES`, what the program reads), FILES and
//! EXAMPLES. One source, two renderings: plain text after `--help`, roff
//! sections in the man page (`generate-docs`).

/// One section: a title and its entries (a term and what it means).
pub struct Section {
    pub title: &'static str,
    pub entries: Vec<(String, String)>,
}

const FILES: &[(&str, &str)] = &[
    ("$XDG_DATA_HOME/authcfg (~/.local/share/authcfg)", "the default store (--store, AUTHCFG_HOME): authcfg.toml (the signed header), configs/NAME.age (one encrypted config each), index/, audit.jsonl (the audit trail), usage.log, identity.age (passphrase-protected stores only)"),
    ("$XDG_CONFIG_HOME/authcfg/key.txt (~/.config/authcfg/key.txt)", "your own key where no keyring keeps it (`authcfg key new --file`, `authcfg key import`)"),
    ("$XDG_CONFIG_HOME/authcfg/helpers.json", "which registry host and kubectl context each config answers (`authcfg docker setup`, `authcfg kube setup`)"),
    ("$XDG_STATE_HOME/authcfg (~/.local/state/authcfg)", "what each store looked like last (a store rolled back is noticed), and which project files the shell hook may load (`authcfg project allow`)"),
    (".authcfg.toml", "a project's file: the variables its configs give (`authcfg project`, `authcfg hook`, `authcfg export` with no name)"),
];

const EXAMPLES: &[(&str, &str)] = &[
    ("authcfg init", "create the store; its master key goes to the OS keyring"),
    ("AUTHCFG_IDENTITY=\"$(age-keygen | grep SECRET)\" authcfg init", "a store for CI or a headless machine: the key comes from the environment (keep it in the CI's secrets)"),
    ("printf %s \"$KEY\" | authcfg add custom api-key --name prod/stripe --secret-stdin api_key", "add an API key without it reaching the command line"),
    ("authcfg add connector postgres --name prod/db --set host=db.example.com --set database=app --set username=app --secret-stdin password", "add a database; the connection is tested before it is saved"),
    ("authcfg status", "which store, which key, and what needs attention"),
    ("authcfg test --all", "prove every config works against its service"),
    ("eval \"$(authcfg export prod/db)\"", "the config's variables (PGHOST, PGPASSWORD, ...) in this shell"),
    ("authcfg exec prod/db -- psql", "run a program with the variables in its environment only"),
    ("curl -H \"$(authcfg header prod/stripe)\" https://api.stripe.com/v1/charges", "a ready HTTP header line"),
    ("authcfg import --format dotenv .env --name myapp/dev", "move a .env file's variables into the store"),
    ("authcfg add custom totp --name acme/otp --secret-stdin otpauth_uri < uri.txt; authcfg otp acme/otp", "keep a one-time-code secret (the QR code's otpauth:// text) and print the current code"),
];

pub fn sections() -> Vec<Section> {
    let own = |v: &[(&str, &str)]| {
        v.iter()
            .map(|(k, d)| (k.to_string(), d.to_string()))
            .collect()
    };
    let mut exit = vec![(
        "0".to_string(),
        "success; also plain `authcfg` (a short help), `test` when every config passed or has nothing to probe, `status` when the store opens without asking".to_string(),
    )];
    exit.extend(
        crate::error::Exit::ALL
            .iter()
            .map(|e| ((*e as i32).to_string(), e.meaning().to_string())),
    );
    exit.push((
        "exec".to_string(),
        "the command's own exit code (127 when it is not found, 126 when it cannot be started)"
            .to_string(),
    ));
    vec![
        Section {
            title: "EXIT STATUS",
            entries: exit,
        },
        Section {
            title: "ENVIRONMENT",
            entries: own(crate::settings::VARIABLES),
        },
        Section {
            title: "FILES",
            entries: own(FILES),
        },
        Section {
            title: "EXAMPLES",
            entries: own(EXAMPLES),
        },
    ]
}

/// After `--help` (not `-h`): each section as "Title:" with its entries
/// indented, as clap lays out its own.
pub fn plain() -> String {
    let mut out = String::new();
    for s in sections() {
        let mut title = s.title.to_lowercase();
        title[..1].make_ascii_uppercase();
        out.push_str(&format!("{title}:\n"));
        for (term, what) in &s.entries {
            out.push_str(&format!("  {term}\n          {what}\n"));
        }
        out.push('\n');
    }
    out.trim_end().to_string()
}

/// The man page's sections, in roff.
pub fn roff() -> roff::Roff {
    use roff::{bold, roman, Roff};
    let mut r = Roff::new();
    for s in sections() {
        r.control("SH", [s.title]);
        for (term, what) in &s.entries {
            r.control("TP", []);
            r.text([bold(term.as_str())]);
            r.text([roman(what.as_str())]);
        }
    }
    r
}
