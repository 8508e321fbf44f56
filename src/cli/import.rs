//! `authcfg import FILE.json`: configs in the seed's JSON shape
//! (`{"type": "api_key", "name": ..., "config": {...}}`, one or an array).
//! All entries are checked before the first is saved.
//!
//! `authcfg import --format dotenv .env --name NAME`: a `.env` file's
//! variables become one environment-variable config (the `env` custom
//! type), parsed by `dotenvy`; values are kept as written (no `$VAR`
//! expansion: authcfg's own environment never enters a secret).

use super::form::Form;
use super::Ctx;
use crate::catalog::custom;
use crate::error::usage;
use crate::model::{ConfigDoc, Kind};
use crate::secret::Secret;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InputFormat {
    /// The seed's {"type", "name", "config"} objects (one or an array)
    Json,
    /// A .env file (KEY=value lines): one `env` config named by --name
    Dotenv,
}

#[derive(clap::Args)]
pub struct Args {
    /// JSON or .env file, or - for standard input
    file: PathBuf,
    /// Input format (default: dotenv for a file named .env or *.env, else json)
    #[arg(long, short = 'f', value_enum)]
    format: Option<InputFormat>,
    /// The config a .env file's variables go into (--format dotenv)
    #[arg(long, short = 'n', value_name = "NAME")]
    name: Option<String>,
    /// Replace configs that already exist
    #[arg(long)]
    force: bool,
    /// Put the imported configs under this group (e.g. imported/)
    #[arg(long, value_name = "PREFIX")]
    prefix: Option<String>,
}

/// An export of 50,000 configs is a few dozen MiB.
const MAX_IMPORT: u64 = 256 << 20;

pub fn run(ctx: &Ctx, args: Args) -> crate::error::CommandResult {
    // The one reader of the user's files: a regular file (or -), bounded.
    let text = zeroize::Zeroizing::new(crate::input::read_text(
        &args.file,
        "the import file",
        MAX_IMPORT,
    )?);
    if let Some(p) = &args.prefix {
        // The prefix is part of every name: check it once, up front.
        crate::store::canonical_name(&format!("{p}x"))?;
    }
    let file = args.file.display().to_string();
    let dotenv_name = args.file.file_name().and_then(|n| n.to_str());
    let format = args.format.unwrap_or(
        if dotenv_name.is_some_and(|n| n == ".env" || n.ends_with(".env")) {
            InputFormat::Dotenv
        } else {
            InputFormat::Json
        },
    );
    // A .env file is checked whole before the store is opened.
    let dotenv_item = match format {
        InputFormat::Json if args.name.is_some() => {
            return Err(usage("--name is for --format dotenv")
                .hint("a JSON import names each config in its \"name\"")
                .into())
        }
        InputFormat::Json => None,
        InputFormat::Dotenv => {
            let Some(name) = &args.name else {
                return Err(usage("--format dotenv needs --name NAME")
                    .hint(format!(
                        "the file's variables become one config: `authcfg import --format dotenv {} --name NAME`",
                        crate::export::formats::sh_quote(&file)
                    ))
                    .into());
            };
            let vars = dotenv_vars(&file, name, text.trim_start_matches('\u{feff}'))?;
            Some(serde_json::json!({"type": "env_vars", "name": name, "config": vars}))
        }
    };
    let s = ctx.session()?;
    let prefix = args.prefix.clone();
    // The JSON is parsed one entry at a time on another thread, and each
    // entry is encrypted as it arrives: 50,000 configs never sit in memory.
    let (tx, rx) = std::sync::mpsc::sync_channel::<anyhow::Result<ConfigDoc>>(512);
    let n = std::thread::scope(|scope| {
        let text = &text;
        scope.spawn(move || {
            let mut i = 0usize;
            let mut send = |v: Value| -> bool {
                let r = parse_item(i, &v, prefix.as_deref());
                i += 1;
                tx.send(r).is_ok()
            };
            if let Some(item) = dotenv_item {
                send(item);
                return;
            }
            if let Err(e) = each_item(text, &mut send) {
                let _ = tx.send(Err(json_error(&file, text, &e).into()));
            }
        });
        let mut items = rx.into_iter();
        crate::ops::config::import(&s, &mut items, args.force, &|done| {
            s.ui.progress("importing", done, 0)
        })
    })?;
    s.ui.progress("importing", n, n);
    eprintln!("Imported {n} config(s)");
    Ok(())
}

/// The variables of a `.env` file, in a JSON object for `parse_item`.
/// Errors name the file and the line (never the line's text: it may hold
/// a secret). A `$` outside single quotes is refused: dotenvy would
/// expand it from this process's environment, silently changing a secret.
fn dotenv_vars(
    file: &str,
    config: &str,
    text: &str,
) -> anyhow::Result<serde_json::Map<String, Value>> {
    // The physical line where a logical line (or a key's definition) starts.
    let line_of = |needle: &str| -> Option<usize> {
        text.find(needle)
            .map(|at| text[..at].matches('\n').count() + 1)
    };
    let key_line = |key: &str| -> usize {
        text.lines()
            .position(|l| {
                let l = l.trim_start();
                let l = l.strip_prefix("export ").unwrap_or(l).trim_start();
                l.strip_prefix(key)
                    .is_some_and(|rest| rest.trim_start().starts_with('='))
            })
            .map_or(0, |i| i + 1)
    };
    let mut vars = serde_json::Map::new();
    for item in dotenvy::from_read_iter(text.as_bytes()) {
        let (key, value) = match item {
            Ok(kv) => kv,
            Err(dotenvy::Error::LineParse(line, at)) => {
                let n = line_of(&line).map_or(String::new(), |n| format!(":{n}"));
                return Err(usage(format!(
                    "{file}{n}: not a KEY=value line (at character {})",
                    at + 1
                ))
                .hint("each line is KEY=value, `export KEY=value` or a # comment; quote values with spaces or # ('...' keeps a value as written)")
                .into());
            }
            Err(e) => return Err(usage(format!("cannot read {file}: {e}")).into()),
        };
        let n = key_line(&key);
        let at = if n > 0 {
            format!("{file}:{n}")
        } else {
            file.to_string()
        };
        if !crate::env_names::is_env_name(&key) {
            return Err(usage(format!("{at}: '{key}' is not a valid variable name"))
                .hint("use letters, digits and '_', not starting with a digit")
                .into());
        }
        refuse_startup(&at, config, std::iter::once(key.as_str()))?;
        if n > 0 && expands(text.lines().nth(n - 1).unwrap_or("")) {
            return Err(usage(format!(
                "{at}: {key}'s value has a $ that a .env reader would expand; authcfg keeps values as written"
            ))
            .hint("put the value in single quotes ('...') to keep the $ as it is, or write the value it stands for")
            .into());
        }
        vars.insert(key, Value::String(value));
    }
    if vars.is_empty() {
        return Err(usage(format!("{file} has no variables"))
            .hint("a .env file has KEY=value lines")
            .into());
    }
    Ok(vars)
}

/// Whether a `KEY=value` line's value has a `$` that dotenvy expands: not
/// single-quoted, not escaped (`\$`).
fn expands(line: &str) -> bool {
    let value = line.split_once('=').map_or("", |(_, v)| v).trim_start();
    if value.starts_with('\'') {
        return false;
    }
    let mut escaped = false;
    for c in value.chars() {
        match c {
            '\\' if !escaped => escaped = true,
            '$' if !escaped => return true,
            _ => escaped = false,
        }
    }
    false
}

/// Calls `f` with each object of a JSON array (or the one object), parsing
/// one at a time; stops early when `f` returns false.
fn each_item(text: &str, f: &mut dyn FnMut(Value) -> bool) -> Result<(), serde_json::Error> {
    use serde::de::{Deserializer, SeqAccess, Visitor};
    struct Each<'a>(&'a mut dyn FnMut(Value) -> bool);
    impl<'de> Visitor<'de> for Each<'_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object or an array of objects")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            while let Some(v) = seq.next_element::<Value>()? {
                if !(self.0)(v) {
                    break;
                }
            }
            Ok(())
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
            let v = Value::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
            (self.0)(v);
            Ok(())
        }
    }
    use serde::Deserialize;
    let mut de = serde_json::Deserializer::from_str(text);
    de.deserialize_any(Each(f))?;
    de.end()
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
            .hint("known: no_auth, api_key, bearer_token, basic_auth, oauth2, env_vars, totp")
    })?;
    let name = obj
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| usage(format!("{at}: missing \"name\"")))?;
    let name = crate::store::canonical_name(&format!("{}{}", prefix.unwrap_or(""), name))
        .map_err(|e| usage(format!("{at}: {}", e.message)).hint(e.hint.unwrap_or_default()))?;
    if let Some(k) = obj
        .keys()
        // `authcfg`: what `show --json` adds about the config (read-only).
        .find(|k| !["name", "type", "config", "authcfg"].contains(&k.as_str()))
    {
        return Err(usage(format!("{at} ('{name}'): unknown key \"{k}\""))
            .hint("an entry has \"name\", \"type\" and \"config\" (the fields, as in the seed document)")
            .into());
    }
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
    // A missing field is the file's to fix (the form's hint names a flag).
    if let Some(f) = ty
        .fields
        .iter()
        .find(|f| f.required && f.default.is_none() && !values.contains_key(&f.name))
    {
        return Err(usage(format!(
            "{at} ('{name}'): missing required field '{}'",
            f.name
        ))
        .hint(format!(
            "add \"{}\": \"…\" to this entry's \"config\" in the file",
            f.name
        ))
        .into());
    }
    form.complete(&mut values, false)
        .map_err(|e| e.context(format!("{at} ('{name}')")))?;
    if ty.free_form {
        refuse_startup(&at, &name, values.keys().map(String::as_str))?;
    }
    let mut doc = ConfigDoc::new(&name, Kind::Custom, &ty.seed);
    doc.fields = values;
    doc.refresh_account();
    Ok(doc)
}

/// Start-up variables (`env_names::is_startup_var`) are refused by an import,
/// which has no `--allow-startup-vars`: the remedy is the one command that
/// allows one, after the import.
fn refuse_startup<'a>(
    at: &str,
    config: &str,
    mut names: impl Iterator<Item = &'a str>,
) -> anyhow::Result<()> {
    if let Some(n) = names.find(|n| crate::env_names::is_startup_var(n)) {
        let quoted = crate::export::formats::sh_quote(config);
        return Err(usage(format!(
            "{at}: '{config}' sets {n}, which changes how programs start; refused"
        ))
        .hint(format!(
            "a variable like LD_PRELOAD, BASH_ENV or PATH lets whoever controls its value run code in every program started with it; an import does not take one: remove {n} from the file and import again, then, if it is really meant, `authcfg edit {quoted} --allow-startup-vars --secret-stdin {n}`"
        ))
        .into());
    }
    Ok(())
}

/// What is wrong with an import file that is not JSON: cut short, or
/// holding comments (the seed document's examples have `//` comments).
fn json_error(file: &str, text: &str, e: &serde_json::Error) -> crate::error::UserError {
    let at = format!("line {}, column {}", e.line(), e.column());
    if e.classify() == serde_json::error::Category::Eof {
        return usage(format!("{file} ends before its JSON does ({at})"))
            .hint("the file is cut short: check that it was copied whole");
    }
    let err = usage(format!("{file} is not valid JSON: {at}"));
    if text.contains("//") || text.contains("/*") {
        err.hint("JSON has no comments: remove the // lines (the seed's examples have them)")
    } else {
        err
    }
}
