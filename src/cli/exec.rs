//! `authcfg exec NAME... -- CMD [ARGS]`: run CMD with the configs in its
//! environment. authcfg replaces itself with CMD (execvp), so CMD keeps its
//! PID: signals reach it directly and its exit status is the command's own.
//! Secrets are only in CMD's environment: never in argv, never in a file.

use super::Ctx;
use crate::error::usage;

use crate::settings::{ENV_EXEC_GUARD as GUARD, KEY_BEARING};

#[derive(clap::Args)]
pub struct Args {
    /// Config name(s); none: the variables of the project file
    /// (.authcfg.toml, found from here up)
    #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::config_names))]
    names: Vec<String>,
    /// Prepend P to every variable, or NAME:P to one config's variables
    #[arg(long, value_name = "P")]
    prefix: Vec<String>,
    #[command(flatten)]
    pub project: super::export::ProjectArgs,
    /// Give the command placeholders instead of secrets, and a proxy on
    /// 127.0.0.1 that puts the real values into its requests to the
    /// configs' allowed origins only (implies --mask)
    #[arg(long)]
    placeholders: bool,
    /// With --placeholders: refuse every request to an origin no config
    /// allows (by default one carrying no placeholder is sent unchanged)
    #[arg(long, requires = "placeholders")]
    deny_other: bool,
    /// Pass the command's output through the redactor: the configs'
    /// secrets, in any form, become [REDACTED:NAME/FIELD]
    #[arg(long)]
    mask: bool,
    /// Hand the command a temporary database user for this long (15m, 1h,
    /// at most 7d) instead of the config's own (PostgreSQL: lease_role;
    /// MySQL/MariaDB: lease_grants); dropped when the command ends
    #[arg(long, value_name = "DURATION", conflicts_with_all = ["placeholders", "mask"])]
    lease: Option<String>,
    /// For an AWS config: instead of session keys in variables, serve the
    /// session on 127.0.0.1 for the command's lifetime
    /// (AWS_CONTAINER_CREDENTIALS_FULL_URI and a per-run
    /// AWS_CONTAINER_AUTHORIZATION_TOKEN), so its SDKs renew it themselves
    #[arg(long, conflicts_with = "lease")]
    aws_endpoint: bool,
    /// The command and its arguments, after --
    #[arg(last = true, required = true, value_name = "CMD")]
    command: Vec<String>,
}

pub fn run(ctx: &Ctx, args: Args) -> crate::error::CommandResult {
    if let Some(outer) = &ctx.settings.exec_guard {
        return Err(usage(format!(
            "already inside `authcfg exec` (for {outer}); refusing to nest"
        ))
        .hint(format!(
            "run the inner command directly, or unset {GUARD} if nesting is really meant"
        ))
        .into());
    }
    if args.lease.is_some() {
        return leased(ctx, args);
    }
    let project = args
        .project
        .select(ctx, !args.names.is_empty(), !args.prefix.is_empty())?;
    let s = ctx.session()?;
    let (vars, used) = match &project {
        Some((p, env)) => crate::ops::project::resolve(&s, p, env, "exec")?,
        None => {
            let names = super::export::canonical(&args.names)?;
            let used = crate::ops::handout::read_for_use(&s, &names, "exec")?;
            let vars = crate::export::collect_vars(&used.docs, &args.prefix)?;
            (vars, used)
        }
    };
    let guard = match &project {
        Some((p, env)) => format!("{} ({env})", p.file.display()),
        None => args.names.join(","),
    };
    if args.placeholders || args.mask || args.aws_endpoint {
        return supervised(ctx, &args, &s, vars, used, guard);
    }
    used.record(&s)?;
    let store_id = s.store.header().id;
    drop(used);
    drop(s);
    // The child must not possess the session keyring holding a cached key.
    if ctx.settings.key_cache.is_some() || crate::keys::cache::get(&store_id).is_some() {
        crate::keys::cache::leave_session();
    }
    let cmd = child_command(&args.command, &vars, guard);
    drop(vars);
    let err = crate::platform::exec(cmd);
    cannot_run(&args.command[0], err)
}

/// The command with the variables (and nothing key-bearing) in its
/// environment.
fn child_command(
    command: &[String],
    vars: &[crate::export::Var],
    guard: String,
) -> std::process::Command {
    let mut cmd = std::process::Command::new(&command[0]);
    cmd.args(&command[1..]);
    // Already removed from this process at start-up; removed again here so
    // that no future change can hand a key to the child.
    for k in KEY_BEARING {
        cmd.env_remove(k);
    }
    for v in vars {
        // Replaces any inherited variable of the same name.
        cmd.env(&v.name, v.value.expose());
    }
    cmd.env(GUARD, guard);
    cmd
}

/// The command could not be started; shells use 127/126.
fn cannot_run(command: &str, err: std::io::Error) -> crate::error::CommandResult {
    eprintln!(
        "error: cannot run '{}': {err}",
        crate::text::escape(command, crate::text::SHOWN)
    );
    eprintln!("hint: check the command name and your PATH");
    Err(crate::error::CommandError::reported(
        if err.kind() == std::io::ErrorKind::NotFound {
            crate::error::Exit::NoCommand
        } else {
            crate::error::Exit::CannotRun
        },
    ))
}

/// `exec --placeholders` / `--mask` / `--aws-endpoint`: authcfg stays the
/// child's parent, for the proxy, the masked output and the AWS endpoint
/// (`ops::run`); the command's exit status is still the command's own
/// (128 + the signal that ended it).
fn supervised(
    ctx: &Ctx,
    args: &Args,
    s: &crate::ops::Session,
    vars: Vec<crate::export::Var>,
    mut used: crate::ops::handout::Used,
    guard: String,
) -> crate::error::CommandResult {
    use crate::ops::run;
    let program = std::path::Path::new(&args.command[0])
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| args.command[0].clone());
    let label = format!("exec:{program}");
    if args.placeholders && ctx.settings.consumer_label.is_none() {
        used.consumer = Some(crate::store::usage::Consumer::label(&label));
    }
    // The one AWS config the endpoint serves.
    let aws = if args.aws_endpoint {
        let mut found = used.docs.iter().filter(|d| crate::ops::aws::is_aws(d));
        match (found.next(), found.next()) {
            (Some(d), None) => Some(d.meta.name.clone()),
            (None, _) => {
                return Err(usage("--aws-endpoint needs an AWS config")
                    .hint("AWS configs are the s3, dynamodb, amazon-sqs, amazon-sns and amazon-kinesis connectors")
                    .into())
            }
            (Some(_), Some(_)) => {
                return Err(usage("--aws-endpoint serves one AWS config; more than one was named").into())
            }
        }
    } else {
        None
    };
    // Only masked output passes through authcfg.
    let io = if !(args.mask || args.placeholders) {
        run::Io::Plain
    } else if super::term::interactive_terminal() {
        run::Io::Terminal
    } else {
        run::Io::Inherit
    };
    let spec = run::Spec {
        env_only: None,
        program: args.command[0].clone().into(),
        arg0: None,
        args: args.command[1..].to_vec(),
        label,
        action: "exec".into(),
        guard,
        placeholders: args.placeholders,
        deny_other: args.deny_other,
        aws,
        io,
    };
    let mut report = |n: run::Notice| match n {
        run::Notice::Refused(m) => super::say("authcfg: refused a request of the command: ", &m),
        run::Notice::NoAwsSession(m) => {
            super::say("authcfg: the AWS endpoint has no session: ", &m)
        }
    };
    let done = match run::run(s, used, vars, spec, &mut report)? {
        Ok(d) => d,
        Err(err) => return cannot_run(&args.command[0], err),
    };
    std::process::exit(done.code());
}

/// `exec --lease D NAME -- CMD`: a temporary database user for CMD
/// (`ops::lease`). authcfg stays to drop the user when CMD ends (or when
/// the lease does), and exits with CMD's code.
fn leased(ctx: &Ctx, args: Args) -> crate::error::CommandResult {
    use crate::ops::lease;
    let ttl = lease::parse_ttl(args.lease.as_deref().unwrap_or_default())?;
    if args.names.len() != 1 {
        return Err(
            usage("--lease takes exactly one config: the database to lend a user of")
                .hint("authcfg exec --lease 15m NAME -- CMD")
                .into(),
        );
    }
    if args.project.env.is_some() {
        return Err(
            usage("--env applies to a project file; --lease takes one named config").into(),
        );
    }
    let s = ctx.session()?;
    for w in lease::sweep(&s) {
        swept_notice(&w);
    }
    let names = super::export::canonical(&args.names)?;
    let used = crate::ops::handout::read_for_use(&s, &names, "exec-lease")?;
    let admin = used.docs[0].clone();
    used.record(&s)?;
    drop(used);
    let granted = lease::create(&s, &admin, ttl)?;
    let l = &granted.lease;
    let until = time::OffsetDateTime::from_unix_timestamp(l.expires)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    eprintln!(
        "authcfg: lease {} of '{}' until {until} (created in {} ms)",
        l.user,
        crate::text::escape(&l.config, crate::text::SHOWN),
        granted.create_time.as_millis()
    );
    let vars = match crate::export::collect_vars(std::slice::from_ref(&granted.doc), &args.prefix) {
        Ok(v) => v,
        Err(e) => {
            end_notice(lease::end(&s, &admin, l), l);
            return Err(e.into());
        }
    };
    drop(granted.doc);
    let store_id = s.store.header().id;
    // The child must not possess the session keyring holding a cached key.
    if ctx.settings.key_cache.is_some() || crate::keys::cache::get(&store_id).is_some() {
        crate::keys::cache::leave_session();
    }
    let cmd = child_command(&args.command, &vars, args.names.join(","));
    drop(vars);
    let held = match lease::hold(&s, &admin, l, cmd) {
        Ok(h) => h,
        Err(err) => {
            end_notice(lease::end(&s, &admin, l), l);
            return cannot_run(&args.command[0], err);
        }
    };
    match held.expired {
        Some(r) => {
            eprintln!("authcfg: lease {} ended while the command ran", l.user);
            end_notice(r, l);
        }
        None => end_notice(lease::end(&s, &admin, l), l),
    }
    let code = crate::platform::exit_code(held.status);
    if code == 0 {
        Ok(())
    } else {
        Err(crate::error::CommandError::child(code))
    }
}

fn end_notice(r: anyhow::Result<Option<std::time::Duration>>, l: &crate::ops::lease::Lease) {
    match r {
        Ok(Some(d)) => eprintln!("authcfg: lease {} dropped in {} ms", l.user, d.as_millis()),
        Ok(None) => eprintln!("authcfg: lease {} was already revoked", l.user),
        Err(e) => {
            super::say("warning: ", &format!("{e:#}"));
            eprintln!(
                "hint: the next `authcfg leases` drops it (its record is kept); `authcfg leases revoke {}` tries now",
                l.id
            );
        }
    }
}

pub fn swept_notice(w: &crate::ops::lease::Swept) {
    let config = crate::text::escape(&w.config, crate::text::SHOWN);
    match &w.error {
        None => eprintln!(
            "authcfg: dropped lease {} of '{config}' ({})",
            w.user,
            match w.state {
                crate::ops::lease::State::Expired => "ended",
                crate::ops::lease::State::Orphaned => "its holder is gone",
                crate::ops::lease::State::Active => "revoked",
            }
        ),
        Some(e) => super::say(
            "warning: ",
            &format!("cannot drop lease {} of '{config}' yet: {e}", w.user),
        ),
    }
}
