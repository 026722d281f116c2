//! `consoled drivers`, `consoled serve --help`, and start-up refusals.

mod common;

use std::path::Path;

use common::{run, temp_dir};

#[test]
fn drivers_lists_all_seven_pairs_sorted() {
    let out = run(&["drivers"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    let pairs: Vec<(&str, &str)> = rows.iter().map(|r| (r[0], r[1])).collect();
    assert_eq!(
        pairs,
        [
            ("mks", "webmks"),
            ("rdp", "rdp-html5"),
            ("serial", "serial"),
            ("spice", "spice-direct"),
            ("spice", "spice-html5"),
            ("vnc", "novnc"),
            ("vnc", "xvpvnc"),
        ],
        "{text}"
    );
    let novnc = rows.iter().find(|r| r[1] == "novnc").unwrap();
    assert_eq!(
        novnc[2..],
        ["consoled-driver-vnc-novnc", "2.6", "websocket"]
    );
    let direct = rows.iter().find(|r| r[1] == "spice-direct").unwrap();
    assert_eq!(direct[3..], ["2.99", "external"]);
    let xvp = rows.iter().find(|r| r[1] == "xvpvnc").unwrap();
    assert_eq!(xvp[4], "tcp");
}

#[test]
fn serve_help_documents_every_key() {
    let out = run(&["serve", "--help"]);
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for key in [
        "[api]",
        "listen",
        "auth",
        "noauth",
        "[tokens]",
        "ttl_seconds",
        "store",
        "memory",
        "[consoles.<type>]",
        "enabled",
        "base_url",
        "sessions",
        "exclusive",
        "takeover",
        "[backend]",
        "inventory",
        "kind",
        "libvirt_uris",
        "default_project_id",
        "redis_url",
        "redis_cluster_urls",
        "redis_key_prefix",
        "redis_ca_cert",
        "redis_client_cert",
        "redis_client_key",
        "[proxy]",
        "allowed_origins",
        "enforce_session_timeout",
        "keepalive_seconds",
        "idle_timeout_seconds",
        "max_frame_bytes",
        "max_sessions",
        "handshake_timeout_seconds",
        "shutdown_grace_seconds",
        "trusted_proxies",
        "node_name",
        "[[proxy.listeners]]",
        "types",
        "web_root",
        "tls_cert",
        "tls_key",
        "[vnc]",
        "auth_schemes",
        "vencrypt_client_key",
        "vencrypt_client_cert",
        "vencrypt_ca_certs",
        "[metrics]",
        "GET /metrics",
        "[recording]",
        "dir",
        "asciicast",
        "[[servers]]",
        "project_id",
        "status",
        "task_state",
        "host",
        "port",
        "tls_port",
        "internal_access_path",
        "http://127.0.0.1:6080/vnc_auto.html",
        "http://127.0.0.1:6081/console",
        "http://127.0.0.1:6082/spice_auto.html",
        "ws://127.0.0.1:6083/",
        "http://127.0.0.1:6090/",
        "http://127.0.0.1:13002/nova",
        "[log]",
        "format",
        "json",
        "RUST_LOG",
    ] {
        assert!(help.contains(key), "serve --help does not mention {key}");
    }
}

/// Runs `serve` on a config and inventory that should be refused; returns
/// the one line it printed.
fn refused(config: &str, servers: &str) -> String {
    let dir = temp_dir("refused");
    std::fs::write(dir.join("servers.toml"), servers).unwrap();
    let path = dir.join("consoled.toml");
    std::fs::write(&path, config).unwrap();
    let out = run(&["serve", "--config", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("consoled: error:"))
        .collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    lines[0].to_owned()
}

const SERVER: &str = "[[servers]]\nid = \"s1\"\nname = \"n\"\nproject_id = \"p\"\nhost = \"h\"\n";
const GOOD: &str = "[backend]\ninventory = \"servers.toml\"\n";

#[test]
fn unknown_key_is_refused_naming_it() {
    let line = refused(
        &format!("[api]\nlisten = \"127.0.0.1:0\"\nlistn = 1\n{GOOD}"),
        SERVER,
    );
    assert!(line.contains("consoled.toml:3: in [api]"), "{line}");
    assert!(line.contains("unknown field `listn`"), "{line}");
    let line = refused(&format!("[tokenz]\nttl_seconds = 1\n{GOOD}"), SERVER);
    assert!(line.contains("tokenz"), "{line}");
}

#[test]
fn unparsable_url_is_refused_naming_the_key() {
    let line = refused(
        &format!("[consoles.novnc]\nbase_url = \"vnc_auto.html\"\n{GOOD}"),
        SERVER,
    );
    assert!(line.contains("consoles.novnc.base_url"), "{line}");
    assert!(line.contains("vnc_auto.html"), "{line}");
}

#[test]
fn type_without_linked_driver_is_refused() {
    let line = refused(
        &format!("[consoles.teletype]\nenabled = true\n{GOOD}"),
        SERVER,
    );
    assert!(line.contains("consoles.teletype"), "{line}");
    assert!(line.contains("no linked driver"), "{line}");
}

#[test]
fn bad_values_are_refused() {
    let line = refused(&format!("[api]\nlisten = \"nowhere\"\n{GOOD}"), SERVER);
    assert!(line.contains("consoled.toml:2: in [api]"), "{line}");
    let line = refused(&format!("[api]\nauth = \"ldap\"\n{GOOD}"), SERVER);
    assert!(line.contains("noauth"), "{line}");
    let line = refused(&format!("[tokens]\nttl_seconds = 0\n{GOOD}"), SERVER);
    assert!(line.contains("tokens.ttl_seconds"), "{line}");
    let line = refused("[api]\nlisten = \"127.0.0.1:0\"\n", SERVER);
    assert!(line.contains("backend.inventory"), "{line}");
}

/// Every key that can be refused, spoiled one at a time in an otherwise
/// good file: a value of the wrong type is refused while parsing, with its
/// line (`consoled.toml:<line>: in [<table>]: <key.path>: `); a value its
/// owner cannot honour is refused after (`consoled.toml: <key.path>: `).
#[test]
fn every_refusable_key_is_named_as_written() {
    const LISTENER: &str = "[[proxy.listeners]]\nlisten = \"127.0.0.1:0\"\ntypes = [\"novnc\"]\n";
    const KEYSTONE: &str = "[api]\nauth = \"keystone\"\n[keystone_authtoken]\n\
        auth_url = \"http://127.0.0.1:5000/v3\"\nusername = \"nova\"\npassword = \"p\"\n\
        project_name = \"service\"\n";
    let parse =
        |line: usize, table: &str, key: &str| format!("consoled.toml:{line}: in {table}: {key}: ");
    let check = |key: &str| format!("consoled.toml: {key}: ");
    let cases: Vec<(String, String)> = vec![
        // [api]
        (
            "[api]\nlisten = \"nowhere\"\n".into(),
            parse(2, "[api]", "api.listen"),
        ),
        (
            "[api]\nauth = \"ldap\"\n".into(),
            parse(2, "[api]", "api.auth"),
        ),
        // [tokens]
        (
            "[tokens]\nttl_seconds = \"ten\"\n".into(),
            parse(2, "[tokens]", "tokens.ttl_seconds"),
        ),
        (
            "[tokens]\nttl_seconds = 0\n".into(),
            check("tokens.ttl_seconds") + "must be at least 1",
        ),
        (
            "[tokens]\nttl_seconds = 86401\n".into(),
            check("tokens.ttl_seconds") + "must be at most 86400",
        ),
        (
            "[tokens]\nmax_live_records = -1\n".into(),
            parse(2, "[tokens]", "tokens.max_live_records"),
        ),
        (
            "[tokens]\nmax_live_records = 0\n".into(),
            check("tokens.max_live_records") + "must be between 1 and 100000000",
        ),
        (
            "[tokens]\nmax_live_records_per_project = \"many\"\n".into(),
            parse(2, "[tokens]", "tokens.max_live_records_per_project"),
        ),
        (
            "[tokens]\nstore = \"disk\"\n".into(),
            parse(2, "[tokens]", "tokens.store"),
        ),
        (
            "[tokens]\nredis_url = 6379\n".into(),
            parse(2, "[tokens]", "tokens.redis_url"),
        ),
        (
            "[tokens]\nstore = \"redis\"\nredis_url = \"nonsense\"\n".into(),
            check("tokens.redis_url"),
        ),
        (
            "[tokens]\nredis_key_prefix = []\n".into(),
            parse(2, "[tokens]", "tokens.redis_key_prefix"),
        ),
        (
            "[tokens]\nredis_cluster_urls = \"redis://h:1\"\n".into(),
            parse(2, "[tokens]", "tokens.redis_cluster_urls"),
        ),
        (
            "[tokens]\nstore = \"redis\"\nredis_cluster_urls = [\"redis://h:1\", \"nonsense\"]\n".into(),
            check("tokens.redis_cluster_urls[1]"),
        ),
        (
            "[tokens]\nstore = \"redis\"\nredis_url = \"redis://h:1/\"\nredis_cluster_urls = [\"redis://h:1\"]\n"
                .into(),
            check("tokens.redis_cluster_urls") + "name either",
        ),
        (
            "[tokens]\nredis_ca_cert = 1\n".into(),
            parse(2, "[tokens]", "tokens.redis_ca_cert"),
        ),
        (
            "[tokens]\nstore = \"redis\"\nredis_ca_cert = \"ca.pem\"\n".into(),
            check("tokens.redis_ca_cert") + "needs a rediss:// URL",
        ),
        (
            "[tokens]\nredis_client_cert = 1\n".into(),
            parse(2, "[tokens]", "tokens.redis_client_cert"),
        ),
        (
            "[tokens]\nstore = \"redis\"\nredis_url = \"rediss://h:1/\"\nredis_client_cert = \"c.pem\"\n"
                .into(),
            check("tokens.redis_client_key") + "missing",
        ),
        (
            "[tokens]\nredis_client_key = 1\n".into(),
            parse(2, "[tokens]", "tokens.redis_client_key"),
        ),
        // [consoles.<type>]
        (
            "[consoles.novnc]\nenabled = \"yes\"\n".into(),
            parse(2, "[consoles.novnc]", "consoles.novnc.enabled"),
        ),
        (
            "[consoles.novnc]\nbase_url = \"vnc_auto.html\"\n".into(),
            parse(2, "[consoles.novnc]", "consoles.novnc.base_url"),
        ),
        (
            "[consoles.novnc]\nbase_url = \"mailto:a@b\"\n".into(),
            check("consoles.novnc.base_url"),
        ),
        (
            "[consoles.serial]\nsessions = \"solo\"\n".into(),
            parse(2, "[consoles.serial]", "consoles.serial.sessions"),
        ),
        (
            "[consoles.teletype]\nenabled = true\n".into(),
            check("consoles.teletype") + "no linked driver",
        ),
        // [backend]
        (
            "[backend]\ninventory = 5\n".into(),
            parse(2, "[backend]", "backend.inventory"),
        ),
        (
            "[backend]\nkind = \"xen\"\n".into(),
            parse(2, "[backend]", "backend.kind"),
        ),
        (
            "[backend]\nkind = \"libvirt\"\ninventory = \"servers.toml\"\n\
             default_project_id = \"demo\"\n"
                .into(),
            check("backend.inventory") + "kind = \"libvirt\" reads servers from libvirt",
        ),
        (
            "[backend]\nkind = \"libvirt\"\nlibvirt_uris = \"qemu:///system\"\n".into(),
            parse(3, "[backend]", "backend.libvirt_uris"),
        ),
        (
            "[backend]\nkind = \"libvirt\"\nlibvirt_uris = []\ndefault_project_id = \"p\"\n".into(),
            check("backend.libvirt_uris") + "empty",
        ),
        (
            "[backend]\nkind = \"libvirt\"\nlibvirt_uris = [\"qemu:///system\", \"xen:///\"]\n\
             default_project_id = \"p\"\n"
                .into(),
            check("backend.libvirt_uris[1]"),
        ),
        (
            "[backend]\nkind = \"libvirt\"\ndefault_project_id = 7\n".into(),
            parse(3, "[backend]", "backend.default_project_id"),
        ),
        (
            "[backend]\nkind = \"libvirt\"\n".into(),
            check("backend.default_project_id") + "missing",
        ),
        // [log]
        (
            "[log]\nformat = \"xml\"\n".into(),
            parse(2, "[log]", "log.format"),
        ),
        // [proxy]
        (
            "[proxy]\ntrusted_proxies = [\"10.0.0.0/8\", \"proxy.example\"]\n".into(),
            check("proxy.trusted_proxies[1]") + "\"proxy.example\" is neither",
        ),
        (
            "[proxy]\nnode_name = \"two words\"\n".into(),
            check("proxy.node_name"),
        ),
        (
            "[proxy]\nallowed_origins = \"*\"\n".into(),
            parse(2, "[proxy]", "proxy.allowed_origins"),
        ),
        (
            "[proxy]\nenforce_session_timeout = 1\n".into(),
            parse(2, "[proxy]", "proxy.enforce_session_timeout"),
        ),
        (
            "[proxy]\nkeepalive_seconds = -1\n".into(),
            parse(2, "[proxy]", "proxy.keepalive_seconds"),
        ),
        (
            "[proxy]\nkeepalive_seconds = 86401\n".into(),
            check("proxy.keepalive_seconds") + "must be at most 86400",
        ),
        (
            "[proxy]\nidle_timeout_seconds = \"1h\"\n".into(),
            parse(2, "[proxy]", "proxy.idle_timeout_seconds"),
        ),
        (
            "[proxy]\nidle_timeout_seconds = 604801\n".into(),
            check("proxy.idle_timeout_seconds") + "must be at most 604800",
        ),
        (
            "[proxy]\nmax_frame_bytes = 1.5\n".into(),
            parse(2, "[proxy]", "proxy.max_frame_bytes"),
        ),
        (
            "[proxy]\nmax_frame_bytes = 124\n".into(),
            check("proxy.max_frame_bytes") + "must be between 125 and 67108864",
        ),
        (
            "[proxy]\nmax_frame_bytes = 67108865\n".into(),
            check("proxy.max_frame_bytes") + "must be between 125 and 67108864",
        ),
        (
            "[proxy]\nmax_sessions = -5\n".into(),
            parse(2, "[proxy]", "proxy.max_sessions"),
        ),
        (
            "[proxy]\nmax_sessions = 0\n".into(),
            check("proxy.max_sessions") + "must be between 1 and ",
        ),
        (
            "[proxy]\nhandshake_timeout_seconds = true\n".into(),
            parse(2, "[proxy]", "proxy.handshake_timeout_seconds"),
        ),
        (
            "[proxy]\nhandshake_timeout_seconds = 0\n".into(),
            check("proxy.handshake_timeout_seconds") + "must be at least 1",
        ),
        (
            "[proxy]\nhandshake_timeout_seconds = 301\n".into(),
            check("proxy.handshake_timeout_seconds") + "must be at most 300",
        ),
        (
            "[proxy]\nshutdown_grace_seconds = \"soon\"\n".into(),
            parse(2, "[proxy]", "proxy.shutdown_grace_seconds"),
        ),
        (
            "[proxy]\nshutdown_grace_seconds = 3601\n".into(),
            check("proxy.shutdown_grace_seconds") + "must be at most 3600",
        ),
        // [[proxy.listeners]]
        (
            "[[proxy.listeners]]\nlisten = \"x\"\ntypes = [\"novnc\"]\n".into(),
            parse(2, "[[proxy.listeners]]", "proxy.listeners[0].listen"),
        ),
        (
            "[[proxy.listeners]]\nlisten = \"127.0.0.1:0\"\ntypes = \"novnc\"\n".into(),
            parse(3, "[[proxy.listeners]]", "proxy.listeners[0].types"),
        ),
        (
            "[[proxy.listeners]]\nlisten = \"127.0.0.1:0\"\ntypes = []\n".into(),
            check("proxy.listeners[0].types") + "name at least one console type",
        ),
        (
            format!("{LISTENER}web_root = 1\n"),
            parse(4, "[[proxy.listeners]]", "proxy.listeners[0].web_root"),
        ),
        (
            format!("{LISTENER}tls_cert = \"c.pem\"\n"),
            check("proxy.listeners[0].tls_key") + "missing",
        ),
        (
            format!("{LISTENER}tls_key = \"k.pem\"\n"),
            check("proxy.listeners[0].tls_cert") + "missing",
        ),
        (
            format!("{LISTENER}{LISTENER}tls_cert = \"c.pem\"\n"),
            check("proxy.listeners[1].tls_key"),
        ),
        // [vnc]
        (
            "[vnc]\nauth_schemes = \"vencrypt\"\n".into(),
            parse(2, "[vnc]", "vnc.auth_schemes"),
        ),
        (
            "[vnc]\nauth_schemes = [\"tls\"]\n".into(),
            parse(2, "[vnc]", "vnc.auth_schemes"),
        ),
        (
            "[vnc]\nauth_schemes = []\n".into(),
            check("vnc.auth_schemes") + "must list at least one",
        ),
        (
            "[vnc]\nauth_schemes = [\"none\", \"none\"]\n".into(),
            check("vnc.auth_schemes") + "lists \"none\" twice",
        ),
        (
            "[vnc]\nauth_schemes = [\"vencrypt\"]\n".into(),
            check("vnc.vencrypt_ca_certs") + "missing",
        ),
        (
            "[vnc]\nauth_schemes = [\"vencrypt\"]\nvencrypt_ca_certs = \"ca.pem\"\n".into(),
            check("vnc.vencrypt_ca_certs") + "cannot read ",
        ),
        (
            "[vnc]\nvencrypt_ca_certs = 1\n".into(),
            parse(2, "[vnc]", "vnc.vencrypt_ca_certs"),
        ),
        (
            "[vnc]\nvencrypt_client_key = true\n".into(),
            parse(2, "[vnc]", "vnc.vencrypt_client_key"),
        ),
        (
            "[vnc]\nvencrypt_client_key = \"k.pem\"\n".into(),
            check("vnc.vencrypt_client_cert") + "missing",
        ),
        (
            "[vnc]\nvencrypt_client_cert = []\n".into(),
            parse(2, "[vnc]", "vnc.vencrypt_client_cert"),
        ),
        (
            "[vnc]\nvencrypt_client_cert = \"c.pem\"\n".into(),
            check("vnc.vencrypt_client_key") + "missing",
        ),
        (
            "[vnc]\nauth_schemes = [\"vencrypt\"]\nvencrypt_ca_certs = \"servers.toml\"\n\
             vencrypt_client_key = \"k.pem\"\nvencrypt_client_cert = \"servers.toml\"\n"
                .into(),
            check("vnc.vencrypt_ca_certs") + "no PEM certificate in ",
        ),
        // [metrics]
        (
            "[metrics]\nlisten = \"nowhere\"\n".into(),
            parse(2, "[metrics]", "metrics.listen"),
        ),
        (
            "[metrics]\nlisten = 9180\n".into(),
            parse(2, "[metrics]", "metrics.listen"),
        ),
        (
            "[metrics]\nlisten = \"127.0.0.1:8774\"\n".into(),
            check("metrics.listen") + "127.0.0.1:8774 is api.listen already",
        ),
        (
            format!("{LISTENER}[metrics]\nlisten = \"127.0.0.1:0\"\nport = 1\n"),
            "consoled.toml:6: in [metrics]: unknown field `port`".into(),
        ),
        // [recording]
        (
            "[recording]\ndir = 5\n".into(),
            parse(2, "[recording]", "recording.dir"),
        ),
        (
            "[recording]\ndir = \"\"\n".into(),
            check("recording.dir") + "must name a folder",
        ),
        (
            "[recording]\ntypes = [\"novnc\"]\n".into(),
            check("recording.dir") + "missing: types needs it",
        ),
        (
            "[recording]\ndir = \"rec\"\ntypes = \"serial\"\n".into(),
            parse(3, "[recording]", "recording.types"),
        ),
        (
            "[recording]\ndir = \"rec\"\ntypes = []\n".into(),
            check("recording.types") + "name at least one console type",
        ),
        (
            "[recording]\ndir = \"rec\"\ntypes = [\"serial\", \"webmks\"]\n".into(),
            check("recording.types[1]") + "cannot record console type \"webmks\"",
        ),
        (
            "[recording]\nfolder = \"rec\"\n".into(),
            "consoled.toml:2: in [recording]: unknown field `folder`".into(),
        ),
        (
            format!("[api]\nlisten = \"127.0.0.1:0\"\n{LISTENER}[recording]\ndir = \"servers.toml/rec\"\n"),
            "proxy: recording.dir ".into(),
        ),
        // [keystone_authtoken], read with [api] auth = "keystone"
        (
            format!("{KEYSTONE}token_cache_time = \"long\"\n"),
            parse(
                8,
                "[keystone_authtoken]",
                "keystone_authtoken.token_cache_time",
            ),
        ),
        (
            "[api]\nauth = \"keystone\"\n".into(),
            check("keystone_authtoken.auth_url") + "missing",
        ),
        (
            KEYSTONE.replace("http://127.0.0.1:5000/v3", "keystone:5000"),
            check("keystone_authtoken.auth_url"),
        ),
        (
            KEYSTONE.replace("username = \"nova\"\n", ""),
            check("keystone_authtoken.username") + "missing",
        ),
        (
            KEYSTONE.replace("project_name = \"service\"\n", ""),
            check("keystone_authtoken.project_name") + "missing",
        ),
        (
            KEYSTONE.replace("password = \"p\"\n", ""),
            check("keystone_authtoken.password") + "missing",
        ),
        (
            format!("{KEYSTONE}http_connect_timeout = 0\n"),
            check("keystone_authtoken.http_connect_timeout"),
        ),
        (
            format!("{KEYSTONE}token_cache_time = 86401\n"),
            check("keystone_authtoken.token_cache_time") + "must be at most 86400",
        ),
    ];
    for (spoiled, expected) in cases {
        let file = if spoiled.contains("[backend]") {
            spoiled.clone()
        } else {
            format!("{spoiled}{GOOD}")
        };
        let line = refused(&file, SERVER);
        assert!(
            line.contains(&expected),
            "{spoiled:?}: {line} does not contain {expected:?}"
        );
    }
    let line = refused("[api]\nlisten = \"127.0.0.1:0\"\n", SERVER);
    assert!(line.contains(&check("backend.inventory")), "{line}");
}

#[test]
fn unusable_redis_url_is_refused_naming_file_and_key() {
    let line = refused(
        &format!("[tokens]\nstore = \"redis\"\nredis_url = \"nonsense\"\n{GOOD}"),
        SERVER,
    );
    assert!(line.contains("consoled.toml: tokens.redis_url: "), "{line}");
}

#[test]
fn redis_tls_files_are_read_from_the_config_folder_and_named_by_key() {
    let line = refused(
        &format!(
            "[tokens]\nstore = \"redis\"\nredis_url = \"rediss://:hunter2@127.0.0.1:1/\"\n\
             redis_ca_cert = \"missing-ca.pem\"\n{GOOD}"
        ),
        SERVER,
    );
    assert!(
        line.contains("consoled.toml: tokens.redis_ca_cert: "),
        "{line}"
    );
    assert!(
        line.contains("-refused/missing-ca.pem"),
        "not resolved against the config folder: {line}"
    );
    assert!(!line.contains("hunter2"), "{line}");
}

#[test]
fn duplicate_server_id_is_refused() {
    let line = refused(GOOD, &format!("{SERVER}{SERVER}"));
    assert!(
        line.contains("servers.toml: servers[1].id: duplicate id \"s1\""),
        "{line}"
    );
}

#[test]
fn inventory_mistakes_are_refused() {
    let line = refused(GOOD, &format!("{SERVER}nmae = \"x\"\n"));
    assert!(
        line.contains("servers.toml:6: in [[servers]]") && line.contains("nmae"),
        "{line}"
    );
    let line = refused(
        GOOD,
        &format!("{SERVER}[servers.consoles.vcn]\nhost = \"h\"\nport = 1\n"),
    );
    assert!(line.contains("servers[0].consoles.vcn"), "{line}");
    let line = refused(
        GOOD,
        &format!("{SERVER}[servers.consoles.vnc]\nhost = \"h\"\nport = 1\nticket = \"t\"\n"),
    );
    assert!(line.contains("ticket"), "{line}");
}

#[test]
fn missing_config_file_is_one_line() {
    let out = run(&["serve", "--config", "/nonexistent/consoled.toml"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("/nonexistent/consoled.toml: cannot read"),
        "{stderr}"
    );
    assert!(Path::new(common::BIN).exists());
}
