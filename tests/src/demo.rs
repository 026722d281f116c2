//! `consoled demo` as its own process, and what it prints: a console URL
//! per type and the commands that mint fresh ones.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::chromium::TempDir;
use crate::consoled::binary;

/// The line that ends the demo's welcome.
pub const READY: &str = "consoled demo: ready";

/// A running `consoled demo --any-port`, killed on drop.
pub struct Demo {
    _child: Child,
    dir: TempDir,
    /// Everything it printed up to and including the ready line.
    pub welcome: String,
    /// What the welcome says.
    pub printed: Welcome,
}

impl Demo {
    /// Starts the demo on free ports and reads its welcome.
    ///
    /// `--any-port` picks ports the OS says are free and binds them a
    /// moment later; a test running beside it may take one in between.
    /// The demo then refuses to start, naming the address, which is right;
    /// this starts it again on fresh ports, twice at most.
    ///
    /// # Panics
    /// When it does not print its ready line within `limit`, or exits
    /// before it for another reason.
    pub async fn start(limit: Duration) -> Demo {
        let mut last = String::new();
        for _ in 0..3 {
            match Demo::try_start(limit).await {
                Ok(demo) => return demo,
                Err(log) if log.contains("Address already in use") => last = log,
                Err(log) => {
                    panic!("consoled demo ended its output without {READY:?}; its log:\n{log}")
                }
            }
        }
        panic!("consoled demo found its ports taken three times; its last log:\n{last}");
    }

    /// One start; the log of a demo that exited before its ready line.
    async fn try_start(limit: Duration) -> Result<Demo, String> {
        let dir = TempDir::new("demo");
        let log = std::fs::File::create(dir.path().join("demo.log")).expect("log file");
        let mut child = Command::new(binary())
            .args(["demo", "--any-port"])
            .current_dir(dir.path())
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .expect("consoled demo did not start");
        let stdout = child.stdout.take().expect("piped stdout");
        let log_path = dir.path().join("demo.log");
        let read = async {
            let mut lines = BufReader::new(stdout).lines();
            let mut welcome = String::new();
            while let Some(line) = lines.next_line().await.expect("demo's stdout") {
                welcome.push_str(&line);
                welcome.push('\n');
                if line.starts_with(READY) {
                    return Some((welcome, lines));
                }
            }
            None
        };
        let (welcome, lines) = match tokio::time::timeout(limit, read).await {
            Ok(Some(read)) => read,
            Ok(None) => {
                // It has exited: its log is whole once it is reaped.
                let _ = child.wait().await;
                return Err(std::fs::read_to_string(&log_path).unwrap_or_default());
            }
            Err(_) => panic!(
                "consoled demo printed no {READY:?} within {limit:?}; its log:\n{}",
                std::fs::read_to_string(&log_path).unwrap_or_default()
            ),
        };
        // Keep reading (and dropping) stdout so that the demo never blocks
        // on a full pipe.
        tokio::spawn(async move {
            let mut lines = lines;
            while let Ok(Some(_)) = lines.next_line().await {}
        });
        let printed = Welcome::parse(&welcome);
        Ok(Demo {
            _child: child,
            dir,
            welcome,
            printed,
        })
    }

    /// What it has logged so far (stderr).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("demo.log")).unwrap_or_default()
    }
}

/// The demo's welcome, taken apart.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Welcome {
    /// Console URL by console type.
    pub urls: BTreeMap<String, String>,
    /// The printed `curl` command, as words (continuation lines joined).
    pub curl: Vec<String>,
    /// The printed `openstack` command, as words.
    pub openstack: Vec<String>,
}

impl Welcome {
    /// Reads the URLs (`  <type>  <url>` lines) and the commands (the lines
    /// starting with `curl` and `openstack`, with their `\` continuations).
    pub fn parse(text: &str) -> Welcome {
        let mut welcome = Welcome::default();
        let joined = text.replace("\\\n", " ");
        for line in joined.lines() {
            let words = shell_words(line.trim());
            match words.first().map(String::as_str) {
                Some("curl") => welcome.curl = words,
                Some("openstack") => welcome.openstack = words,
                Some(console_type) if words.len() == 2 && words[1].contains("://") => {
                    welcome
                        .urls
                        .insert(console_type.to_owned(), words[1].clone());
                }
                _ => {}
            }
        }
        welcome
    }
}

/// Splits a command line as a POSIX shell would for the quoting the demo
/// prints: blanks separate words, single and double quotes group them,
/// a backslash escapes the next character.
pub fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => {
                if let Some(w) = word.take() {
                    words.push(w);
                }
            }
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                w.extend(chars.by_ref().take_while(|&c| c != '\''));
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => w.extend(chars.next()),
                        c => w.push(c),
                    }
                }
            }
            '\\' => word.get_or_insert_with(String::new).extend(chars.next()),
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
}

/// A `curl` command line's request: method, URL, headers and body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CurlRequest {
    /// `-X`, else GET (POST with a body).
    pub method: String,
    /// The one argument that is not an option.
    pub url: String,
    /// `-H 'Name: value'`, in order.
    pub headers: Vec<(String, String)>,
    /// `-d`.
    pub body: Option<String>,
}

impl CurlRequest {
    /// Reads the options the demo's command uses (`-s -X -H -d`).
    ///
    /// # Panics
    /// On an option it does not know, so that a change to the printed
    /// command is noticed rather than half-followed.
    pub fn parse(words: &[String]) -> CurlRequest {
        assert_eq!(words.first().map(String::as_str), Some("curl"), "{words:?}");
        let mut request = CurlRequest::default();
        let mut method = None;
        let mut args = words[1..].iter();
        while let Some(arg) = args.next() {
            let mut value = || args.next().cloned().expect("an option's value");
            match arg.as_str() {
                "-s" | "--silent" => {}
                "-X" | "--request" => method = Some(value()),
                "-H" | "--header" => {
                    let header = value();
                    let (name, v) = header.split_once(':').expect("a Name: value header");
                    request
                        .headers
                        .push((name.trim().to_owned(), v.trim().to_owned()));
                }
                "-d" | "--data" => request.body = Some(value()),
                other if !other.starts_with('-') => request.url = other.to_owned(),
                other => panic!("the printed curl command uses {other}, unknown to this test"),
            }
        }
        request.method = method.unwrap_or_else(|| {
            if request.body.is_some() {
                "POST"
            } else {
                "GET"
            }
            .to_owned()
        });
        request
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WELCOME: &str = "consoled demo: the compute API on http://127.0.0.1:1/v2.1 and more.\n\
        Console URLs for web-1 (valid for 10 minutes; open the novnc one in a browser):\n  \
        novnc        http://127.0.0.1:2/vnc_lite.html?path=%3Ftoken%3Dt1\n  \
        serial       ws://127.0.0.1:3/?token=t2\n\n\
        Mint fresh ones:\n  curl -s -X POST http://127.0.0.1:1/v2.1/servers/x/remote-consoles \\\n    \
        -H 'X-Auth-Token: demo:demo' -H 'OpenStack-API-Version: compute 2.6' \\\n    \
        -d '{\"remote_console\": {\"protocol\": \"vnc\", \"type\": \"novnc\"}}'\n  \
        openstack --os-endpoint http://127.0.0.1:1/v2.1 --os-token demo:demo console url show web-1\n\n\
        consoled demo: ready (Ctrl-C stops)\n";

    #[test]
    fn the_welcome_yields_urls_and_commands() {
        let w = Welcome::parse(WELCOME);
        assert_eq!(w.urls.len(), 2);
        assert_eq!(w.urls["serial"], "ws://127.0.0.1:3/?token=t2");
        assert_eq!(w.openstack.len(), 9);
        assert_eq!(w.openstack[8], "web-1");
        let curl = CurlRequest::parse(&w.curl);
        assert_eq!(curl.method, "POST");
        assert_eq!(
            curl.url,
            "http://127.0.0.1:1/v2.1/servers/x/remote-consoles"
        );
        assert_eq!(curl.headers[1].1, "compute 2.6");
        assert_eq!(
            curl.body.as_deref(),
            Some(r#"{"remote_console": {"protocol": "vnc", "type": "novnc"}}"#)
        );
    }

    #[test]
    fn shell_words_honour_quotes_and_escapes() {
        assert_eq!(
            shell_words(r#"a 'b c' "d \"e\"" f\ g"#),
            ["a", "b c", "d \"e\"", "f g"]
        );
        assert!(shell_words("   ").is_empty());
        assert_eq!(shell_words("''"), [""]);
    }
}
