//! `consoled sessions`: the admin API's session control, for people.

use std::time::Duration;

use clap::{Args, Subcommand};
use serde_json::Value;

/// Where the admin API is and who is asking.
#[derive(Debug, Args)]
pub struct SessionsOptions {
    /// The admin API: the [metrics] listener of any consoled node.
    #[arg(long, value_name = "URL", env = "CONSOLED_ADMIN_URL")]
    url: String,
    /// An admin's token, as the API's identity mode takes it
    /// (noauth: admin:<project>; keystone: a Keystone token).
    #[arg(
        long,
        value_name = "TOKEN",
        env = "CONSOLED_ADMIN_TOKEN",
        hide_env_values = true
    )]
    token: String,
    /// What to do (default: list).
    #[command(subcommand)]
    action: Option<SessionsAction>,
}

/// What `consoled sessions` does.
#[derive(Debug, Subcommand)]
pub enum SessionsAction {
    /// Every live session on every proxy node.
    List {
        /// Only the sessions of this server.
        #[arg(long, value_name = "ID")]
        server: Option<String>,
    },
    /// Close one session, on whichever node relays it (its token stays
    /// valid).
    Cut {
        /// The session's id, as `list` shows it.
        session: String,
    },
    /// Revoke every token of a server and close its sessions on every node.
    Revoke {
        /// The server's id.
        server: String,
    },
}

/// Runs the command, printing what it did.
///
/// # Errors
/// The admin API's answer when it refuses, or why it cannot be reached.
pub async fn run(options: SessionsOptions) -> Result<(), String> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())?;
    let base = options.url.trim_end_matches('/');
    let (method, path) = match &options.action {
        None | Some(SessionsAction::List { server: None }) => {
            (reqwest::Method::GET, "/admin/sessions".to_owned())
        }
        Some(SessionsAction::List { server: Some(id) }) => (
            reqwest::Method::GET,
            format!("/admin/sessions?server={}", encode(id)),
        ),
        Some(SessionsAction::Cut { session }) => (
            reqwest::Method::DELETE,
            format!("/admin/sessions/{}", encode(session)),
        ),
        Some(SessionsAction::Revoke { server }) => (
            reqwest::Method::DELETE,
            format!("/admin/servers/{}/consoles", encode(server)),
        ),
    };
    let response = client
        .request(method, format!("{base}{path}"))
        .header("X-Auth-Token", &options.token)
        .send()
        .await
        .map_err(|e| format!("{base}: {}", without_url(&e)))?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        let message = body
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(|fault| fault["message"].as_str())
            .unwrap_or("no message");
        return Err(format!("{status}: {message}"));
    }
    match options.action {
        None | Some(SessionsAction::List { .. }) => print!("{}", table(&body)),
        Some(SessionsAction::Cut { session }) => println!("session {session} cut"),
        Some(SessionsAction::Revoke { server }) => println!(
            "server {server}: {} token(s) revoked, its sessions closing on every node",
            body["revoked_tokens"]
        ),
    }
    Ok(())
}

/// The sessions as aligned columns, with a header.
fn table(body: &Value) -> String {
    let mut rows = vec![[
        "SESSION",
        "NODE",
        "SERVER",
        "TYPE",
        "CLIENT",
        "STARTED",
        "TO_CLIENT",
        "TO_BACKEND",
    ]
    .map(str::to_owned)];
    for s in body["sessions"].as_array().into_iter().flatten() {
        let text = |key: &str| match &s[key] {
            Value::String(v) => v.clone(),
            other => other.to_string(),
        };
        rows.push([
            text("id"),
            text("node"),
            text("instance_uuid"),
            text("console_type"),
            text("client"),
            text("started_at"),
            text("to_client"),
            text("to_backend"),
        ]);
    }
    let mut widths = [0usize; 8];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    rows.iter()
        .map(|row| {
            let cells: Vec<String> = row
                .iter()
                .zip(widths)
                .map(|(cell, w)| format!("{cell:<w$}"))
                .collect();
            format!("{}\n", cells.join("  ").trim_end())
        })
        .collect()
}

fn encode(segment: &str) -> String {
    url::form_urlencoded::byte_serialize(segment.as_bytes()).collect()
}

/// reqwest's message without the URL, which may carry credentials.
fn without_url(e: &reqwest::Error) -> String {
    let mut e = e.to_string();
    if let Some(at) = e.find(" for url (") {
        e.truncate(at);
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_lines_up_every_session() {
        let body = serde_json::json!({"sessions": [{
            "id": "9f1c", "node": "proxy-1", "instance_uuid": "vm-1", "console_type": "novnc",
            "client": "198.51.100.7", "started_at": 1_900_000_000u64, "to_client": 4096, "to_backend": 12
        }]});
        let text = table(&body);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("SESSION  NODE"));
        assert!(lines[1].starts_with("9f1c     proxy-1"), "{text}");
        assert!(lines[1].ends_with("4096       12"), "{text}");
    }
}
