//! Whether a value in a project file looks like a secret. A project file is
//! committed to a repository: it names configs, it never holds their
//! values. Known token formats are recognised by prefix, private keys by
//! their PEM header, and anything else long and random-looking by its
//! entropy.

/// Token prefixes of well-known services, with what they are.
const PREFIXES: &[(&str, usize, &str)] = &[
    ("sk_live_", 8, "a Stripe live secret key"),
    ("sk_test_", 8, "a Stripe test secret key"),
    ("rk_live_", 8, "a Stripe restricted key"),
    ("rk_test_", 8, "a Stripe restricted key"),
    ("whsec_", 16, "a Stripe webhook secret"),
    ("ghp_", 20, "a GitHub personal access token"),
    ("gho_", 20, "a GitHub OAuth token"),
    ("ghu_", 20, "a GitHub user-to-server token"),
    ("ghs_", 20, "a GitHub server-to-server token"),
    ("ghr_", 20, "a GitHub refresh token"),
    (
        "github_pat_",
        20,
        "a GitHub fine-grained personal access token",
    ),
    ("glpat-", 16, "a GitLab personal access token"),
    ("gldt-", 16, "a GitLab deploy token"),
    ("xoxb-", 10, "a Slack bot token"),
    ("xoxp-", 10, "a Slack user token"),
    ("xoxa-", 10, "a Slack app token"),
    ("xoxr-", 10, "a Slack refresh token"),
    ("xapp-", 10, "a Slack app-level token"),
    ("sk-ant-", 16, "an Anthropic API key"),
    ("sk-proj-", 16, "an OpenAI project key"),
    ("sk-", 32, "an OpenAI-style secret key"),
    ("AIza", 30, "a Google API key"),
    ("ya29.", 20, "a Google OAuth access token"),
    ("1//", 30, "a Google OAuth refresh token"),
    ("npm_", 30, "an npm access token"),
    ("pypi-", 30, "a PyPI API token"),
    ("SG.", 30, "a SendGrid API key"),
    ("hf_", 30, "a Hugging Face token"),
    ("dop_v1_", 30, "a DigitalOcean token"),
    ("shpat_", 20, "a Shopify access token"),
    ("shpss_", 20, "a Shopify shared secret"),
    ("AGE-SECRET-KEY-1", 0, "an age secret key"),
];

/// Why `value` looks like a secret, or `None`.
pub fn looks_like_secret(value: &str) -> Option<String> {
    let v = value.trim();
    if v.contains("-----BEGIN") && v.contains("PRIVATE KEY") {
        return Some("it holds a private key (a PEM \"PRIVATE KEY\" block)".into());
    }
    for (prefix, min_rest, what) in PREFIXES {
        for word in v.split(|c: char| c.is_whitespace() || c == '"' || c == '\'') {
            if let Some(rest) = word.strip_prefix(prefix) {
                if rest.len() >= *min_rest
                    && rest
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_./+=".contains(c))
                {
                    return Some(format!("it looks like {what} (it starts with {prefix})"));
                }
            }
        }
    }
    if let Some(w) = v
        .split(|c: char| !c.is_ascii_alphanumeric())
        .find(|w| aws_key_id(w))
    {
        return Some(format!("it looks like an AWS access key id ({}…)", &w[..4]));
    }
    if let Some(jwt) = v.split_whitespace().find(|w| is_jwt(w)) {
        let _ = jwt;
        return Some("it looks like a JSON Web Token (eyJ….….…)".into());
    }
    if let Some(at) = url_password(v) {
        return Some(format!(
            "it is a URL with a password in it (before '@' at byte {at})"
        ));
    }
    for token in v.split(|c: char| !(c.is_ascii_alphanumeric() || "+/=_-".contains(c))) {
        if let Some(why) = random_looking(token) {
            return Some(why);
        }
    }
    None
}

fn aws_key_id(w: &str) -> bool {
    w.len() == 20
        && ["AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA"]
            .iter()
            .any(|p| w.starts_with(p))
        && w.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

fn is_jwt(w: &str) -> bool {
    let parts: Vec<&str> = w.split('.').collect();
    parts.len() == 3
        && parts[0].starts_with("eyJ")
        && parts[1].len() >= 8
        && parts.iter().all(|p| {
            p.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '=')
        })
}

/// `scheme://user:password@host`: the byte offset of the `@`.
fn url_password(v: &str) -> Option<usize> {
    let start = v.find("://")? + 3;
    let rest = &v[start..];
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let at = authority.rfind('@')?;
    let userinfo = &authority[..at];
    let (_, password) = userinfo.split_once(':')?;
    (!password.is_empty()).then_some(start + at)
}

/// Shannon entropy in bits per character.
fn entropy(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    for b in s.bytes() {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// A long token of random-looking characters (base64 or hex).
fn random_looking(token: &str) -> Option<String> {
    let len = token.len();
    if len < 32 {
        return None;
    }
    let is_uuid_like = token.split('-').map(str::len).collect::<Vec<_>>() == [8, 4, 4, 4, 12];
    if is_uuid_like {
        return None;
    }
    let digits = token.chars().any(|c| c.is_ascii_digit());
    let lower = token.chars().any(|c| c.is_ascii_lowercase());
    let upper = token.chars().any(|c| c.is_ascii_uppercase());
    let e = entropy(token);
    let hex = token.chars().all(|c| c.is_ascii_hexdigit());
    let why = |kind: &str| {
        format!("it is a long random-looking {kind} string ({len} characters, {e:.1} bits of entropy per character)")
    };
    if hex && digits && (lower || upper) && e >= 3.0 {
        return Some(why("hex"));
    }
    if digits && lower && upper && e >= 4.0 {
        return Some(why("base64"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::looks_like_secret as s;

    #[test]
    fn known_secrets_are_recognised() {
        for v in [
            "sk_live_51H8abcdefghijklmnopqrstuv",
            "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
            "AKIAIOSFODNN7EXAMPLE",
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----",
            "-----BEGIN RSA PRIVATE KEY-----",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            "postgres://app:hunter2@db.example.com/app",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "xoxb-1234567890-abcdefghij",
            "AGE-SECRET-KEY-1QQQQ",
        ] {
            assert!(s(v).is_some(), "{v}");
        }
    }

    #[test]
    fn ordinary_values_pass() {
        for v in [
            "debug",
            "https://api.example.com/v1/charges",
            "postgres://app@db.example.com:5432/app",
            "my-application-name-in-production-eu-west",
            "123e4567-e89b-12d3-a456-426614174000",
            "/usr/local/share/app/templates/default",
            "pk_live_is_not_secret_but_short",
            "en_US.UTF-8",
            "3600",
        ] {
            assert_eq!(s(v), None, "{v}");
        }
    }

    #[test]
    fn the_reason_names_the_kind() {
        assert!(s("sk_live_51H8abcdefghijklmnopqrstuv")
            .unwrap()
            .contains("Stripe live secret key"));
        assert!(s("AKIAIOSFODNN7EXAMPLE").unwrap().contains("AWS"));
        assert!(s("-----BEGIN PRIVATE KEY-----")
            .unwrap()
            .contains("private key"));
    }
}
