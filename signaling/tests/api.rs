//! API integration tests: every scenario runs against SQLite and against a real PostgreSQL server.

mod api_support;

use api_support::{Env, PASSWORD};
use axum::http::StatusCode;
use chrono::{Duration, Utc};
use plenum_signaling::accounts::Role;
use serde_json::{Value, json};

/// `now + minutes` as RFC 3339 (UTC).
fn at(minutes: i64) -> String {
    (Utc::now() + Duration::minutes(minutes)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn meeting_body(title: &str, start_min: i64, end_min: i64) -> Value {
    json!({"title": title, "start": at(start_min), "end": at(end_min)})
}

/// Decode a JWT's claims (the signature is checked separately with the server's keys).
fn verify_token(env: &Env, token: &str, room: &str) -> plenum_signaling::token::Claims {
    env.keys.verify(token, room).expect("a valid join token")
}

async fn auth_sessions_and_csrf(env: &Env) {
    env.user("admin@example.org", "Ada Admin", Role::Admin).await;
    let mut c = env.anonymous();
    // Not logged in: 401 everywhere, JSON error.
    let (status, body) = c.get("/api/v1/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "unauthenticated");
    assert!(c.jar.contains_key("plenum_csrf"), "the first response sets the CSRF cookie");
    // A write without the CSRF header is refused even with the right password.
    let r = c
        .send("POST", "/api/v1/login", Some(json!({"email": "admin@example.org", "password": PASSWORD}).to_string()), false)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.json()["error"]["code"], "csrf");
    // Wrong password: 401.
    let (status, _) = c.login("admin@example.org", "not the password").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Right password (email case-insensitive): the session cookie is HttpOnly, SameSite=Strict, Secure (https).
    let (status, me) = c.login("Admin@Example.org", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["role"], "admin");
    let session = c.last_set_cookies.iter().find(|s| s.starts_with("plenum_session=")).expect("session cookie");
    for attr in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
        assert!(session.contains(attr), "{session} lacks {attr}");
    }
    assert!(!me.to_string().contains("argon2"), "no hash in responses");
    let (status, me2) = c.get("/api/v1/me").await;
    assert_eq!((status, me2["email"].as_str()), (StatusCode::OK, Some("admin@example.org")));
    // Logout ends the session server-side too: the old cookie no longer works.
    let old_session = c.jar.get("plenum_session").cloned().unwrap();
    let r = c.send("POST", "/api/v1/logout", None, true).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    c.jar.insert("plenum_session".into(), old_session);
    assert_eq!(c.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
}

async fn login_rate_limit(env: &Env) {
    env.user("staff@example.org", "Sam Staff", Role::Staff).await;
    let mut c = env.anonymous();
    for _ in 0..5 {
        assert_eq!(c.login("staff@example.org", "wrong password!").await.0, StatusCode::UNAUTHORIZED);
    }
    // Now even the right password is refused from this address, with Retry-After.
    c.ensure_csrf_public().await;
    let r = c
        .send("POST", "/api/v1/login", Some(json!({"email": "staff@example.org", "password": PASSWORD}).to_string()), true)
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.json()["error"]["code"], "rate_limited");
    assert!(r.headers.contains_key("retry-after"));
    // Another address is not affected.
    let mut other = env.anonymous();
    other.ip = [192, 0, 2, 99].into();
    assert_eq!(other.login("staff@example.org", PASSWORD).await.0, StatusCode::OK);
}

async fn users_crud_and_audit(env: &Env) {
    let admin = env.user("admin@example.org", "Ada Admin", Role::Admin).await;
    let mut a = env.login("admin@example.org").await;
    let (status, created) = a
        .write("POST", "/api/v1/users", json!({"email": "Bob@Example.org", "name": "Bob", "role": "staff", "password": "bobs long password"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["email"], "bob@example.org");
    let bob_id = created["id"].as_str().unwrap().to_owned();
    // Duplicate email, short password, bad role: field errors.
    let (status, err) = a
        .write("POST", "/api/v1/users", json!({"email": "bob@example.org", "name": "Bob 2", "role": "staff", "password": "another long one"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(err["error"]["fields"]["email"].as_str().unwrap().contains("exists"), "{err}");
    let (status, err) =
        a.write("POST", "/api/v1/users", json!({"email": "x", "name": "", "role": "staff", "password": "short"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    for f in ["email", "name", "password"] {
        assert!(err["error"]["fields"][f].is_string(), "{f}: {err}");
    }
    let (status, err) = a.write("POST", "/api/v1/users", json!({"email": "c@example.org", "name": "C", "role": "root"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(err["error"]["fields"]["role"].is_string(), "{err}");
    // Bob can log in, but cannot manage accounts.
    let mut b = env.anonymous();
    assert_eq!(b.login("bob@example.org", "bobs long password").await.0, StatusCode::OK);
    assert_eq!(b.get("/api/v1/users").await.0, StatusCode::FORBIDDEN);
    assert_eq!(b.get("/api/v1/audit").await.0, StatusCode::FORBIDDEN);
    assert_eq!(b.get("/api/v1/directory").await.0, StatusCode::OK);
    // Update with the version; a stale version is a conflict.
    let path = format!("/api/v1/users/{bob_id}");
    let (status, updated) = a
        .write("PUT", &path, json!({"email": "bob@example.org", "name": "Bob Builder", "role": "admin", "version": created["version"]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!((updated["name"].as_str(), updated["role"].as_str()), (Some("Bob Builder"), Some("admin")));
    let (status, err) = a
        .write("PUT", &path, json!({"email": "bob@example.org", "name": "Stale", "role": "staff", "version": created["version"]}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(err["error"]["code"], "conflict");
    // A meeting of Bob's passes to the deleting admin.
    let (status, meeting) = b.write("POST", "/api/v1/meetings", meeting_body("Bobs Runde", 60, 120)).await;
    assert_eq!(status, StatusCode::CREATED, "{meeting}");
    assert_eq!(a.delete(&format!("/api/v1/users/{}", admin.id)).await, StatusCode::CONFLICT, "not yourself");
    assert_eq!(a.delete(&path).await, StatusCode::NO_CONTENT);
    assert_eq!(a.get(&path).await.0, StatusCode::NOT_FOUND);
    assert_eq!(b.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED, "sessions die with the account");
    let (_, m) = a.get(&format!("/api/v1/meetings/{}", meeting["id"].as_str().unwrap())).await;
    assert_eq!(m["owner"]["id"].as_str(), Some(admin.id.as_str()));
    // The audit log has who, what, when, whom.
    let (status, log) = a.get("/api/v1/audit").await;
    assert_eq!(status, StatusCode::OK);
    let actions: Vec<&str> = log.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(&actions[..5], ["user.deleted", "meeting.created", "user.updated", "login", "user.created"], "{log}");
    // A successful password login is audited with the client's address.
    assert_eq!((log[3]["target_id"].as_str(), log[3]["details"]["method"].as_str()), (Some(bob_id.as_str()), Some("password")));
    assert_eq!(log[3]["details"]["ip"], "192.0.2.10");
    let deleted = &log[0];
    assert_eq!(deleted["actor_id"].as_str(), Some(admin.id.as_str()));
    assert_eq!(deleted["actor_name"], "Ada Admin");
    assert_eq!(deleted["target_id"].as_str(), Some(bob_id.as_str()));
    assert_eq!(deleted["target_name"], "Bob Builder");
    assert!(deleted["at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(log[2]["details"]["role"]["to"], "admin", "{}", log[2]);
}

/// An admin disables and enables an account: a disabled one cannot log in and its sessions end; admins cannot
/// disable themselves or drop their own admin role (422 with the field); every change is audited.
async fn disabled_accounts(env: &Env) {
    let admin = env.user("admin@example.org", "Ada Admin", Role::Admin).await;
    let sam = env.user("sam@example.org", "Sam Staff", Role::Staff).await;
    let mut a = env.login("admin@example.org").await;
    let mut s = env.login("sam@example.org").await;
    let path = format!("/api/v1/users/{}", sam.id);
    let edit = |disabled: bool, version: i64| json!({"email": "sam@example.org", "name": "Sam Staff", "role": "staff",
        "disabled": disabled, "version": version});
    let (status, u) = a.write("PUT", &path, edit(true, sam.version)).await;
    assert_eq!((status, u["disabled"].as_bool()), (StatusCode::OK, Some(true)), "{u}");
    // The open session stops working; a new login is refused (only the right password learns why).
    assert_eq!(s.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
    let mut c = env.anonymous();
    let (status, err) = c.login("sam@example.org", PASSWORD).await;
    assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("account_disabled")), "{err}");
    let (status, err) = c.login("sam@example.org", "not the password").await;
    assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthenticated")));
    // Join tokens already handed out are refused at the WebSocket (the driver reads this before a join).
    let store = plenum_signaling::meetings::room_store::RoomStore::new(env.db.clone());
    assert!(store.load("any-room", Some(&sam.id)).await.unwrap().account_disabled);
    // A racing update with the old version: 409.
    let (status, err) = a.write("PUT", &path, edit(false, sam.version)).await;
    assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("conflict")));
    // Enabled again: the login works.
    let (status, u) = a.write("PUT", &path, edit(false, u["version"].as_i64().unwrap())).await;
    assert_eq!((status, u["disabled"].as_bool()), (StatusCode::OK, Some(false)), "{u}");
    assert_eq!(c.login("sam@example.org", PASSWORD).await.0, StatusCode::OK);
    assert!(!store.load("any-room", Some(&sam.id)).await.unwrap().account_disabled);
    // Not oneself: neither disabled nor without the admin role; both fields are named.
    let me = format!("/api/v1/users/{}", admin.id);
    let (status, err) = a
        .write("PUT", &me, json!({"email": "admin@example.org", "name": "Ada Admin", "role": "staff", "disabled": true,
            "version": admin.version}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(err["error"]["fields"]["disabled"], "you cannot disable your own account");
    assert_eq!(err["error"]["fields"]["role"], "you cannot take the admin role from yourself");
    assert_eq!(a.get("/api/v1/me").await.1["disabled"], false);
    // Audited: who disabled and enabled whom.
    // (The newest entry is Sam's login after being enabled again.)
    let (_, log) = a.get("/api/v1/audit?limit=5").await;
    let actions: Vec<&str> = log.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(&actions[..4], ["login", "user.enabled", "login.refused", "user.disabled"], "{log}");
    assert_eq!(log[0]["actor_id"].as_str(), Some(sam.id.as_str()));
    assert_eq!((log[2]["details"]["reason"].as_str(), log[2]["details"]["ip"].as_str()), (Some("account_disabled"), Some("192.0.2.10")));
    assert_eq!((log[3]["actor_name"].as_str(), log[3]["target_id"].as_str()), (Some("Ada Admin"), Some(sam.id.as_str())));
    assert_eq!(log[3]["details"]["disabled"], json!({"from": false, "to": true}));
}

/// Behind a trusted reverse proxy the login rate limit and the audit log see the forwarded client address; from
/// anyone else the forwarding headers are ignored.
async fn forwarded_client_addresses(env: &Env) {
    let env_proxied = env.with_trusted_proxies(&["192.0.2.10/32"]);
    env_proxied.user("staff@example.org", "Sam Staff", Role::Staff).await;
    let through_proxy = |from: &'static str| {
        let mut c = env_proxied.anonymous();
        c.headers.push(("x-forwarded-for".into(), format!("203.0.113.66, {from}")));
        c
    };
    let mut attacker = through_proxy("198.51.100.7");
    for _ in 0..5 {
        assert_eq!(attacker.login("staff@example.org", "wrong password!").await.0, StatusCode::UNAUTHORIZED);
    }
    // Locked for the forwarded address (what the client claimed itself, left of it, does not count) ...
    assert_eq!(attacker.login("staff@example.org", PASSWORD).await.0, StatusCode::TOO_MANY_REQUESTS);
    // ... not for another person behind the same proxy.
    let mut colleague = through_proxy("198.51.100.8");
    assert_eq!(colleague.login("staff@example.org", PASSWORD).await.0, StatusCode::OK);
    // The same header from a peer that is no trusted proxy changes nothing: that peer itself is locked out.
    let mut direct = env_proxied.anonymous();
    direct.ip = [192, 0, 2, 99].into();
    direct.headers.push(("forwarded".into(), "for=198.51.100.9".into()));
    for _ in 0..5 {
        direct.login("staff@example.org", "wrong password!").await;
    }
    let mut spoofing = env_proxied.anonymous();
    spoofing.ip = [192, 0, 2, 99].into();
    spoofing.headers.push(("x-forwarded-for".into(), "198.51.100.10".into()));
    assert_eq!(spoofing.login("staff@example.org", PASSWORD).await.0, StatusCode::TOO_MANY_REQUESTS);
    // The audit log records the forwarded address (a disabled account's refused login).
    env_proxied.user("admin@example.org", "Ada", Role::Admin).await;
    let sam = plenum_signaling::accounts::find_by_email(&env_proxied.db, "staff@example.org").await.unwrap().unwrap().0;
    let mut a = env_proxied.login("admin@example.org").await;
    let body = json!({"email": sam.email, "name": sam.name, "role": "staff", "disabled": true, "version": sam.version});
    assert_eq!(a.write("PUT", &format!("/api/v1/users/{}", sam.id), body).await.0, StatusCode::OK);
    let mut forwarded = through_proxy("198.51.100.11");
    forwarded.headers = vec![("forwarded".into(), "for=\"[2001:db8::11]:4711\";proto=https".into())];
    assert_eq!(forwarded.login("staff@example.org", PASSWORD).await.0, StatusCode::FORBIDDEN);
    let (_, log) = a.get("/api/v1/audit?limit=1").await;
    assert_eq!((log[0]["action"].as_str(), log[0]["details"]["ip"].as_str()), (Some("login.refused"), Some("2001:db8::11")), "{log}");
    env_proxied.forget();
}

async fn meetings_crud(env: &Env) {
    let staff = env.user("erika@example.org", "Erika", Role::Staff).await;
    let max = env.user("max@example.org", "Max", Role::Staff).await;
    let mut e = env.login("erika@example.org").await;
    let body = json!({
        "title": "  Team-Runde  ", "description": "Wochenplanung", "start": "2030-01-15T10:00", "end": "2030-01-15T11:00",
        "moderators": [max.id], "invitees": ["Extern@Partner.example"], "lobby": "everyone", "guests_allowed": true,
    });
    let (status, m) = e.write("POST", "/api/v1/meetings", body).await;
    assert_eq!(status, StatusCode::CREATED, "{m}");
    let id = m["id"].as_str().unwrap().to_owned();
    assert_eq!(m["title"], "Team-Runde");
    assert_eq!((m["start"].as_str(), m["time_zone"].as_str()), (Some("2030-01-15T10:00"), Some("Europe/Berlin")));
    assert_eq!(m["start_utc"], "2030-01-15T09:00:00Z", "Berlin is UTC+1 in January");
    assert_eq!(m["owner"]["id"].as_str(), Some(staff.id.as_str()));
    assert_eq!(m["moderators"][0]["name"], "Max");
    assert_eq!(m["invitees"], json!(["extern@partner.example"]));
    assert_eq!(m["staff_link"].as_str().unwrap(), format!("https://meet.example.org/m/{id}"));
    let guest_link = m["guest_link"].as_str().unwrap();
    assert!(guest_link.starts_with(&format!("https://meet.example.org/g/{id}/")), "{guest_link}");
    assert_eq!(m["version"], 1);
    // Listed as upcoming for the owner and the moderator, not as past.
    let (_, list) = e.get("/api/v1/meetings").await;
    assert_eq!(list["meetings"].as_array().unwrap().len(), 1);
    let (_, past) = e.get("/api/v1/meetings?scope=past").await;
    assert!(past["meetings"].as_array().unwrap().is_empty());
    let mut mx = env.login("max@example.org").await;
    let (_, list) = mx.get("/api/v1/meetings").await;
    assert_eq!(list["meetings"][0]["id"].as_str(), Some(id.as_str()));
    assert_eq!(list["meetings"][0]["can_edit"], false);
    // Update: another time zone, fewer moderators.
    let path = format!("/api/v1/meetings/{id}");
    let (status, u) = e
        .write("PUT", &path, json!({"title": "Team-Runde (neu)", "start": "2030-01-15T10:00", "end": "2030-01-15T10:30",
            "time_zone": "Europe/London", "lobby": "off", "guests_allowed": false, "version": 1}))
        .await;
    assert_eq!(status, StatusCode::OK, "{u}");
    assert_eq!((u["start_utc"].as_str(), u["version"].as_i64()), (Some("2030-01-15T10:00:00Z"), Some(2)));
    assert_eq!((u["lobby"].as_str(), u["guest_link"].is_null()), (Some("off"), true));
    assert!(u["moderators"].as_array().unwrap().is_empty());
    // Max is no longer a moderator nor invited: he cannot see it now.
    assert_eq!(mx.get(&path).await.0, StatusCode::FORBIDDEN);
    // A meeting in the past is listed as past.
    let (status, old) = e.write("POST", "/api/v1/meetings", meeting_body("Gestern", -1500, -1440)).await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, past) = e.get("/api/v1/meetings?scope=past").await;
    assert_eq!(past["meetings"][0]["id"], old["id"]);
    assert!(past["meetings"][0]["next_start_utc"].is_null());
    // Delete; then it is gone from lists and reads, and the link says it was deleted.
    assert_eq!(e.delete(&path).await, StatusCode::NO_CONTENT);
    assert_eq!(e.get(&path).await.0, StatusCode::NOT_FOUND);
    assert_eq!(e.delete(&path).await, StatusCode::NOT_FOUND);
    let (_, list) = e.get("/api/v1/meetings").await;
    assert!(list["meetings"].as_array().unwrap().is_empty());
    let (status, err) = e.write("POST", &format!("/api/v1/join/{id}"), json!({})).await;
    assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::GONE, Some("meeting_deleted")));
    // Audited with the changes.
    let actions: Vec<String> = sqlx::query_scalar("SELECT action FROM audit_log WHERE meeting_id = $1 ORDER BY at_micros")
        .bind(id.clone())
        .fetch_all(env.db.pool())
        .await
        .unwrap();
    assert_eq!(actions, ["meeting.created", "meeting.updated", "meeting.deleted"]);
}

async fn recurrence_and_ics(env: &Env) {
    env.user("erika@example.org", "Erika Musterfrau", Role::Staff).await;
    let mut e = env.login("erika@example.org").await;
    // Weekly from a Monday in October (CEST) until December (CET).
    let body = json!({"title": "Jour fixe; Haus A, Raum 1", "description": "Zeile 1\nZeile 2",
        "start": "2031-10-20T09:30", "end": "2031-10-20T10:00",
        "recurrence": {"frequency": "weekly", "until": "2031-12-01"}, "invitees": ["gast@example.net"]});
    let (status, m) = e.write("POST", "/api/v1/meetings", body).await;
    assert_eq!(status, StatusCode::CREATED, "{m}");
    assert_eq!(m["recurrence"], json!({"frequency": "weekly", "until": "2031-12-01"}));
    assert_eq!(m["start_utc"], "2031-10-20T07:30:00Z");
    let id = m["id"].as_str().unwrap();
    let r = e.send("GET", &format!("/api/v1/meetings/{id}/invite.ics"), None, false).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers["content-type"].to_str().unwrap().starts_with("text/calendar"));
    assert!(r.text.contains("\r\n"), "CRLF line endings");
    let mut parser = ical::IcalParser::new(std::io::BufReader::new(r.text.as_bytes()));
    let cal = parser.next().expect("one calendar").expect("parses");
    assert!(parser.next().is_none());
    assert_eq!(cal.events.len(), 1);
    assert_eq!(cal.timezones.len(), 1);
    let prop = |name: &str| cal.events[0].properties.iter().find(|p| p.name == name).unwrap_or_else(|| panic!("{name}"));
    assert_eq!(prop("SUMMARY").value.as_deref(), Some("Jour fixe\\; Haus A\\, Raum 1"));
    assert_eq!(prop("DTSTART").value.as_deref(), Some("20311020T093000"));
    let tzid = prop("DTSTART").params.as_ref().unwrap().iter().find(|(k, _)| k == "TZID").unwrap().1[0].clone();
    assert_eq!(tzid, "Europe/Berlin");
    assert_eq!(prop("DTEND").value.as_deref(), Some("20311020T100000"));
    assert_eq!(prop("RRULE").value.as_deref(), Some("FREQ=WEEKLY;UNTIL=20311201T225959Z"));
    assert!(prop("UID").value.as_deref().unwrap().starts_with(id));
    assert!(prop("DESCRIPTION").value.as_deref().unwrap().contains(&format!("/m/{id}")));
    assert!(prop("ATTENDEE").value.as_deref().unwrap().ends_with("gast@example.net"));
    let tz = &cal.timezones[0];
    assert_eq!(tz.properties.iter().find(|p| p.name == "TZID").and_then(|p| p.value.as_deref()), Some("Europe/Berlin"));
    assert_eq!(tz.transitions.len(), 2, "standard and daylight rules");
    // Until a past date is refused; a non-weekly frequency too.
    let (status, err) = e
        .write("POST", "/api/v1/meetings", json!({"title": "x", "start": "2031-10-20T09:30", "end": "2031-10-20T10:00",
            "recurrence": {"frequency": "daily", "until": "2031-01-01"}}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(err["error"]["fields"]["recurrence.frequency"].is_string(), "{err}");
    assert!(err["error"]["fields"]["recurrence.until"].is_string(), "{err}");
    // A weekly meeting that started weeks ago is still upcoming, with its next occurrence at the same local time.
    let start = Utc::now() - Duration::days(20);
    let local = start.with_timezone(&chrono_tz::Europe::Berlin).format("%Y-%m-%dT%H:%M").to_string();
    let end = (start + Duration::minutes(30)).with_timezone(&chrono_tz::Europe::Berlin).format("%Y-%m-%dT%H:%M").to_string();
    let (status, w) = e
        .write("POST", "/api/v1/meetings", json!({"title": "Weekly", "start": local, "end": end, "recurrence": {"frequency": "weekly"}}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{w}");
    let next: chrono::DateTime<Utc> = w["next_start_utc"].as_str().unwrap().parse().unwrap();
    assert!(next > Utc::now() - Duration::minutes(30) && next < Utc::now() + Duration::days(7), "{next}");
    let next_local = next.with_timezone(&chrono_tz::Europe::Berlin).format("%H:%M").to_string();
    assert_eq!(next_local, local[11..]);
}

async fn permissions(env: &Env) {
    env.user("admin@example.org", "Ada", Role::Admin).await;
    env.user("erika@example.org", "Erika", Role::Staff).await;
    env.user("max@example.org", "Max", Role::Staff).await;
    let mut e = env.login("erika@example.org").await;
    let mut mx = env.login("max@example.org").await;
    let mut a = env.login("admin@example.org").await;
    let (_, m) = e.write("POST", "/api/v1/meetings", meeting_body("Erikas", 60, 90)).await;
    let path = format!("/api/v1/meetings/{}", m["id"].as_str().unwrap());
    // Staff cannot read, edit or delete someone else's meeting.
    assert_eq!(mx.get(&path).await.0, StatusCode::FORBIDDEN);
    let mut edit = meeting_body("Übernommen", 60, 90);
    edit["version"] = json!(1);
    let (status, err) = mx.write("PUT", &path, edit.clone()).await;
    assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")));
    assert_eq!(mx.delete(&path).await, StatusCode::FORBIDDEN);
    assert_eq!(mx.get(&format!("{path}/invite.ics")).await.0, StatusCode::FORBIDDEN);
    assert_eq!(mx.get("/api/v1/meetings?all=true").await.0, StatusCode::FORBIDDEN);
    // Admins can.
    let (_, all) = a.get("/api/v1/meetings?all=true").await;
    assert_eq!(all["meetings"].as_array().unwrap().len(), 1);
    let (status, _) = a.write("PUT", &path, edit).await;
    assert_eq!(status, StatusCode::OK);
    // Guests (no account) cannot reach the API, not even with a guest join token as cookie or header.
    let mut g = env.anonymous();
    for p in ["/api/v1/me", "/api/v1/meetings", "/api/v1/users", "/api/v1/audit", "/api/v1/directory", path.as_str()] {
        assert_eq!(g.get(p).await.0, StatusCode::UNAUTHORIZED, "{p}");
    }
    let (status, _) = g.write("POST", "/api/v1/meetings", meeting_body("Gast", 60, 90)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    g.jar.insert("plenum_session".into(), "forged".into());
    assert_eq!(g.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
    // Unknown API paths are JSON 404s.
    let (status, err) = a.get("/api/v1/nope").await;
    assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
}

async fn validation(env: &Env) {
    env.user("erika@example.org", "Erika", Role::Staff).await;
    let mut e = env.login("erika@example.org").await;
    let fields = |v: &Value| v["error"]["fields"].clone();
    let (status, err) = e.write("POST", "/api/v1/meetings", meeting_body("x", 60, 30)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["error"]["code"], "validation");
    assert_eq!(fields(&err)["end"], "the end must be after the start");
    let (_, err) = e.write("POST", "/api/v1/meetings", meeting_body("   ", 60, 90)).await;
    assert_eq!(fields(&err)["title"], "the title must not be empty");
    let (_, err) = e.write("POST", "/api/v1/meetings", meeting_body(&"x".repeat(201), 60, 90)).await;
    assert!(fields(&err)["title"].as_str().unwrap().contains("at most 200"), "{err}");
    let mut body = meeting_body("ok", 60, 90);
    body["moderators"] = json!(["no-such-user"]);
    let (_, err) = e.write("POST", "/api/v1/meetings", body).await;
    assert!(fields(&err)["moderators"].as_str().unwrap().contains("no-such-user"), "{err}");
    let (_, err) = e
        .write("POST", "/api/v1/meetings", json!({"title": "t", "start": "morgen", "end": "2030-01-01T10:00", "time_zone": "Mars/Olympus"}))
        .await;
    assert!(fields(&err)["start"].is_string() && fields(&err)["time_zone"].is_string(), "{err}");
    // The list the meeting form offers: Berlin first; every entry is accepted.
    let (status, zones) = e.get("/api/v1/time-zones").await;
    assert_eq!(status, StatusCode::OK);
    let zones: Vec<&str> = zones.as_array().unwrap().iter().map(|z| z.as_str().unwrap()).collect();
    assert_eq!(zones[0], "Europe/Berlin");
    let (status, m) = e
        .write("POST", "/api/v1/meetings", json!({"title": "t", "start": "2030-01-01T10:00", "end": "2030-01-01T11:00",
            "time_zone": zones[zones.len() - 1]}))
        .await;
    assert_eq!((status, m["time_zone"].as_str()), (StatusCode::CREATED, Some(zones[zones.len() - 1])), "{m}");
    let gone = e.send("DELETE", &format!("/api/v1/meetings/{}", m["id"].as_str().unwrap()), None, true).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert_eq!(env.anonymous().get("/api/v1/time-zones").await.0, StatusCode::UNAUTHORIZED);
    let (status, err) = e.raw_write("POST", "/api/v1/meetings", "{\"title\": ").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(fields(&err)["body"].as_str().unwrap().starts_with("malformed JSON"), "{err}");
    let (_, err) = e.write("POST", "/api/v1/meetings", json!({"title": 5, "start": "x", "end": "y"})).await;
    assert!(fields(&err)["title"].is_string(), "{err}");
    let (_, err) = e.write("POST", "/api/v1/meetings", json!({"title": "t", "start": "2030-01-01T10:00"})).await;
    assert!(fields(&err)["end"].as_str().unwrap().contains("missing"), "{err}");
    let (_, err) = e.write("POST", "/api/v1/meetings", json!({"title": "t", "start": at(60), "end": at(90), "lobby": "sometimes"})).await;
    assert!(fields(&err)["lobby"].is_string(), "{err}");
    let (_, err) = e.write("POST", "/api/v1/meetings", json!({"title": "t", "start": at(60), "end": at(90), "invitees": ["nope"]})).await;
    assert!(fields(&err)["invitees"].is_string(), "{err}");
    // Nothing was stored.
    let (_, list) = e.get("/api/v1/meetings").await;
    assert!(list["meetings"].as_array().unwrap().is_empty());
}

async fn concurrent_update_conflicts(env: &Env) {
    env.user("erika@example.org", "Erika", Role::Staff).await;
    let mut e = env.login("erika@example.org").await;
    let (_, m) = e.write("POST", "/api/v1/meetings", meeting_body("Start", 60, 90)).await;
    let path = format!("/api/v1/meetings/{}", m["id"].as_str().unwrap());
    let mut e2 = e.clone();
    let mut one = meeting_body("Version A", 60, 90);
    one["version"] = json!(1);
    let mut two = meeting_body("Version B", 60, 90);
    two["version"] = json!(1);
    let (r1, r2) = tokio::join!(e.write("PUT", &path, one), e2.write("PUT", &path, two));
    let mut statuses = [r1.0, r2.0];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT], "{} / {}", r1.1, r2.1);
    let winner = if r1.0 == StatusCode::OK { &r1.1 } else { &r2.1 };
    let (_, now) = e.get(&path).await;
    assert_eq!(now["title"], winner["title"], "the loser did not overwrite");
    assert_eq!(now["version"], 2);
    let loser = if r1.0 == StatusCode::CONFLICT { &r1.1 } else { &r2.1 };
    assert_eq!(loser["error"]["code"], "conflict");
}

async fn joining_by_link(env: &Env) {
    let admin = env.user("admin@example.org", "Ada", Role::Admin).await;
    let erika = env.user("erika@example.org", "Erika", Role::Staff).await;
    let max = env.user("max@example.org", "Max", Role::Staff).await;
    env.user("otto@example.org", "Otto", Role::Staff).await;
    let mut e = env.login("erika@example.org").await;
    let mut body = meeting_body("Jetzt", 5, 60);
    body["moderators"] = json!([max.id]);
    body["lobby"] = json!("everyone");
    let (_, m) = e.write("POST", "/api/v1/meetings", body).await;
    let id = m["id"].as_str().unwrap().to_owned();
    let join = format!("/api/v1/join/{id}");
    // Owner, moderator and admin: moderators, no lobby. Others: wait in the lobby (lobby = everyone).
    for (email, who, moderator) in
        [("erika@example.org", &erika.id, true), ("max@example.org", &max.id, true), ("admin@example.org", &admin.id, true)]
    {
        let mut c = env.login(email).await;
        let (status, g) = c.write("POST", &join, json!({})).await;
        assert_eq!(status, StatusCode::OK, "{email}: {g}");
        let claims = verify_token(env, g["token"].as_str().unwrap(), &id);
        assert_eq!((claims.sub.as_str(), claims.moderator, claims.lobby, claims.guest), (who.as_str(), moderator, false, false));
        assert_eq!(g["path"].as_str().unwrap(), format!("/r/{id}#token={}", g["token"].as_str().unwrap()));
        assert!(claims.exp > claims.iat + 3600, "valid until after the end");
    }
    let mut o = env.login("otto@example.org").await;
    let (_, g) = o.write("POST", &join, json!({})).await;
    let claims = verify_token(env, g["token"].as_str().unwrap(), &id);
    assert_eq!((claims.name.as_str(), claims.moderator, claims.lobby), ("Otto", false, true));
    // The staff link needs a login.
    let mut anon = env.anonymous();
    assert_eq!(anon.write("POST", &join, json!({})).await.0, StatusCode::UNAUTHORIZED);
    // The guest link: info without login, then a token with the given name; guests wait in the lobby.
    let guest_path = m["guest_link"].as_str().unwrap().replace("https://meet.example.org/g/", "/api/v1/guest/");
    let (status, info) = anon.get(&guest_path).await;
    assert_eq!(status, StatusCode::OK, "{info}");
    assert_eq!((info["title"].as_str(), info["status"].as_str()), (Some("Jetzt"), Some("open")));
    let (status, g) = anon.write("POST", &guest_path, json!({"name": "  Gabi Gast "})).await;
    assert_eq!(status, StatusCode::OK, "{g}");
    let claims = verify_token(env, g["token"].as_str().unwrap(), &id);
    assert_eq!((claims.name.as_str(), claims.guest, claims.lobby, claims.moderator), ("Gabi Gast", true, true, false));
    assert!(claims.sub.starts_with("guest-"));
    let (status, err) = anon.write("POST", &guest_path, json!({"name": ""})).await;
    assert_eq!((status, err["error"]["fields"]["name"].is_string()), (StatusCode::UNPROCESSABLE_ENTITY, true));
    // A wrong secret is simply unknown.
    assert_eq!(anon.get(&format!("/api/v1/guest/{id}/wrongsecret")).await.0, StatusCode::NOT_FOUND);
    // Lobby off: guests go straight in. Guests not allowed: refused.
    let mut upd = meeting_body("Jetzt", 5, 60);
    upd["lobby"] = json!("off");
    upd["version"] = json!(1);
    assert_eq!(e.write("PUT", &format!("/api/v1/meetings/{id}"), upd.clone()).await.0, StatusCode::OK);
    let (_, g) = anon.write("POST", &guest_path, json!({"name": "Gabi"})).await;
    assert!(!verify_token(env, g["token"].as_str().unwrap(), &id).lobby);
    upd["guests_allowed"] = json!(false);
    upd["version"] = json!(2);
    assert_eq!(e.write("PUT", &format!("/api/v1/meetings/{id}"), upd).await.0, StatusCode::OK);
    let (status, err) = anon.write("POST", &guest_path, json!({"name": "Gabi"})).await;
    assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("guests_not_allowed")));
    // Not open yet (opens 15 minutes before), and over.
    let (_, later) = e.write("POST", "/api/v1/meetings", meeting_body("Später", 120, 180)).await;
    let (status, err) = e.write("POST", &format!("/api/v1/join/{}", later["id"].as_str().unwrap()), json!({})).await;
    assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("meeting_not_open")));
    let opens: chrono::DateTime<Utc> = err["error"]["opens_at"].as_str().unwrap().parse().unwrap();
    let starts: chrono::DateTime<Utc> = err["error"]["starts_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(starts - opens, Duration::minutes(15));
    assert!(err["error"]["message"].as_str().unwrap().contains("not open yet"), "{err}");
    let mut early = meeting_body("Früh offen", 50, 80);
    early["join_opens_minutes"] = json!(60);
    let (_, early) = e.write("POST", "/api/v1/meetings", early).await;
    assert_eq!(e.write("POST", &format!("/api/v1/join/{}", early["id"].as_str().unwrap()), json!({})).await.0, StatusCode::OK);
    let (_, over) = e.write("POST", "/api/v1/meetings", meeting_body("Vorbei", -120, -60)).await;
    let (status, err) = e.write("POST", &format!("/api/v1/join/{}", over["id"].as_str().unwrap()), json!({})).await;
    assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::GONE, Some("meeting_over")));
    // Ended by a moderator: refused until the next occurrence.
    let early_id = early["id"].as_str().unwrap();
    assert_eq!((early["status"].as_str(), early["ended_at"].as_str()), (Some("open"), None));
    let now = plenum_signaling::db::now_secs();
    assert!(plenum_signaling::meetings::room_store::mark_ended(&env.db, early_id, now).await.unwrap());
    let (status, err) = e.write("POST", &format!("/api/v1/join/{early_id}"), json!({})).await;
    assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::GONE, Some("meeting_ended")));
    // The API shows it.
    let (_, shown) = e.get(&format!("/api/v1/meetings/{early_id}")).await;
    assert_eq!(shown["status"], "ended", "{shown}");
    assert!(shown["ended_at"].as_str().is_some_and(|t| t.ends_with('Z')), "{shown}");
    // A deleted meeting's links say so.
    assert_eq!(e.send("DELETE", &format!("/api/v1/meetings/{early_id}"), None, true).await.status, StatusCode::NO_CONTENT);
    let (status, err) = e.write("POST", &format!("/api/v1/join/{early_id}"), json!({})).await;
    assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::GONE, Some("meeting_deleted")));
}

/// A ban holds at the links: an account by its id, a guest by the identity its browser's guest cookie gives.
async fn banned_people_are_refused_at_the_links(env: &Env) {
    env.user("erika@example.org", "Erika", Role::Staff).await;
    let otto = env.user("otto@example.org", "Otto", Role::Staff).await;
    let mut e = env.login("erika@example.org").await;
    let (_, m) = e.write("POST", "/api/v1/meetings", meeting_body("Offen", 5, 60)).await;
    let id = m["id"].as_str().unwrap().to_owned();
    let moderator = plenum_signaling::audit::Actor::new("mod", "Moni");
    // Otto is banned: his staff link is refused with a clear message.
    plenum_signaling::meetings::room_store::ban(&env.db, &id, &otto.id, "Otto", &moderator).await.unwrap();
    let mut o = env.login("otto@example.org").await;
    let (status, err) = o.write("POST", &format!("/api/v1/join/{id}"), json!({})).await;
    assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("banned")), "{err}");
    assert!(err["error"]["message"].as_str().unwrap().contains("cannot rejoin"), "{err}");
    // A guest: the same browser (cookie) gets the same identity in this meeting.
    let guest_path = m["guest_link"].as_str().unwrap().replace("https://meet.example.org/g/", "/api/v1/guest/");
    let mut g = env.anonymous();
    let (status, first) = g.write("POST", &guest_path, json!({"name": "Gabi"})).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let cookie = g.last_set_cookies.iter().find(|c| c.starts_with("plenum_guest=")).expect("a guest cookie").clone();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/api/v1/guest", "Max-Age="] {
        assert!(cookie.contains(attr), "{cookie} lacks {attr}");
    }
    let identity = verify_token(env, first["token"].as_str().unwrap(), &id).sub;
    let (_, again) = g.write("POST", &guest_path, json!({"name": "Gabi"})).await;
    assert_eq!(verify_token(env, again["token"].as_str().unwrap(), &id).sub, identity, "same browser, same guest");
    plenum_signaling::meetings::room_store::ban(&env.db, &id, &identity, "Gabi", &moderator).await.unwrap();
    let (status, err) = g.write("POST", &guest_path, json!({"name": "Gabi"})).await;
    assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("banned")), "{err}");
    // What a guest ban cannot hold: another browser (no cookie) is another guest.
    let mut other = env.anonymous();
    let (status, fresh) = other.write("POST", &guest_path, json!({"name": "Gabi"})).await;
    assert_eq!(status, StatusCode::OK, "{fresh}");
    assert_ne!(verify_token(env, fresh["token"].as_str().unwrap(), &id).sub, identity);
    // The guest identity differs per meeting: one browser cannot be followed across meetings.
    let (_, m2) = e.write("POST", "/api/v1/meetings", meeting_body("Noch eins", 5, 60)).await;
    let path2 = m2["guest_link"].as_str().unwrap().replace("https://meet.example.org/g/", "/api/v1/guest/");
    let (status, g2) = g.write("POST", &path2, json!({"name": "Gabi"})).await;
    assert_eq!(status, StatusCode::OK, "{g2}");
    assert_ne!(verify_token(env, g2["token"].as_str().unwrap(), m2["id"].as_str().unwrap()).sub, identity);
}

/// A meeting's moderators (and admins) list its bans and lift one: the person's link works again. Staff who do
/// not moderate it (even if invited) get 403; lifting is audited as `ban.lifted`.
async fn lifting_bans(env: &Env) {
    env.user("admin@example.org", "Ada", Role::Admin).await;
    env.user("erika@example.org", "Erika", Role::Staff).await;
    let max = env.user("max@example.org", "Max", Role::Staff).await;
    let otto = env.user("otto@example.org", "Otto", Role::Staff).await;
    env.user("sam@example.org", "Sam", Role::Staff).await;
    let mut e = env.login("erika@example.org").await;
    let mut body = meeting_body("Sprechstunde", 5, 60);
    body["moderators"] = json!([max.id]);
    body["invitees"] = json!(["sam@example.org", "otto@example.org"]);
    let (_, m) = e.write("POST", "/api/v1/meetings", body).await;
    let id = m["id"].as_str().unwrap().to_owned();
    let moderator = plenum_signaling::audit::Actor::new(max.id.clone(), "Max");
    plenum_signaling::meetings::room_store::ban(&env.db, &id, &otto.id, "Otto O.", &moderator).await.unwrap();
    let mut o = env.login("otto@example.org").await;
    let join = format!("/api/v1/join/{id}");
    let (status, err) = o.write("POST", &join, json!({})).await;
    assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("banned")), "{err}");
    // The owner and an admin see the ban: whom, under which name, by whom.
    let bans = format!("/api/v1/meetings/{id}/bans");
    for email in ["erika@example.org", "admin@example.org"] {
        let mut c = env.login(email).await;
        let (status, list) = c.get(&bans).await;
        assert_eq!(status, StatusCode::OK, "{email}: {list}");
        let list = list["bans"].as_array().unwrap().clone();
        assert_eq!(list.len(), 1, "{list:?}");
        assert_eq!((list[0]["identity"].as_str(), list[0]["name"].as_str()), (Some(otto.id.as_str()), Some("Otto O.")));
        assert_eq!(list[0]["banned_by_name"], "Max");
    }
    // Invited staff who are no moderators may neither see nor lift bans; the banned person neither.
    let lift = format!("{bans}/{}", otto.id);
    for email in ["sam@example.org", "otto@example.org"] {
        let mut c = env.login(email).await;
        let (status, err) = c.get(&bans).await;
        assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "{email}: {err}");
        assert_eq!(c.delete(&lift).await, StatusCode::FORBIDDEN, "{email}");
    }
    assert_eq!(env.anonymous().get(&bans).await.0, StatusCode::UNAUTHORIZED);
    assert!(plenum_signaling::meetings::room_store::is_banned(&env.db, &id, &otto.id).await.unwrap(), "still banned");
    // The moderator lifts it: Otto's link works again; a second lift finds nothing.
    let mut mx = env.login("max@example.org").await;
    assert_eq!(mx.delete(&lift).await, StatusCode::NO_CONTENT);
    assert_eq!(mx.delete(&lift).await, StatusCode::NOT_FOUND);
    assert_eq!(mx.delete(&format!("/api/v1/meetings/nope/bans/{}", otto.id)).await, StatusCode::NOT_FOUND);
    let (_, list) = mx.get(&bans).await;
    assert_eq!(list["bans"], json!([]));
    let (status, joined) = o.write("POST", &join, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{joined}");
    assert_eq!(verify_token(env, joined["token"].as_str().unwrap(), &id).sub, otto.id);
    // Audited: who lifted whose ban, in which meeting.
    let lifted: Vec<(String, String, String)> =
        sqlx::query_as("SELECT actor_name, target_id, target_name FROM audit_log WHERE action = 'ban.lifted' AND meeting_id = $1")
            .bind(id.clone())
            .fetch_all(env.db.pool())
            .await
            .unwrap();
    assert_eq!(lifted, vec![("Max".to_owned(), otto.id.clone(), "Otto O.".to_owned())]);
}

async fn openapi_document(env: &Env) {
    let mut c = env.anonymous();
    let (status, doc) = c.get("/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{}", doc["openapi"]);
    for path in ["/api/v1/login", "/api/v1/meetings", "/api/v1/meetings/{id}", "/api/v1/meetings/{id}/invite.ics",
        "/api/v1/users/{id}", "/api/v1/guest/{id}/{secret}", "/api/v1/audit", "/api/v1/time-zones",
        "/api/v1/meetings/{id}/bans", "/api/v1/meetings/{id}/bans/{identity}"]
    {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    assert!(doc["components"]["schemas"]["MeetingInput"].is_object());
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
}

macro_rules! scenarios {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let env = super::Env::sqlite(stringify!($name)).await;
                    super::$name(&env).await;
                    env.close().await;
                }
            )*
        }

        /// The same scenarios against PostgreSQL: one throwaway cluster, a fresh database each.
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn postgres_all_scenarios() {
            let Some(cluster) = api_support::postgres::PgCluster::start() else { return };
            $(
                let env = Env::postgres(&cluster, stringify!($name)).await;
                $name(&env).await;
                env.close().await;
            )*
        }
    };
}

scenarios!(
    auth_sessions_and_csrf,
    login_rate_limit,
    users_crud_and_audit,
    disabled_accounts,
    forwarded_client_addresses,
    meetings_crud,
    recurrence_and_ics,
    permissions,
    validation,
    concurrent_update_conflicts,
    banned_people_are_refused_at_the_links,
    lifting_bans,
    joining_by_link,
    openapi_document,
);
