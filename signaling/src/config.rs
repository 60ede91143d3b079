//! Configuration: the command line (every flag also from its `PLENUM_*` environment variable) and the resolved
//! [`ServerConfig`] that [`crate::Server::start`] takes.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Args, Parser, Subcommand};

use crate::cluster::{ClusterConfig, Role};
pub use crate::protocol::IceTransportPolicy;

#[derive(Debug, Parser)]
#[command(name = "plenum", version, about = "Self-hosted video conferencing")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once at start; boxing would only obscure the clap derive
pub enum Command {
    /// Run the server: HTTP, WebSocket signaling, the web client and the SFU.
    Serve(ServeArgs),
    /// Print a join URL for a room (signed with the same secret as `serve`).
    Token(TokenArgs),
    /// Check a configuration file, or print a documented one.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Administration: accounts.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Run an SFU-only media node of a cluster: it registers in Redis and takes rooms from signaling nodes.
    Sfu(SfuArgs),
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Check FILE: every key known, every value valid, every named file readable. Exit status 1 on problems.
    Check {
        /// The plenum.toml to check.
        file: PathBuf,
    },
    /// Print every option with its default, environment variable and help, as a commented plenum.toml.
    Example,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line (for log collectors).
    Json,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a local account (the password is read from standard input).
    CreateUser(CreateUserArgs),
}

/// Where the database is (shared by `serve` and `admin`).
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// PostgreSQL URL (postgres://user:pass@host/db). Default: SQLite in DATA_DIR/plenum.db.
    #[arg(long, env = "PLENUM_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct CreateUserArgs {
    /// Directory for generated secrets and data.
    #[arg(long, env = "PLENUM_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[arg(long)]
    pub email: String,
    #[arg(long)]
    pub name: String,
    /// admin or staff.
    #[arg(long, value_parser = ["admin", "staff"])]
    pub role: String,
    /// Read the password from standard input (one line).
    #[arg(long, required = true)]
    pub password_stdin: bool,
}

/// Settings shared by `serve` and `token`.
#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// HTTP listen address.
    #[arg(long, env = "PLENUM_HTTP_ADDR", default_value = "127.0.0.1:8080")]
    pub http_addr: SocketAddr,
    /// Base URL used in links (default: http://<http addr>).
    #[arg(long, env = "PLENUM_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Directory for generated secrets and data.
    #[arg(long, env = "PLENUM_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Token-signing secret (at least 32 bytes). Default: generated once into DATA_DIR/secret.
    #[arg(long, env = "PLENUM_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    /// Read the token-signing secret from this file (surrounding whitespace is ignored) instead of `secret`.
    #[arg(long, env = "PLENUM_SECRET_FILE", conflicts_with = "secret")]
    pub secret_file: Option<PathBuf>,
    /// Read settings from this TOML file (see `plenum config example`); flags and environment variables win.
    #[arg(long, env = "PLENUM_CONFIG")]
    pub config: Option<PathBuf>,
}

/// The contents of a secret file without surrounding whitespace; `what` names the secret in the error.
fn read_secret_file(path: &std::path::Path, what: &str) -> Result<String, String> {
    std::fs::read_to_string(path)
        .map(|text| text.trim().to_owned())
        .map_err(|e| format!("cannot read the {what} file {}: {e}", path.display()))
}

impl CommonArgs {
    /// Move the contents of `secret_file` into `secret`.
    pub fn read_secret_file(&mut self) -> Result<(), String> {
        if let Some(path) = self.secret_file.take() {
            self.secret = Some(read_secret_file(&path, "secret")?);
        }
        Ok(())
    }

    /// The public base URL without a trailing slash.
    pub fn public_url(&self) -> String {
        public_url_or_default(self.public_url.as_deref(), self.http_addr)
    }
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// UDP media address; worker i binds port + i (port 0: each worker an ephemeral port).
    #[arg(long, env = "PLENUM_MEDIA_ADDR", default_value = "0.0.0.0:50000")]
    pub media_addr: SocketAddr,
    /// Address advertised in ICE candidates.
    #[arg(long, env = "PLENUM_PUBLIC_IP")]
    pub public_ip: Option<IpAddr>,
    /// SFU worker threads (0 = one per core).
    #[arg(long, env = "PLENUM_WORKERS", default_value_t = 0)]
    pub workers: usize,
    /// Also accept ICE over TCP (passive) on the media ports, same numbers as UDP: for clients whose firewall blocks UDP.
    #[arg(long, env = "PLENUM_ICE_TCP", default_value_t = true, action = ArgAction::Set)]
    pub ice_tcp: bool,
    /// Serve the web client from this directory instead of the embedded build.
    #[arg(long, env = "PLENUM_WEB_DIR")]
    pub web_dir: Option<PathBuf>,
    /// After SIGTERM: how long running meetings may go on before the server stops (0s: stop at once).
    #[arg(long, env = "PLENUM_DRAIN_TIMEOUT", default_value = "30m", value_parser = parse_duration)]
    pub drain_timeout: Duration,
    /// Log format: text or json (one object per line).
    #[arg(long, env = "PLENUM_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Log filter (tracing EnvFilter syntax, e.g. info or info,plenum_sfu=debug); RUST_LOG wins if set.
    #[arg(long, env = "PLENUM_LOG", default_value = "info")]
    pub log_level: String,
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Default for new meetings: how many minutes before the start their links open.
    #[arg(long, env = "PLENUM_JOIN_OPENS_MINUTES", default_value_t = 15)]
    pub join_opens_minutes: u16,
    /// Reverse proxies (CIDRs or addresses, comma-separated in env) whose Forwarded / X-Forwarded-For headers give
    /// the client's address for the login rate limit and the audit log. Empty: the TCP peer is the client.
    #[arg(long, env = "PLENUM_TRUSTED_PROXIES", value_delimiter = ',', value_parser = crate::api::client_addr::parse_cidr)]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Redis URL (redis://host:6379/0): run as part of a cluster (docs/operations.md, "Cluster"). Unset: one
    /// machine, nothing shared.
    #[arg(long, env = "PLENUM_REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,
    /// With redis_url: "both" runs signaling and an SFU node, "signaling" leaves media to `plenum sfu` nodes.
    #[arg(long, env = "PLENUM_ROLE", value_enum, default_value_t = Role::Both)]
    pub role: Role,
    /// Zone label (with redis_url): new rooms go to SFU nodes of the same zone while any has room.
    #[arg(long, env = "PLENUM_ZONE")]
    pub zone: Option<String>,
    #[command(flatten)]
    pub connectivity: ConnectivityArgs,
    #[command(flatten)]
    pub oidc: OidcArgs,
}

/// `plenum sfu`: an SFU node of a cluster.
#[derive(Debug, Clone, Args)]
pub struct SfuArgs {
    /// Redis URL of the cluster (redis://host:6379/0).
    #[arg(long, env = "PLENUM_REDIS_URL", hide_env_values = true)]
    pub redis_url: String,
    /// HTTP address for /healthz, /readyz and /metrics.
    #[arg(long, env = "PLENUM_HTTP_ADDR", default_value = "127.0.0.1:8081")]
    pub http_addr: SocketAddr,
    /// UDP media address; worker i binds port + i (port 0: each worker an ephemeral port).
    #[arg(long, env = "PLENUM_MEDIA_ADDR", default_value = "0.0.0.0:50000")]
    pub media_addr: SocketAddr,
    /// Address advertised in ICE candidates.
    #[arg(long, env = "PLENUM_PUBLIC_IP")]
    pub public_ip: Option<IpAddr>,
    /// SFU worker threads (0 = one per core): the node's capacity.
    #[arg(long, env = "PLENUM_WORKERS", default_value_t = 0)]
    pub workers: usize,
    /// Zone label (placement prefers nodes in the signaling node's zone).
    #[arg(long, env = "PLENUM_ZONE")]
    pub zone: Option<String>,
    /// Also accept ICE over TCP (passive) on the media ports, same numbers as UDP: for clients whose firewall blocks UDP.
    #[arg(long, env = "PLENUM_ICE_TCP", default_value_t = true, action = ArgAction::Set)]
    pub ice_tcp: bool,
    /// After SIGTERM: no new rooms; how long running ones may go on before the node stops (0s: at once).
    #[arg(long, env = "PLENUM_DRAIN_TIMEOUT", default_value = "30m", value_parser = parse_duration)]
    pub drain_timeout: Duration,
    /// Cascading: once this node holds this many participants of one room (as its home node), further
    /// receive-only participants go to an edge node that relays the room (0: never).
    #[arg(long, env = "PLENUM_CASCADE_AFTER", default_value_t = 0)]
    pub cascade_after: u32,
    /// Log format: text or json (one object per line).
    #[arg(long, env = "PLENUM_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Log filter (tracing EnvFilter syntax); RUST_LOG wins if set.
    #[arg(long, env = "PLENUM_LOG", default_value = "info")]
    pub log_level: String,
}

/// HTTPS and TURN settings of `serve`.
#[derive(Debug, Clone, Args)]
pub struct ConnectivityArgs {
    /// TLS certificate chain (PEM). With tls_key, plenum serves HTTPS itself; both files are reloaded on change.
    #[arg(long, env = "PLENUM_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM: PKCS#8, RSA or EC) of tls_cert.
    #[arg(long, env = "PLENUM_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// TURN servers for clients, e.g. turn:HOST:3478?transport=udp, turns:HOST:443?transport=tcp (comma-separated in env).
    #[arg(long, env = "PLENUM_TURN_URLS", value_delimiter = ',', value_parser = crate::turn::parse_url)]
    pub turn_urls: Vec<crate::turn::TurnUrl>,
    /// Shared secret of the TURN servers (coturn: use-auth-secret, static-auth-secret).
    #[arg(long, env = "PLENUM_TURN_SECRET", hide_env_values = true)]
    pub turn_secret: Option<String>,
    /// Read the TURN secret from this file (surrounding whitespace is ignored) instead of `turn_secret`.
    #[arg(long, env = "PLENUM_TURN_SECRET_FILE", conflicts_with = "turn_secret")]
    pub turn_secret_file: Option<PathBuf>,
    /// Lifetime of TURN credentials: longer than the longest meeting (expired ones cannot refresh an allocation).
    #[arg(long, env = "PLENUM_TURN_TTL", default_value = crate::turn::DEFAULT_TTL, value_parser = parse_ttl)]
    pub turn_ttl: Duration,
    /// all: clients reach the media server any way; relay: only through TURN (hides their addresses; needs turn_urls).
    #[arg(long, env = "PLENUM_ICE_TRANSPORT_POLICY", value_enum, default_value_t = IceTransportPolicy::All)]
    pub ice_transport_policy: IceTransportPolicy,
}

impl ConnectivityArgs {
    /// Move the contents of `turn_secret_file` into `turn_secret`.
    pub fn read_secret_file(&mut self) -> Result<(), String> {
        if let Some(path) = self.turn_secret_file.take() {
            self.turn_secret = Some(read_secret_file(&path, "TURN secret")?);
        }
        Ok(())
    }
}

/// Login with OpenID Connect (Keycloak, ADFS, ...); checked by [`crate::oidc::OidcSettings::from_args`].
#[derive(Debug, Clone, Default, Args)]
pub struct OidcArgs {
    /// OpenID Connect: the provider's issuer URL (its discovery document is ISSUER/.well-known/openid-configuration),
    /// e.g. https://sso.example.org/realms/staff (Keycloak) or https://adfs.example.org/adfs (ADFS). Setting it
    /// turns on "Log in with ..." on the login page.
    #[arg(long, env = "PLENUM_OIDC_ISSUER")]
    pub oidc_issuer: Option<String>,
    /// OpenID Connect: the client id registered at the provider (redirect URI: PUBLIC_URL/api/v1/auth/oidc/callback).
    #[arg(long, env = "PLENUM_OIDC_CLIENT_ID")]
    pub oidc_client_id: Option<String>,
    /// OpenID Connect: the client secret.
    #[arg(long, env = "PLENUM_OIDC_CLIENT_SECRET", hide_env_values = true)]
    pub oidc_client_secret: Option<String>,
    /// OpenID Connect: read the client secret from this file (surrounding whitespace is ignored) instead.
    #[arg(long, env = "PLENUM_OIDC_CLIENT_SECRET_FILE", conflicts_with = "oidc_client_secret")]
    pub oidc_client_secret_file: Option<PathBuf>,
    /// OpenID Connect: the provider's name on the login button ("Log in with NAME").
    #[arg(long, env = "PLENUM_OIDC_DISPLAY_NAME", default_value = "Single Sign-On")]
    pub oidc_display_name: String,
    /// OpenID Connect: the claim that carries the user's roles or groups (a string or a list of strings), looked
    /// up in the ID token, then at the userinfo endpoint. Dots descend into objects: realm_access.roles (Keycloak
    /// realm roles), resource_access.plenum.roles (Keycloak client roles); role or groups (ADFS).
    #[arg(long, env = "PLENUM_OIDC_ROLE_CLAIM", default_value = "roles")]
    pub oidc_role_claim: String,
    /// OpenID Connect: claim values that make a user an admin (comma-separated or a list).
    #[arg(long, env = "PLENUM_OIDC_ADMIN_VALUES", value_delimiter = ',')]
    pub oidc_admin_values: Vec<String>,
    /// OpenID Connect: claim values that make a user staff (comma-separated or a list). A user with neither an
    /// admin nor a staff value is refused.
    #[arg(long, env = "PLENUM_OIDC_STAFF_VALUES", value_delimiter = ',')]
    pub oidc_staff_values: Vec<String>,
    /// OpenID Connect: scopes to ask for besides openid (comma-separated or a list; ADFS: add allatclaims to get
    /// the role claim into the ID token).
    #[arg(long, env = "PLENUM_OIDC_SCOPES", value_delimiter = ',', default_value = "profile,email")]
    pub oidc_scopes: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Room name (1-64 characters of A-Z a-z 0-9 . _ -).
    #[arg(long)]
    pub room: String,
    /// Stable identity of the participant.
    #[arg(long)]
    pub identity: String,
    /// Display name.
    #[arg(long)]
    pub name: String,
    /// Make the participant a moderator.
    #[arg(long)]
    pub moderator: bool,
    /// Mark the participant as a guest (no account).
    #[arg(long)]
    pub guest: bool,
    /// The participant waits in the lobby until a moderator admits them.
    #[arg(long)]
    pub lobby: bool,
    /// How long the token is valid (e.g. 30m, 1h, 2d).
    #[arg(long, default_value = "1h", value_parser = parse_ttl)]
    pub ttl: Duration,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|e| format!("{e} (examples: 0s, 90s, 30m, 1h)"))
}

fn parse_ttl(text: &str) -> Result<Duration, String> {
    let ttl = humantime::parse_duration(text).map_err(|e| format!("{e} (examples: 30m, 1h, 2d)"))?;
    if ttl < Duration::from_secs(1) {
        return Err("the ttl must be at least 1s".into());
    }
    Ok(ttl)
}

/// `public_url` without a trailing slash, or `http://<http_addr>`.
pub fn public_url_or_default(public_url: Option<&str>, http_addr: SocketAddr) -> String {
    public_url_or_scheme_default(public_url, http_addr, false)
}

/// `public_url` without a trailing slash, or `http(s)://<http_addr>`.
pub fn public_url_or_scheme_default(public_url: Option<&str>, http_addr: SocketAddr, https: bool) -> String {
    match public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => format!("{}://{http_addr}", if https { "https" } else { "http" }),
    }
}

/// Limits on each WebSocket client (the protocol's "Limits" table).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest text frame handled; larger ones get `frame_too_large`.
    pub max_frame: usize,
    /// Largest frame read at all; larger ones close the socket with 1009.
    pub max_transport_frame: usize,
    /// Sustained messages per second.
    pub rate_per_sec: f64,
    /// Burst size of the token bucket.
    pub rate_burst: f64,
    /// Dropped (rate-limited) messages after which the socket is closed with 1008.
    pub max_dropped: u32,
    /// Time from connect to `join`.
    pub join_timeout: Duration,
    /// How long to wait for the client's close reply after the server closed.
    pub close_linger: Duration,
    /// How long a participant whose connection dropped (without `leave`) stays in the room, waiting for `resume`.
    pub resume_grace: Duration,
    /// Interval of WebSocket pings to joined clients.
    pub ping_interval: Duration,
    /// No frame (not even a pong) from a joined client for this long: its connection counts as dropped.
    pub idle_timeout: Duration,
    /// Longest wait for one frame to be written; a connection that stalls longer counts as dropped.
    pub send_timeout: Duration,
    /// Sustained chat messages per second per participant.
    pub chat_rate_per_sec: f64,
    /// Burst of chat messages.
    pub chat_burst: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_frame: 64 * 1024,
            max_transport_frame: 1024 * 1024,
            rate_per_sec: 50.0,
            rate_burst: 100.0,
            max_dropped: 200,
            join_timeout: Duration::from_secs(10),
            close_linger: Duration::from_secs(1),
            resume_grace: Duration::from_secs(40),
            ping_interval: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            send_timeout: Duration::from_secs(10),
            chat_rate_per_sec: 2.0,
            chat_burst: 10.0,
        }
    }
}

/// Default of `--drain-timeout`.
pub const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// Everything [`crate::Server::start`] needs.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub http_addr: SocketAddr,
    pub media_addr: SocketAddr,
    pub public_ip: Option<IpAddr>,
    /// `None`: `http://<bound http addr>`.
    pub public_url: Option<String>,
    pub data_dir: PathBuf,
    /// `None`: generated into / read from `data_dir/secret`.
    pub secret: Option<String>,
    pub workers: usize,
    /// Accept passive ICE-TCP on the media ports too.
    pub ice_tcp: bool,
    /// `None`: the web client embedded at build time.
    pub web_dir: Option<PathBuf>,
    pub limits: Limits,
    /// Longest graceful drain after the first stop signal (zero: stop at once).
    pub drain_timeout: Duration,
    /// `None`: SQLite in `data_dir/plenum.db`.
    pub database_url: Option<String>,
    /// Default for new meetings: minutes before the start from which their links work.
    pub join_opens_minutes: i64,
    /// Reverse proxies whose forwarding headers are believed (empty: none).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// `None`: one machine (the in-process SFU, no Redis).
    pub cluster: Option<ClusterConfig>,
    /// `tls_cert` and `tls_key` (both or neither; checked by [`crate::Server::start`]).
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// TURN servers for clients (empty: none), with their shared secret and credential lifetime.
    pub turn_urls: Vec<crate::turn::TurnUrl>,
    pub turn_secret: Option<String>,
    pub turn_ttl: Duration,
    pub ice_transport_policy: IceTransportPolicy,
    /// Login with OpenID Connect (off when no issuer is set); checked when the server starts.
    pub oidc: OidcArgs,
}

impl ServerConfig {
    /// Everything on loopback with ephemeral ports: for tests.
    pub fn loopback(data_dir: PathBuf) -> ServerConfig {
        ServerConfig {
            http_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            media_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            public_ip: None,
            public_url: None,
            data_dir,
            secret: None,
            workers: 1,
            ice_tcp: true,
            web_dir: None,
            limits: Limits::default(),
            drain_timeout: DEFAULT_DRAIN_TIMEOUT,
            database_url: None,
            join_opens_minutes: 15,
            trusted_proxies: Vec::new(),
            cluster: None,
            tls_cert: None,
            tls_key: None,
            turn_urls: Vec::new(),
            turn_secret: None,
            turn_ttl: Duration::from_secs(12 * 3600),
            ice_transport_policy: IceTransportPolicy::All,
            oidc: OidcArgs::default(),
        }
    }
}

impl From<ServeArgs> for ServerConfig {
    fn from(args: ServeArgs) -> Self {
        ServerConfig {
            http_addr: args.common.http_addr,
            media_addr: args.media_addr,
            public_ip: args.public_ip,
            public_url: args.common.public_url,
            data_dir: args.common.data_dir,
            secret: args.common.secret,
            workers: args.workers,
            ice_tcp: args.ice_tcp,
            web_dir: args.web_dir,
            limits: Limits::default(),
            drain_timeout: args.drain_timeout,
            database_url: args.database.database_url,
            join_opens_minutes: i64::from(args.join_opens_minutes),
            trusted_proxies: args.trusted_proxies,
            cluster: args.redis_url.map(|redis_url| ClusterConfig { redis_url, role: args.role, zone: args.zone }),
            tls_cert: args.connectivity.tls_cert,
            tls_key: args.connectivity.tls_key,
            turn_urls: args.connectivity.turn_urls,
            turn_secret: args.connectivity.turn_secret,
            turn_ttl: args.connectivity.turn_ttl,
            ice_transport_policy: args.connectivity.ice_transport_policy,
            oidc: args.oidc,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_accepts_humantime() {
        assert_eq!(parse_ttl("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_ttl("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_ttl("2d"), Ok(Duration::from_secs(2 * 86400)));
        assert!(parse_ttl("soon").is_err());
        assert!(parse_ttl("0s").is_err());
    }

    #[test]
    fn token_command_parses() {
        let cli = Cli::try_parse_from([
            "plenum", "token", "--room", "r1", "--identity", "erika", "--name", "Erika", "--moderator", "--ttl", "30m",
        ])
        .unwrap();
        let Command::Token(args) = cli.command else { panic!("expected token") };
        assert_eq!(args.room, "r1");
        assert!(args.moderator);
        assert_eq!(args.ttl, Duration::from_secs(1800));
    }

    #[test]
    fn public_url_defaults_to_http_addr() {
        let addr: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        assert_eq!(public_url_or_default(None, addr), "http://127.0.0.1:8080");
        assert_eq!(public_url_or_default(Some("https://meet.example/"), addr), "https://meet.example");
    }
}
