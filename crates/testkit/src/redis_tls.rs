//! A real redis-server that speaks only TLS, with certificates made up by
//! the test and an ACL user.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use crate::pki::TestCa;
use crate::redis_process::{free_port, require_redis, wait_for, Guarded, ScratchDir};

/// A redis-server with TLS only (`--port 0`), which checks client
/// certificates (`--tls-auth-clients yes`) against its own test CA and
/// knows an ACL user, [`RedisTlsServer::ACL_USER`]. Killed when dropped or
/// when the test process ends.
pub struct RedisTlsServer {
    port: u16,
    process: Guarded,
    dir: ScratchDir,
}

impl RedisTlsServer {
    /// The ACL user the server knows (all keys, all commands).
    pub const ACL_USER: &'static str = "consoled-node";
    /// Its password.
    pub const ACL_PASSWORD: &'static str = "acl-secret-Zq7w";

    /// Makes a CA, a server certificate for 127.0.0.1 and a client
    /// certificate, writes them as PEM files and starts redis-server on a
    /// free port. Blocking.
    ///
    /// # Panics
    /// When redis-server is not installed or does not come up.
    pub fn start() -> RedisTlsServer {
        require_redis();
        let dir = ScratchDir::new("redis-tls");
        let ca = TestCa::new("consoled test Redis CA").expect("test CA");
        let server = ca.server(&["127.0.0.1", "localhost"]).expect("server cert");
        let client = ca.client("consoled").expect("client cert");
        let write = |name: &str, pem: &str| {
            std::fs::write(dir.path().join(name), pem).expect("write a PEM file");
        };
        write("ca.pem", &ca.cert_pem());
        write("server-cert.pem", &server.cert_pem);
        write("server-key.pem", &server.key_pem);
        write("client-cert.pem", &client.cert_pem);
        write("client-key.pem", &client.key_pem);
        // Another CA, whose certificates this server must refuse.
        let stranger = TestCa::new("a stranger's CA").expect("test CA");
        let stranger_client = stranger.client("stranger").expect("client cert");
        write("other-ca.pem", &stranger.cert_pem());
        write("other-client-cert.pem", &stranger_client.cert_pem);
        write("other-client-key.pem", &stranger_client.key_pem);

        let mut last = String::new();
        for _ in 0..5 {
            let port = free_port(0);
            match Self::spawn(&dir, port) {
                Ok(process) => return RedisTlsServer { port, process, dir },
                Err(e) => last = e,
            }
        }
        panic!("the TLS redis-server did not start: {last}");
    }

    /// One server shared by every test of this test binary, started on
    /// first use.
    ///
    /// # Panics
    /// As [`RedisTlsServer::start`].
    pub fn shared() -> &'static RedisTlsServer {
        static SHARED: OnceLock<RedisTlsServer> = OnceLock::new();
        SHARED.get_or_init(RedisTlsServer::start)
    }

    fn spawn(dir: &ScratchDir, port: u16) -> Result<Guarded, String> {
        let file = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
        let args: Vec<String> = vec![
            "--bind".into(),
            "127.0.0.1".into(),
            "--port".into(),
            "0".into(),
            "--tls-port".into(),
            port.to_string(),
            "--tls-cert-file".into(),
            file("server-cert.pem"),
            "--tls-key-file".into(),
            file("server-key.pem"),
            "--tls-ca-cert-file".into(),
            file("ca.pem"),
            "--tls-auth-clients".into(),
            "yes".into(),
            "--user".into(),
            Self::ACL_USER.into(),
            "on".into(),
            format!(">{}", Self::ACL_PASSWORD),
            "~*".into(),
            "&*".into(),
            "+@all".into(),
            "--save".into(),
            String::new(),
            "--appendonly".into(),
            "no".into(),
            "--loglevel".into(),
            "warning".into(),
        ];
        let process = Guarded::spawn(&args)?;
        let pid = process.pid.to_string();
        wait_for(&format!("TLS redis-server on port {port}"), || {
            if !process.alive() {
                return true;
            }
            let out = Command::new("redis-cli")
                .args(["--tls", "--cacert", &file("ca.pem")])
                .args([
                    "--cert",
                    &file("client-cert.pem"),
                    "--key",
                    &file("client-key.pem"),
                ])
                .args(["-h", "127.0.0.1", "-p", &port.to_string(), "INFO", "server"])
                .stdin(Stdio::null())
                .stderr(Stdio::null())
                .output();
            out.is_ok_and(|o| {
                String::from_utf8_lossy(&o.stdout).contains(&format!("process_id:{pid}\r"))
            })
        })?;
        if !process.alive() {
            return Err(format!("redis-server exited at start (port {port})"));
        }
        Ok(process)
    }

    /// The port it listens on (TLS only).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its URL, `rediss://127.0.0.1:PORT/`, logging in as the default
    /// user.
    pub fn url(&self) -> String {
        format!("rediss://127.0.0.1:{}/", self.port)
    }

    /// Its URL with [`RedisTlsServer::ACL_USER`] and `password`.
    pub fn url_as_user(&self, password: &str) -> String {
        format!(
            "rediss://{}:{password}@127.0.0.1:{}/",
            Self::ACL_USER,
            self.port
        )
    }

    /// A PEM file the test made: `ca.pem` (the CA that signed the server's
    /// and the client's certificates), `client-cert.pem`,
    /// `client-key.pem`; and `other-ca.pem`, `other-client-cert.pem`,
    /// `other-client-key.pem` from a CA the server does not know.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// redis-server's process id.
    pub fn pid(&self) -> u32 {
        self.process.pid
    }
}

impl std::fmt::Debug for RedisTlsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisTlsServer")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}
