//! Bans and ended or deleted meetings are kept in the database: a moderator bans a participant and ends another
//! meeting over real WebSockets, the server restarts on the same database, and the banned person is refused
//! (`banned`), a token issued before the end is refused (`meeting_ended`), a deleted meeting refuses everyone
//! (`meeting_deleted`), and a disabled account's token is refused (`account_disabled`). Runs against SQLite and against a throwaway PostgreSQL cluster.

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
