//! The security proxy against an in-process VNC server: what it
//! negotiates, what the client then sees, and every refusal.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use consoled_core::{BackendStream, ConnectInfo, ConsoleError};
use consoled_rfb::{AuthScheme, VncSecurity, VncSettings, RFB_3_8, X509_NONE};
use consoled_testkit::pki::{Issued, TestCa};
use consoled_testkit::{rfb_client_handshake, ServerBuilder};
use rustls::ServerConfig;
use tokio::io::{duplex, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

/// What the fake VNC server offers and answers.
#[derive(Clone)]
struct Offer {
    version: &'static [u8; 12],
    types: Vec<u8>,
    vencrypt_version: [u8; 2],
    subtypes: Vec<u32>,
    tls: Option<Arc<ServerConfig>>,
    /// A failed SecurityResult's reason, or `None` for OK.
    refuse_with: Option<&'static str>,
}

impl Offer {
    fn none_only() -> Offer {
        Offer {
            version: RFB_3_8,
            types: vec![1],
            vencrypt_version: [0, 2],
            subtypes: Vec::new(),
            tls: None,
            refuse_with: None,
        }
    }

    fn vencrypt(tls: Arc<ServerConfig>) -> Offer {
        Offer {
            types: vec![19],
            subtypes: vec![X509_NONE],
            tls: Some(tls),
            ..Offer::none_only()
        }
    }
}

/// What the server saw: the security type the proxy chose and the first
/// byte after the handshake (ClientInit).
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    chosen: u8,
    client_init: Option<u8>,
}

/// Plays a VNC server on `stream` as `offer` says, up to ServerInit
/// (720x400, named "fake").
async fn serve<S>(mut stream: S, offer: Offer) -> io::Result<Seen>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    stream.write_all(offer.version).await?;
    let mut version = [0u8; 12];
    stream.read_exact(&mut version).await?;
    assert_eq!(&version, RFB_3_8);
    stream
        .write_u8(u8::try_from(offer.types.len()).unwrap())
        .await?;
    stream.write_all(&offer.types).await?;
    let chosen = stream.read_u8().await?;
    if chosen == 19 {
        stream.write_all(&offer.vencrypt_version).await?;
        let mut asked = [0u8; 2];
        stream.read_exact(&mut asked).await?;
        stream.write_u8(0).await?;
        stream
            .write_u8(u8::try_from(offer.subtypes.len()).unwrap())
            .await?;
        for s in &offer.subtypes {
            stream.write_u32(*s).await?;
        }
        let subtype = stream.read_u32().await?;
        assert_eq!(subtype, X509_NONE);
        stream.write_u8(1).await?;
        let acceptor = TlsAcceptor::from(offer.tls.clone().expect("TLS configured"));
        let tls = acceptor.accept(stream).await?;
        return finish(tls, chosen, offer.refuse_with).await;
    }
    finish(stream, chosen, offer.refuse_with).await
}

async fn finish<S>(mut stream: S, chosen: u8, refuse_with: Option<&str>) -> io::Result<Seen>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    if let Some(reason) = refuse_with {
        stream.write_u32(1).await?;
        stream
            .write_u32(u32::try_from(reason.len()).unwrap())
            .await?;
        stream.write_all(reason.as_bytes()).await?;
        stream.flush().await?;
        return Ok(Seen {
            chosen,
            client_init: None,
        });
    }
    stream.write_u32(0).await?;
    stream.flush().await?;
    let client_init = stream.read_u8().await?;
    stream.write_all(&720u16.to_be_bytes()).await?;
    stream.write_all(&400u16.to_be_bytes()).await?;
    stream.write_all(&[0u8; 16]).await?;
    stream.write_u32(4).await?;
    stream.write_all(b"fake").await?;
    stream.flush().await?;
    // Keep the connection until the client goes.
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest).await;
    Ok(Seen {
        chosen,
        client_init: Some(client_init),
    })
}

/// A backend stream to a fake server playing `offer`.
fn backend(offer: Offer) -> (BackendStream, JoinHandle<io::Result<Seen>>) {
    let (ours, theirs) = duplex(64 * 1024);
    let server = tokio::spawn(serve(theirs, offer));
    (Box::new(ours), server)
}

fn info(host: &str) -> ConnectInfo {
    ServerBuilder::new("vm-1", "vm")
        .endpoint("vnc", host, 5901)
        .build()
        .connect_info("vnc", "VNC")
        .unwrap()
}

/// A folder of PEM files, removed on drop.
struct Folder(PathBuf);

impl Folder {
    fn new(tag: &str) -> Folder {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("consoled-rfb-{tag}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Folder(dir)
    }

    fn write(&self, name: &str, contents: &str) {
        std::fs::write(self.0.join(name), contents).unwrap();
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A CA, a server certificate for 127.0.0.1 and a client certificate,
/// and the proxy's `[vnc]` with `schemes` loaded from files.
struct Pki {
    ca: TestCa,
    server: Issued,
    folder: Folder,
}

impl Pki {
    fn new() -> Pki {
        let ca = TestCa::new("VNC CA").unwrap();
        let server = ca.server(&["127.0.0.1"]).unwrap();
        let client = ca.client("consoled").unwrap();
        let folder = Folder::new("pki");
        folder.write("ca.pem", &ca.cert_pem());
        folder.write("client-cert.pem", &client.cert_pem);
        folder.write("client-key.pem", &client.key_pem);
        Pki { ca, server, folder }
    }

    fn settings(&self, schemes: &[AuthScheme], with_client_cert: bool) -> VncSettings {
        VncSettings {
            auth_schemes: schemes.to_vec(),
            vencrypt_ca_certs: Some("ca.pem".into()),
            vencrypt_client_cert: with_client_cert.then(|| "client-cert.pem".into()),
            vencrypt_client_key: with_client_cert.then(|| "client-key.pem".into()),
        }
    }

    fn security(&self, schemes: &[AuthScheme]) -> VncSecurity {
        VncSecurity::from_settings(&self.settings(schemes, true), &self.folder.0).unwrap()
    }

    fn tls(&self, verify_clients: bool) -> Arc<ServerConfig> {
        self.ca.server_config(&self.server, verify_clients).unwrap()
    }
}

const VENCRYPT: &[AuthScheme] = &[AuthScheme::VeNCrypt];
const VENCRYPT_NONE: &[AuthScheme] = &[AuthScheme::VeNCrypt, AuthScheme::None];

async fn refusal(security: &VncSecurity, offer: Offer, host: &str) -> String {
    let (stream, _server) = backend(offer);
    let err = match security.secure(stream, &info(host)).await {
        Ok(_) => panic!("the security handshake should have failed"),
        Err(e) => e,
    };
    assert!(
        matches!(err, ConsoleError::ServiceUnavailable(_)),
        "{err:?}"
    );
    assert_eq!(err.status(), 503);
    err.to_string()
}

#[tokio::test]
async fn vencrypt_with_a_client_certificate_presents_none_to_the_client() {
    let pki = Pki::new();
    let security = pki.security(VENCRYPT);
    assert!(security.proxies_security());
    let (stream, server) = backend(Offer::vencrypt(pki.tls(true)));
    let mut secured = security.secure(stream, &info("127.0.0.1")).await.unwrap();
    let init = rfb_client_handshake(&mut secured).await.unwrap();
    assert_eq!(
        (init.width, init.height, init.name.as_str()),
        (720, 400, "fake")
    );
    drop(secured);
    let seen = server.await.unwrap().unwrap();
    assert_eq!(
        seen,
        Seen {
            chosen: 19,
            client_init: Some(1),
        },
        "the client's ClientInit (shared) is the first byte through TLS"
    );
}

#[tokio::test]
async fn the_first_scheme_listed_that_the_server_offers_wins() {
    let pki = Pki::new();
    let both = Offer {
        types: vec![1, 19],
        ..Offer::vencrypt(pki.tls(false))
    };
    let (stream, server) = backend(both.clone());
    let mut secured = pki
        .security(VENCRYPT_NONE)
        .secure(stream, &info("127.0.0.1"))
        .await
        .unwrap();
    rfb_client_handshake(&mut secured).await.unwrap();
    drop(secured);
    assert_eq!(server.await.unwrap().unwrap().chosen, 19);

    let (stream, server) = backend(both);
    let mut secured = pki
        .security(&[AuthScheme::None, AuthScheme::VeNCrypt])
        .secure(stream, &info("127.0.0.1"))
        .await
        .unwrap();
    rfb_client_handshake(&mut secured).await.unwrap();
    drop(secured);
    assert_eq!(server.await.unwrap().unwrap().chosen, 1);
}

#[tokio::test]
async fn vencrypt_none_falls_back_to_none_when_the_server_offers_no_vencrypt() {
    let pki = Pki::new();
    let (stream, server) = backend(Offer::none_only());
    let mut secured = pki
        .security(VENCRYPT_NONE)
        .secure(stream, &info("127.0.0.1"))
        .await
        .unwrap();
    let init = rfb_client_handshake(&mut secured).await.unwrap();
    assert_eq!(init.name, "fake");
    drop(secured);
    assert_eq!(server.await.unwrap().unwrap().chosen, 1);
}

#[tokio::test]
async fn vencrypt_alone_refuses_a_server_without_it_naming_what_it_offers() {
    let pki = Pki::new();
    let offer = Offer {
        types: vec![1, 2],
        ..Offer::none_only()
    };
    let message = refusal(&pki.security(VENCRYPT), offer, "127.0.0.1").await;
    assert!(
        message.contains("VNC server 127.0.0.1:5901 offers security types 1 (None), 2 (VNC)"),
        "{message}"
    );
    assert!(message.contains("auth_schemes (vencrypt)"), "{message}");
}

#[tokio::test]
async fn a_client_certificate_from_another_ca_is_refused() {
    let pki = Pki::new();
    let stranger = TestCa::new("another CA")
        .unwrap()
        .client("intruder")
        .unwrap();
    pki.folder.write("stranger-cert.pem", &stranger.cert_pem);
    pki.folder.write("stranger-key.pem", &stranger.key_pem);
    let settings = VncSettings {
        vencrypt_client_cert: Some("stranger-cert.pem".into()),
        vencrypt_client_key: Some("stranger-key.pem".into()),
        ..pki.settings(VENCRYPT, true)
    };
    let security = VncSecurity::from_settings(&settings, &pki.folder.0).unwrap();
    let message = refusal(&security, Offer::vencrypt(pki.tls(true)), "127.0.0.1").await;
    assert!(
        message.starts_with("VNC server 127.0.0.1:5901 "),
        "{message}"
    );
}

#[tokio::test]
async fn a_server_that_wants_a_client_certificate_refuses_a_proxy_without_one() {
    let pki = Pki::new();
    let security =
        VncSecurity::from_settings(&pki.settings(VENCRYPT, false), &pki.folder.0).unwrap();
    refusal(&security, Offer::vencrypt(pki.tls(true)), "127.0.0.1").await;
    // Without verify-peer the CA alone is enough, as in Nova.
    let (stream, _server) = backend(Offer::vencrypt(pki.tls(false)));
    let mut secured = security.secure(stream, &info("127.0.0.1")).await.unwrap();
    rfb_client_handshake(&mut secured).await.unwrap();
}

#[tokio::test]
async fn the_servers_certificate_must_chain_to_the_ca_and_name_the_host() {
    let pki = Pki::new();
    let other = TestCa::new("another CA").unwrap();
    let impostor = other.server(&["127.0.0.1"]).unwrap();
    let offer = Offer::vencrypt(other.server_config(&impostor, false).unwrap());
    let message = refusal(&pki.security(VENCRYPT), offer, "127.0.0.1").await;
    assert!(message.contains("refused the TLS session"), "{message}");
    assert!(message.contains("certificate"), "{message}");

    let message = refusal(
        &pki.security(VENCRYPT),
        Offer::vencrypt(pki.tls(false)),
        "127.0.0.2",
    )
    .await;
    assert!(message.contains("certificate"), "{message}");
}

#[tokio::test]
async fn vencrypt_without_x509none_or_in_another_version_is_refused() {
    let pki = Pki::new();
    let offer = Offer {
        subtypes: vec![257, 262],
        ..Offer::vencrypt(pki.tls(false))
    };
    let message = refusal(&pki.security(VENCRYPT), offer, "127.0.0.1").await;
    assert!(
        message.contains(
            "offers VeNCrypt subtypes 257 (TLSNone), 262 (X509Plain), not X509None (260)"
        ),
        "{message}"
    );
    let offer = Offer {
        vencrypt_version: [0, 1],
        ..Offer::vencrypt(pki.tls(false))
    };
    let message = refusal(&pki.security(VENCRYPT), offer, "127.0.0.1").await;
    assert!(message.contains("VeNCrypt 0.1; only 0.2"), "{message}");
}

#[tokio::test]
async fn other_rfb_versions_and_failed_results_are_refused_with_the_reason() {
    let pki = Pki::new();
    let offer = Offer {
        version: b"RFB 003.007\n",
        ..Offer::none_only()
    };
    let message = refusal(&pki.security(VENCRYPT_NONE), offer, "127.0.0.1").await;
    assert!(message.contains("RFB 003.007"), "{message}");

    let offer = Offer {
        refuse_with: Some("too many clients"),
        ..Offer::vencrypt(pki.tls(true))
    };
    let message = refusal(&pki.security(VENCRYPT), offer, "127.0.0.1").await;
    assert!(
        message.ends_with("refused the security handshake: too many clients"),
        "{message}"
    );
}

#[tokio::test]
async fn a_server_that_hangs_up_is_refused_not_a_panic() {
    let pki = Pki::new();
    let (ours, theirs) = duplex(1024);
    drop(theirs);
    let err = pki
        .security(VENCRYPT)
        .secure(Box::new(ours), &info("127.0.0.1"))
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("closed the connection"), "{err}");
}

#[tokio::test]
async fn without_vencrypt_the_stream_passes_through_untouched() {
    let security = VncSecurity::default();
    assert!(!security.proxies_security());
    let (ours, mut theirs) = duplex(1024);
    let mut stream = security
        .secure(Box::new(ours), &info("127.0.0.1"))
        .await
        .unwrap();
    theirs.write_all(b"RFB 003.003\n\0\0\0\x02").await.unwrap();
    let mut seen = [0u8; 16];
    stream.read_exact(&mut seen).await.unwrap();
    assert_eq!(&seen, b"RFB 003.003\n\0\0\0\x02");
    let from_file =
        VncSecurity::from_settings(&VncSettings::default(), Path::new("/nonexistent")).unwrap();
    assert!(!from_file.proxies_security());
}

#[test]
fn unusable_files_are_refused_naming_their_key() {
    let pki = Pki::new();
    pki.folder.write("junk.pem", "not a certificate\n");
    let at = |settings: VncSettings| {
        VncSecurity::from_settings(&settings, &pki.folder.0).expect_err("refused")
    };
    let base = pki.settings(VENCRYPT, true);
    let e = at(VncSettings {
        vencrypt_ca_certs: Some("missing.pem".into()),
        ..base.clone()
    });
    assert_eq!(e.key, "vencrypt_ca_certs");
    assert!(
        e.reason.starts_with(&format!(
            "cannot read {}",
            pki.folder.0.join("missing.pem").display()
        )),
        "{e}"
    );
    let e = at(VncSettings {
        vencrypt_ca_certs: Some("junk.pem".into()),
        ..base.clone()
    });
    assert_eq!(e.key, "vencrypt_ca_certs");
    assert!(e.reason.contains("no PEM certificate"), "{e}");
    let e = at(VncSettings {
        vencrypt_client_cert: Some("junk.pem".into()),
        ..base.clone()
    });
    assert_eq!(e.key, "vencrypt_client_cert");
    let e = at(VncSettings {
        vencrypt_client_key: Some("client-cert.pem".into()),
        ..base.clone()
    });
    assert_eq!(e.key, "vencrypt_client_key");
    assert!(e.reason.contains("no PEM private key"), "{e}");
    let other = pki.ca.client("other").unwrap();
    pki.folder.write("other-key.pem", &other.key_pem);
    let e = at(VncSettings {
        vencrypt_client_key: Some("other-key.pem".into()),
        ..base
    });
    assert_eq!(e.key, "vencrypt_client_key");
    assert!(e.reason.contains("does not go with"), "{e}");
}
