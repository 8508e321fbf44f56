//! `authcfg inject -i TEMPLATE [-o OUT]`: render `{{ authcfg://NAME/FIELD }}`
//! references. Every reference is resolved before anything is written; OUT
//! is written 0600 and atomically.

use super::Ctx;
use crate::error::usage;
use crate::store::fsutil;
use regex::Regex;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Template file, or - for standard input
    #[arg(long, short = 'i', value_name = "TEMPLATE")]
    input: PathBuf,
    /// Output file (mode 0600); standard output when omitted
    #[arg(long, short = 'o', value_name = "OUT")]
    output: Option<PathBuf>,
    #[command(flatten)]
    pub consumer: super::ConsumerArgs,
}

fn pattern() -> Regex {
    Regex::new(r"\{\{\s*authcfg://([^\s{}]+)/([^\s/{}]+)\s*\}\}").expect("valid regex")
}

/// The line of the first reference enclosed by other braces anywhere in
/// the template (`{{ {{ authcfg://a/b }} }}`, `{{{ authcfg://a/b }}}`, and
/// across lines: `{{\n{{ authcfg://a/b }}\n}}`): rendering it would leave
/// the value inside template syntax, for another template engine to act
/// on. Blanks and invisible characters (U+200B) between a reference and a
/// brace touching it do not separate them.
fn nested(re: &Regex, template: &str) -> Option<usize> {
    let blank = |c: char| c.is_whitespace() || crate::store::names::deceptive(c);
    re.find_iter(template).find_map(|m| {
        let before = &template[..m.start()];
        let after = &template[m.end()..];
        let open = before
            .rfind("{{")
            .is_some_and(|o| before[o..].find("}}").is_none());
        let close = after
            .find("}}")
            .is_some_and(|c| after[..c].find("{{").is_none());
        let touching = before.trim_end_matches(blank).ends_with('{')
            || after.trim_start_matches(blank).starts_with('}');
        (open && close || touching).then(|| before.matches('\n').count() + 1)
    })
}

pub fn run(ctx: &Ctx, args: Args) -> crate::error::CommandResult {
    // The one reader of the user's files: a regular file, bounded.
    let template = if args.input.as_os_str() == "-" {
        crate::input::read_text(&args.input, "template", crate::input::MAX_INPUT)?
    } else {
        // A template decides which secrets go where: one another user
        // wrote, or could have replaced, is refused (project::trust),
        // judged on the same open file it is read from.
        let (bytes, _) =
            crate::project::trust::read_checked(&args.input, "template", crate::input::MAX_INPUT)?;
        crate::input::into_text(bytes, &args.input, "template")?
    };
    let re = pattern();
    // A reference that does not parse must not be copied out as text.
    let covered: usize = re.find_iter(&template).count();
    let opened = template.matches("authcfg://").count();
    if opened != covered {
        let line = template
            .lines()
            .position(|l| l.contains("authcfg://") && !re.is_match(l))
            .map(|i| i + 1)
            .unwrap_or(0);
        return Err(usage(format!(
            "the template has a reference that is not of the form {{{{ authcfg://NAME/FIELD }}}} (line {line})"
        ))
        .hint("close it with }}, and write NAME/FIELD without spaces; nothing was written")
        .into());
    }
    if let Some(line) = nested(&re, &template) {
        return Err(usage(format!(
            "the template has a reference inside other braces (line {line}): the value would be written between them"
        ))
        .hint("write each reference as {{ authcfg://NAME/FIELD }} on its own, not inside {{ }} or { }; nothing was written")
        .into());
    }
    let mut names: Vec<String> = vec![];
    for c in re.captures_iter(&template) {
        let n = crate::store::canonical_name(&c[1])?;
        if n != c[1] {
            return Err(usage(format!(
                "config name '{}' is not in Unicode normal form C",
                &c[1]
            ))
            .into());
        }
        if !names.contains(&n) {
            names.push(n);
        }
    }
    if names.is_empty() {
        eprintln!("warning: the template has no {{{{ authcfg://NAME/FIELD }}}} references");
    }
    let s = ctx.session()?;
    let used = crate::ops::handout::read_for_use(&s, &names, "inject")?;
    let docs = &used.docs;
    let by_name: BTreeMap<&str, &crate::model::ConfigDoc> =
        docs.iter().map(|d| (d.meta.name.as_str(), d)).collect();
    // Check every reference first: a missing field must not leave half a file.
    for c in re.captures_iter(&template) {
        let doc = by_name[&c[1]];
        if let Err(why) =
            crate::ops::handout::may_leave(doc, &c[2], crate::ops::handout::Door::Template)
        {
            return Err(
                usage(format!("{{{{ authcfg://{}/{} }}}}: {why}", &c[1], &c[2]))
                    .hint("nothing was written")
                    .into(),
            );
        }
        if doc.get(&c[2]).is_none() {
            let fields: Vec<&str> = doc.fields.keys().map(String::as_str).collect();
            return Err(
                usage(format!("config '{}' has no field '{}'", &c[1], &c[2]))
                    .hint(format!("its fields: {}", fields.join(", ")))
                    .into(),
            );
        }
    }
    let rendered = zeroize::Zeroizing::new(
        re.replace_all(&template, |c: &regex::Captures| {
            by_name[&c[1]].get(&c[2]).unwrap_or_default().to_string()
        })
        .into_owned(),
    );
    used.record(&s)?;
    match &args.output {
        Some(out) => {
            fsutil::write_atomic(&std::path::absolute(out)?, rendered.as_bytes())?;
            eprintln!(
                "Wrote {} ({} references)",
                out.display(),
                re.find_iter(&template).count()
            );
        }
        None => {
            let mut o = std::io::stdout().lock();
            o.write_all(rendered.as_bytes())?;
            o.flush()?;
        }
    }
    Ok(())
}
