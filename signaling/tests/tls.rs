//! HTTPS served by plenum itself: /healthz through an independent client (reqwest) that trusts only a self-signed
//! test certificate, signaling over WebSocket-over-TLS, `Secure` cookies, and certificate reload (a broken new file
//! keeps the old certificate; a new valid pair is served within seconds).

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{SECRET, temp_dir, test_config};
use futures_util::{SinkExt, StreamExt};
use plenum_signaling::Server;
use plenum_signaling::token::{Claims, TokenKeys};
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::{Value, json};
use tokio_rustls::TlsConnector;
use tokio_tungstenite::tungstenite::Message;

struct TestCert {
    cert_pem: String,
    key_pem: String,
    der: CertificateDer<'static>,
}

fn self_signed() -> TestCert {
    let c = rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    TestCert { cert_pem: c.cert.pem(), key_pem: c.signing_key.serialize_pem(), der: c.cert.der().clone() }
}

fn install(dir: &Path, cert: &TestCert) {
    // Each file replaced in one step (write elsewhere, rename), as certbot and friends do.
    for (name, text) in [("key.pem", &cert.key_pem), ("cert.pem", &cert.cert_pem)] {
        let tmp = dir.join(format!("{name}.new"));
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, dir.join(name)).unwrap();
    }
}

/// A client that trusts only `cert` (no system roots).
fn client_trusting(cert: &TestCert) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(cert.cert_pem.as_bytes()).unwrap()])
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

async fn healthz(client: &reqwest::Client, addr: std::net::SocketAddr) -> Result<String, reqwest::Error> {
    client.get(format!("https://127.0.0.1:{}/healthz", addr.port())).send().await?.error_for_status()?.text().await
}

async fn start_https(dir: &Path) -> Server {
    let mut config = test_config("tls");
    config.tls_cert = Some(dir.join("cert.pem"));
    config.tls_key = Some(dir.join("key.pem"));
    Server::start(config).await.expect("the HTTPS server starts")
}

#[tokio::test]
async fn serves_https_and_wss_and_reloads_the_certificate() {
    let dir = temp_dir("tls-files");
    std::fs::create_dir_all(&dir).unwrap();
    let (first, second) = (self_signed(), self_signed());
    install(&dir, &first);
    let server = start_https(&dir).await;
    let addr = server.local_addr();
    assert_eq!(server.public_url(), format!("https://{addr}"), "the default public URL is https");

    // HTTPS.
    let trusts_first = client_trusting(&first);
    assert_eq!(healthz(&trusts_first, addr).await.unwrap(), "ok");
    // Plain HTTP on the same port gets no answer.
    let plain = reqwest::Client::builder().timeout(Duration::from_secs(3)).build().unwrap();
    assert!(plain.get(format!("http://{addr}/healthz")).send().await.is_err());

    // Cookies are Secure over HTTPS.
    let response = trusts_first.get(format!("https://127.0.0.1:{}/api/v1/me", addr.port())).send().await.unwrap();
    let cookies: Vec<&str> =
        response.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap()).collect();
    assert!(!cookies.is_empty(), "the API sets its CSRF cookie");
    assert!(cookies.iter().all(|c| c.contains("; Secure")), "{cookies:?}");

    // Signaling over WebSocket-over-TLS: join and get `joined`.
    let mut ws = connect_wss(addr, &first.der).await;
    let keys = TokenKeys::new(SECRET.as_bytes());
    let token = keys.sign(&Claims::new("tls-room", "erika", "Erika", false, Duration::from_secs(600))).unwrap();
    ws.send(Message::Text(json!({"type": "join", "protocol": 1, "room": "tls-room", "token": token}).to_string().into()))
        .await
        .unwrap();
    let joined = next_json(&mut ws).await;
    assert_eq!(joined["type"], "joined", "{joined}");
    assert_eq!(joined["room"], "tls-room");

    // A broken new certificate: the old one stays in use.
    std::fs::write(dir.join("cert.pem"), "-----BEGIN CERTIFICATE-----\nbroken\n").unwrap();
    tokio::time::sleep(plenum_signaling::tls::RELOAD_POLL * 2).await;
    assert_eq!(healthz(&trusts_first, addr).await.unwrap(), "ok", "the old certificate is still served");

    // A new valid pair is served within a few seconds, on new connections; the first one no longer is.
    install(&dir, &second);
    let trusts_second = client_trusting(&second);
    let started = Instant::now();
    loop {
        if healthz(&trusts_second, addr).await.is_ok() {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(8), "the new certificate is served within 8 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!("new certificate served after {:?}", started.elapsed());
    let fresh_first = client_trusting(&first);
    assert!(healthz(&fresh_first, addr).await.is_err(), "the old certificate is no longer served");
    // The WebSocket opened before the reload is still served.
    ws.send(Message::Text(json!({"type": "ping", "id": 7}).to_string().into())).await.unwrap();
    assert_eq!(next_json(&mut ws).await, json!({"type": "pong", "id": 7}));

    // Graceful shutdown works with TLS connections open: the client is told (1001).
    let shutdown = tokio::spawn(server.shutdown());
    let close = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(frame))) => return frame,
                Some(Ok(_)) => continue,
                other => panic!("expected a close frame, got {other:?}"),
            }
        }
    })
    .await
    .expect("closed within 5 s");
    assert_eq!(close.map(|f| u16::from(f.code)), Some(1001));
    tokio::time::timeout(Duration::from_secs(10), shutdown).await.expect("shutdown within 10 s").unwrap().unwrap();
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn only_a_certificate_is_refused_with_a_clear_message() {
    let dir = temp_dir("tls-half");
    std::fs::create_dir_all(&dir).unwrap();
    install(&dir, &self_signed());
    let mut config = test_config("tls-half");
    config.tls_cert = Some(dir.join("cert.pem"));
    let err = Server::start(config).await.err().expect("refused");
    assert_eq!(err.to_string(), "HTTPS: tls_cert is set but tls_key is not: HTTPS needs both (PEM files)");
    std::fs::remove_dir_all(dir).unwrap();
}

type Wss = tokio_tungstenite::WebSocketStream<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>;

async fn connect_wss(addr: std::net::SocketAddr, trusted: &CertificateDer<'static>) -> Wss {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(trusted.clone()).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let tls = TlsConnector::from(Arc::new(config)).connect(name, tcp).await.expect("TLS handshake");
    let url = format!("wss://localhost:{}/ws", addr.port());
    let (ws, response) = tokio_tungstenite::client_async(url, tls).await.expect("WebSocket upgrade over TLS");
    assert_eq!(response.status(), 101);
    ws
}

async fn next_json(ws: &mut Wss) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next()).await.expect("a message within 5 s");
        match msg {
            Some(Ok(Message::Text(text))) => return serde_json::from_str(&text).unwrap(),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => panic!("expected a text message, got {other:?}"),
        }
    }
}
