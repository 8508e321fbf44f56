//! `authcfg add oauth2 <provider|custom>`: an OAuth2 account, authorized now.

use crate::catalog::providers as catalog;
use crate::cli::form::Form;
use crate::cli::oauth_flow::{authorize, FlowArgs};
use crate::cli::Ctx;
use crate::error::{usage, UserError};
use crate::model::{ConfigDoc, Kind};
use crate::oauth::{self, discovery};
use crate::secret::Secret;
use std::collections::BTreeMap;

#[derive(clap::Args)]
pub struct Args {
    /// Provider id (see `authcfg providers`), or `custom`
    #[arg(value_name = "PROVIDER", add = clap_complete::ArgValueCandidates::new(crate::cli::complete::providers))]
    provider: String,
    /// Config name (default: the provider id); '/' groups accounts (google/marketing)
    #[arg(long, short = 'n')]
    name: Option<String>,
    /// Your OAuth application's client ID
    #[arg(long, value_name = "ID")]
    client_id: Option<String>,
    /// Read the client secret from standard input
    #[arg(long)]
    client_secret_stdin: bool,
    /// Space-separated scopes (default: the provider's)
    #[arg(long, value_name = "SCOPES")]
    scopes: Option<String>,
    /// custom: discover endpoints from this issuer (OpenID Connect / RFC 8414)
    #[arg(long, value_name = "URL")]
    issuer: Option<String>,
    /// Provider parameter (tenant=..., domain=...) or field (token_url=..., auth_method=...)
    #[arg(long = "set", value_name = "FIELD=VALUE")]
    set: Vec<String>,
    /// Replace an existing config of the same name
    #[arg(long)]
    force: bool,
    /// Only the master key and this recipient group may decrypt it
    #[arg(long, value_name = "GROUP")]
    group: Option<String>,
    #[command(flatten)]
    flow: FlowArgs,
}

pub fn run(ctx: &Ctx, args: Args) -> crate::error::CommandResult {
    let mut doc = build(ctx, &args)?;
    let s = ctx.session()?;
    let name = doc.meta.name.clone();
    super::common::refuse_existing(
        &s,
        &name,
        args.force,
        &format!(
            "pass --name {}/ACCOUNT for another account, or --force to replace it",
            args.provider
        ),
    )?;
    if let Err(e) = authorize(ctx, &mut doc, &args.flow) {
        crate::ops::config::note_failed_authorization(&s, &name, &e);
        return Err(unsaved(e, catalog::find(&args.provider)).into());
    }
    crate::ops::config::create(
        &s,
        &doc,
        args.force,
        &format!(
            "oauth2 {}, authorized ({})",
            doc.meta.type_id,
            doc.get("grant").unwrap_or_default()
        ),
    )?;
    eprintln!(
        "Authorized '{name}'{}{}",
        doc.meta
            .account
            .as_ref()
            .map(|a| format!(" as {a}"))
            .unwrap_or_default(),
        doc.meta
            .expires
            .map(|e| format!("; access token valid until {}", crate::model::rfc3339(e)))
            .unwrap_or_default()
    );
    Ok(())
}

fn parse_sets(sets: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for s in sets {
        let (k, v) = s.split_once('=').ok_or_else(|| {
            usage("--set expects FIELD=VALUE; this argument has no '=' (not shown: it may be a secret)")
                .hint("e.g. --set tenant=organizations")
        })?;
        out.insert(k.to_string(), v.to_string());
    }
    Ok(out)
}

/// The config before authorization: endpoints, client, scopes.
pub fn build(ctx: &Ctx, args: &Args) -> anyhow::Result<ConfigDoc> {
    let mut sets = parse_sets(&args.set)?;
    let name = super::common::config_name_or(ctx, args.name.as_deref(), &args.provider)?;
    let mut fields: BTreeMap<String, String> = BTreeMap::new();
    let provider = if args.provider == "custom" {
        // At a terminal the form asks what the flags would give.
        let mut issuer = args.issuer.clone();
        if issuer.is_none() && !sets.contains_key("token_url") && ctx.interactive {
            let given: String = dialoguer::Input::new()
                .with_prompt("Issuer URL, for OpenID Connect discovery (empty: give the endpoints)")
                .allow_empty(true)
                .validate_with(|v: &String| -> Result<(), String> {
                    if v.is_empty() {
                        return Ok(());
                    }
                    oauth::check_endpoint("issuer", v)
                        .map(|_| ())
                        .map_err(|e| e.message)
                })
                .interact_text()?;
            if given.is_empty() {
                for (field, what) in [
                    ("authorization_url", "Authorization endpoint URL"),
                    ("token_url", "Token endpoint URL"),
                ] {
                    if sets.contains_key(field) {
                        continue;
                    }
                    let v: String = dialoguer::Input::new()
                        .with_prompt(what)
                        .allow_empty(true)
                        .validate_with(move |v: &String| -> Result<(), String> {
                            if v.is_empty() {
                                return Err("required: cannot be empty".into());
                            }
                            oauth::check_endpoint(field, v)
                                .map(|_| ())
                                .map_err(|e| e.message)
                        })
                        .interact_text()?;
                    sets.insert(field.to_string(), v);
                }
            } else {
                issuer = Some(given);
            }
        }
        if let Some(issuer) = &issuer {
            let meta = discovery::discover(issuer)?;
            let put = |f: &mut BTreeMap<String, String>, k: &str, v: &Option<String>| {
                if let Some(v) = v {
                    f.insert(k.into(), v.clone());
                }
            };
            put(
                &mut fields,
                "authorization_url",
                &meta.authorization_endpoint,
            );
            fields.insert("token_url".into(), meta.token_endpoint.clone());
            put(
                &mut fields,
                "device_url",
                &meta.device_authorization_endpoint,
            );
            put(&mut fields, "revocation_url", &meta.revocation_endpoint);
            put(&mut fields, "userinfo_url", &meta.userinfo_endpoint);
            put(
                &mut fields,
                "introspection_url",
                &meta.introspection_endpoint,
            );
            fields.insert("scopes".into(), meta.default_scopes());
            if !meta.token_endpoint_auth_methods_supported.is_empty()
                && !meta
                    .token_endpoint_auth_methods_supported
                    .iter()
                    .any(|m| m == "client_secret_basic")
                && meta
                    .token_endpoint_auth_methods_supported
                    .iter()
                    .any(|m| m == "client_secret_post")
            {
                fields.insert("auth_method".into(), "client_secret_post".into());
            }
        } else if !sets.contains_key("token_url") {
            return Err(usage("custom OAuth2 needs --issuer URL, or --set token_url=... (and authorization_url=...)")
                .hint("e.g. authcfg add oauth2 custom --issuer https://auth.example.com --client-id ID")
                .into());
        }
        None
    } else {
        let p = catalog::find(&args.provider).ok_or_else(|| {
            let ids: Vec<&str> = catalog::all().iter().map(|p| p.id.as_str()).collect();
            let e = usage(format!("unknown OAuth2 provider '{}'", args.provider));
            match crate::cli::form::suggest(&args.provider, ids.iter().copied()) {
                Some(s) => e.hint(format!(
                    "did you mean '{s}'? See `authcfg providers`, or use `custom`"
                )),
                None => e.hint("see `authcfg providers`, or use `custom` with --issuer"),
            }
        })?;
        let mut values = BTreeMap::new();
        for param in &p.params {
            let v = match sets.remove(&param.name).or_else(|| param.default.clone()) {
                Some(v) => v,
                None if ctx.interactive => dialoguer::Input::<String>::new()
                    .with_prompt(format!("{} ({})", param.name, param.help))
                    .allow_empty(true)
                    .validate_with(|v: &String| -> Result<(), String> {
                        if v.is_empty() {
                            Err("required: cannot be empty".into())
                        } else if !param.allowed.is_empty() && !param.allowed.contains(v) {
                            Err(format!("one of {}", param.allowed.join(", ")))
                        } else {
                            Ok(())
                        }
                    })
                    .interact_text()?,
                None => {
                    return Err(usage(format!(
                        "{} needs --set {}=... ({})",
                        p.title, param.name, param.help
                    ))
                    .into())
                }
            };
            if !param.allowed.is_empty() && !param.allowed.contains(&v) {
                return Err(usage(format!(
                    "{}: '{v}' is not one of {}",
                    param.name,
                    param.allowed.join(", ")
                ))
                .into());
            }
            values.insert(param.name.clone(), v);
        }
        let fill = |t: &str| catalog::fill(t, &values).map_err(|e| usage(format!("{}: {e}", p.id)));
        fields.insert("authorization_url".into(), fill(&p.authorization_url)?);
        fields.insert("token_url".into(), fill(&p.token_url)?);
        for (k, v) in [
            ("device_url", &p.device_url),
            ("revocation_url", &p.revocation_url),
            ("userinfo_url", &p.userinfo_url),
            ("introspection_url", &p.introspection_url),
        ] {
            if let Some(t) = v {
                fields.insert(k.into(), fill(t)?);
            }
        }
        fields.insert("auth_method".into(), p.auth_method.clone());
        if !p.extra_params.is_empty() {
            let q = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(p.extra_params.iter())
                .finish();
            fields.insert("extra_params".into(), q);
        }
        fields.insert("scopes".into(), p.scopes.join(" "));
        Some(p)
    };
    // Explicit fields win over catalog and discovery.
    fields.extend(sets);
    if let Some(s) = &args.scopes {
        fields.insert("scopes".into(), s.clone());
    }
    if let Some(port) = args.flow.port {
        fields.insert("redirect_port".into(), port.to_string());
    }
    let client_id = match (&args.client_id, fields.get("client_id")) {
        (Some(id), _) => id.clone(),
        (None, Some(id)) => id.clone(),
        (None, None) if ctx.interactive => dialoguer::Input::<String>::new()
            .with_prompt(match provider.and_then(|p| p.console.as_ref()) {
                Some(c) => format!(
                    "Client ID (create an OAuth client at {c}, redirect URI http://127.0.0.1/callback)"
                ),
                None => "Client ID".to_string(),
            })
            .allow_empty(true)
            .validate_with(|v: &String| -> Result<(), &str> {
                if v.trim().is_empty() {
                    Err("required: cannot be empty")
                } else {
                    Ok(())
                }
            })
            .interact_text()?,
        (None, None) => {
            let mut e = usage(format!(
                "missing --client-id for {}",
                provider
                    .map(|p| p.title.as_str())
                    .unwrap_or("custom OAuth2")
            ));
            if let Some(c) = provider.and_then(|p| p.console.as_ref()) {
                e = e.hint(format!("create an OAuth client at {c} (redirect URI http://127.0.0.1/callback), then pass --client-id ID --client-secret-stdin"));
            }
            return Err(e.into());
        }
    };
    fields.insert("client_id".into(), client_id);
    if args.client_secret_stdin {
        let s = crate::cli::form::read_stdin_value("client_secret")?;
        fields.insert("client_secret".into(), s.expose().to_string());
    } else if ctx.interactive && !fields.contains_key("client_secret") && !args.flow.manual {
        let s = dialoguer::Password::new()
            .with_prompt("Client secret (empty for a public client)")
            .allow_empty_password(true)
            .interact()?;
        if !s.is_empty() {
            fields.insert("client_secret".into(), s);
        }
    }
    if !fields.contains_key("client_secret") {
        fields.insert("auth_method".into(), "none".into());
    } else {
        fields
            .entry("auth_method".into())
            .or_insert_with(|| "client_secret_basic".into());
    }
    let mut doc = ConfigDoc::new(
        &name,
        Kind::Oauth2,
        provider.map(|p| p.id.as_str()).unwrap_or("custom"),
    );
    doc.fields = fields
        .into_iter()
        .map(|(k, v)| (k, Secret::new(v)))
        .collect();
    let form = Form {
        fields: catalog::fields(),
        free_form: false,
    };
    form.validate(&doc.fields)?;
    for f in [
        "authorization_url",
        "token_url",
        "device_url",
        "revocation_url",
        "userinfo_url",
        "introspection_url",
    ] {
        if let Some(u) = doc.get(f).filter(|u| !u.is_empty()) {
            oauth::check_endpoint(f, u).map_err(|e: UserError| -> anyhow::Error { e.into() })?;
        }
    }
    Ok(doc)
}

/// An authorization that failed before the config was saved: the one
/// remedy for its typed cause, naming what to pass again (never a command
/// on a config that does not exist).
pub fn unsaved(mut e: anyhow::Error, provider: Option<&catalog::Provider>) -> anyhow::Error {
    use crate::error::Cause;
    let console = provider
        .and_then(|p| p.console.as_ref())
        .map(|c| format!(" (at {c})"))
        .unwrap_or_default();
    if let Some(u) = e.downcast_mut::<UserError>() {
        let remedy = match u.cause {
            Some(Cause::Credentials) => Some(format!(
                "verify the Client ID and Client Secret{console} and run the command again; nothing was saved"
            )),
            Some(Cause::Permission) => Some(
                "approve the authorization, asking only for scopes the client may have (--scopes); nothing was saved"
                    .to_string(),
            ),
            Some(Cause::Unreachable(_)) => Some(
                "check network connectivity and the provider's URLs (--issuer, or --set authorization_url=… token_url=…); nothing was saved"
                    .to_string(),
            ),
            Some(Cause::Protocol) | None => u.hint.take().map(|h| format!("{h}; nothing was saved")),
        };
        u.hint = remedy.or_else(|| Some("nothing was saved".into()));
    }
    e
}
