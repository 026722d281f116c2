//! Scenario 5: how fast the API mints consoles, beside the fastest an axum
//! handler can answer a request: a fixed JSON body (`consoled-bench
//! axum-limit`, its own process).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The request both answer: consoled mints a novnc console for it.
pub fn create_request(host: SocketAddr, server: &str) -> Vec<u8> {
    let body = r#"{"remote_console": {"protocol": "vnc", "type": "novnc"}}"#;
    format!(
        "POST /v2.1/servers/{server}/remote-consoles HTTP/1.1\r\nHost: {host}\r\n\
         X-Auth-Token: bench:bench\r\nOpenStack-API-Version: compute 2.6\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Requests answered, and each one's latency in milliseconds.
#[derive(Debug, Default)]
pub struct Load {
    /// Requests per second over the run.
    pub per_second: f64,
    /// Latencies in milliseconds.
    pub latencies: Vec<f64>,
}

/// Sends `request` over `concurrency` kept-alive connections for `length`;
/// every answer must be 200.
///
/// # Errors
/// A connection failure or another status.
pub async fn measure(
    addr: SocketAddr,
    request: Vec<u8>,
    concurrency: usize,
    length: Duration,
) -> Result<Load, String> {
    let request: Arc<[u8]> = request.into();
    let started = Instant::now();
    let until = started + length;
    let mut tasks = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let request = request.clone();
        tasks.push(tokio::spawn(async move {
            connection(addr, &request, until).await
        }));
    }
    let mut load = Load::default();
    for task in tasks {
        let latencies = task.await.map_err(|e| e.to_string())??;
        load.latencies.extend(latencies);
    }
    load.per_second = load.latencies.len() as f64 / started.elapsed().as_secs_f64();
    Ok(load)
}

async fn connection(addr: SocketAddr, request: &[u8], until: Instant) -> Result<Vec<f64>, String> {
    let mut stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect {addr}: {e}"))?;
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::with_capacity(8 * 1024);
    let mut latencies = Vec::new();
    while Instant::now() < until {
        let started = Instant::now();
        stream
            .write_all(request)
            .await
            .map_err(|e| format!("request: {e}"))?;
        let (status, len) = read_response(&mut stream, &mut buf).await?;
        if status != 200 {
            let body = String::from_utf8_lossy(&buf[..len]);
            return Err(format!("answered {status}: {body}"));
        }
        buf.drain(..len);
        latencies.push(started.elapsed().as_secs_f64() * 1e3);
    }
    Ok(latencies)
}

/// Reads one response into `buf`; returns its status and its length in
/// bytes (head and body).
async fn read_response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<(u16, usize), String> {
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut response = httparse::Response::new(&mut headers);
        if let httparse::Status::Complete(head) = response
            .parse(buf)
            .map_err(|e| format!("response head: {e}"))?
        {
            let status = response.code.unwrap_or(0);
            let body = response
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                .and_then(|h| {
                    std::str::from_utf8(h.value)
                        .ok()?
                        .trim()
                        .parse::<usize>()
                        .ok()
                })
                .ok_or("a response without Content-Length")?;
            if buf.len() >= head + body {
                return Ok((status, head + body));
            }
        }
        let mut chunk = [0u8; 8 * 1024];
        let n = stream
            .read(&mut chunk)
            .await
            .map_err(|e| format!("response: {e}"))?;
        if n == 0 {
            return Err("closed mid-response".into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// The HTTP limit: an axum handler answering every request with a fixed
/// JSON body the size of a console answer. Runs until killed.
///
/// # Errors
/// When `listen` cannot be bound.
pub async fn axum_limit(listen: SocketAddr) -> Result<(), String> {
    const ANSWER: &str = r#"{"remote_console": {"protocol": "vnc", "type": "novnc", "url": "ws://127.0.0.1:6080/?path=%3Ftoken%3D00000000-0000-4000-8000-000000000000"}}"#;
    let app = axum::Router::new().route(
        "/v2.1/servers/{id}/remote-consoles",
        axum::routing::post(|| async {
            (
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                ANSWER,
            )
        }),
    );
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| format!("axum limit: {listen}: {e}"))?;
    axum::serve(listener, app)
        .await
        .map_err(|e| format!("axum limit: {e}"))
}
