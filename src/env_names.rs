//! Environment variable names: which are valid, and which may not be set by
//! a config because they change how a program starts ("which variables may
//! not be set", docs/ARCHITECTURE.md, "Where each policy lives"). Asked by
//! export, exec, the hook, project files, the connector catalog's checks
//! and imports.

/// A portable variable name: a letter or `_`, then letters, digits, `_`.
pub fn is_env_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// Variables that change how a program starts, what code it loads or runs,
/// or whom it trusts: dynamic loader settings, shell start-up files and
/// prompts, interpreter and VM options and module paths, program launchers
/// (editors, pagers, browsers, askpass helpers, `*_COMMAND`), tool
/// configuration files that can name programs (git, kubectl, AWS, Docker,
/// OpenSSL, curl, less, vim), CA bundles and proxies, search paths
/// (`*PATH`), and authcfg's own. Compared without regard to case (`ld_preload`
/// is refused too). A config may export them only when its owner said so
/// (`--allow-startup-vars`): a child started by `exec` would otherwise run
/// code chosen by whoever wrote the config (docs/SECURITY.md, "A malicious
/// child process"). A denylist cannot know every program's variables; it
/// covers the families that loaders, shells and common tools read.
pub fn is_startup_var(name: &str) -> bool {
    const PREFIXES: &[&str] = &[
        // loaders, libc, authcfg itself, exported shell functions
        "LD_",
        "DYLD_",
        "GLIBC_",
        "GCONV_",
        "MALLOC_",
        "AUTHCFG_",
        "BASH_FUNC_",
        // git: configuration, helpers it runs, repositories it opens
        "GIT_CONFIG",
        "GIT_EXEC_",
        "GIT_SSH",
        "GIT_ASKPASS",
        "GIT_EXTERNAL_DIFF",
        "GIT_PAGER",
        "GIT_EDITOR",
        "GIT_SEQUENCE_EDITOR",
        "GIT_TEMPLATE_DIR",
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_COMMON_DIR",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_PROXY",
        "GIT_SSL_",
        "GIT_ALLOW_PROTOCOL",
        "GIT_TRACE",
        // interpreters and virtual machines
        "PYTHON",
        "PERL",
        "RUBY",
        "GEM_",
        "BUNDLE_",
        "NODE_",
        "NPM_CONFIG_",
        "JAVA_",
        "_JAVA",
        "JDK_",
        "LUA_",
        "DOTNET_",
        "CORECLR_",
        "COMPLUS_",
        "PHP_",
        "R_PROFILE",
        "R_ENVIRON",
        "ERL_",
        // TLS configuration and trust
        "OPENSSL_",
        "SSL_CERT_",
        // build tools configured through the environment: cargo maps every
        // CARGO_* to its configuration (runners, linkers, rustc wrappers,
        // registries), cgo passes flags to the C compiler, pip/uv/yarn
        // choose where packages (code) come from
        "CARGO_",
        "CGO_",
        "PIP_",
        "UV_",
        "YARN_",
        "COMPOSER_",
        "CONDA",
        // clients whose settings choose the server or its files: Docker
        // and Podman (DOCKER_HOST, DOCKER_CERT_PATH, DOCKER_CONTEXT),
        // PostgreSQL's service and password files, MySQL's option files
        "DOCKER_",
        "CONTAINER_",
        "PGSERVICE",
        "MYSQL_TEST_LOGIN",
        // desktop and graphics libraries that load modules or drivers by
        // name (GTK_MODULES, GIO_EXTRA_MODULES, VK_ICD_FILENAMES,
        // QT_PLUGIN_PATH), Kerberos (KRB5_CONFIG), Nix (NIX_CONFIG can set
        // substituters and builders), Ansible and Terraform settings files,
        // corepack's registry (where a package manager, code, comes from),
        // the session bus a client trusts
        "GTK_",
        "GIO_",
        "VK_",
        "QT_",
        "KRB5",
        "NIX_",
        "ANSIBLE_",
        "TF_CLI_",
        "COREPACK_",
        "DBUS_",
        // fish's own variables (`fish_user_paths` is put in front of PATH)
        "FISH_",
    ];
    // `*COMMAND` (BORG_PASSCOMMAND, PROMPT_COMMAND), `*PATHS`
    // (fish_user_paths), `*_RSH`/`*_SSH` (rsync's, CVS's and Subversion's
    // remote shell), `*_CA_BUNDLE` (AWS_CA_BUNDLE: whom a client trusts),
    // `*PROMPT` (zsh's PROMPT, RPROMPT, SPROMPT: evaluated with
    // PROMPT_SUBST). An application's own `*_CONFIG` is left alone: the
    // settings files of the tools above are caught by their prefixes.
    const SUFFIXES: &[&str] = &[
        "ASKPASS",
        "COMMAND",
        "EDITOR",
        "PAGER",
        "PATH",
        "PATHS",
        "_PROXY",
        "_RSH",
        "_SSH",
        "_CA_BUNDLE",
        "PROMPT",
    ];
    const NAMES: &[&str] = &[
        // shells
        "BASH_ENV",
        "ENV",
        "PS0",
        "PS1",
        "PS2",
        "PS3",
        "PS4",
        // zsh's names of the prompts (PS1 is PROMPT, above) and the
        // continuation prompts
        "PROMPT2",
        "PROMPT3",
        "PROMPT4",
        "RPS1",
        "RPS2",
        "RPROMPT2",
        "TMOUT",
        "IFS",
        "SHELLOPTS",
        "BASHOPTS",
        "ZDOTDIR",
        "HOME",
        "SHELL",
        "TMPDIR",
        "INPUTRC",
        "HOSTALIASES",
        "RES_OPTIONS",
        // launchers and helpers
        "BROWSER",
        "TERMINAL",
        "VISUAL",
        "SSH_ASKPASS_REQUIRE",
        "LESSOPEN",
        "LESSCLOSE",
        "LESSKEY",
        "LESSKEYIN",
        // less's options (`+` runs its commands at start)
        "LESS",
        "RSYNC_CONNECT_PROG",
        "VIMINIT",
        "GVIMINIT",
        "EXINIT",
        "MYVIMRC",
        "MYGVIMRC",
        "VIMRUNTIME",
        "TERMINFO",
        "TERMINFO_DIRS",
        "TERMCAP",
        "CC",
        "CXX",
        "CPP",
        "LD",
        "AR",
        "RUSTC",
        "RUSTC_WRAPPER",
        "RUSTDOC",
        "CARGO_HOME",
        "RUSTUP_HOME",
        "PHPRC",
        "MAVEN_OPTS",
        "GRADLE_OPTS",
        "GRADLE_USER_HOME",
        "SBT_OPTS",
        "ANT_OPTS",
        "CATALINA_OPTS",
        "ELIXIR_ERL_OPTIONS",
        // configuration files that can name programs to run
        "KUBECONFIG",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
        "DOCKER_CONFIG",
        "GNUPGHOME",
        "GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES",
        "CURL_HOME",
        "WGETRC",
        "CURL_CA_BUNDLE",
        "REQUESTS_CA_BUNDLE",
        // build tools: make reads MAKEFILES (makefiles to include) and its
        // flags, go's GOFLAGS (-toolexec), GOENV (a settings file) and
        // module sources, rustc's wrappers and flags, autoconf's site
        // script, the Rust toolchain choice
        "MAKEFILES",
        "MAKEFLAGS",
        "MFLAGS",
        "GNUMAKEFLAGS",
        "GOFLAGS",
        "GOENV",
        "GOTOOLCHAIN",
        "GOPROXY",
        "GONOSUMDB",
        "GONOSUMCHECK",
        "GOSUMDB",
        "GOINSECURE",
        "GONOPROXY",
        "GOPRIVATE",
        "GOROOT",
        "GOCACHEPROG",
        "GOEXPERIMENT",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTFLAGS",
        "RUSTDOCFLAGS",
        "RUSTUP_TOOLCHAIN",
        "CONFIG_SITE",
        "CONFIG_SHELL",
        "CFLAGS",
        "CXXFLAGS",
        "CPPFLAGS",
        "LDFLAGS",
        "BUILDKIT_HOST",
        // where secrets or keys get written: TLS session keys, the shell's
        // history
        "SSLKEYLOGFILE",
        "HISTFILE",
        // client settings files and servers: PostgreSQL (PGPASSFILE,
        // PGSYSCONFDIR: pg_service.conf),
        // MySQL (MYSQL_HOME: my.cnf), Kubernetes, gcloud, Azure
        "PGPASSFILE",
        "PGSYSCONFDIR",
        "MYSQL_HOME",
        "CLOUDSDK_CONFIG",
        "AZURE_CONFIG_DIR",
        "SSH_AUTH_SOCK",
        "GIT_SSH_COMMAND",
        "NETRC",
        "HGRCPATH",
        "EMACSLOADPATH",
    ];
    /// Ordinary settings that a prefix above would catch.
    const ORDINARY: &[&str] = &["NODE_ENV"];
    let n = name.to_ascii_uppercase();
    let n = n.as_str();
    if ORDINARY.contains(&n) {
        return false;
    }
    PREFIXES.iter().any(|p| n.starts_with(p))
        || SUFFIXES.iter().any(|s| n.ends_with(s))
        || NAMES.contains(&n)
        || (n.starts_with("XDG_")
            && (n.ends_with("_HOME") || n.ends_with("_DIRS") || n.ends_with("_DIR")))
}
