//! Compiles the TOML catalogs to JSON at build time: the hot path (`export`,
//! `token`) then parses a few hundred bytes of JSON instead of a catalog's
//! worth of TOML. Connectors are stored one JSON document each, with their
//! template fields and defaults already resolved, so one lookup parses one.

use std::fmt::Write;
use std::{env, fs, path::Path};

/// The probe and HTTP-auth kinds, shared with the crate: a catalog entry
/// naming a kind that does not exist fails the build here.
#[allow(dead_code)]
#[path = "src/catalog/kind.rs"]
mod kind;
use kind::{HttpAuth, ProbeKind};

/// Checks what the compiled catalog promises the probes: a known probe
/// kind, and an HTTP check exactly where the probe is `http`, with a known
/// auth kind.
fn check_connector(id: &str, c: &toml::Table) {
    let probe = c["probe"].as_str().expect("probe");
    let Some(kind) = ProbeKind::parse(probe) else {
        let known: Vec<&str> = ProbeKind::ALL.iter().map(|k| k.as_str()).collect();
        panic!("catalog/connectors.toml: {id}: unknown probe '{probe}' (known: {known:?})");
    };
    match (kind, c.get("http")) {
        (ProbeKind::Http, None) => {
            panic!("catalog/connectors.toml: {id}: probe 'http' needs an [http] check")
        }
        (ProbeKind::Http, Some(h)) => {
            let auth = h.get("auth").and_then(|a| a.as_str()).unwrap_or_default();
            assert!(
                HttpAuth::parse(auth).is_some(),
                "catalog/connectors.toml: {id}: unknown http auth '{auth}'"
            );
        }
        (_, Some(_)) => panic!("catalog/connectors.toml: {id}: an http check on a '{probe}' probe"),
        (_, None) => {}
    }
}

fn main() {
    let out = env::var("OUT_DIR").unwrap();
    for name in ["custom", "providers"] {
        let src = format!("catalog/{name}.toml");
        println!("cargo:rerun-if-changed={src}");
        let value: toml::Value = toml::from_str(&fs::read_to_string(&src).unwrap())
            .unwrap_or_else(|e| panic!("{src}: {e}"));
        fs::write(
            Path::new(&out).join(format!("{name}.json")),
            serde_json::to_string(&value).unwrap(),
        )
        .unwrap();
    }

    let src = "catalog/connectors.toml";
    println!("cargo:rerun-if-changed={src}");
    println!("cargo:rerun-if-changed=src/catalog/kind.rs");
    let value: toml::Value =
        toml::from_str(&fs::read_to_string(src).unwrap()).unwrap_or_else(|e| panic!("{src}: {e}"));
    let templates = value["templates"].as_table().expect("templates table");
    let mut code = String::from("pub static CONNECTORS: &[(&str, &[&str], &str)] = &[\n");
    for c in value["connectors"].as_array().expect("connectors array") {
        let mut c = c.as_table().expect("connector table").clone();
        let id = c["id"].as_str().expect("id").to_string();
        check_connector(&id, &c);
        let template = c["template"].as_str().expect("template");
        let mut form = templates
            .get(template)
            .unwrap_or_else(|| panic!("{id}: unknown template {template}"))["fields"]
            .as_array()
            .expect("template fields")
            .clone();
        if let Some(own) = c.get("fields").and_then(|f| f.as_array()) {
            form.extend(own.iter().cloned());
        }
        if let Some(defaults) = c.get("defaults").and_then(|d| d.as_table()) {
            for f in form.iter_mut() {
                let name = f["name"].as_str().expect("field name").to_string();
                if let Some(d) = defaults.get(&name) {
                    f.as_table_mut()
                        .unwrap()
                        .insert("default".into(), d.clone());
                }
            }
        }
        c.insert("form".into(), toml::Value::Array(form));
        let aliases: Vec<String> = c
            .get("aliases")
            .and_then(|a| a.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let json = serde_json::to_string(&c).unwrap();
        writeln!(code, "    ({id:?}, &{aliases:?}, {json:?}),").unwrap();
    }
    code.push_str("];\n");
    fs::write(Path::new(&out).join("connectors.rs"), code).unwrap();
}
