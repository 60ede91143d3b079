//! `plenum.toml` through the real binary: `plenum config check` messages, precedence (flag > env > file), secrets
//! from files, a bad file stopping `serve`, and JSON logs without personal data.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::{SECRET, temp_dir};
use plenum_signaling::token::TokenKeys;
use tokio::io::{AsyncBufReadExt, BufReader};

fn plenum(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_plenum"));
    cmd.args(args);
    // The tests' own environment must not leak in.
    for var in ["PLENUM_PUBLIC_URL", "PLENUM_SECRET", "PLENUM_SECRET_FILE", "PLENUM_CONFIG", "RUST_LOG", "PLENUM_LOG"] {
        cmd.env_remove(var);
    }
    cmd
}

fn run(cmd: &mut Command) -> (bool, String, String) {
    let Output { status, stdout, stderr } = cmd.output().expect("plenum runs");
    (status.success(), String::from_utf8(stdout).unwrap(), String::from_utf8(stderr).unwrap())
}

struct Dir(PathBuf);

impl Dir {
    fn new(label: &str) -> Dir {
        let dir = temp_dir(label);
        std::fs::create_dir_all(&dir).unwrap();
        Dir(dir)
    }
    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn check_accepts_a_good_file() {
    let dir = Dir::new("cfg-good");
    let secret = dir.write("secret", &format!("{SECRET}\n"));
    let file = dir.write(
        "plenum.toml",
        &format!("http_addr = \"0.0.0.0:8080\"\nsecret_file = \"{}\"\n\n[log]\nformat = \"json\"\n", s(&secret)),
    );
    let (ok, out, err) = run(&mut plenum(&["config", "check", s(&file)]));
    assert!(ok, "{err}");
    assert_eq!(out, format!("{}: ok (3 settings)\n", s(&file)));
}

#[test]
fn check_says_exactly_what_is_wrong() {
    let dir = Dir::new("cfg-bad");
    let file = dir.write(
        "plenum.toml",
        "# Plenum\nhtp_addr = \"0.0.0.0:8080\"\nworkers = \"many\"\nsecret_file = \"/nonexistent/plenum-secret\"\n\
         drain_timeout = \"soon\"\n",
    );
    let (ok, out, err) = run(&mut plenum(&["config", "check", s(&file)]));
    assert!(!ok);
    assert_eq!(out, "");
    let f = s(&file);
    assert_eq!(
        err,
        format!(
            "{f}:2: unknown key \"htp_addr\" (did you mean \"http_addr\"?)\n\
             {f}:3: bad value for \"workers\": 'many': invalid digit found in string\n\
             {f}:4: \"secret_file\": cannot read /nonexistent/plenum-secret: No such file or directory (os error 2)\n\
             {f}:5: bad value for \"drain_timeout\": 'soon': expected number at 0 (examples: 0s, 90s, 30m, 1h)\n\
             plenum: 4 problem(s) in {f}\n"
        )
    );
    let (ok, _, err) = run(&mut plenum(&["config", "check", "/nonexistent/plenum.toml"]));
    assert!(!ok);
    assert!(err.starts_with("/nonexistent/plenum.toml: cannot read the file: No such file"), "{err}");
}

#[test]
fn serve_refuses_a_bad_file() {
    let dir = Dir::new("cfg-serve-bad");
    let file = dir.write("plenum.toml", "workers = -1\n");
    let (ok, _, err) = run(&mut plenum(&["serve", "--config", s(&file)]));
    assert!(!ok);
    assert!(err.contains("the configuration file has problems"), "{err}");
    assert!(err.contains(":1: bad value for \"workers\": '-1'"), "{err}");
}

#[test]
fn flags_beat_env_beat_file_and_secrets_come_from_files() {
    let dir = Dir::new("cfg-precedence");
    let secret = dir.write("secret", &format!("  {SECRET}\n"));
    let file = dir.write(
        "plenum.toml",
        &format!("public_url = \"https://file.example\"\nsecret_file = \"{}\"\ndata_dir = \"{}\"\n", s(&secret), s(&dir.0)),
    );
    let token_args = ["token", "--room", "r1", "--identity", "erika", "--name", "Erika"];
    let url = |cmd: &mut Command| {
        let (ok, out, err) = run(cmd);
        assert!(ok, "{err}");
        out.trim().to_owned()
    };
    let from_file = url(plenum(&token_args).args(["--config", s(&file)]));
    assert!(from_file.starts_with("https://file.example/r/r1#token="), "{from_file}");
    // Signed with the secret from the file (whitespace trimmed).
    let token = from_file.split("#token=").nth(1).unwrap();
    TokenKeys::new(SECRET.as_bytes()).verify(token, "r1").expect("signed with the file's secret");

    let from_env = url(plenum(&token_args).args(["--config", s(&file)]).env("PLENUM_PUBLIC_URL", "https://env.example"));
    assert!(from_env.starts_with("https://env.example/r/r1#"), "{from_env}");
    let from_flag = url(
        plenum(&token_args)
            .args(["--config", s(&file), "--public-url", "https://flag.example"])
            .env("PLENUM_PUBLIC_URL", "https://env.example"),
    );
    assert!(from_flag.starts_with("https://flag.example/r/r1#"), "{from_flag}");
    // PLENUM_CONFIG works like --config.
    let via_env = url(plenum(&token_args).env("PLENUM_CONFIG", s(&file)));
    assert!(via_env.starts_with("https://file.example/"), "{via_env}");
}

#[tokio::test]
async fn json_logs_carry_ids_but_no_names() {
    let dir = Dir::new("cfg-json");
    let file = dir.write(
        "plenum.toml",
        &format!(
            "http_addr = \"127.0.0.1:0\"\nmedia_addr = \"127.0.0.1:0\"\nworkers = 1\ndata_dir = \"{}\"\nlog_format = \"json\"\n",
            s(&dir.0)
        ),
    );
    let mut child = tokio::process::Command::from({
        let mut cmd = plenum(&["serve", "--config", s(&file)]);
        cmd.env("PLENUM_SECRET", SECRET).stdout(Stdio::piped()).stderr(Stdio::piped());
        cmd
    })
    .kill_on_drop(true)
    .spawn()
    .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut err = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let line = out.next_line().await.unwrap().expect("plenum runs");
            if let Some(url) = line.strip_prefix("Plenum is running at http://") {
                return url.trim().to_owned();
            }
        }
    })
    .await
    .unwrap();
    tokio::spawn(async move { while let Ok(Some(_)) = out.next_line().await {} });

    let server = common::TestServer::external(addr.parse().unwrap());
    let (_ws, joined) = server.join("budget", "erika.mustermann").await;
    let sid = joined["you"]["sid"].as_str().unwrap().to_owned();

    let joined_line = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let line = err.next_line().await.unwrap().expect("logs");
            let value: serde_json::Value =
                serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
            assert!(value["level"].is_string() && value["timestamp"].is_string(), "{line}");
            if value["message"] == "joined" {
                return (line, value);
            }
        }
    })
    .await
    .expect("a joined log line");
    let (line, value) = joined_line;
    assert_eq!(value["room"], "budget", "{line}");
    assert_eq!(value["participant"], sid.as_str(), "{line}");
    assert!(!line.contains("erika") && !line.contains("Name"), "no identity or name in logs: {line}");
}
