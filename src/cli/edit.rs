//! `authcfg edit NAME --set field=value`: change fields in place.

use super::form::{FieldArgs, Form};
use super::Ctx;
use crate::catalog;
use crate::error::usage;

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
    if args.fields.set.is_empty()
        && args.fields.secret_stdin.is_none()
        && args.unset.is_empty()
        && new_group.is_none()
        && !args.no_group
        && !args.allow_startup_vars
        && !args.no_allow_startup_vars
    {
        return Err(usage("nothing to change")
            .hint("pass --set FIELD=VALUE, --secret-stdin FIELD or --unset FIELD")
            .into());
    }
    let s = ctx.session()?;
    let mut changed = vec![];
    s.store.update_if(&name, |doc| {
        let (fields, free_form) =
            catalog::spec_for(doc.meta.kind, &doc.meta.type_id).unwrap_or((&[], true));
        let form = Form { fields, free_form };
        let mut warnings = vec![];
        let given = form.given(&args.fields, &mut warnings)?;
        for f in &args.unset {
            if let Some(spec) = fields.iter().find(|s| &s.name == f) {
                if spec.required {
                    return Err(usage(format!("'{f}' is required and cannot be unset")).into());
                }
            } else if !free_form {
                return Err(usage(format!("unknown field '{f}'")).into());
            }
            doc.fields.remove(f);
        }
        let mut secret_changed = false;
        let mut names = vec![];
        let changed_secrets: Vec<String> = given
            .iter()
            .filter(|(k, v)| {
                catalog::is_secret(doc.meta.kind, &doc.meta.type_id, k)
                    && doc.fields.get(*k) != Some(v)
            })
            .map(|(k, _)| k.clone())
            .collect();
        doc.remember(&changed_secrets, "edit");
        for (k, v) in given {
            if catalog::is_secret(doc.meta.kind, &doc.meta.type_id, &k)
                && doc.fields.get(&k) != Some(&v)
            {
                secret_changed = true;
            }
            names.push(k.clone());
            doc.fields.insert(k, v);
        }
        form.validate(&doc.fields)?;
        for w in warnings {
            eprintln!("warning: {w}");
        }
        if secret_changed {
            doc.meta.rotated = crate::model::now();
            // The old test result says nothing about the new credential.
            doc.meta.last_test = None;
        }
        doc.refresh_account();
        names.extend(args.unset.iter().cloned());
        if new_group.is_some() || args.no_group {
            doc.meta.group = new_group.clone();
            names.push("group".into());
        }
        if args.allow_startup_vars || args.no_allow_startup_vars {
            doc.meta.allow_startup_vars = args.allow_startup_vars;
            names.push("allow-startup-vars".into());
        }
        if free_form && !doc.meta.allow_startup_vars {
            crate::export::refuse_startup_vars(
                &doc.meta.name,
                doc.fields.keys().map(String::as_str),
            )?;
        }
        changed = names;
        Ok(Some(crate::store::journal::AuditIntent {
            version: None,
            action: "update".into(),
            config: Some(doc.meta.name.clone()),
            outcome: "ok".into(),
            detail: Some(format!("fields: {}", changed.join(", "))),
        }))
    })?;
    eprintln!("Updated '{name}' ({})", changed.join(", "));
    Ok(())
}
