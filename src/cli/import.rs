//! `authcfg import FILE.json`: configs in the seed's JSON shape
//! (`{"type": "api_key", "name": ..., "config": {...}}`, one or an array).
//! All entries are checked before the first is saved.

use super::form::Form;
use super::Ctx;
use crate::catalog::custom;
use crate::error::usage;
use crate::model::{ConfigDoc, Kind};
use crate::secret::Secret;
use crate::store::{validate_name, WriteMode};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// JSON file, or - for standard input
    file: PathBuf,
    /// Replace configs that already exist
    #[arg(long)]
    force: bool,
    /// Put the imported configs under this group (e.g. imported/)
    #[arg(long, value_name = "PREFIX")]
    prefix: Option<String>,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<i32> {
    let text = zeroize::Zeroizing::new(if args.file.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        s
    } else {
        std::fs::read_to_string(&args.file)
            .map_err(|e| usage(format!("cannot read {}: {e}", args.file.display())))?
    });
    let value: Value = serde_json::from_str(&text).map_err(|e| {
        usage(format!(
            "{} is not valid JSON: line {}, column {}",
            args.file.display(),
            e.line(),
            e.column()
        ))
        .hint("the seed's examples use // comments; remove them, JSON has none")
    })?;
    let items = match value {
        Value::Array(a) => a,
        v @ Value::Object(_) => vec![v],
        _ => return Err(usage("expected a JSON object or an array of objects").into()),
    };
    let mut docs = vec![];
    for (i, item) in items.iter().enumerate() {
        docs.push(parse_item(i, item, args.prefix.as_deref())?);
    }
    let mut seen = std::collections::HashSet::new();
    for d in &docs {
        if !seen.insert(d.meta.name.clone()) {
            return Err(usage(format!("'{}' appears twice in the file", d.meta.name)).into());
        }
    }
    let (store, key) = ctx.unlock()?;
    if !args.force {
        if let Some(d) = docs.iter().find(|d| store.exists(&d.meta.name)) {
            return Err(usage(format!(
                "a config named '{}' already exists; nothing was imported",
                d.meta.name
            ))
            .hint("pass --force to replace existing configs, or --prefix to import under a group")
            .into());
        }
    }
    store.write_many(&key.identity, &docs, WriteMode::Upsert)?;
    for d in &docs {
        ctx.audit("import", Some(&d.meta.name), "ok", Some(&d.meta.type_id));
    }
    eprintln!("Imported {} config(s)", docs.len());
    Ok(0)
}

fn parse_item(i: usize, item: &Value, prefix: Option<&str>) -> anyhow::Result<ConfigDoc> {
    let at = format!("entry {}", i + 1);
    let obj = item
        .as_object()
        .ok_or_else(|| usage(format!("{at}: not a JSON object")))?;
    let ty_name = obj
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| usage(format!("{at}: missing \"type\"")))?;
    let ty = custom::find(ty_name).ok_or_else(|| {
        usage(format!("{at}: unknown type '{ty_name}'"))
            .hint("known: no_auth, api_key, bearer_token, basic_auth, oauth2, env_vars")
    })?;
    let name = obj
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| usage(format!("{at}: missing \"name\"")))?;
    let name = format!("{}{}", prefix.unwrap_or(""), name);
    validate_name(&name)
        .map_err(|e| usage(format!("{at}: {}", e.message)).hint(e.hint.unwrap_or_default()))?;
    let mut values = BTreeMap::new();
    if let Some(cfg) = obj.get("config") {
        let cfg = cfg
            .as_object()
            .ok_or_else(|| usage(format!("{at}: \"config\" is not an object")))?;
        for (k, v) in cfg {
            let s = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Null => continue,
                _ => {
                    return Err(usage(format!(
                        "{at}: field '{k}' is not a string, number or boolean"
                    ))
                    .into())
                }
            };
            values.insert(k.clone(), Secret::new(s));
        }
    }
    let form = Form {
        fields: &ty.fields,
        free_form: ty.free_form,
    };
    form.complete(&mut values, false)
        .map_err(|e| e.context(format!("{at} ('{name}')")))?;
    let mut doc = ConfigDoc::new(&name, Kind::Custom, &ty.seed);
    doc.fields = values;
    if let Some(u) = doc.get("username") {
        doc.meta.account = Some(u.to_string());
    }
    Ok(doc)
}
