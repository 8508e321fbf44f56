//! S3 and S3-compatible stores: ListObjectsV2 (max-keys=1) signed with
//! SigV4 by AWS's own signer. The secret key itself never leaves this
//! machine; only a signature bound to this one request does.

use super::get;
use crate::connectors::{Class, Outcome};
use crate::model::ConfigDoc;
use crate::net::http::{self as nethttp, Redirects};
use crate::net::Tls;
use std::time::Duration;

/// What SigV4 signs with.
pub struct Credentials<'a> {
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    pub session_token: Option<&'a str>,
    pub region: &'a str,
    pub service: &'a str,
}

/// The SigV4 headers for one request (AWS's own signer; S3's single
/// percent-encoding, the payload hash in x-amz-content-sha256), bound to
/// its method, URL, the given headers and body.
pub fn sign_v4(
    creds: &Credentials,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Vec<(String, String)>, String> {
    use aws_sigv4::http_request::{
        sign, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest,
        SigningSettings,
    };
    let identity = aws_credential_types::Credentials::new(
        creds.access_key_id,
        creds.secret_access_key,
        creds.session_token.map(str::to_string),
        None,
        "authcfg",
    )
    .into();
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(creds.region)
        .name(creds.service)
        .time(std::time::SystemTime::now())
        .settings(settings)
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let out = SignableRequest::new(
        method,
        url,
        headers.iter().copied(),
        SignableBody::Bytes(body),
    )
    .and_then(|r| sign(r, &params))
    .map_err(|e| e.to_string())?;
    Ok(out
        .into_parts()
        .0
        .into_parts()
        .0
        .into_iter()
        .map(|h| (h.name().to_string(), h.value().to_string()))
        .collect())
}

/// ListObjectsV2 (max-keys=1) signed with SigV4 by AWS's own signer.
pub async fn probe(doc: &ConfigDoc, timeout: Duration) -> Outcome {
    let region = get(doc, "region");
    let bucket = get(doc, "bucket");
    let path_style = get(doc, "path_style") == "true"
        || !get(doc, "endpoint").is_empty() && get(doc, "path_style") != "false";
    let base = if get(doc, "endpoint").is_empty() {
        format!("https://s3.{region}.amazonaws.com")
    } else {
        get(doc, "endpoint").trim_end_matches('/').to_string()
    };
    let Ok(mut url) = url::Url::parse(&base) else {
        return Outcome::fail(Class::Config, "endpoint is not a URL");
    };
    if path_style {
        url.set_path(&format!("/{bucket}"));
    } else {
        let host = format!("{bucket}.{}", url.host_str().unwrap_or_default());
        if url.set_host(Some(&host)).is_err() {
            return Outcome::fail(
                Class::Config,
                "bucket name does not fit in a host name; set path_style=true",
            );
        }
        url.set_path("/");
    }
    url.set_query(Some("list-type=2&max-keys=1"));
    let creds = Credentials {
        access_key_id: get(doc, "access_key_id"),
        secret_access_key: get(doc, "secret_access_key"),
        session_token: None,
        region,
        service: "s3",
    };
    let headers = match sign_v4(&creds, "GET", url.as_str(), &[], &[]) {
        Ok(h) => h,
        Err(e) => return Outcome::fail(Class::Config, e),
    };
    // The signature is bound to this one request; still, no redirect to
    // another origin is followed with it.
    let t = Tls::system();
    let client = match nethttp::client(&t, timeout, Redirects::SameOrigin) {
        Ok(c) => c,
        Err(f) => return Outcome::fail(Class::Config, f.to_string()),
    };
    let mut req = client.get(url.as_str());
    for (k, v) in &headers {
        req = req.header(k, v);
    }
    let sent = if url.scheme() == "http"
        && !crate::net::is_loopback_host(url.host_str().unwrap_or_default())
    {
        // A signed request carries no secret: plain http stays allowed for
        // S3-compatible servers on private networks.
        nethttp::deliver(&t, &url, req).await
    } else {
        nethttp::send(&t, &url, req).await
    };
    match sent {
        Ok(answer) => {
            let identity = answer.identity;
            let resp = answer.response;
            let status = resp.status().as_u16();
            let body = resp.text().await.unwrap_or_default();
            let code = body
                .split("<Code>")
                .nth(1)
                .and_then(|s| s.split("</Code>").next())
                .unwrap_or("")
                .to_string();
            match (status, code.as_str()) {
                (200, _) => Outcome::ok(format!("ListObjectsV2 on bucket {bucket} ok (SigV4)")),
                (
                    _,
                    "InvalidAccessKeyId"
                    | "SignatureDoesNotMatch"
                    | "InvalidClientTokenId"
                    | "AuthorizationHeaderMalformed",
                ) => Outcome::fail(Class::Auth, code),
                (_, "NoSuchBucket") => {
                    Outcome::fail(Class::Config, format!("bucket {bucket} does not exist"))
                }
                (_, "AccessDenied") | (403, _) => {
                    Outcome::fail(Class::Permission, format!("HTTP {status} {code}"))
                }
                _ => Outcome::fail(Class::Protocol, format!("HTTP {status} {code}")),
            }
            .with_identity(identity)
        }
        Err(f) => super::http::failure(f),
    }
}
