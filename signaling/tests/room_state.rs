//! Bans and ended or deleted meetings are kept in the database: a moderator bans a participant and ends another
//! meeting over real WebSockets, the server restarts on the same database, and the banned person is refused
//! (`banned`), a token issued before the end is refused (`meeting_ended`), a deleted meeting refuses everyone
//! (`meeting_deleted`), and a disabled account's token is refused (`account_disabled`). Through the real HTTP API,
//! a moderator lifts a ban (the person joins again at once) and an admin disables an account that is in a meeting
//! right now (its session is sent out with `account_disabled`). Runs against SQLite and against a throwaway
//! PostgreSQL cluster.

mod common;
#[path = "api_support/postgres.rs"]
mod postgres;

use std::time::Duration;

use chrono::NaiveDate;
use common::*;
use plenum_signaling::accounts::{self, NewUser, Role};
use plenum_signaling::audit::Actor;
use plenum_signaling::db::now_secs;
use plenum_signaling::meetings::schedule::Schedule;
use plenum_signaling::meetings::{self, LobbyMode, MeetingFields, room_store};
use plenum_signaling::token::Claims;
use plenum_signaling::{Server, ServerConfig};
use serde_json::{Value, json};

fn token(room: &str, identity: &str, moderator: bool) -> String {
    let keys = plenum_signaling::token::TokenKeys::new(SECRET.as_bytes());
    keys.sign(&Claims::new(room, identity, &format!("Name {identity}"), moderator, Duration::from_secs(600))).unwrap()
}

async fn join_with(addr: std::net::SocketAddr, room: &str, token: &str) -> (Ws, Value) {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws")).await.expect("ws connect");
    send(&mut ws, json!({"type": "join", "protocol": 1, "room": room, "token": token})).await;
    let first = recv(&mut ws).await;
    (ws, first)
}

async fn meeting(server: &Server, owner: &str, title: &str) -> String {
    let now = now_secs();
    let fields = MeetingFields {
        title: title.into(),
        description: String::new(),
        schedule: Schedule { start_utc: now - 300, end_utc: now + 3600, tz: chrono_tz::Europe::Berlin, weekly: false, until: None::<NaiveDate> },
        guests_allowed: true,
        lobby: LobbyMode::Off,
        join_opens_minutes: 15,
        moderators: Vec::new(),
        invitees: Vec::new(),
    };
    meetings::create(server.db(), owner, fields, &Actor::command_line()).await.expect("meeting").id
}

fn config(dir: &std::path::Path, database_url: Option<&str>) -> ServerConfig {
    let mut config = ServerConfig::loopback(dir.to_path_buf());
    config.secret = Some(SECRET.to_owned());
    config.database_url = database_url.map(str::to_owned);
    config
}

async fn ban_and_end_survive_a_restart(database_url: Option<&str>) {
    let dir = temp_dir("room-state");
    let server = Server::start(config(&dir, database_url)).await.expect("server starts");
    let new = NewUser { email: "mod@example.org".into(), name: "Moni".into(), role: Role::Staff, password_hash: None };
    let owner = accounts::create_user(server.db(), new, &Actor::command_line()).await.unwrap();
    let banning = meeting(&server, &owner.id, "Sprechstunde").await;
    let ending = meeting(&server, &owner.id, "Teamrunde").await;
    let deleted = meeting(&server, &owner.id, "Abgesagt").await;
    let addr = server.local_addr();

    // The moderator removes and bans the guest.
    let (mut m, joined) = join_with(addr, &banning, &token(&banning, &owner.id, true)).await;
    assert_eq!(joined["type"], "joined", "{joined}");
    let (mut g, joined_g) = join_with(addr, &banning, &token(&banning, "guest-0123abcd", false)).await;
    assert_eq!(joined_g["type"], "joined", "{joined_g}");
    let gsid = joined_g["you"]["sid"].as_str().unwrap().to_owned();
    assert_eq!(recv(&mut m).await["type"], "participant_joined");
    send(&mut m, json!({"type": "moderate", "action": "remove", "sid": gsid, "ban": true})).await;
    let moderated = recv(&mut g).await;
    assert_eq!((moderated["type"].as_str(), moderated["ban"].as_bool()), (Some("moderated"), Some(true)), "{moderated}");
    expect_error(&mut g, "removed", true).await;

    // A moderator ends the other meeting for all; the token of a participant is kept for later.
    let late_token = token(&ending, "staff-7", false);
    let (mut e, joined_e) = join_with(addr, &ending, &token(&ending, &owner.id, true)).await;
    assert_eq!(joined_e["type"], "joined", "{joined_e}");
    send(&mut e, json!({"type": "moderate", "action": "end"})).await;
    expect_error(&mut e, "meeting_ended", true).await;
    // Already before the restart: the old token no longer gets in.
    let (_, refused) = join_with(addr, &ending, &late_token).await;
    assert_eq!(refused["code"], "meeting_ended", "{refused}");
    drop((m, g, e));

    server.shutdown().await.expect("clean shutdown");
    let server = Server::start(config(&dir, database_url)).await.expect("server starts again");
    let addr = server.local_addr();
    assert!(room_store::is_banned(server.db(), &banning, "guest-0123abcd").await.unwrap());

    // The banned guest comes back with a fresh token: refused with a clear message. Others still get in.
    let (_, refused) = join_with(addr, &banning, &token(&banning, "guest-0123abcd", false)).await;
    assert_eq!((refused["type"].as_str(), refused["code"].as_str(), refused["fatal"].as_bool()), (Some("error"), Some("banned"), Some(true)), "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("cannot rejoin"), "{refused}");
    let (_, ok) = join_with(addr, &banning, &token(&banning, "guest-other", false)).await;
    assert_eq!(ok["type"], "joined", "{ok}");

    // The ended meeting: the token from before the end is refused after the restart too; the meeting says so.
    let (_, refused) = join_with(addr, &ending, &late_token).await;
    assert_eq!((refused["code"].as_str(), refused["fatal"].as_bool()), (Some("meeting_ended"), Some(true)), "{refused}");
    let stored = meetings::get(server.db(), &ending).await.unwrap().unwrap();
    assert!(stored.ended_at.is_some_and(|at| at <= now_secs()), "ended_at stored");

    // A deleted meeting refuses every token.
    let before_delete = token(&deleted, "staff-8", false);
    meetings::delete(server.db(), &deleted, &Actor::command_line()).await.unwrap();
    let (_, refused) = join_with(addr, &deleted, &before_delete).await;
    assert_eq!((refused["code"].as_str(), refused["fatal"].as_bool()), (Some("meeting_deleted"), Some(true)), "{refused}");

    // A disabled account's join token (handed out before) is refused too.
    let staff_token = token(&banning, &owner.id, false);
    let changes = accounts::UserChanges {
        email: owner.email.clone(),
        name: owner.name.clone(),
        role: owner.role,
        password_hash: None,
        disabled: Some(true),
    };
    accounts::update_user(server.db(), &owner.id, owner.version, changes, &Actor::command_line()).await.unwrap();
    let (_, refused) = join_with(addr, &banning, &staff_token).await;
    assert_eq!((refused["code"].as_str(), refused["fatal"].as_bool()), (Some("account_disabled"), Some(true)), "{refused}");
    server.shutdown().await.expect("clean shutdown");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Read until a message of `kind` arrives (other room traffic is skipped).
async fn recv_until(ws: &mut Ws, kind: &str) -> Value {
    for _ in 0..50 {
        let msg = recv(ws).await;
        if msg["type"] == kind {
            return msg;
        }
    }
    panic!("no {kind} message");
}

/// A logged-in API client (cookies, CSRF header) over real HTTP.
struct ApiClient {
    http: reqwest::Client,
    base: String,
    csrf: String,
}

impl ApiClient {
    async fn login(addr: std::net::SocketAddr, email: &str, password: &str) -> ApiClient {
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        let http = reqwest::Client::builder().cookie_provider(jar.clone()).build().unwrap();
        let base = format!("http://{addr}/api/v1");
        http.get(format!("{base}/me")).send().await.unwrap();
        let url: reqwest::Url = base.parse().unwrap();
        let cookies = reqwest::cookie::CookieStore::cookies(&*jar, &url).expect("cookies");
        let csrf = cookies
            .to_str()
            .unwrap()
            .split("; ")
            .find_map(|c| c.strip_prefix("plenum_csrf="))
            .expect("the CSRF cookie")
            .to_owned();
        let c = ApiClient { http, base, csrf };
        let (status, me) = c.write("POST", "/login", Some(json!({"email": email, "password": password}))).await;
        assert_eq!(status, 200, "{me}");
        c
    }

    async fn write(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.http.request(method, format!("{}{path}", self.base)).header("x-csrf-token", &self.csrf);
        if let Some(body) = body {
            req = req.header("content-type", "application/json").body(body.to_string());
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, serde_json::from_str(&resp.text().await.unwrap()).unwrap_or(Value::Null))
    }
}

/// Lifting a ban and disabling an account reach the sessions at once (not only the database).
async fn lift_and_disable_reach_live_sessions(database_url: Option<&str>) {
    let dir = temp_dir("live-moderation");
    let server = Server::start(config(&dir, database_url)).await.expect("server starts");
    let password = "a long admin password";
    let hash = accounts::password::hash(password).unwrap();
    let admin = NewUser { email: "ada@example.org".into(), name: "Ada".into(), role: Role::Admin, password_hash: Some(hash) };
    let admin = accounts::create_user(server.db(), admin, &Actor::command_line()).await.unwrap();
    let sam = NewUser { email: "sam@example.org".into(), name: "Sam".into(), role: Role::Staff, password_hash: None };
    let sam = accounts::create_user(server.db(), sam, &Actor::command_line()).await.unwrap();
    let room = meeting(&server, &admin.id, "Sprechstunde").await;
    let addr = server.local_addr();

    let (mut m, joined) = join_with(addr, &room, &token(&room, &admin.id, true)).await;
    assert_eq!(joined["type"], "joined", "{joined}");
    let (mut s, joined_s) = join_with(addr, &room, &token(&room, &sam.id, false)).await;
    assert_eq!(joined_s["type"], "joined", "{joined_s}");
    let sam_sid = joined_s["you"]["sid"].as_str().unwrap().to_owned();
    let (mut g, joined_g) = join_with(addr, &room, &token(&room, "guest-5678", false)).await;
    assert_eq!(joined_g["type"], "joined", "{joined_g}");
    let gsid = joined_g["you"]["sid"].as_str().unwrap().to_owned();

    // Banned over the WebSocket, refused on return (the registry holds the ban; the database gets it too).
    send(&mut m, json!({"type": "moderate", "action": "remove", "sid": gsid, "ban": true})).await;
    recv_until(&mut g, "moderated").await;
    expect_error(&mut g, "removed", true).await;
    let (_, refused) = join_with(addr, &room, &token(&room, "guest-5678", false)).await;
    assert_eq!(refused["code"], "banned", "{refused}");
    for _ in 0..100 {
        if room_store::is_banned(server.db(), &room, "guest-5678").await.unwrap() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A moderator (here: the admin, owner of the meeting) lifts it through the API: the guest gets in again now.
    let api = ApiClient::login(addr, "ada@example.org", password).await;
    let (status, list) = api.write("GET", &format!("/meetings/{room}/bans"), None).await;
    assert_eq!((status, list["bans"][0]["identity"].as_str()), (200, Some("guest-5678")), "{list}");
    let (status, err) = api.write("DELETE", &format!("/meetings/{room}/bans/guest-5678"), None).await;
    assert_eq!(status, 204, "{err}");
    let (mut g2, back) = join_with(addr, &room, &token(&room, "guest-5678", false)).await;
    assert_eq!(back["type"], "joined", "{back}");

    // The admin disables Sam's account while Sam is in the meeting: Sam is sent out and told why; the others see
    // Sam leave.
    let edit = json!({"email": sam.email, "name": sam.name, "role": "staff", "disabled": true, "version": sam.version});
    let (status, u) = api.write("PUT", &format!("/users/{}", sam.id), Some(edit)).await;
    assert_eq!(status, 200, "{u}");
    let told = recv_until(&mut s, "error").await;
    assert_eq!((told["code"].as_str(), told["fatal"].as_bool()), (Some("account_disabled"), Some(true)), "{told}");
    assert!(told["message"].as_str().unwrap().contains("disabled your account"), "{told}");
    loop {
        let left = recv_until(&mut g2, "participant_left").await;
        if left["sid"] == sam_sid.as_str() {
            break;
        }
    }
    // Nor can Sam come back with the token from before.
    let (_, refused) = join_with(addr, &room, &token(&room, &sam.id, false)).await;
    assert_eq!(refused["code"], "account_disabled", "{refused}");
    drop((m, s, g2));
    server.shutdown().await.expect("clean shutdown");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_lift_and_disable_reach_live_sessions() {
    lift_and_disable_reach_live_sessions(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_lift_and_disable_reach_live_sessions() {
    let Some(cluster) = postgres::PgCluster::start() else { return };
    sqlx::any::install_default_drivers();
    let admin = sqlx::AnyPool::connect(&cluster.url("postgres")).await.expect("connect to postgres");
    sqlx::query("CREATE DATABASE live_moderation").execute(&admin).await.unwrap();
    admin.close().await;
    lift_and_disable_reach_live_sessions(Some(&cluster.url("live_moderation"))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_keeps_bans_and_ended_meetings_across_a_restart() {
    ban_and_end_survive_a_restart(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_keeps_bans_and_ended_meetings_across_a_restart() {
    let Some(cluster) = postgres::PgCluster::start() else { return };
    sqlx::any::install_default_drivers();
    let admin = sqlx::AnyPool::connect(&cluster.url("postgres")).await.expect("connect to postgres");
    sqlx::query("CREATE DATABASE room_state").execute(&admin).await.unwrap();
    admin.close().await;
    ban_and_end_survive_a_restart(Some(&cluster.url("room_state"))).await;
}
