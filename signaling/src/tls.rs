//! HTTPS: `plenum serve` terminates TLS itself when `tls_cert` and `tls_key` name PEM files.
//!
//! - [`load`] reads and checks a certificate chain and its private key (also used by `plenum config check`).
//! - [`ReloadingCert`] hands rustls the current certificate; [`watch_files`] polls the files' modification times and
//!   swaps in a new pair once it loads cleanly. A broken or half-written new pair keeps the old one (and logs why).
//! - [`TlsListener`] is an [`axum::serve::Listener`]: handshakes run in their own tasks (a slow client cannot hold
//!   up others), so `axum::serve` with its graceful shutdown works unchanged.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, SystemTime};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// How often the certificate and key files are looked at.
pub const RELOAD_POLL: Duration = Duration::from_secs(2);
/// Longest TLS handshake; slower clients are dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshakes in flight at once; further connections wait in the kernel's backlog.
const MAX_HANDSHAKES: usize = 512;

/// The certificate and key files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TlsFiles {
    /// Both or neither: `tls_cert` alone (or `tls_key` alone) is an error.
    pub fn from_options(cert: Option<PathBuf>, key: Option<PathBuf>) -> Result<Option<TlsFiles>, TlsError> {
        match (cert, key) {
            (Some(cert), Some(key)) => Ok(Some(TlsFiles { cert, key })),
            (None, None) => Ok(None),
            (Some(_), None) => Err(TlsError::Incomplete { given: "tls_cert", missing: "tls_key" }),
            (None, Some(_)) => Err(TlsError::Incomplete { given: "tls_key", missing: "tls_cert" }),
        }
    }
}

/// What is wrong with the TLS settings or files. The messages are documented in `docs/operations.md`.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{given} is set but {missing} is not: HTTPS needs both (PEM files)")]
    Incomplete { given: &'static str, missing: &'static str },
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("{}: no certificate in the file (expected PEM \"-----BEGIN CERTIFICATE-----\")", path.display())]
    NoCertificate { path: PathBuf },
    #[error("{}: no private key in the file (expected PEM \"-----BEGIN PRIVATE KEY-----\", RSA or EC)", path.display())]
    NoKey { path: PathBuf },
    #[error("{}: not valid PEM: {reason}", path.display())]
    Pem { path: PathBuf, reason: String },
    #[error("{}: the private key does not belong to the certificate in {}", key.display(), cert.display())]
    Mismatch { cert: PathBuf, key: PathBuf },
    #[error("{}: unusable private key: {reason}", path.display())]
    Key { path: PathBuf, reason: String },
}

/// The crypto provider used for TLS (the same aws-lc-rs as for join tokens), chosen explicitly so the process
/// needs no default provider.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read { path: path.to_owned(), source })
}

/// Read the certificate chain and key and check that they belong together.
pub fn load(files: &TlsFiles) -> Result<Arc<CertifiedKey>, TlsError> {
    let cert_pem = read(&files.cert)?;
    let key_pem = read(&files.key)?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Pem { path: files.cert.clone(), reason: e.to_string() })?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate { path: files.cert.clone() });
    }
    let key = match PrivateKeyDer::from_pem_slice(&key_pem) {
        Ok(key) => key,
        Err(rustls::pki_types::pem::Error::NoItemsFound) => return Err(TlsError::NoKey { path: files.key.clone() }),
        Err(e) => return Err(TlsError::Pem { path: files.key.clone(), reason: e.to_string() }),
    };
    CertifiedKey::from_der(chain, key, &provider()).map(Arc::new).map_err(|e| match e {
        rustls::Error::InconsistentKeys(_) => TlsError::Mismatch { cert: files.cert.clone(), key: files.key.clone() },
        other => TlsError::Key { path: files.key.clone(), reason: other.to_string() },
    })
}

/// The certificate handed to every handshake; replaced on reload.
#[derive(Debug)]
pub struct ReloadingCert {
    current: RwLock<Arc<CertifiedKey>>,
}

impl ReloadingCert {
    pub fn new(key: Arc<CertifiedKey>) -> Arc<ReloadingCert> {
        Arc::new(ReloadingCert { current: RwLock::new(key) })
    }

    fn set(&self, key: Arc<CertifiedKey>) {
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = key;
    }

    fn get(&self) -> Arc<CertifiedKey> {
        self.current.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.get())
    }
}

/// A rustls server configuration (HTTP/1.1 only, as `axum::serve` speaks it) that uses `cert`.
pub fn server_config(cert: Arc<ReloadingCert>) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Key { path: PathBuf::new(), reason: e.to_string() })?
        .with_no_client_auth()
        .with_cert_resolver(cert);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Modification time and length of both files (`None` while one is missing).
fn stamp(files: &TlsFiles) -> Option<[(SystemTime, u64); 2]> {
    let one = |p: &Path| std::fs::metadata(p).ok().and_then(|m| Some((m.modified().ok()?, m.len())));
    Some([one(&files.cert)?, one(&files.key)?])
}

/// Poll `files` every `every`; when they changed and load cleanly, `cert` serves them. Ends when `cert` is gone.
pub fn watch_files(files: TlsFiles, cert: &Arc<ReloadingCert>, every: Duration) -> tokio::task::JoinHandle<()> {
    let weak: Weak<ReloadingCert> = Arc::downgrade(cert);
    let mut seen = stamp(&files);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            let Some(target) = weak.upgrade() else { return };
            let now = stamp(&files);
            if now == seen {
                continue;
            }
            seen = now;
            let loaded = {
                let files = files.clone();
                tokio::task::spawn_blocking(move || load(&files)).await
            };
            match loaded {
                Ok(Ok(key)) => {
                    target.set(key);
                    tracing::info!(cert = %files.cert.display(), "TLS certificate reloaded");
                }
                Ok(Err(e)) => tracing::error!("TLS certificate not reloaded, the old one stays in use: {e}"),
                Err(e) => tracing::error!("TLS certificate reload failed: {e}"),
            }
        }
    })
}

/// TLS connections, handshake done, for `axum::serve`.
pub struct TlsListener {
    incoming: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local_addr: SocketAddr,
}

impl TlsListener {
    /// Accept on `tcp` in a background task that ends when this listener is dropped.
    pub fn new(tcp: TcpListener, config: Arc<rustls::ServerConfig>) -> io::Result<TlsListener> {
        let local_addr = tcp.local_addr()?;
        let (tx, incoming) = mpsc::channel(64);
        tokio::spawn(accept_loop(tcp, TlsAcceptor::from(config), tx));
        Ok(TlsListener { incoming, local_addr })
    }
}

async fn accept_loop(tcp: TcpListener, acceptor: TlsAcceptor, tx: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>) {
    let handshakes = Arc::new(Semaphore::new(MAX_HANDSHAKES));
    loop {
        let permit = tokio::select! {
            () = tx.closed() => return,
            permit = handshakes.clone().acquire_owned() => permit,
        };
        let Ok(permit) = permit else { return };
        let accepted = tokio::select! {
            () = tx.closed() => return,
            accepted = tcp.accept() => accepted,
        };
        let (stream, addr) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                // Out of file descriptors and the like: wait a little, as axum's own listener does.
                tracing::warn!("accepting a connection failed: {e}");
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        let (acceptor, tx) = (acceptor.clone(), tx.clone());
        tokio::spawn(async move {
            let _permit = permit;
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => {
                    let _ = tx.send((tls, addr)).await;
                }
                Ok(Err(e)) => tracing::debug!(%addr, "TLS handshake failed: {e}"),
                Err(_) => tracing::debug!(%addr, "TLS handshake timed out"),
            }
        });
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.incoming.recv().await {
            Some(pair) => pair,
            // The accept task only ends when this listener is dropped.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.local_addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(label: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("plenum-tls-{label}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn self_signed(name: &str) -> (String, String) {
        let cert = rcgen::generate_simple_self_signed(vec![name.to_owned()]).unwrap();
        (cert.cert.pem(), cert.signing_key.serialize_pem())
    }

    #[test]
    fn both_or_neither() {
        assert_eq!(TlsFiles::from_options(None, None).unwrap(), None);
        let e = TlsFiles::from_options(Some("c.pem".into()), None).unwrap_err();
        assert_eq!(e.to_string(), "tls_cert is set but tls_key is not: HTTPS needs both (PEM files)");
        let e = TlsFiles::from_options(None, Some("k.pem".into())).unwrap_err();
        assert_eq!(e.to_string(), "tls_key is set but tls_cert is not: HTTPS needs both (PEM files)");
    }

    #[test]
    fn loads_a_pair_and_names_what_is_wrong() {
        let dir = temp_dir("load");
        let (cert, key) = self_signed("localhost");
        let (_, other_key) = self_signed("localhost");
        let files = TlsFiles { cert: dir.join("cert.pem"), key: dir.join("key.pem") };
        std::fs::write(&files.cert, &cert).unwrap();
        std::fs::write(&files.key, &key).unwrap();
        assert_eq!(load(&files).unwrap().cert.len(), 1);

        std::fs::write(&files.key, &other_key).unwrap();
        assert!(matches!(load(&files), Err(TlsError::Mismatch { .. })), "{:?}", load(&files).err());
        std::fs::write(&files.key, &cert).unwrap();
        let e = load(&files).unwrap_err();
        assert!(e.to_string().ends_with("key.pem: no private key in the file (expected PEM \"-----BEGIN PRIVATE KEY-----\", RSA or EC)"), "{e}");
        std::fs::write(&files.key, &key).unwrap();
        std::fs::write(&files.cert, "not a certificate\n").unwrap();
        let e = load(&files).unwrap_err();
        assert!(matches!(e, TlsError::NoCertificate { .. }), "{e}");
        std::fs::remove_file(&files.cert).unwrap();
        let e = load(&files).unwrap_err();
        assert!(e.to_string().starts_with(&format!("cannot read {}: ", files.cert.display())), "{e}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
