//! `authcfg edit NAME --set field=value`: change fields in place.

use super::form::{FieldArgs, Form};
use super::Ctx;
use crate::error::usage;
use crate::model::ConfigDoc;
use crate::ops::config::Change;
use crate::secret::Secret;
use std::collections::BTreeMap;

#[derive(clap::Args)]
pub struct Args {
    /// Config name
    #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::config_names))]
    name: String,
    #[command(flatten)]
    fields: FieldArgs,
    /// Remove an optional field (repeatable)
    #[arg(long, value_name = "FIELD")]
    unset: Vec<String>,
    /// Restrict it to a recipient group (re-encrypts it for that group)
    #[arg(long, value_name = "GROUP", conflicts_with = "no_group")]
    group: Option<String>,
    /// Make it readable by every recipient again
    #[arg(long)]
    no_group: bool,
    /// env type: allow (or with --no-allow-startup-vars, refuse again)
    /// variables that change how programs start (LD_*, BASH_ENV, PATH, ...)
    #[arg(long, overrides_with = "no_allow_startup_vars")]
    allow_startup_vars: bool,
    #[arg(long, hide = true)]
    no_allow_startup_vars: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> crate::error::CommandResult {
    let name = crate::store::canonical_name(&args.name)?;
    let new_group = super::add::group(args.group.as_deref())?;
    let mut change = Change {
        unset: args.unset.clone(),
        group: if args.no_group {
            Some(None)
        } else {
            new_group.map(Some)
        },
        allow_startup_vars: (args.allow_startup_vars || args.no_allow_startup_vars)
            .then_some(args.allow_startup_vars),
        ..Change::default()
    };
    if change.is_empty() && args.fields.set.is_empty() && args.fields.secret_stdin.is_none() {
        if ctx.interactive {
            return in_editor(ctx, &name);
        }
        return Err(usage("nothing to change")
            .hint("pass --set FIELD=VALUE, --secret-stdin FIELD or --unset FIELD")
            .into());
    }
    let s = ctx.session()?;
    // Parsed (and standard input read) before the lock: the change itself
    // is all that runs under it.
    let doc = s.store.read(&name)?;
    let form = Form::of(doc.meta.kind, &doc.meta.type_id);
    let mut warnings = vec![];
    change.set = form.given(&args.fields, &mut warnings)?;
    let changed = crate::ops::config::edit(&s, &name, &change)?;
    for w in warnings {
        eprintln!("warning: {w}");
    }
    eprintln!("Updated '{name}' ({})", changed.join(", "));
    Ok(())
}

/// A config's non-secret fields as a TOML file for the editor; optional
/// fields not set are there commented out. Secrets are never in it.
fn editor_text(doc: &ConfigDoc, form: &Form) -> String {
    let mut t = format!(
        "# authcfg edit {}: the non-secret fields of this config.\n\
         # Save and close to apply; delete a line to unset an optional field;\n\
         # empty the file to change nothing.\n",
        crate::text::escape(&doc.meta.name, crate::text::SHOWN)
    );
    let secrets: Vec<&str> = secret_fields(doc, form);
    if !secrets.is_empty() {
        t.push_str(&format!(
            "# Secret fields are not in this file (you are asked for them next, hidden): {}\n",
            secrets.join(", ")
        ));
    }
    t.push('\n');
    let quote = |v: &str| toml::Value::String(v.to_string()).to_string();
    for spec in form.fields.iter().filter(|f| !f.secret) {
        match doc.fields.get(&spec.name) {
            Some(v) => t.push_str(&format!("{} = {}\n", spec.name, quote(v.expose()))),
            None => t.push_str(&format!("# {} = \"\"\n", spec.name)),
        }
    }
    t
}

/// The secret fields a person may change: the form's, and any set.
fn secret_fields<'a>(doc: &'a ConfigDoc, form: &'a Form) -> Vec<&'a str> {
    let mut out: Vec<&str> = form
        .fields
        .iter()
        .filter(|f| f.secret && (f.prompt || doc.fields.contains_key(&f.name)))
        .map(|f| f.name.as_str())
        .collect();
    for k in doc.fields.keys() {
        if form.is_secret(k) && !out.contains(&k.as_str()) {
            out.push(k);
        }
    }
    out
}

/// The change the edited text asks for, checked (unknown fields, secrets
/// written in the file, values, required fields unset). `None`: the file
/// was emptied.
fn read_edit(text: &str, doc: &ConfigDoc, form: &Form) -> anyhow::Result<Option<Change>> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let table: toml::Table = toml::from_str(text).map_err(|e| {
        usage(format!("the file is not valid TOML: {}", e.message()))
            .hint("each line is field = \"value\"")
    })?;
    let mut set = BTreeMap::new();
    for (k, v) in &table {
        let spec = form.spec(k)?;
        if spec.secret {
            return Err(usage(format!(
                "'{k}' is a secret field: it is asked for hidden, not written in the file"
            ))
            .into());
        }
        let v = match v {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            _ => return Err(usage(format!("'{k}': give a string, a number or true/false")).into()),
        };
        if doc.get(k) != Some(v.as_str()) {
            set.insert(k.clone(), Secret::new(v));
        }
    }
    form.validate(&set)?;
    let mut unset = vec![];
    for spec in form.fields.iter().filter(|f| !f.secret) {
        if doc.fields.contains_key(&spec.name) && !table.contains_key(&spec.name) {
            if spec.required {
                return Err(
                    usage(format!("'{}' is required and cannot be unset", spec.name)).into(),
                );
            }
            unset.push(spec.name.clone());
        }
    }
    Ok(Some(Change {
        set,
        unset,
        ..Change::default()
    }))
}

/// Runs the editor on `path`: `$VISUAL`/`$EDITOR` is a shell command (it
/// may carry arguments, as `code --wait`).
fn run_editor(editor: &str, path: &std::path::Path) -> anyhow::Result<()> {
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("sh")
        .arg(path)
        .status()
        .map_err(|e| usage(format!("cannot start the editor ({editor}): {e}")))?;
    if !status.success() {
        return Err(usage(format!(
            "the editor ({editor}) exited with {status}; nothing was changed"
        ))
        .into());
    }
    Ok(())
}

/// `edit NAME` at a terminal: the non-secret fields in `$VISUAL`/`$EDITOR`
/// (a private temp file), checked, the changes shown, changed secrets
/// asked for hidden, then saved as one edit.
fn in_editor(ctx: &Ctx, name: &str) -> crate::error::CommandResult {
    let Some(editor) = ctx.settings.editor.clone() else {
        return Err(usage("nothing to change, and no editor to open")
            .hint("set VISUAL or EDITOR to edit the fields in it, or pass --set FIELD=VALUE, --secret-stdin FIELD or --unset FIELD")
            .into());
    };
    let s = ctx.session()?;
    let doc = s.store.read(name)?;
    let form = Form::of(doc.meta.kind, &doc.meta.type_id);
    // tempfile creates it 0600, in a name nobody else can guess or take.
    let mut file = tempfile::Builder::new()
        .prefix("authcfg-edit-")
        .suffix(".toml")
        .tempfile()?;
    std::io::Write::write_all(&mut file, editor_text(&doc, &form).as_bytes())?;
    std::io::Write::flush(&mut file)?;
    let mut change = loop {
        run_editor(&editor, file.path())?;
        let text = crate::input::read_text(file.path(), "the edited file", 1 << 20)?;
        match read_edit(&text, &doc, &form) {
            Ok(Some(c)) => break c,
            Ok(None) => {
                eprintln!("The file is empty: nothing was changed");
                return Ok(());
            }
            Err(e) => {
                super::say("error: ", &format!("{e:#}"));
                if let Some(h) = crate::error::classify(&e).1 {
                    super::say("hint: ", &h);
                }
                let again = dialoguer::Confirm::new()
                    .with_prompt("Edit the file again?")
                    .default(true)
                    .interact()?;
                if !again {
                    return Err(crate::error::UserError::new(
                        crate::error::Exit::Usage,
                        "nothing was changed",
                    )
                    .into());
                }
            }
        }
    };
    drop(file);
    let mut lines = vec![];
    for (k, v) in &change.set {
        match doc.get(k) {
            Some(old) => lines.push(format!(
                "  {k}: {} → {}",
                crate::text::escape(old, 80),
                crate::text::escape(v.expose(), 80)
            )),
            None => lines.push(format!(
                "  {k}: {} (new)",
                crate::text::escape(v.expose(), 80)
            )),
        }
    }
    for k in &change.unset {
        lines.push(format!(
            "  {k}: removed (was {})",
            crate::text::escape(doc.get(k).unwrap_or_default(), 80)
        ));
    }
    // Changed secrets: asked for hidden, one by one.
    for field in secret_fields(&doc, &form) {
        let change_it = dialoguer::Confirm::new()
            .with_prompt(format!("Change {field} (a secret) too?"))
            .default(false)
            .interact()?;
        if !change_it {
            continue;
        }
        let spec = form.spec(field)?;
        let v = super::form::ask_secret(&spec, format!("New {field} (hidden)"))?;
        if doc.get(field) != Some(v.as_str()) {
            lines.push(format!("  {field}: changed (secret)"));
            change.set.insert(field.to_string(), Secret::new(v));
        }
    }
    if change.is_empty() {
        eprintln!("Nothing changed");
        return Ok(());
    }
    eprintln!("Changes to '{name}':\n{}", lines.join("\n"));
    let save = dialoguer::Confirm::new()
        .with_prompt("Save these changes?")
        .default(true)
        .interact()?;
    if !save {
        return Err(crate::error::UserError::new(
            crate::error::Exit::Error,
            "cancelled; nothing was changed",
        )
        .into());
    }
    let changed = crate::ops::config::edit(&s, name, &change)?;
    eprintln!("Updated '{name}' ({})", changed.join(", "));
    Ok(())
}
