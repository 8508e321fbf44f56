//! Drives an OAuth authorization for `add oauth2` and `reauth`: loopback
//! (RFC 8252), device (RFC 8628), manual paste, or client credentials. The
//! protocol work is in `oauth/`; this file talks to the user.

use super::Ctx;
use crate::error::{usage, Exit, UserError};
use crate::model::ConfigDoc;
use crate::oauth::{self, browser, loopback::Listener, loopback::Outcome, tokens};
use oauth2::{AuthorizationCode, CsrfToken, PkceCodeChallenge, Scope};
use std::time::{Duration, Instant};

#[derive(clap::Args, Clone, Default)]
pub struct FlowArgs {
    /// Device authorization grant (RFC 8628), for machines without a browser
    #[arg(long, conflicts_with_all = ["manual", "client_credentials"])]
    pub device: bool,
    /// Print the URL and paste the redirected URL (or the code) back
    #[arg(long, conflicts_with = "client_credentials")]
    pub manual: bool,
    /// Client credentials grant (machine-to-machine, no user)
    #[arg(long)]
    pub client_credentials: bool,
    /// Do not open a browser; print the URL only
    #[arg(long)]
    pub no_browser: bool,
    /// Fixed loopback port, for providers that need an exact redirect URI
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,
    /// Give up waiting for the authorization after S seconds
    #[arg(long, value_name = "S", default_value_t = 300)]
    pub timeout: u64,
}

/// Which grant this run uses.
pub fn choose_grant(args: &FlowArgs, doc: &ConfigDoc, browser_available: bool) -> &'static str {
    if args.client_credentials
        || (doc.get("grant") == Some("client_credentials") && !args.device && !args.manual)
    {
        "client_credentials"
    } else if args.device
        || (!args.manual
            && !args.no_browser
            && doc.get("device_url").is_some_and(|u| !u.is_empty())
            && (doc.get("grant") == Some("device_code") || !browser_available))
    {
        "device_code"
    } else {
        "authorization_code"
    }
}

/// Runs the flow and stores the tokens in `doc` (not yet saved).
pub fn authorize(ctx: &Ctx, doc: &mut ConfigDoc, args: &FlowArgs) -> anyhow::Result<()> {
    let browser = browser::available(&ctx.settings);
    let grant = choose_grant(args, doc, browser);
    // The device flow chosen for want of a browser: said, not silent.
    let no_display = grant == "device_code"
        && !browser
        && !args.device
        && doc.get("grant") != Some("device_code");
    let deadline = Instant::now() + Duration::from_secs(args.timeout.max(1));
    let name = doc.meta.name.clone();
    let resp = match grant {
        "client_credentials" => {
            let c = oauth::client(doc, None)?;
            let mut req = c.exchange_client_credentials()?;
            for s in tokens::scopes(doc) {
                req = req.add_scope(Scope::new(s));
            }
            req.request(&oauth::http_client())
                .map_err(|e| oauth::classify_token_error(&e, &name))?
        }
        "device_code" => device(ctx, doc, args, deadline, no_display)?,
        _ if args.manual => manual(ctx, doc)?,
        _ => loopback(ctx, doc, args, deadline)?,
    };
    doc.fields.insert("grant".into(), grant.to_string().into());
    tokens::apply(doc, &resp);
    if grant == "client_credentials" {
        doc.meta.account = doc.get("client_id").map(Into::into);
    } else if let Some(claims) = crate::ops::credential::Credential::of(doc)
        .and_then(|c| c.header())
        .ok()
        .and_then(|(h, v)| tokens::userinfo(doc, (&h, &v)).ok())
    {
        // Userinfo usually carries the e-mail that id tokens often leave out.
        if let Some(who) = tokens::account_from_claims(&claims) {
            tokens::set_account(doc, &who);
        }
    }
    doc.meta.rotated = crate::model::now();
    Ok(())
}

fn authorize_url(
    doc: &ConfigDoc,
    redirect: &str,
) -> anyhow::Result<(url::Url, CsrfToken, oauth2::PkceCodeVerifier)> {
    let c = oauth::client(doc, Some(redirect))?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut req = c
        .authorize_url(|| CsrfToken::new_random_len(32))
        .map_err(|_| {
            usage("the config has no authorization_url")
                .hint("set it with --set authorization_url=https://...")
        })?
        .set_pkce_challenge(challenge);
    for s in tokens::scopes(doc) {
        req = req.add_scope(Scope::new(s));
    }
    let extra: Vec<(String, String)> =
        url::form_urlencoded::parse(doc.get("extra_params").unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    for (k, v) in &extra {
        req = req.add_extra_param(k.clone(), v.clone());
    }
    let (url, state) = req.url();
    Ok((url, state, verifier))
}

fn exchange(
    doc: &ConfigDoc,
    redirect: &str,
    code: String,
    verifier: oauth2::PkceCodeVerifier,
) -> anyhow::Result<oauth::TokenResponse> {
    let c = oauth::client(doc, Some(redirect))?;
    c.exchange_code(AuthorizationCode::new(code))?
        .set_pkce_verifier(verifier)
        .request(&oauth::http_client())
        .map_err(|e| oauth::classify_token_error(&e, &doc.meta.name).into())
}

fn spinner(message: String) -> indicatif::ProgressBar {
    let pb =
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    pb.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg}").expect("valid template"),
    );
    pb.set_message(message);
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}

fn loopback(
    ctx: &Ctx,
    doc: &ConfigDoc,
    args: &FlowArgs,
    deadline: Instant,
) -> anyhow::Result<oauth::TokenResponse> {
    let port = args
        .port
        .or_else(|| doc.get("redirect_port").and_then(|p| p.parse().ok()));
    let mut listener = Listener::bind(port).map_err(|e| {
        UserError::new(Exit::OAuth, e)
            .hint("pick another --port, or free the one the provider requires")
    })?;
    let redirect = listener.redirect_uri();
    let (url, state, verifier) = authorize_url(doc, &redirect)?;
    // The terminal is the user's own; the browser's argv is readable by
    // every local user, so it gets a one-time link to this listener
    // instead (docs/SECURITY.md, "Another local user").
    eprintln!(
        "Open this URL in a browser to authorize '{}':\n\n  {url}\n",
        doc.meta.name
    );
    if !args.no_browser {
        open_once(ctx, &mut listener, &url);
    }
    let pb = spinner(format!("Waiting for the redirect to {redirect} ..."));
    let (outcome, _strays) = listener.wait(Some(state.secret()), deadline);
    pb.finish_and_clear();
    drop(listener);
    match outcome {
        Outcome::Code(code) => exchange(doc, &redirect, code, verifier),
        Outcome::Denied { error, description } => Err(denied(
            error.as_received(),
            description.as_ref().map(|d| d.as_received()),
        )),
        Outcome::Aborted(why) => Err(aborted(why)),
        Outcome::TimedOut => Err(UserError::new(
            Exit::OAuth,
            format!("timed out after {} s waiting for the authorization", args.timeout),
        )
        .hint("run again (with a larger --timeout), or use --device or --manual on machines without a browser")
        .into()),
    }
}

/// Opens the browser at a one-time link of `listener` that leads to
/// `target`: the browser's argv holds nothing worth copying.
fn open_once(ctx: &Ctx, listener: &mut Listener, target: &url::Url) {
    let link = listener.one_time_link(target);
    if let Err(e) = browser::open(
        &link,
        ctx.settings.browser.as_deref(),
        ctx.settings.key_cache.is_some(),
    ) {
        super::say(
            "",
            &format!("(could not open a browser: {e}; open the URL yourself)"),
        );
    }
}

fn aborted(why: String) -> anyhow::Error {
    UserError::new(Exit::OAuth, format!("authorization stopped: {why}"))
        .hint("run the command again; if it happens again, another local user is watching for authcfg's links (or use --no-browser and open the printed URL yourself)")
        .into()
}

/// The provider's refusal (from a callback or a pasted URL): its words are
/// outside text, taken out of secret parameters, escaped and cut
/// (`oauth::redact_values`).
fn denied(error: &str, description: Option<&str>) -> anyhow::Error {
    let e = UserError::new(
        Exit::OAuth,
        format!(
            "the provider refused the authorization: {}{}",
            oauth::redact_values(error, &[]),
            description
                .map(|d| format!(" ({})", oauth::redact_values(d, &[])))
                .unwrap_or_default()
        ),
    );
    match error {
        "access_denied" => {
            e.hint("the request was declined in the browser; run again and approve it")
        }
        "invalid_scope" => e.hint("ask for scopes the app may use (--scopes)"),
        "unauthorized_client" | "invalid_client" | "invalid_request" => {
            e.hint("verify the Client ID, and that the app allows http://127.0.0.1 redirect URIs")
        }
        _ => e,
    }
    .into()
}

fn manual(ctx: &Ctx, doc: &ConfigDoc) -> anyhow::Result<oauth::TokenResponse> {
    let redirect = format!("http://127.0.0.1{}", oauth::loopback::CALLBACK_PATH);
    let (url, state, verifier) = authorize_url(doc, &redirect)?;
    eprintln!(
        "Open this URL in a browser on any machine:\n\n  {url}\n\n\
         After you approve, the browser is sent to {redirect}?code=... (the page will not load).\n\
         Paste that whole address (or just the code) here:"
    );
    let mut line = String::new();
    if ctx.interactive {
        line = dialoguer::Password::new()
            .with_prompt("Redirected URL or code")
            .interact()?;
    } else {
        std::io::stdin().read_line(&mut line)?;
    }
    let line = line.trim();
    let code = if line.starts_with("http://") || line.starts_with("https://") {
        let u = url::Url::parse(line).map_err(|_| usage("that is not a valid URL"))?;
        eprintln!("Received {}", without_secrets(&u));
        let q: std::collections::HashMap<String, String> = u.query_pairs().into_owned().collect();
        if let Some(e) = q.get("error") {
            return Err(denied(e, q.get("error_description").map(String::as_str)));
        }
        if q.get("state").map(String::as_str) != Some(state.secret().as_str()) {
            return Err(UserError::new(
                Exit::OAuth,
                format!(
                    "the pasted URL's state does not match this authorization ({})",
                    without_secrets(&u)
                ),
            )
            .hint("paste the URL from the browser tab that this run's link opened")
            .into());
        }
        q.get("code")
            .cloned()
            .ok_or_else(|| usage("the pasted URL has no code"))?
    } else if line.is_empty() {
        return Err(usage("nothing was pasted").into());
    } else {
        line.to_string()
    };
    exchange(doc, &redirect, code, verifier)
}

/// A pasted redirect URL as it is shown back: the code, state and any
/// other value that could hold a secret replaced by `…`, escaped and cut
/// (outside text).
fn without_secrets(u: &url::Url) -> crate::text::Outside {
    let keep = ["error", "error_description", "error_uri", "iss"];
    let mut shown = u.clone();
    shown.set_fragment(None);
    shown.set_query(None);
    let _ = shown.set_password(None);
    let mut text = shown.to_string();
    let pairs: Vec<String> = u
        .query_pairs()
        .map(|(k, v)| {
            let k: String = url::form_urlencoded::byte_serialize(k.as_bytes()).collect();
            if keep.contains(&k.as_str()) {
                let v: String = url::form_urlencoded::byte_serialize(v.as_bytes()).collect();
                format!("{k}={v}")
            } else {
                format!("{k}=…")
            }
        })
        .collect();
    if !pairs.is_empty() {
        text.push('?');
        text.push_str(&pairs.join("&"));
    }
    crate::text::Outside::new(text)
}

fn device(
    ctx: &Ctx,
    doc: &ConfigDoc,
    args: &FlowArgs,
    deadline: Instant,
    no_display: bool,
) -> anyhow::Result<oauth::TokenResponse> {
    let c = oauth::client(doc, None)?;
    let http = oauth::http_client();
    let mut req = c.exchange_device_code().map_err(|_| {
        usage(format!(
            "'{}' has no device authorization endpoint",
            doc.meta.name
        ))
        .hint("use the browser flow, or --manual")
    })?;
    for s in tokens::scopes(doc) {
        req = req.add_scope(Scope::new(s));
    }
    let details: oauth2::StandardDeviceAuthorizationResponse = req
        .request(&http)
        .map_err(|e| oauth::classify_token_error(&e, &doc.meta.name))?;
    // The provider's URLs are where the user is sent: https (or http on
    // loopback), like every endpoint; its fields are outside text.
    let verification =
        oauth::check_endpoint("verification_uri", details.verification_uri().as_str())
            .map_err(provider_url_refused)?;
    let complete = details
        .verification_uri_complete()
        .map(|c| oauth::check_endpoint("verification_uri_complete", c.secret()))
        .transpose()
        .map_err(provider_url_refused)?;
    let user_code = crate::text::Outside::new(details.user_code().secret().as_str());
    if no_display {
        eprintln!(
            "no display: using the device flow (RFC 8628) — open {} and enter {}",
            crate::text::Outside::new(verification.as_str()),
            user_code.cut(64)
        );
    } else {
        eprintln!(
            "To authorize '{}', open {} and enter the code: {}",
            doc.meta.name,
            crate::text::Outside::new(verification.as_str()),
            user_code.cut(64)
        );
    }
    let mut listener = None;
    if let Some(complete) = &complete {
        eprintln!(
            "(or open {} directly)",
            crate::text::Outside::new(complete.as_str())
        );
        if !args.no_browser && browser::available(&ctx.settings) {
            // The complete URL holds the user code: whoever enters it first
            // decides whose account this config gets. The browser is given
            // a one-time link instead (as for the loopback flow).
            let mut l = Listener::bind(None).map_err(|e| UserError::new(Exit::OAuth, e))?;
            open_once(ctx, &mut l, complete);
            listener = Some(std::cell::RefCell::new(l));
        }
    }
    let stop: std::cell::RefCell<Option<String>> = Default::default();
    // Between polls, the listener serves the one-time link; once the flow
    // must stop, no further poll is sent.
    let sleep = |d: Duration| match &listener {
        Some(l) if stop.borrow().is_none() => {
            if let (Outcome::Aborted(why), _) = l.borrow_mut().wait(None, Instant::now() + d) {
                *stop.borrow_mut() = Some(why);
            }
        }
        _ => std::thread::sleep(d),
    };
    let poll = |r: oauth2::HttpRequest| -> Result<oauth2::HttpResponse, PollError> {
        if stop.borrow().is_some() {
            return Err(PollError("stopped".into()));
        }
        oauth2::SyncHttpClient::call(&http, r).map_err(|e| PollError(crate::net::chain(&e)))
    };
    let pb = spinner("Waiting for the code to be approved ...".into());
    let remaining = deadline.saturating_duration_since(Instant::now());
    let result = c
        .exchange_device_access_token(&details)?
        .request(&poll, sleep, Some(remaining));
    pb.finish_and_clear();
    if let Some(why) = stop.take() {
        return Err(aborted(why));
    }
    result.map_err(|e| oauth::classify_token_error(&e, &doc.meta.name).into())
}

/// A failed poll of the device flow's token endpoint.
#[derive(Debug)]
struct PollError(String);

impl std::fmt::Display for PollError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PollError {}

fn provider_url_refused(e: UserError) -> UserError {
    UserError::new(
        Exit::OAuth,
        format!("the provider's device authorization answer was refused: {e}"),
    )
    .hint("nothing was opened; the provider must send https verification URLs")
}

/// Whether a config is the seed's manual OAuth 2.0 custom type.
pub fn is_manual_oauth2(doc: &ConfigDoc) -> bool {
    doc.meta.kind == crate::model::Kind::Custom
        && crate::ops::credential::CustomAuth::parse(&doc.meta.type_id)
            == Some(crate::ops::credential::CustomAuth::OAuth2)
}

/// The one OAuth2 path: a manual `oauth2` custom config that is
/// authorized becomes an OAuth2 config of the `custom` provider (refreshed,
/// re-authorized, revoked and tested as every other). A field that kind
/// does not have (test_url, tls_*) is refused, not dropped.
pub fn as_oauth2(doc: &ConfigDoc, saved: bool) -> anyhow::Result<ConfigDoc> {
    if doc.meta.kind == crate::model::Kind::Oauth2 {
        return Ok(doc.clone());
    }
    let form = crate::ops::config::Form::of(crate::model::Kind::Oauth2, "custom");
    let name = &doc.meta.name;
    for k in doc.fields.keys() {
        if form.spec(k).is_err() {
            let e = usage(format!(
                "'{name}': {k} is not a field of an authorized OAuth2 config (it is tested at the provider's userinfo endpoint)"
            ));
            return Err(if saved {
                e.hint(format!("remove it first: `authcfg edit {name} --unset {k}`"))
            } else {
                e.hint(format!("leave out --set {k}=…, or give the token you have with --secret-stdin access_token"))
            }
            .into());
        }
    }
    let mut out = doc.clone();
    out.meta.kind = crate::model::Kind::Oauth2;
    out.meta.type_id = "custom".into();
    if doc.get("client_secret").is_none_or(str::is_empty) {
        out.fields
            .insert("auth_method".into(), "none".to_string().into());
    }
    Ok(out)
}
