//! Property tests (proptest): names, the config document, header and
//! journal parsers, and export quoting, over generated inputs. Hostile
//! text never panics a parser, anything accepted is canonical and safe,
//! and every value survives every format it is written in.

use authcfg::export::formats;
use authcfg::export::Var;
use authcfg::secret::Secret;
use authcfg::store::crypto::{AdminKey, Key32};
use authcfg::store::header::Header;
use authcfg::store::journal::{self, TxnJournal};
use authcfg::store::names;
use proptest::prelude::*;
use unicode_properties::{GeneralCategory as G, UnicodeGeneralCategory};

fn var(v: &str) -> Var {
    Var {
        name: "K".into(),
        value: Secret::new(v),
        secret: true,
        config: "c".into(),
    }
}

/// Text that shells, TOML and JSON find interesting.
fn nasty() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("'".to_string()),
            Just("\"".to_string()),
            Just("\\".to_string()),
            Just("$(x)".to_string()),
            Just("`".to_string()),
            Just("\n".to_string()),
            Just("\r".to_string()),
            Just("\t".to_string()),
            Just(" ".to_string()),
            Just("=".to_string()),
            Just("%".to_string()),
            Just("\u{2019}".to_string()),
            Just("é".to_string()),
            Just("\u{1F600}".to_string()),
            "[a-zA-Z0-9]{1,4}",
            any::<char>()
                .prop_filter("no NUL", |c| *c != '\0')
                .prop_map(|c| c.to_string()),
        ],
        0..12,
    )
    .prop_map(|v| v.concat())
}

/// POSIX sh: 'literal' and \' outside quotes, as `sh_quote` writes them.
fn sh_unquote(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    out.push(c);
                }
            }
            '\\' => out.push(chars.next().unwrap()),
            other => panic!("unexpected {other:?} outside quotes in {s:?}"),
        }
    }
    out
}

/// fish single quotes: \\ and \' are escapes, nothing else.
fn fish_unquote(s: &str) -> String {
    let inner = &s[1..s.len() - 1];
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(n @ ('\\' | '\'')) => out.push(n),
                Some(n) => {
                    out.push('\\');
                    out.push(n)
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// PowerShell verbatim strings: a doubled quote (any of its four single
/// quotes) is one.
fn ps_unquote(s: &str) -> String {
    let q = |c: char| matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}');
    let inner: Vec<char> = s.chars().collect();
    let inner = &inner[1..inner.len() - 1];
    let mut out = String::new();
    let mut i = 0;
    while i < inner.len() {
        out.push(inner[i]);
        if q(inner[i]) {
            assert_eq!(inner.get(i + 1), Some(&inner[i]), "lone quote in {s:?}");
            i += 1;
        }
        i += 1;
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn accepted_names_are_canonical_and_stay_in_the_store(s in "\\PC{0,40}|[a-z./\\-\u{200B}\u{202E}é\u{301} ]{0,20}|[a-z ]{0,4}[\\pZ\\pC\u{2800}\u{3164}\u{115F}\u{1160}\u{FFA0}\u{FFFC}\u{FFFD}][a-z ]{0,4}") {
        if let Ok(n) = names::canonical(&s) {
            // Nothing that renders as nothing or as a blank other than the
            // space, breaks the line, reorders text, is private or is not
            // assigned yet.
            for c in n.chars() {
                let cat = c.general_category();
                prop_assert!(
                    c == ' ' || !matches!(cat, G::Control | G::Format | G::SpaceSeparator
                        | G::LineSeparator | G::ParagraphSeparator | G::PrivateUse
                        | G::Surrogate | G::Unassigned),
                    "U+{:04X} ({:?}) accepted in {:?}", c as u32, cat, n
                );
                prop_assert!(
                    !matches!(c, '\u{2800}' | '\u{3164}' | '\u{115F}' | '\u{1160}' | '\u{FFA0}' | '\u{FFFC}' | '\u{FFFD}'),
                    "U+{:04X} accepted in {:?}", c as u32, n
                );
            }
            prop_assert!(names::validate(&n).is_ok());
            prop_assert_eq!(names::canonical(&n).unwrap(), n.clone(), "idempotent");
            prop_assert!(!n.starts_with('-'));
            let p = names::rel_path(&n);
            prop_assert!(p.starts_with("configs"));
            prop_assert!(p.components().all(|c| matches!(c, std::path::Component::Normal(_))));
            prop_assert!(p.extension().is_some_and(|e| e == "age"));
            // No other name maps to the same file.
            prop_assert!(!n.split('/').any(|seg| seg.to_ascii_lowercase().ends_with(".age")));
        }
    }

    #[test]
    fn the_config_document_round_trips(fields in prop::collection::btree_map("[a-z_]{1,12}", nasty(), 0..8)) {
        let mut doc = authcfg::model::ConfigDoc::new("a/b", authcfg::model::Kind::Custom, "env_vars");
        doc.fields = fields.into_iter().map(|(k, v)| (k, Secret::new(v))).collect();
        let text = toml::to_string(&doc).unwrap();
        let back: authcfg::model::ConfigDoc = toml::from_str(&text).unwrap();
        prop_assert_eq!(back, doc);
    }

    #[test]
    fn framed_files_detect_any_change(body in prop::collection::vec(any::<u8>(), 0..300), flip in any::<prop::sample::Index>()) {
        let k = Key32::random();
        let ctx: [&[u8]; 2] = [b"ctx", b"name"];
        let framed = journal::frame(&k, &ctx, &body);
        prop_assert_eq!(journal::check_frame(&k, &ctx, &framed), Some(&body[..]));
        let mut bad = framed.clone();
        let i = flip.index(bad.len());
        bad[i] ^= 0x01;
        prop_assert!(journal::check_frame(&k, &ctx, &bad).is_none());
        prop_assert!(journal::check_frame(&k, &[b"ctx", b"other"], &framed).is_none());
    }

    #[test]
    fn parsers_never_panic_on_hostile_text(text in "\\PC{0,400}", bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = Header::parse(&text);
        let _ = Header::parse(&format!("format = 2\n{text}"));
        let _ = authcfg::store::journal::AdminJournal::parse(text.as_bytes());
        let k = Key32::random();
        prop_assert!(TxnJournal::open(&k, "store", &bytes).is_none());
        prop_assert!(TxnJournal::open(&k, "store", text.as_bytes()).is_none());
    }

    #[test]
    fn a_signed_header_survives_toml_and_any_edit_breaks_it(label in "[a-z]{1,10}", generation in 1u64..1000, groups in prop::collection::vec("[a-z]{1,6}", 0..3)) {
        let id = age::x25519::Identity::generate();
        let admin = AdminKey::from_identity(&id);
        let mut h = Header {
            format: 2,
            id: "store".into(),
            created: "t".into(),
            generation,
            key_home: authcfg::store::header::KeyHome::External,
            keyring_backend: None,
            identity_file: None,
            admin_key: String::new(),
            audit_keys: None,
            signature: String::new(),
            recipients: vec![authcfg::store::header::Recipient { label: label.clone(), public_key: id.to_public().to_string(), groups, role: Default::default(), custody: None }],
            store_keys: vec![],
            admin_history: vec![],
        };
        h.sign(&admin);
        let authcfg::store::header::Parsed::Current(back) = Header::parse(&h.to_toml()).unwrap() else { panic!() };
        prop_assert!(back.signed_by(&admin.public()));
        let mut edited = back.clone();
        edited.generation += 1;
        prop_assert!(!edited.signed_by(&admin.public()));
        let mut edited = back;
        edited.recipients[0].label.push('x');
        prop_assert!(!edited.signed_by(&admin.public()));
    }

    #[test]
    fn values_round_trip_through_every_format(v in nasty()) {
        let vars = [var(&v)];
        let env = formats::render_env(&vars);
        let quoted = env.trim_end_matches('\n').strip_prefix("export K=").unwrap();
        prop_assert_eq!(sh_unquote(quoted), v.clone());
        let fish = formats::render_fish(&vars);
        prop_assert_eq!(fish_unquote(fish.trim_end_matches('\n').strip_prefix("set -gx K ").unwrap()), v.clone());
        let ps = formats::render_powershell(&vars);
        prop_assert_eq!(ps_unquote(ps.trim_end_matches('\n').strip_prefix("$env:K = ").unwrap()), v.clone());
        let json: serde_json::Value = serde_json::from_str(&formats::render_json(&vars)).unwrap();
        prop_assert_eq!(json["K"].as_str().unwrap(), v.as_str());
        match formats::render_dotenv(&vars, "dotenv") {
            Ok(line) => {
                prop_assert!(!v.contains(['\n', '\r']));
                prop_assert_eq!(line.trim_end_matches('\n').split_once('=').unwrap().1, v.as_str());
            }
            Err(_) => prop_assert!(v.contains(['\n', '\r'])),
        }
        match formats::github_env(&vars) {
            Ok(body) => {
                // K<<DELIM, the value's lines, DELIM.
                let (first, rest) = body.split_once('\n').unwrap();
                let delim = first.strip_prefix("K<<").unwrap();
                let value = rest.strip_suffix(&format!("\n{delim}\n")).unwrap();
                prop_assert_eq!(value, v.as_str());
                prop_assert!(!v.lines().any(|l| l == delim));
            }
            Err(_) => prop_assert!(v.contains('\r')),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// The same through a real POSIX shell (dash): eval the export line,
    /// print the variable back byte for byte.
    #[test]
    fn values_round_trip_through_dash(v in nasty()) {
        let env = formats::render_env(&[var(&v)]);
        let out = std::process::Command::new("dash")
            .arg("-c")
            .arg(format!("{env}printf '%s' \"$K\""))
            .output()
            .unwrap();
        prop_assert!(out.status.success());
        prop_assert_eq!(String::from_utf8(out.stdout).unwrap(), v);
    }
}
