//! kubectl's exec credential plugin (`ops::kube_credential`): `authcfg kube
//! credential NAME --context CONTEXT` (kubectl runs it) and `authcfg kube
//! setup NAME CONTEXT` (which writes the kubeconfig user that runs it).

use super::Ctx;
use crate::error::CommandError;
use crate::ops::kube_credential::{self as kc, ExecInfo};
use std::io::Write;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
enum ApiVersion {
    /// client.authentication.k8s.io/v1 (kubectl 1.22 and later)
    V1,
    /// client.authentication.k8s.io/v1beta1 (older kubectl)
    V1beta1,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// Print an ExecCredential with the config's token (kubectl runs it)
    #[command(long_about = CREDENTIAL_ABOUT)]
    Credential {
        /// An OAuth2/OIDC or bearer config
        #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::config_names))]
        name: String,
        /// The kubectl context it is the user of (`kube setup` bound it)
        #[arg(long, value_name = "CONTEXT")]
        context: String,
    },
    /// Make a kubectl context use a config's token (writes the kubeconfig user)
    #[command(long_about = SETUP_ABOUT)]
    Setup {
        /// An OAuth2/OIDC or bearer config
        #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::config_names))]
        name: String,
        /// An existing context of the kubeconfig
        context: String,
        /// The ExecCredential version kubectl is asked to speak
        #[arg(long, value_enum, default_value = "v1")]
        api_version: ApiVersion,
        /// Bind a cluster whose entry has `insecure-skip-tls-verify: true`
        /// (anyone on the path to it could take the token)
        #[arg(long)]
        allow_insecure_skip_tls_verify: bool,
    },
}

const CREDENTIAL_ABOUT: &str = "Print an ExecCredential with the config's token (kubectl runs it).

The apiVersion is the one kubectl asks for in KUBERNETES_EXEC_INFO (client.authentication.k8s.io/v1 or v1beta1). The token goes only to the cluster `authcfg kube setup` bound to the context, reached as it was then (server, CA, tls-server-name, proxy-url, insecure-skip-tls-verify): kubectl must say which (provideClusterInfo). An OAuth2 token is refreshed first when due; expirationTimestamp is when authcfg would refresh it next, so kubectl runs this again then. Never asks at a terminal; a failure is one line on stderr and a non-zero exit.";

const SETUP_ABOUT: &str = "Make a kubectl context use a config's token (writes the kubeconfig user).

In the kubeconfig file that holds CONTEXT ($KUBECONFIG, else ~/.kube/config), the context's user becomes authcfg-NAME, whose exec stanza runs `authcfg --store DIR kube credential NAME --context CONTEXT` (interactiveMode: Never, provideClusterInfo: true). Other entries and keys are kept (comments are not); the file is replaced atomically under kubectl's lock (FILE.lock). The context's cluster is recorded (in ~/.config/authcfg/helpers.json) with how kubectl reaches it: its server, CA bundle (a SHA-256 of it), tls-server-name, proxy-url and insecure-skip-tls-verify. The token goes to no other server and through no other proxy or trust: run setup again after changing any of them. A cluster with insecure-skip-tls-verify: true is refused unless --allow-insecure-skip-tls-verify.";

pub fn run(ctx: &Ctx, args: Args) -> crate::error::CommandResult {
    match args.command {
        Sub::Credential { name, context } => credential(ctx, &name, &context),
        Sub::Setup {
            name,
            context,
            api_version,
            allow_insecure_skip_tls_verify,
        } => {
            let name = crate::store::canonical_name(&name)?;
            let s = ctx.session()?;
            let version = match api_version {
                ApiVersion::V1 => kc::V1,
                ApiVersion::V1beta1 => kc::V1BETA1,
            };
            let exe = std::env::current_exe()?;
            let done = kc::setup(
                &s,
                &name,
                &context,
                version,
                &exe,
                allow_insecure_skip_tls_verify,
            )?;
            eprintln!(
                "kubectl's context '{}' now uses '{name}' (user {} in {}), for {} only",
                crate::text::Outside::new(context),
                done.user,
                done.file.display(),
                done.server
            );
            Ok(())
        }
    }
}

/// kubectl shows the plugin's stderr: a failure is one line.
fn credential(ctx: &Ctx, name: &str, context: &str) -> crate::error::CommandResult {
    let mut settings = ctx.settings.clone();
    settings.interactive = false;
    let result = (|| -> anyhow::Result<zeroize::Zeroizing<String>> {
        let name = crate::store::canonical_name(name)?;
        let info = ExecInfo::parse(settings.kube_exec_info.as_deref())?;
        let s = crate::ops::Session::open(&settings, &ctx.store_dir, &crate::ops::Silent)?;
        kc::credential(&s, &name, context, &info)
    })();
    match result {
        Ok(json) => {
            let mut o = std::io::stdout().lock();
            o.write_all(json.as_bytes())?;
            o.write_all(b"\n")?;
            o.flush()?;
            Ok(())
        }
        Err(e) => {
            let (exit, hint) = crate::error::classify(&e);
            let line = match hint {
                Some(h) => format!("{e:#} (hint: {h})"),
                None => format!("{e:#}"),
            };
            super::say("authcfg: ", &line.replace('\n', " "));
            Err(CommandError::reported(exit))
        }
    }
}
