//! The closed sets the connector catalog names by string: which probe tests
//! a connector and how an HTTP check authenticates. build.rs includes this
//! file too, so a catalog entry naming an unknown kind fails the build, and
//! the compiled catalog carries the enum, not a string.

/// Which protocol probe proves a connector's credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProbeKind {
    Postgres,
    Mysql,
    Redis,
    Amqp,
    Mqtt,
    Nats,
    Kafka,
    S3,
    Sftp,
    Http,
    /// Reachability only: no credential is sent.
    Tcp,
    /// Nothing to probe (the catalog's note says why).
    None,
}

impl ProbeKind {
    pub const ALL: [ProbeKind; 12] = [
        ProbeKind::Postgres,
        ProbeKind::Mysql,
        ProbeKind::Redis,
        ProbeKind::Amqp,
        ProbeKind::Mqtt,
        ProbeKind::Nats,
        ProbeKind::Kafka,
        ProbeKind::S3,
        ProbeKind::Sftp,
        ProbeKind::Http,
        ProbeKind::Tcp,
        ProbeKind::None,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProbeKind::Postgres => "postgres",
            ProbeKind::Mysql => "mysql",
            ProbeKind::Redis => "redis",
            ProbeKind::Amqp => "amqp",
            ProbeKind::Mqtt => "mqtt",
            ProbeKind::Nats => "nats",
            ProbeKind::Kafka => "kafka",
            ProbeKind::S3 => "s3",
            ProbeKind::Sftp => "sftp",
            ProbeKind::Http => "http",
            ProbeKind::Tcp => "tcp",
            ProbeKind::None => "none",
        }
    }

    pub fn parse(s: &str) -> Option<ProbeKind> {
        ProbeKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The Rust path of this variant, for generated code.
    pub fn variant(self) -> &'static str {
        match self {
            ProbeKind::Postgres => "Postgres",
            ProbeKind::Mysql => "Mysql",
            ProbeKind::Redis => "Redis",
            ProbeKind::Amqp => "Amqp",
            ProbeKind::Mqtt => "Mqtt",
            ProbeKind::Nats => "Nats",
            ProbeKind::Kafka => "Kafka",
            ProbeKind::S3 => "S3",
            ProbeKind::Sftp => "Sftp",
            ProbeKind::Http => "Http",
            ProbeKind::Tcp => "Tcp",
            ProbeKind::None => "None",
        }
    }
}

impl std::fmt::Display for ProbeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a catalog HTTP check presents the credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HttpAuth {
    Basic,
    Bearer,
    Header,
    Query,
    None,
}

impl HttpAuth {
    pub const ALL: [(&'static str, HttpAuth); 5] = [
        ("basic", HttpAuth::Basic),
        ("bearer", HttpAuth::Bearer),
        ("header", HttpAuth::Header),
        ("query", HttpAuth::Query),
        ("none", HttpAuth::None),
    ];

    pub fn parse(s: &str) -> Option<HttpAuth> {
        HttpAuth::ALL
            .into_iter()
            .find(|(n, _)| *n == s)
            .map(|(_, k)| k)
    }
}
