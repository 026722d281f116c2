//! A real Keystone (from PyPI, under gunicorn) for the whole test binary:
//! SQLite, fernet keys in a temporary folder, bootstrapped, with the
//! projects, users and roles the tests use.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::process::{Child, Command};
use tokio::sync::OnceCell;

use super::common::{free_port, temp_dir};

/// Keystone's token lifetime here: short, so that a test can watch a
/// token expire, long enough for any test's requests.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(30);
/// The bootstrap admin's password.
const ADMIN_PASSWORD: &str = "admin-secret";
/// Every other user's password.
pub const PASSWORD: &str = "user-secret";

/// The running Keystone and what the tests made in it.
pub struct Keystone {
    /// `http://127.0.0.1:<port>/v3`.
    pub url: String,
    /// The `demo` project's id.
    pub demo: String,
    /// The `other` project's id.
    pub other: String,
    http: reqwest::Client,
    /// Keystone's log file, shown when it answers a test's request with
    /// an error.
    log: PathBuf,
    // Killed with the test binary: the wrapper ends gunicorn when its
    // standard input, held here, closes.
    _process: Child,
}

/// The one Keystone of this test binary, started on first use.
pub async fn keystone() -> &'static Keystone {
    static KEYSTONE: OnceCell<Keystone> = OnceCell::const_new();
    KEYSTONE.get_or_init(Keystone::start).await
}

/// The virtualenv with keystone and gunicorn that scripts/test makes.
fn venv() -> PathBuf {
    let venv = std::env::var_os("CONSOLED_KEYSTONE_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            // target/<profile>/deps/<test> -> target/keystone-venv
            let exe = std::env::current_exe().expect("test executable");
            exe.ancestors()
                .nth(3)
                .expect("inside target/")
                .join("keystone-venv")
        });
    assert!(
        venv.join("bin/keystone-manage").exists() && venv.join("bin/gunicorn").exists(),
        "no Keystone at {}: ./scripts/test installs keystone and gunicorn from PyPI there \
         (or set CONSOLED_KEYSTONE_VENV)",
        venv.display()
    );
    venv
}

async fn run(venv: &Path, config: &Path, args: &[&str]) {
    let out = Command::new(venv.join("bin/keystone-manage"))
        .arg("--config-file")
        .arg(config)
        .args(args)
        .output()
        .await
        .expect("keystone-manage runs");
    assert!(
        out.status.success(),
        "keystone-manage {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Keystone {
    async fn start() -> Keystone {
        let venv = venv();
        let dir = temp_dir("keystone");
        for sub in ["fernet", "credential"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}/v3");
        let config = dir.join("keystone.conf");
        std::fs::write(
            &config,
            format!(
                "[DEFAULT]\nlog_file = {log}\n[database]\nconnection = sqlite:///{db}\n\
                 [identity]\npassword_hash_rounds = 4\n\
                 [token]\nprovider = fernet\nexpiration = {life}\n\
                 [fernet_tokens]\nkey_repository = {fernet}\n\
                 [fernet_receipts]\nkey_repository = {fernet}\n\
                 [credential]\nkey_repository = {cred}\n",
                log = dir.join("keystone.log").display(),
                db = dir.join("keystone.db").display(),
                life = TOKEN_LIFETIME.as_secs(),
                fernet = dir.join("fernet").display(),
                cred = dir.join("credential").display(),
            ),
        )
        .unwrap();
        run(&venv, &config, &["db_sync"]).await;
        let owner = ["--keystone-user", "root", "--keystone-group", "root"];
        run(&venv, &config, &[&["fernet_setup"][..], &owner].concat()).await;
        run(
            &venv,
            &config,
            &[&["credential_setup"][..], &owner].concat(),
        )
        .await;
        run(
            &venv,
            &config,
            &[
                "bootstrap",
                "--bootstrap-password",
                ADMIN_PASSWORD,
                "--bootstrap-admin-url",
                &url,
                "--bootstrap-public-url",
                &url,
                "--bootstrap-internal-url",
                &url,
                "--bootstrap-region-id",
                "RegionOne",
            ],
        )
        .await;
        // Keystone's configuration parser reads sys.argv, which holds
        // gunicorn's own flags: clear it before the application loads.
        std::fs::write(
            dir.join("keystone_wsgi.py"),
            "import sys\nsys.argv = sys.argv[:1]\n\
             from keystone.server.wsgi import initialize_public_application\n\
             application = initialize_public_application()\n",
        )
        .unwrap();
        let gunicorn = venv.join("bin/gunicorn");
        let process = Command::new("sh")
            .args([
                "-c",
                "\"$0\" \"$@\" & child=$!; cat >/dev/null; kill $child",
            ])
            .arg(&gunicorn)
            .args(["--chdir"])
            .arg(&dir)
            .args(["--bind", &format!("127.0.0.1:{port}"), "--workers", "2"])
            .args(["--error-logfile"])
            .arg(dir.join("gunicorn.log"))
            .arg("keystone_wsgi:application")
            .env("OS_KEYSTONE_CONFIG_FILES", &config)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("gunicorn starts");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if http
                .get(&url)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "Keystone did not answer on {url}: {}",
                std::fs::read_to_string(dir.join("gunicorn.log")).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let mut keystone = Keystone {
            url,
            demo: String::new(),
            other: String::new(),
            http,
            log: dir.join("keystone.log"),
            _process: process,
        };
        keystone.populate().await;
        keystone
    }

    /// The projects, users and roles of the tests.
    async fn populate(&mut self) {
        let admin = self.token("admin", "admin", ADMIN_PASSWORD).await;
        self.demo = self
            .create(
                &admin,
                "projects",
                json!({"project": {"name": "demo", "domain_id": "default"}}),
            )
            .await;
        self.other = self
            .create(
                &admin,
                "projects",
                json!({"project": {"name": "other", "domain_id": "default"}}),
            )
            .await;
        let service = self
            .create(
                &admin,
                "projects",
                json!({"project": {"name": "service", "domain_id": "default"}}),
            )
            .await;
        for (user, project, name, role) in [
            ("demo-member", self.demo.clone(), "demo", "member"),
            ("demo-reader", self.demo.clone(), "demo", "reader"),
            ("other-member", self.other.clone(), "other", "member"),
            ("nova", service, "service", "admin"),
        ] {
            let id = self
                .create(
                    &admin,
                    "users",
                    json!({"user": {"name": user, "domain_id": "default", "password": PASSWORD}}),
                )
                .await;
            let role_id = self.role_id(&admin, role).await;
            let r = self
                .http
                .put(format!(
                    "{}/projects/{project}/users/{id}/roles/{role_id}",
                    self.url
                ))
                .header("x-auth-token", &admin)
                .send()
                .await
                .unwrap();
            assert!(
                r.status().is_success(),
                "grant {role} to {user}: {}",
                r.status()
            );
            // A user's first login of the day writes its `last_active_at`
            // (a read, then a write, in one SQLite transaction): two such
            // logins at once in the two workers deadlock, and one is a 500.
            // Logged in once here, one at a time, later logins only read.
            self.token(user, name, PASSWORD).await;
        }
    }

    /// A token of `user` (password [`PASSWORD`], or the admin's) scoped to
    /// `project`.
    pub async fn token(&self, user: &str, project: &str, password: &str) -> String {
        let body = json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": user, "domain": {"id": "default"}, "password": password}}},
            "scope": {"project": {"name": project, "domain": {"id": "default"}}}}});
        let r = self
            .http
            .post(format!("{}/auth/tokens", self.url))
            .json(&body)
            .send()
            .await
            .expect("Keystone answers");
        assert_eq!(
            r.status(),
            201,
            "token of {user}: {}\n{}",
            r.text().await.unwrap_or_default(),
            self.log_tail()
        );
        r.headers()["x-subject-token"].to_str().unwrap().to_owned()
    }

    /// The end of Keystone's log: what it said of a request it failed.
    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        let tail = lines[lines.len().saturating_sub(40)..].join("\n");
        format!(
            "Keystone's log ({}), last lines:\n{tail}",
            self.log.display()
        )
    }

    /// A token of `user` in the project of its role.
    pub async fn user_token(&self, user: &str, project: &str) -> String {
        self.token(user, project, PASSWORD).await
    }

    /// The bootstrap admin's token, in the admin project.
    pub async fn admin_token(&self) -> String {
        self.token("admin", "admin", ADMIN_PASSWORD).await
    }

    /// The admin's password, for clients that log in themselves.
    pub fn admin_password(&self) -> &'static str {
        ADMIN_PASSWORD
    }

    async fn create(&self, admin: &str, collection: &str, body: Value) -> String {
        let r = self
            .http
            .post(format!("{}/{collection}", self.url))
            .header("x-auth-token", admin)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            201,
            "create in {collection}\n{}",
            self.log_tail()
        );
        let created: Value = r.json().await.unwrap();
        let one = collection.trim_end_matches('s');
        created[one]["id"].as_str().unwrap().to_owned()
    }

    async fn role_id(&self, admin: &str, name: &str) -> String {
        let r = self
            .http
            .get(format!("{}/roles?name={name}", self.url))
            .header("x-auth-token", admin)
            .send()
            .await
            .unwrap();
        let roles: Value = r.json().await.unwrap();
        roles["roles"][0]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no role {name}"))
            .to_owned()
    }

    /// Makes `type` a service with a public endpoint at `url` in the
    /// catalog, as an operator does for the compute API.
    pub async fn register_endpoint(&self, service_type: &str, url: &str) {
        let admin = self.admin_token().await;
        let service = self
            .create(
                &admin,
                "services",
                json!({"service": {"type": service_type, "name": "consoled"}}),
            )
            .await;
        self.create(
            &admin,
            "endpoints",
            json!({"endpoint": {"service_id": service, "interface": "public", "url": url, "region_id": "RegionOne"}}),
        )
        .await;
    }
}
