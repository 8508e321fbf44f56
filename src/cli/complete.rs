//! Dynamic shell completion (clap_complete's `CompleteEnv`): the shell
//! asks the binary itself, so config names come from the store as it is
//! now. Names are the store's file names (no key is needed, nothing is
//! decrypted); provider and connector ids come from the catalogs.

use clap_complete::engine::CompletionCandidate;

/// Config names of the store (`AUTHCFG_HOME`, else the default place).
pub fn config_names() -> Vec<CompletionCandidate> {
    let root = match crate::store::Store::locate(crate::settings::Settings::store_dir_from_env()) {
        Ok(r) => r,
        Err(_) => return vec![],
    };
    let mut names = crate::store::scan_names_in(&root).unwrap_or_default();
    names.sort();
    names.into_iter().map(CompletionCandidate::new).collect()
}

/// OAuth2 provider ids, and `custom`.
pub fn providers() -> Vec<CompletionCandidate> {
    crate::catalog::providers::all()
        .iter()
        .map(|p| CompletionCandidate::new(&p.id).help(Some(p.title.clone().into())))
        .chain(std::iter::once(
            CompletionCandidate::new("custom").help(Some("any OAuth2 / OpenID server".into())),
        ))
        .collect()
}

/// Connector ids.
pub fn connectors() -> Vec<CompletionCandidate> {
    crate::catalog::connectors::all()
        .iter()
        .map(|c| CompletionCandidate::new(&c.id).help(Some(c.title.clone().into())))
        .collect()
}
