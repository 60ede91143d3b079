//! OpenID Connect login end to end against a real OpenID provider: the npm `oidc-provider` package, started from
//! `tests/oidc-provider/provider.mjs` on 127.0.0.1 (scripts/test.sh installs it with `npm ci`). The browser is
//! played by hand: the API router's client on Plenum's side, reqwest with a cookie store on the provider's side,
//! every redirect followed explicitly, the provider's development login and consent forms posted.
//!
//! Runs against SQLite (with the role claim once from the userinfo endpoint, once in the ID token) and against a
//! throwaway PostgreSQL cluster.

#![allow(dead_code)]

mod api_support;

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use api_support::{Client, Env, PUBLIC_URL, Reply, SECRET};
use axum::http::StatusCode;
use plenum_signaling::accounts::{self, Role, oidc_link};
use plenum_signaling::config::OidcArgs;
use plenum_signaling::oidc::{OidcLogin, OidcSettings};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const CLIENT_ID: &str = "plenum-test";
const CLIENT_SECRET: &str = "plenum-test-client-secret";

/// The provider's node process; killed when dropped.
struct Provider {
    child: Child,
    issuer: String,
}

fn provider_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oidc-provider"))
}

async fn start_provider(roles_in_id_token: bool) -> Provider {
    let dir = provider_dir();
    assert!(
        dir.join("node_modules/oidc-provider").exists(),
        "the test OpenID provider is not installed: run `npm --prefix signaling/tests/oidc-provider ci` (scripts/test.sh does)"
    );
    let accounts = json!({
        "alice": {"email": "alice@land.example", "email_verified": true, "name": "Alice Admin",
                  "roles": ["plenum-admin", "somewhere-else"]},
        "sam": {"email": "Sam@Land.example", "email_verified": true, "name": "Sam Staff", "roles": ["plenum-staff"]},
        "nora": {"email": "nora@land.example", "email_verified": true, "name": "Nora Nobody", "roles": ["unrelated"]},
        "kim": {"email": "kim@land.example", "email_verified": true, "name": "Kim Keycloak",
                "realm_access": {"roles": ["plenum-staff"]}},
    });
    let mut child = Command::new("node")
        .arg("provider.mjs")
        .current_dir(dir)
        .env("REDIRECT_URI", format!("{PUBLIC_URL}/api/v1/auth/oidc/callback"))
        .env("CLIENT_ID", CLIENT_ID)
        .env("CLIENT_SECRET", CLIENT_SECRET)
        .env("ACCOUNTS", accounts.to_string())
        .env("ROLES_IN_ID_TOKEN", if roles_in_id_token { "1" } else { "0" })
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("node starts (Debian package nodejs)");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let issuer = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Ok(v) = serde_json::from_str::<Value>(&line)
                && let Some(issuer) = v["issuer"].as_str()
            {
                return issuer.to_owned();
            }
        }
        panic!("the provider exited without printing its issuer");
    })
    .await
    .expect("the provider starts within 30 s");
    // Keep reading its output so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Provider { child, issuer }
}

fn settings(issuer: &str, role_claim: &str) -> OidcSettings {
    let args = OidcArgs {
        oidc_issuer: Some(issuer.to_owned()),
        oidc_client_id: Some(CLIENT_ID.into()),
        oidc_client_secret: Some(CLIENT_SECRET.into()),
        oidc_client_secret_file: None,
        oidc_display_name: "Landesportal".into(),
        oidc_role_claim: role_claim.into(),
        oidc_admin_values: vec!["plenum-admin".into()],
        oidc_staff_values: vec!["plenum-staff".into()],
        oidc_scopes: vec!["profile".into(), "email".into(), "roles".into()],
    };
    OidcSettings::from_args(&args).unwrap().unwrap()
}

fn location(reply: &Reply) -> String {
    reply.headers.get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

/// What to do to the provider's answer before it reaches Plenum.
#[derive(Clone, Copy, PartialEq)]
enum Tamper {
    None,
    /// Change the `state` parameter.
    State,
    /// Hand the callback to a browser that did not start the login (no login cookie).
    OtherBrowser,
}

/// Log in as `login` at the provider, starting at Plenum with `return_to`; Plenum's answer to the callback.
async fn oidc_login(env: &Env, c: &mut Client, login: &str, return_to: &str, tamper: Tamper) -> Reply {
    let start = c.send("GET", &format!("/api/v1/auth/oidc/login?return_to={return_to}"), None, false).await;
    assert_eq!(start.status, StatusCode::SEE_OTHER, "{}", start.text);
    let pending = start.last_cookie("plenum_oidc").expect("the login cookie");
    for attr in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/api/v1/auth/oidc"] {
        assert!(pending.contains(attr), "{pending} lacks {attr}");
    }
    let mut url = reqwest::Url::parse(&location(&start)).unwrap();
    let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let param = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(param("code_challenge_method").as_deref(), Some("S256"), "PKCE");
    assert!(param("nonce").is_some_and(|n| n.len() >= 16), "a nonce");
    assert!(param("state").is_some_and(|s| s.len() >= 16), "a state");
    assert_eq!(param("redirect_uri"), Some(format!("{PUBLIC_URL}/api/v1/auth/oidc/callback")));
    assert!(param("scope").unwrap().split(' ').any(|s| s == "openid"));

    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut steps = 0;
    let callback = loop {
        steps += 1;
        assert!(steps < 20, "too many steps at the provider");
        if url.as_str().starts_with(PUBLIC_URL) {
            break url;
        }
        let resp = browser.get(url.clone()).send().await.unwrap();
        let resp = if resp.status().is_redirection() {
            resp
        } else {
            // One of the provider's pages: its login form or its consent form.
            let status = resp.status();
            let page = resp.text().await.unwrap();
            assert_eq!(status, reqwest::StatusCode::OK, "{page}");
            let action = page.split("action=\"").nth(1).and_then(|r| r.split('"').next()).expect("a form");
            let form: Vec<(&str, &str)> = if page.contains("name=\"prompt\" value=\"login\"") {
                vec![("prompt", "login"), ("login", login), ("password", "any password")]
            } else {
                assert!(page.contains("name=\"prompt\" value=\"consent\""), "{page}");
                vec![("prompt", "consent")]
            };
            browser.post(url.join(action).unwrap()).form(&form).send().await.unwrap()
        };
        assert!(resp.status().is_redirection(), "{}: {}", resp.status(), resp.text().await.unwrap_or_default());
        let next = resp.headers().get("location").unwrap().to_str().unwrap().to_owned();
        url = url.join(&next).unwrap();
    };
    let mut path = callback.path().to_owned();
    let mut pairs: Vec<(String, String)> = callback.query_pairs().into_owned().collect();
    assert!(pairs.iter().any(|(k, _)| k == "code"), "{callback}");
    if tamper == Tamper::State {
        for (k, v) in &mut pairs {
            if k == "state" {
                v.push('x');
            }
        }
    }
    let query: String = reqwest::Url::parse_with_params("http://x/", &pairs).unwrap().query().unwrap().to_owned();
    path.push('?');
    path.push_str(&query);
    if tamper == Tamper::OtherBrowser {
        let mut other = env.anonymous();
        return other.send("GET", &path, None, false).await;
    }
    c.send("GET", &path, None, false).await
}

trait LastCookie {
    fn last_cookie(&self, name: &str) -> Option<String>;
}

impl LastCookie for Reply {
    fn last_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }
}

async fn user_count(env: &Env) -> i64 {
    accounts::count_users(&env.db).await.unwrap()
}

/// The whole scenario on one database, with the role claim at `role_claim`.
async fn scenario(env: &mut Env, provider: &Provider) {
    let oidc = OidcLogin::new(settings(&provider.issuer, "roles"), PUBLIC_URL, SECRET).unwrap();
    env.set_oidc(Arc::new(oidc));

    // The login page learns about the button.
    let (status, options) = env.anonymous().get("/api/v1/auth/options").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(options, json!({"password": true, "oidc": {"name": "Landesportal", "login_url": "/api/v1/auth/oidc/login"}}));
    // Only same-origin paths to return to.
    let (status, err) = env.anonymous().get("/api/v1/auth/oidc/login?return_to=https://evil.example/").await;
    assert_eq!((status, err["error"]["fields"]["return_to"].is_string()), (StatusCode::UNPROCESSABLE_ENTITY, true), "{err}");
    let (status, _) = env.anonymous().get("/api/v1/auth/oidc/login?return_to=//evil.example/").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // An admin by the role claim: account created, session cookie as with a password, back where she started.
    let mut alice = env.anonymous();
    let done = oidc_login(env, &mut alice, "alice", "/m/abc123", Tamper::None).await;
    assert_eq!((done.status, location(&done).as_str()), (StatusCode::SEE_OTHER, "/m/abc123"), "{}", done.text);
    let session = done.last_cookie("plenum_session").expect("a session cookie");
    for attr in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
        assert!(session.contains(attr), "{session} lacks {attr}");
    }
    assert!(!alice.jar.contains_key("plenum_oidc"), "the login cookie is cleared after use");
    let (status, me) = alice.get("/api/v1/me").await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!((me["role"].as_str(), me["email"].as_str()), (Some("admin"), Some("alice@land.example")));
    assert_eq!((me["name"].as_str(), me["has_password"].as_bool()), (Some("Alice Admin"), Some(false)));
    let alice_id = me["id"].as_str().unwrap().to_owned();
    assert_eq!(user_count(env).await, 1);

    // The second login finds the same account through the provider's issuer and subject.
    let mut again = env.anonymous();
    let done = oidc_login(env, &mut again, "alice", "/meetings", Tamper::None).await;
    assert_eq!(location(&done), "/meetings");
    let (_, me) = again.get("/api/v1/me").await;
    assert_eq!(me["id"].as_str(), Some(alice_id.as_str()));
    assert_eq!(user_count(env).await, 1);
    assert_eq!(oidc_link::link_count(&env.db, &alice_id).await.unwrap(), 1);

    // Staff by the claim; the local account with the same address (any case) is linked, not duplicated, and the
    // provider's role wins over the local one.
    let local = env.user("sam@land.example", "Samuel (local)", Role::Admin).await;
    let mut sam = env.anonymous();
    let done = oidc_login(env, &mut sam, "sam", "/meetings", Tamper::None).await;
    assert_eq!(location(&done), "/meetings", "{}", done.text);
    let (_, me) = sam.get("/api/v1/me").await;
    assert_eq!((me["id"].as_str(), me["role"].as_str()), (Some(local.id.as_str()), Some("staff")));
    assert_eq!((me["name"].as_str(), me["has_password"].as_bool()), (Some("Sam Staff"), Some(true)));
    assert_eq!(user_count(env).await, 2);
    // Staff may not see the user list: the mapped role is the one enforced.
    assert_eq!(sam.get("/api/v1/users").await.0, StatusCode::FORBIDDEN);

    // No mapped value in the claim: refused with a code the login page explains, and nothing is created.
    let mut nora = env.anonymous();
    let done = oidc_login(env, &mut nora, "nora", "/meetings", Tamper::None).await;
    assert_eq!((done.status, location(&done).as_str()), (StatusCode::SEE_OTHER, "/login?oidc_error=oidc_no_role"));
    assert!(done.last_cookie("plenum_session").is_none());
    assert_eq!(nora.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(user_count(env).await, 2);

    // A changed state, or a callback in a browser that did not start the login: refused before the code is used.
    let mut mallory = env.anonymous();
    let done = oidc_login(env, &mut mallory, "alice", "/meetings", Tamper::State).await;
    assert_eq!(location(&done), "/login?oidc_error=oidc_state");
    assert!(done.last_cookie("plenum_session").is_none());
    assert_eq!(mallory.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
    let mut victim = env.anonymous();
    let done = oidc_login(env, &mut victim, "alice", "/meetings", Tamper::OtherBrowser).await;
    assert_eq!(location(&done), "/login?oidc_error=oidc_state");
    assert!(done.last_cookie("plenum_session").is_none());
    // The provider reporting an error (the user cancelled) after a genuine start.
    let mut cancel = env.anonymous();
    let start = cancel.send("GET", "/api/v1/auth/oidc/login", None, false).await;
    let state = reqwest::Url::parse(&location(&start))
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let done = cancel.send("GET", &format!("/api/v1/auth/oidc/callback?error=access_denied&state={state}"), None, false).await;
    assert_eq!(location(&done), "/login?oidc_error=oidc_denied");

    // The audit log has the logins and the refusal (who, why, which claim values).
    let (status, log) = alice.get("/api/v1/audit").await;
    assert_eq!(status, StatusCode::OK, "{log}");
    let entries = log.as_array().cloned().or_else(|| log["entries"].as_array().cloned()).expect("audit entries");
    let actions: Vec<&str> = entries.iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(actions.iter().filter(|a| **a == "login.oidc").count(), 3, "{actions:?}");
    let refused = entries.iter().find(|e| e["action"] == "login.oidc_refused").expect("the refusal is audited");
    assert_eq!(refused["actor_name"], "Nora Nobody");
    assert_eq!(refused["details"]["reason"], "oidc_no_role");
    assert_eq!(refused["details"]["role_claim_values"], json!(["unrelated"]));
    assert!(entries.iter().any(|e| e["action"] == "user.created" && e["target_id"] == alice_id.as_str()));

    // An admin disables Sam: his open session stops working and the provider's login is refused (and audited).
    let (_, before) = alice.get(&format!("/api/v1/users/{}", local.id)).await;
    let body = json!({"email": before["email"], "name": before["name"], "role": before["role"], "disabled": true,
        "version": before["version"]});
    let (status, after) = alice.write("PUT", &format!("/api/v1/users/{}", local.id), body).await;
    assert_eq!((status, after["disabled"].as_bool()), (StatusCode::OK, Some(true)), "{after}");
    assert_eq!(sam.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
    let mut sam_again = env.anonymous();
    let done = oidc_login(env, &mut sam_again, "sam", "/meetings", Tamper::None).await;
    assert_eq!(location(&done), "/login?oidc_error=oidc_disabled");
    assert!(done.last_cookie("plenum_session").is_none());
    let (_, log) = alice.get("/api/v1/audit?limit=3").await;
    let newest = &log.as_array().expect("entries")[0];
    assert_eq!((newest["action"].as_str(), newest["details"]["reason"].as_str()), (Some("login.oidc_refused"), Some("oidc_disabled")));
}

/// A nested role claim (Keycloak's realm roles).
async fn nested_role_claim(env: &mut Env, provider: &Provider) {
    let oidc = OidcLogin::new(settings(&provider.issuer, "realm_access.roles"), PUBLIC_URL, SECRET).unwrap();
    env.set_oidc(Arc::new(oidc));
    let mut kim = env.anonymous();
    let done = oidc_login(env, &mut kim, "kim", "/meetings", Tamper::None).await;
    assert_eq!(location(&done), "/meetings", "{}", done.text);
    let (_, me) = kim.get("/api/v1/me").await;
    assert_eq!(me["role"].as_str(), Some("staff"));
    // With this claim path alice (roles only in "roles") has no role.
    let mut alice = env.anonymous();
    let done = oidc_login(env, &mut alice, "alice", "/meetings", Tamper::None).await;
    assert_eq!(location(&done), "/login?oidc_error=oidc_no_role");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_roles_from_userinfo() {
    let provider = start_provider(false).await;
    let mut env = Env::sqlite("oidc-userinfo").await;
    scenario(&mut env, &provider).await;
    env.close().await;
    let mut env = Env::sqlite("oidc-nested").await;
    nested_role_claim(&mut env, &provider).await;
    env.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_roles_in_the_id_token() {
    let provider = start_provider(true).await;
    let mut env = Env::sqlite("oidc-idtoken").await;
    scenario(&mut env, &provider).await;
    env.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_roles_from_userinfo() {
    let Some(cluster) = api_support::postgres::PgCluster::start() else { return };
    let provider = start_provider(false).await;
    let mut env = Env::postgres(&cluster, "oidc_userinfo").await;
    scenario(&mut env, &provider).await;
    env.close().await;
}

#[tokio::test]
async fn without_oidc_the_endpoints_say_so() {
    let env = Env::sqlite("oidc-off").await;
    let (status, options) = env.anonymous().get("/api/v1/auth/options").await;
    assert_eq!((status, options), (StatusCode::OK, json!({"password": true, "oidc": null})));
    let (status, err) = env.anonymous().get("/api/v1/auth/oidc/login").await;
    assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
    let (status, _) = env.anonymous().get("/api/v1/auth/oidc/callback?code=x&state=y").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    env.close().await;
}

#[tokio::test]
async fn an_unreachable_provider_sends_the_browser_back_with_a_code() {
    let mut env = Env::sqlite("oidc-down").await;
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let oidc = OidcLogin::new(settings(&format!("http://127.0.0.1:{port}"), "roles"), PUBLIC_URL, SECRET).unwrap();
    env.set_oidc(Arc::new(oidc));
    let r = env.anonymous().send("GET", "/api/v1/auth/oidc/login", None, false).await;
    assert_eq!((r.status, location(&r).as_str()), (StatusCode::SEE_OTHER, "/login?oidc_error=oidc_unavailable"));
    env.close().await;
}
