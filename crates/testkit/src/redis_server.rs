//! A real redis-server for tests, on a free 127.0.0.1 port: the Redis token
//! store's tests and the binary's many-node tests share it.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};

/// How long a starting redis-server may take to answer.
const START_LIMIT: Duration = Duration::from_secs(15);

/// A redis-server child process, killed when dropped.
pub struct RedisServer {
    port: u16,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts redis-server on a free port and waits until it answers.
    ///
    /// # Panics
    /// When redis-server is not installed or does not come up.
    pub async fn start() -> Self {
        // The OS picks a free port; another process could take it before
        // redis binds it, so try a few.
        let mut last = String::new();
        for _ in 0..5 {
            let port = free_port().await;
            let mut server = RedisServer { port, child: None };
            match server.spawn().await {
                Ok(()) => return server,
                Err(e) => last = e,
            }
        }
        panic!("redis-server did not start: {last}");
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its URL.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Kills the server and waits until it is gone.
    ///
    /// # Panics
    /// When the process cannot be killed.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.expect("kill redis-server");
        }
    }

    /// Starts a fresh (empty) server on the same port.
    ///
    /// # Panics
    /// When it does not start within about five seconds.
    pub async fn restart(&mut self) {
        self.stop().await;
        let mut last = String::new();
        // The port was just released; give the OS a few tries.
        for _ in 0..20 {
            match self.spawn().await {
                Ok(()) => return,
                Err(e) => last = e,
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        panic!("redis-server did not restart on port {}: {last}", self.port);
    }

    async fn spawn(&mut self) -> Result<(), String> {
        let spawned = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port"])
            .arg(self.port.to_string())
            .args(["--save", "", "--appendonly", "no", "--loglevel", "warning"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
                "redis-server is not installed: these tests need a real Redis. \
                 Run scripts/test (it installs the Debian package redis-server) \
                 or `apt-get install redis-server`"
            ),
            Err(e) => panic!("cannot run redis-server: {e}"),
        };
        let deadline = tokio::time::Instant::now() + START_LIMIT;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("redis-server exited at start: {status}"));
            }
            // Our own process must answer, not another test's server that
            // got the same port.
            if let Some(pid) = answering_pid(self.port).await {
                if Some(pid) == child.id() {
                    self.child = Some(child);
                    return Ok(());
                }
            }
            if tokio::time::Instant::now() > deadline {
                let _ = child.kill().await;
                return Err("no answer to INFO (PING)".into());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
    listener.local_addr().expect("local addr").port()
}

/// The process id of the Redis answering on `port`, once it answers.
async fn answering_pid(port: u16) -> Option<u32> {
    let attempt = async {
        let stream = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
        let mut stream = BufReader::new(stream);
        stream.get_mut().write_all(b"INFO server\r\n").await.ok()?;
        let mut header = String::new();
        stream.read_line(&mut header).await.ok()?;
        let len: usize = header.strip_prefix('$')?.trim().parse().ok()?;
        let mut body = vec![0u8; len];
        stream.read_exact(&mut body).await.ok()?;
        let body = String::from_utf8(body).ok()?;
        body.lines()
            .find_map(|line| line.strip_prefix("process_id:"))
            .and_then(|pid| pid.trim().parse().ok())
    };
    tokio::time::timeout(Duration::from_secs(1), attempt)
        .await
        .ok()
        .flatten()
}
