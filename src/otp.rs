//! Time-based one-time passwords (RFC 6238) from `otpauth://totp/...`
//! URIs, the text of the QR codes services show: the `totp` custom type
//! and `authcfg otp NAME`. The codes come from `totp-rs`. Errors name what
//! is wrong with a URI, never the URI (it holds the secret).

use crate::error::{usage, UserError};
use totp_rs::{TotpUrlError, TOTP};

/// The TOTP of a URI. Secrets shorter than RFC 4226's 128 bits are
/// accepted: the service chose them, and codes must match its own.
pub fn parse(uri: &str) -> Result<TOTP, UserError> {
    let totp = TOTP::from_url_unchecked(uri.trim()).map_err(|e| {
        let what = match e {
            TotpUrlError::Url(_) | TotpUrlError::Scheme(_) => "is not an otpauth:// URI",
            TotpUrlError::Host(_) => {
                "is not a TOTP URI (otpauth://totp/...; counter-based hotp is not supported)"
            }
            TotpUrlError::Secret(_) => "has a secret that is not base32",
            TotpUrlError::SecretSize(_) => "has an empty or unusable secret",
            TotpUrlError::Algorithm(_) => "names an algorithm other than SHA1, SHA256 or SHA512",
            TotpUrlError::Digits(_) | TotpUrlError::DigitsNumber(_) => {
                "asks for a number of digits other than 6 to 8"
            }
            TotpUrlError::Step(_) => "has a period that is not a number of seconds",
            _ => "has a malformed issuer or account name",
        };
        refused(what)
    })?;
    // What `from_url` checks and `from_url_unchecked` does not, but for
    // the secret's length.
    if !(6..=8).contains(&totp.digits) {
        return Err(refused("asks for a number of digits other than 6 to 8"));
    }
    if totp.secret.is_empty() || totp.step == 0 {
        return Err(refused("has an empty secret or a zero period"));
    }
    Ok(totp)
}

fn refused(what: &str) -> UserError {
    usage(format!("otpauth_uri: the value {what}")).hint(
        "copy the text of the QR code the service shows (otpauth://totp/LABEL?secret=BASE32&issuer=...)",
    )
}

/// The code at `unix` seconds, and the seconds it stays valid.
pub fn code_at(totp: &TOTP, unix: u64) -> (String, u64) {
    (totp.generate(unix), totp.step - unix % totp.step)
}

/// The code now.
pub fn code_now(totp: &TOTP) -> (String, u64) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    code_at(totp, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238, Appendix B: every test vector, for each algorithm.
    #[test]
    fn rfc_6238_test_vectors() {
        let seeds = [
            ("SHA1", "12345678901234567890".to_string()),
            ("SHA256", "12345678901234567890123456789012".to_string()),
            ("SHA512", "1234567890".repeat(6) + "1234"),
        ];
        let vectors: [(u64, [&str; 3]); 6] = [
            (59, ["94287082", "46119246", "90693936"]),
            (1111111109, ["07081804", "68084774", "25091201"]),
            (1111111111, ["14050471", "67062674", "99943326"]),
            (1234567890, ["89005924", "91819424", "93441116"]),
            (2000000000, ["69279037", "90698825", "38618901"]),
            (20000000000, ["65353130", "77737706", "47863826"]),
        ];
        for (i, (alg, seed)) in seeds.iter().enumerate() {
            let secret = base32(seed.as_bytes());
            let totp = parse(&format!(
                "otpauth://totp/rfc:test?secret={secret}&algorithm={alg}&digits=8&period=30"
            ))
            .unwrap();
            for (t, codes) in &vectors {
                assert_eq!(code_at(&totp, *t).0, codes[i], "{alg} at {t}");
            }
        }
        assert_eq!(
            code_at(
                &parse(&format!(
                    "otpauth://totp/a?secret={}",
                    base32(b"12345678901234567890")
                ))
                .unwrap(),
                59
            )
            .1,
            1
        );
    }

    #[test]
    fn errors_never_show_the_uri() {
        for bad in [
            "https://example.com/?secret=JBSWY3DPEHPK3PXP",
            "otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP&counter=1",
            "otpauth://totp/x?secret=not*base32*TOPSECRET",
            "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&algorithm=MD5",
            "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&digits=12",
            "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&period=soon",
        ] {
            let e = parse(bad).unwrap_err();
            let text = format!("{} {}", e.message, e.hint.unwrap_or_default());
            assert!(
                !text.contains("JBSWY3DPEHPK3PXP") && !text.contains("TOPSECRET"),
                "{text}"
            );
        }
    }

    fn base32(bytes: &[u8]) -> String {
        const A: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let mut out = String::new();
        for chunk in bytes.chunks(5) {
            let mut buf = [0u8; 5];
            buf[..chunk.len()].copy_from_slice(chunk);
            let n = u64::from_be_bytes([0, 0, 0, buf[0], buf[1], buf[2], buf[3], buf[4]]);
            let chars = (chunk.len() * 8).div_ceil(5);
            for i in 0..chars {
                out.push(A[((n >> (35 - 5 * i)) & 31) as usize] as char);
            }
        }
        out
    }
}
