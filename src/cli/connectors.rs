//! `authcfg connectors [NAME] [--json]`: the native connector catalog.

use crate::catalog::connectors as catalog;

#[derive(clap::Args)]
pub struct Args {
    /// Show one connector's form and exported variables
    #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::connectors))]
    name: Option<String>,
    /// Only this family: database, message_broker, file_storage, enterprise
    #[arg(long)]
    family: Option<String>,
    /// Machine-readable output
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> crate::error::CommandResult {
    if let Some(n) = &args.name {
        let c = super::add::connector::find(n)?;
        if args.json {
            super::print_json(c)?;
            return Ok(());
        }
        outln!(
            "{} ({}), family {}, tested by the {} probe",
            c.title,
            c.id,
            c.family,
            c.probe
        );
        if let Some(note) = &c.note {
            outln!("note: {note}");
        }
        let mut table = super::term::table(&[
            "Field",
            "Type",
            "Required",
            "Secret",
            "Default",
            "Allowed",
            "Description",
        ]);
        for f in &c.form {
            table.add_row([
                f.name.clone(),
                format!("{:?}", f.kind).to_lowercase(),
                if f.required { "yes" } else { "" }.into(),
                if f.secret { "yes" } else { "" }.into(),
                f.default.clone().unwrap_or_default(),
                f.allowed.join(" | "),
                f.help.clone(),
            ]);
        }
        // Field, Type, Required, Secret, Default whole; Allowed goes first.
        super::term::fit_table(&mut table, &[0, 1, 2, 3, 4], &[5]);
        outln!("{table}");
        outln!(
            "Exports: {}",
            c.env.keys().cloned().collect::<Vec<_>>().join(" ")
        );
        return Ok(());
    }
    let list: Vec<&catalog::Connector> = catalog::all()
        .iter()
        .filter(|c| args.family.as_deref().is_none_or(|f| c.family == f))
        .collect();
    if args.json {
        super::print_json(&list)?;
        return Ok(());
    }
    let mut table = super::term::table(&["Id", "Connector", "Family", "Probe", "Exports"]);
    for c in list {
        let exports: Vec<&str> = c.env.keys().map(String::as_str).take(3).collect();
        table.add_row([
            c.id.clone(),
            c.title.clone(),
            c.family.clone(),
            c.probe.to_string(),
            format!(
                "{}{}",
                exports.join(" "),
                if c.env.len() > 3 { " ..." } else { "" }
            ),
        ]);
    }
    super::term::fit_table(&mut table, &[0, 2, 3], &[4]);
    outln!("{table}");
    Ok(())
}
