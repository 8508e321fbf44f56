//! S3 and S3-compatible stores: ListObjectsV2 (max-keys=1) signed with
//! SigV4 by AWS's own signer. The secret key itself never leaves this
//! machine; only a signature bound to this one request does.

use super::get;
use crate::connectors::{Class, Outcome};
use crate::model::ConfigDoc;
use crate::net::http::{self as nethttp, Redirects};
use crate::net::Tls;
use std::time::Duration;

/// ListObjectsV2 (max-keys=1) signed with SigV4 by AWS's own signer.
pub async fn probe(doc: &ConfigDoc, timeout: Duration) -> Outcome {
    use aws_sigv4::http_request::{
        sign, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest,
        SigningSettings,
    };
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
    let identity = aws_credential_types::Credentials::new(
        get(doc, "access_key_id"),
        get(doc, "secret_access_key"),
        None,
        None,
        "authcfg",
    )
    .into();
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    let params = match aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("s3")
        .time(std::time::SystemTime::now())
        .settings(settings)
        .build()
    {
        Ok(p) => p.into(),
        Err(e) => return Outcome::fail(Class::Config, e.to_string()),
    };
    let headers = match SignableRequest::new(
        "GET",
        url.as_str(),
        std::iter::empty(),
        SignableBody::Bytes(&[]),
    )
    .and_then(|r| sign(r, &params))
    {
        Ok(out) => out.into_parts().0.into_parts().0,
        Err(e) => return Outcome::fail(Class::Config, e.to_string()),
    };
    // The signature is bound to this one request; still, no redirect to
    // another origin is followed with it.
    let t = Tls::system();
    let client = match nethttp::client(&t, timeout, Redirects::SameOrigin) {
        Ok(c) => c,
        Err(f) => return Outcome::fail(Class::Config, f.to_string()),
    };
    let mut req = client.get(url.as_str());
    for h in &headers {
        req = req.header(h.name(), h.value());
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
