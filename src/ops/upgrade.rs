//! Upgrading a format-1 store when its admin first opens it with this
//! version (the work is in `store::upgrade`; this says what happened).

use super::Ui;
use crate::settings::Settings;
use crate::store::header::LegacyHeader;
use age::x25519;
use std::path::Path;

pub fn upgrade(
    settings: &Settings,
    root: &Path,
    legacy: LegacyHeader,
    key: &x25519::Identity,
    ui: &dyn Ui,
) -> anyhow::Result<()> {
    ui.notice("note: upgrading the store to format 2 (signed header, authenticated configs and audit trail)");
    let done = crate::store::upgrade::upgrade(
        root,
        legacy,
        key,
        super::session::options(settings),
        &|done, total| ui.progress("upgrading", done, total),
    )?;
    if let Some(u) = done {
        ui.notice(&format!(
            "upgraded: {} configs re-encrypted with MACs; the header is signed with these recipients:",
            u.configs
        ));
        for (label, key) in &u.recipients {
            ui.notice(&format!("  {label:<16} {key}"));
        }
        ui.notice(&format!(
            "check them: remove any you do not know with `authcfg recipients remove LABEL`; the format-1 audit trail ({} records) is kept in audit.v1.jsonl",
            u.legacy_records
        ));
    }
    Ok(())
}
