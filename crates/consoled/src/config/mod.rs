//! `consoled.toml`: the binary's file format, composed of the settings
//! structs the libraries own.
//!
//! | section | keys owned by |
//! |---|---|
//! | `[api]` | this binary ([`ApiSettings`]) |
//! | `[tokens]` | consoled-core (`ttl_seconds`; `max_live_records`, `max_live_records_per_project`), this binary (`store`), consoled-store-redis (`redis_url` or `redis_cluster_urls`, `redis_key_prefix`, `redis_ca_cert`, `redis_client_cert`, `redis_client_key`) |
//! | `[consoles.<type>]` | consoled-core ([`TypeSettings`]) |
//! | `[backend]` | this binary ([`BackendSettings`]: `kind`, `inventory`), consoled-backend-libvirt (`libvirt_uris`, `default_project_id`) |
//! | `[proxy]`, `[[proxy.listeners]]` | consoled-proxy ([`ProxySettings`], [`ListenerConfig`]) |
//! | `[vnc]` | consoled-rfb ([`VncSettings`]) |
//! | `[recording]` | consoled-proxy ([`RecordingSettings`]) |
//! | `[log]` | this binary ([`LogSettings`]) |
//! | `[metrics]` | this binary ([`MetricsSettings`]) |
//!
//! Every key is defined once, in its struct; [`compose`] reads the file
//! into them (refusing unknown keys with their line), [`Config::validate`]
//! asks each struct to check itself, and [`help`] documents them all.

mod compose;
mod fields;
pub mod help;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use consoled_backend_libvirt::LibvirtSettings;
use consoled_core::{
    DispatchSettings, Registry, SettingError, StoreLimits, TokenSettings, TypeSettings,
};
use consoled_identity_keystone::KeystoneSettings;
use consoled_proxy::{ListenerConfig, ProxySettings, RecordingSettings};
use consoled_rfb::{VncSecurity, VncSettings};
use consoled_store_redis::RedisSettings;
use serde::{Deserialize, Serialize};

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    /// `[api]`.
    pub api: ApiSettings,
    /// `[tokens]`.
    pub tokens: TokensSection,
    /// `[consoles.<type>]`, keyed by console type.
    pub consoles: BTreeMap<String, TypeSettings>,
    /// `[backend]`.
    pub backend: BackendSection,
    /// `[proxy]` and `[[proxy.listeners]]`.
    pub proxy: ProxySection,
    /// `[keystone_authtoken]`, with `[api] auth = "keystone"`.
    pub keystone_authtoken: KeystoneSettings,
    /// `[log]`.
    pub log: LogSettings,
    /// `[vnc]`: security between the proxy and VNC servers.
    pub vnc: VncSettings,
    /// `[metrics]`: the operator's listener.
    pub metrics: MetricsSettings,
    /// `[recording]`: which sessions the proxy records, `dir` as written.
    pub recording: RecordingSettings,
}

/// `[api]`: the compute API listener.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ApiSettings {
    /// The address of the compute API (port 0: any free port).
    pub listen: SocketAddr,
    /// How callers are authenticated. noauth: X-Auth-Token:
    /// <user>:<project>[:<role>,...], default role member, and the user
    /// admin is an admin (development only); keystone: Keystone tokens,
    /// validated as [keystone_authtoken] says.
    pub auth: AuthMode,
}

impl Default for ApiSettings {
    fn default() -> Self {
        ApiSettings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8774)),
            auth: AuthMode::NoAuth,
        }
    }
}

/// `[metrics]`: the operator's listener, off unless `listen` is set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsSettings {
    /// Where Prometheus scrapes GET /metrics (text format), for consoled
    /// serve, api and proxy alike: one listener per process, on a port of
    /// its own (port 0: any free port). Meant for the operator's network,
    /// not the public one. No metrics without it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"127.0.0.1:9180")]
    pub listen: Option<SocketAddr>,
}

impl MetricsSettings {
    /// Refuses a `listen` that another listener of the file already
    /// names (`taken`: key path and address; port 0 never clashes).
    ///
    /// # Errors
    /// `listen` and the key it clashes with.
    pub fn validate(&self, taken: &[(String, SocketAddr)]) -> Result<(), SettingError> {
        let Some(listen) = self.listen.filter(|l| l.port() != 0) else {
            return Ok(());
        };
        match taken.iter().find(|(_, addr)| *addr == listen) {
            Some((key, _)) => Err(SettingError::new(
                "listen",
                format!("{listen} is {key} already; give metrics a port of its own"),
            )),
            None => Ok(()),
        }
    }
}

/// `[api] auth`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, schemars::JsonSchema,
)]
pub enum AuthMode {
    /// `X-Auth-Token: <user>:<project>[:<roles>]`, like Nova's noauth2.
    #[default]
    #[serde(rename = "noauth")]
    NoAuth,
    /// Keystone tokens, validated with `[keystone_authtoken]`.
    #[serde(rename = "keystone")]
    Keystone,
}

/// `[log]`: how the process writes its log (standard error).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    /// text: one line per event, for people; json: one JSON object per
    /// line with the event's fields as keys (the audit trail's consoles
    /// and sessions included), for log pipelines. RUST_LOG filters either.
    pub format: LogFormat,
}

/// `[log] format`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, schemars::JsonSchema,
)]
pub enum LogFormat {
    /// Lines of text.
    #[default]
    #[serde(rename = "text")]
    Text,
    /// One JSON object per line.
    #[serde(rename = "json")]
    Json,
}

/// The `[log]` section of the file at `path`, read before anything else
/// (the log must exist before the rest is checked, and reports it); a file
/// that cannot be read or parsed gives the default, and the full load
/// names the fault.
pub fn log_settings(path: &Path) -> LogSettings {
    let Ok(source) = std::fs::read_to_string(path) else {
        return LogSettings::default();
    };
    source
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("log"))
        .and_then(|log| log.try_into().ok())
        .unwrap_or_default()
}

/// `[tokens]`: four owners, one table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokensSection {
    /// `ttl_seconds`, which the dispatcher reads.
    pub lifetime: TokenSettings,
    /// `max_live_records`, `max_live_records_per_project`, which the
    /// stores read.
    pub limits: StoreLimits,
    /// `store`.
    pub store: StoreChoice,
    /// `redis_url` or `redis_cluster_urls`, `redis_key_prefix` and the TLS
    /// files, which the Redis store reads; `load` resolves the files
    /// against the configuration file's folder.
    pub redis: RedisSettings,
}

/// `[tokens] store`: which token store this process uses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct StoreChoice {
    /// Where token records live: memory (this process only) or redis
    /// (shared by every API and proxy node).
    pub store: StoreKind,
}

/// The token stores the binary can use.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, schemars::JsonSchema,
)]
pub enum StoreKind {
    /// This process's memory (one node).
    #[default]
    #[serde(rename = "memory")]
    Memory,
    /// A Redis server that every API and proxy node shares.
    #[serde(rename = "redis")]
    Redis,
}

/// `[backend]`: two owners, one table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackendSection {
    /// `kind`, `inventory`.
    pub choice: BackendSettings,
    /// `libvirt_uris`, `default_project_id`, which the libvirt backend
    /// reads.
    pub libvirt: LibvirtSettings,
}

/// `[backend]`: where servers come from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct BackendSettings {
    /// Where servers come from: inventory (a file of servers and their
    /// console endpoints) or libvirt (every domain of libvirt_uris, its
    /// consoles read live).
    pub kind: BackendKind,
    /// (required with kind = "inventory") The server inventory file,
    /// relative to this file.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"servers.toml")]
    pub inventory: Option<PathBuf>,
}

/// `[backend] kind`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, schemars::JsonSchema,
)]
pub enum BackendKind {
    /// The file `inventory` names.
    #[default]
    #[serde(rename = "inventory")]
    Inventory,
    /// libvirt's domains.
    #[serde(rename = "libvirt")]
    Libvirt,
}

/// `[proxy]`: the proxies' shared settings and their listeners.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxySection {
    /// Every key of `[proxy]` but `listeners`.
    pub settings: ProxySettings,
    /// `[[proxy.listeners]]`, paths as written (relative to the file).
    pub listeners: Vec<ListenerConfig>,
}

impl Config {
    /// Asks every section to check itself, in file order.
    ///
    /// # Errors
    /// The first refusal, its key put in its section
    /// (`proxy.keepalive_seconds: must be at most 86400`).
    pub fn validate(&self) -> Result<(), SettingError> {
        self.tokens
            .lifetime
            .validate()
            .map_err(|e| e.under("tokens"))?;
        self.tokens
            .limits
            .validate()
            .map_err(|e| e.under("tokens"))?;
        if self.api.auth == AuthMode::Keystone {
            self.keystone_authtoken
                .validate()
                .map_err(|e| e.under("keystone_authtoken"))?;
        }
        if self.tokens.store.store == StoreKind::Redis {
            self.tokens
                .redis
                .validate()
                .map_err(|e| e.under("tokens"))?;
        }
        for (console_type, section) in &self.consoles {
            section
                .validate()
                .map_err(|e| e.under(&format!("consoles.{console_type}")))?;
        }
        match self.backend.choice.kind {
            BackendKind::Inventory if self.backend.choice.inventory.is_none() => {
                return Err(SettingError::new(
                    "backend.inventory",
                    "missing: name the server inventory file",
                ));
            }
            BackendKind::Inventory => {}
            BackendKind::Libvirt => {
                if self.backend.choice.inventory.is_some() {
                    return Err(SettingError::new(
                        "backend.inventory",
                        "kind = \"libvirt\" reads servers from libvirt; remove the inventory",
                    ));
                }
                self.backend
                    .libvirt
                    .validate()
                    .map_err(|e| e.under("backend"))?;
            }
        }
        self.proxy
            .settings
            .validate()
            .map_err(|e| e.under("proxy"))?;
        for (i, listener) in self.proxy.listeners.iter().enumerate() {
            listener
                .validate()
                .map_err(|e| e.under(&format!("proxy.listeners[{i}]")))?;
        }
        self.vnc.validate().map_err(|e| e.under("vnc"))?;
        self.recording
            .validate()
            .map_err(|e| e.under("recording"))?;
        let mut taken = vec![("api.listen".to_owned(), self.api.listen)];
        taken.extend(
            self.proxy
                .listeners
                .iter()
                .enumerate()
                .map(|(i, l)| (format!("proxy.listeners[{i}].listen"), l.listen)),
        );
        self.metrics
            .validate(&taken)
            .map_err(|e| e.under("metrics"))?;
        Ok(())
    }
}

/// A configuration read and checked against the linked drivers.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// What the file says.
    pub config: Config,
    /// The dispatcher settings it yields.
    pub settings: DispatchSettings,
    /// The inventory file, resolved against the config file's folder
    /// (with `kind = "inventory"`).
    pub inventory: Option<PathBuf>,
    /// The proxies' listeners, paths resolved against the config file's
    /// folder.
    pub proxy_listeners: Vec<ListenerConfig>,
    /// `[vnc]` with its PEM files loaded (relative to the config file's
    /// folder).
    pub vnc: VncSecurity,
    /// `[recording]`, its `dir` resolved against the config file's folder.
    pub recording: RecordingSettings,
}

/// Reads `path` and checks it against `registry`.
///
/// # Errors
/// One line naming the file and the key: unreadable file, unknown key,
/// bad value (with its line), a value a library refuses, a console type
/// with no linked driver.
pub fn load(path: &Path, registry: &Registry) -> Result<Loaded, String> {
    let source = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let mut config = compose::parse(path, &source)?;
    // The password may live in the environment rather than the file.
    config.keystone_authtoken = config.keystone_authtoken.with_password_from_env();
    let at = |e: SettingError| format!("{}: {e}", path.display());
    for console_type in config.consoles.keys() {
        if registry.by_type(console_type).is_none() {
            let linked: Vec<&str> = registry
                .descriptors()
                .iter()
                .map(|d| d.console_type)
                .collect();
            return Err(at(SettingError::new(
                format!("consoles.{console_type}"),
                format!(
                    "no linked driver for console type {console_type:?} (linked: {})",
                    linked.join(", ")
                ),
            )));
        }
    }
    config.validate().map_err(at)?;
    let folder = path.parent().unwrap_or(Path::new("."));
    config.keystone_authtoken.cafile = config
        .keystone_authtoken
        .cafile
        .take()
        .map(|p| folder.join(p));
    let redis = &mut config.tokens.redis;
    for file in [
        &mut redis.redis_ca_cert,
        &mut redis.redis_client_cert,
        &mut redis.redis_client_key,
    ] {
        *file = file.take().map(|p| folder.join(p));
    }
    let inventory = config
        .backend
        .choice
        .inventory
        .as_deref()
        .map(|p| folder.join(p));
    let proxy_listeners = config
        .proxy
        .listeners
        .iter()
        .cloned()
        .map(|mut l| {
            l.web_root = l.web_root.map(|p| folder.join(p));
            l.tls_cert = l.tls_cert.map(|p| folder.join(p));
            l.tls_key = l.tls_key.map(|p| folder.join(p));
            l
        })
        .collect();
    let vnc = VncSecurity::from_settings(&config.vnc, folder).map_err(|e| at(e.under("vnc")))?;
    let recording = RecordingSettings {
        dir: config.recording.dir.as_deref().map(|p| folder.join(p)),
        ..config.recording.clone()
    };
    let settings = DispatchSettings {
        tokens: config.tokens.lifetime.clone(),
        types: config
            .consoles
            .iter()
            .map(|(t, s)| (t.clone(), s.clone()))
            .collect::<HashMap<_, _>>(),
        ..DispatchSettings::default()
    };
    Ok(Loaded {
        config,
        settings,
        inventory,
        proxy_listeners,
        vnc,
        recording,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, String> {
        compose::parse(Path::new("c.toml"), text)
    }

    #[test]
    fn defaults_follow_nova() {
        let c = parse("").unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(c.api.listen.to_string(), "127.0.0.1:8774");
        assert_eq!(c.api.auth, AuthMode::NoAuth);
        assert_eq!(c.tokens.lifetime.ttl.as_secs(), 600);
        assert_eq!(c.tokens.store.store, StoreKind::Memory);
        assert_eq!(c.proxy.settings, ProxySettings::default());
    }

    #[test]
    fn every_section_lands_in_its_owners_struct() {
        let c = parse(
            "[tokens]\nttl_seconds = 30\nstore = \"redis\"\nredis_key_prefix = \"a:\"\n\
             [consoles.novnc]\nenabled = false\n\
             [proxy]\nkeepalive_seconds = 0\nmax_frame_bytes = 4096\n\
             [[proxy.listeners]]\nlisten = \"127.0.0.1:6080\"\ntypes = [\"novnc\"]\n",
        )
        .unwrap();
        assert_eq!(c.tokens.lifetime.ttl.as_secs(), 30);
        assert_eq!(c.tokens.store.store, StoreKind::Redis);
        assert_eq!(c.tokens.redis.redis_key_prefix, "a:");
        assert_eq!(c.tokens.redis.redis_url, RedisSettings::DEFAULT_URL);
        assert!(!c.consoles["novnc"].enabled);
        assert_eq!(c.proxy.settings.keepalive_interval, None);
        assert_eq!(c.proxy.settings.max_frame_size, 4096);
        assert_eq!(c.proxy.listeners[0].types, ["novnc"]);
    }

    #[test]
    fn metrics_are_off_unless_listen_is_set_and_need_a_port_of_their_own() {
        assert_eq!(parse("").unwrap().metrics.listen, None);
        let parse = |text: &str| parse(&format!("[backend]\ninventory = \"s.toml\"\n{text}"));
        let c = parse("[metrics]\nlisten = \"127.0.0.1:9180\"\n").unwrap();
        assert_eq!(c.metrics.listen.unwrap().to_string(), "127.0.0.1:9180");
        c.validate().unwrap();
        let clash = parse(
            "[metrics]\nlisten = \"127.0.0.1:6080\"\n\
             [[proxy.listeners]]\nlisten = \"127.0.0.1:6080\"\ntypes = [\"novnc\"]\n",
        )
        .unwrap();
        let e = clash.validate().unwrap_err().to_string();
        assert!(
            e.starts_with("metrics.listen: 127.0.0.1:6080 is proxy.listeners[0].listen already"),
            "{e}"
        );
        let any = parse("[api]\nlisten = \"127.0.0.1:0\"\n[metrics]\nlisten = \"127.0.0.1:0\"\n");
        any.unwrap().validate().unwrap();
    }

    #[test]
    fn recording_is_off_unless_dir_is_set_and_refusals_name_their_key() {
        assert_eq!(parse("").unwrap().recording, RecordingSettings::default());
        let parse = |text: &str| parse(&format!("[backend]\ninventory = \"s.toml\"\n{text}"));
        let c = parse("[recording]\ndir = \"/var/rec\"\ntypes = [\"novnc\"]\n").unwrap();
        c.validate().unwrap();
        assert!(c.recording.records("novnc") && !c.recording.records("serial"));
        let e = parse("[recording]\ntypes = [\"novnc\"]\n")
            .unwrap()
            .validate()
            .unwrap_err()
            .to_string();
        assert_eq!(e, "recording.dir: missing: types needs it");
        let e = parse("[recording]\ndir = \"r\"\ntypes = [\"webmks\"]\n")
            .unwrap()
            .validate()
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("recording.types[0]: cannot record"), "{e}");
        let e = parse("[recording]\ndirectory = \"r\"\n").unwrap_err();
        assert!(
            e.contains("in [recording]: unknown field `directory`"),
            "{e}"
        );
    }

    #[test]
    fn listener_paths_are_relative_to_the_config() {
        let dir = std::env::temp_dir().join(format!("consoled-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("consoled.toml");
        std::fs::write(
            &path,
            "[backend]\ninventory = \"servers.toml\"\n[[proxy.listeners]]\n\
             listen = \"127.0.0.1:6080\"\ntypes = [\"novnc\"]\n\
             web_root = \"web\"\ntls_cert = \"c.pem\"\ntls_key = \"k.pem\"\n\
             [recording]\ndir = \"rec\"\ntypes = [\"serial\"]\n",
        )
        .unwrap();
        let registry = crate::linked::registry().unwrap();
        let loaded = load(&path, &registry).unwrap();
        let l = &loaded.proxy_listeners[0];
        assert_eq!(l.web_root.as_deref(), Some(dir.join("web").as_path()));
        assert_eq!(l.tls_key.as_deref(), Some(dir.join("k.pem").as_path()));
        assert_eq!(loaded.inventory, Some(dir.join("servers.toml")));
        assert_eq!(loaded.recording.dir, Some(dir.join("rec")));
        assert_eq!(loaded.recording.types, Some(vec!["serial".to_owned()]));
        assert!(!loaded.vnc.proxies_security());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn vnc_pem_files_are_read_relative_to_the_config() {
        let dir = std::env::temp_dir().join(format!("consoled-config-vnc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("consoled.toml");
        std::fs::write(
            &path,
            "[backend]\ninventory = \"servers.toml\"\n[vnc]\n\
             auth_schemes = [\"vencrypt\", \"none\"]\nvencrypt_ca_certs = \"pki/ca.pem\"\n",
        )
        .unwrap();
        let registry = crate::linked::registry().unwrap();
        let e = load(&path, &registry).unwrap_err();
        let missing = dir.join("pki/ca.pem");
        assert!(
            e.contains(&format!(
                "vnc.vencrypt_ca_certs: cannot read {}",
                missing.display()
            )),
            "{e}"
        );
        let ca = consoled_testkit::pki::TestCa::new("ca").unwrap();
        std::fs::create_dir_all(dir.join("pki")).unwrap();
        std::fs::write(&missing, ca.cert_pem()).unwrap();
        let loaded = load(&path, &registry).unwrap();
        assert!(loaded.vnc.proxies_security());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
