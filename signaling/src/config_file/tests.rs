use super::*;

fn errors(text: &str) -> Vec<String> {
    match parse("plenum.toml", text) {
        Ok(file) => panic!("expected problems, got {file:?}"),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn accepts_every_option_with_tables_and_numbers() {
    let file = parse(
        "plenum.toml",
        "http_addr = \"0.0.0.0:8080\"\nworkers = 4\ndrain_timeout = \"10m\"\nlog_format = \"json\"\n",
    )
    .unwrap();
    let got: Vec<(&str, &str, usize)> =
        file.entries.iter().map(|e| (e.id.as_str(), e.values[0].as_str(), e.line)).collect();
    assert_eq!(
        got,
        [("http_addr", "0.0.0.0:8080", 1), ("workers", "4", 2), ("drain_timeout", "10m", 3), ("log_format", "json", 4)]
    );
}

#[test]
fn a_table_prefixes_its_keys() {
    // `[log] format` is `log_format`.
    let file = parse("plenum.toml", "[log]\nformat = \"json\"\nlevel = \"debug\"\n").unwrap();
    assert_eq!(file.entries.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["log_format", "log_level"]);
}

#[test]
fn documented_messages() {
    assert_eq!(errors("htp_addr = \"x\"\n"), ["plenum.toml:1: unknown key \"htp_addr\" (did you mean \"http_addr\"?)"]);
    assert_eq!(
        errors("\ncolour = \"blue\"\n"),
        ["plenum.toml:2: unknown key \"colour\" (see `plenum config example` for every option)"]
    );
    assert_eq!(
        errors("workers = \"many\"\n"),
        ["plenum.toml:1: bad value for \"workers\": 'many': invalid digit found in string"]
    );
    assert_eq!(
        errors("http_addr = \"localhost\"\n"),
        ["plenum.toml:1: bad value for \"http_addr\": 'localhost': invalid socket address syntax"]
    );
    assert_eq!(
        errors("log_format = \"xml\"\n"),
        ["plenum.toml:1: bad value for \"log_format\": 'xml': expected one of text, json"]
    );
    assert_eq!(errors("workers = [1, 2]\n"), ["plenum.toml:1: \"workers\" must be a string or a number"]);
    assert_eq!(errors("a = [\n"), ["plenum.toml:1: not valid TOML: unclosed array, expected `]`"]);
    assert_eq!(
        errors("secret = \"0123456789abcdef0123456789abcdef\"\nsecret_file = \"/run/secrets/plenum\"\n"),
        ["plenum.toml:2: set only one of \"secret\" and \"secret_file\""]
    );
    assert_eq!(errors("config = \"other.toml\"\n")[0], "plenum.toml:1: unknown key \"config\" (see `plenum config example` for every option)");
}

#[test]
fn every_problem_is_reported_in_line_order() {
    let got = errors("workers = \"x\"\nhttp_adr = \"y\"\nmedia_addr = \"z\"\n");
    let lines: Vec<&str> = got.iter().map(|e| e.split(':').nth(1).unwrap()).collect();
    assert_eq!(lines, ["1", "2", "3"]);
}

#[test]
fn the_example_names_every_option_and_its_defaults_are_valid() {
    let example = example();
    let serve = serve_command();
    for arg in serve.get_arguments().filter(|a| !NOT_IN_FILE.contains(&a.get_id().as_str())) {
        let id = arg.get_id().as_str();
        assert!(example.contains(&format!("\n#{id} = ")), "{id} missing from the example");
        if let Some(env) = arg.get_env() {
            assert!(example.contains(&format!("env: {}", env.to_string_lossy())), "{id}: env var missing");
        }
    }
    // Uncommenting every default gives a valid file.
    let defaults: String = example
        .lines()
        .filter(|l| l.starts_with('#') && l.contains(" = ") && !l.contains("not set by default"))
        .filter(|l| !l.starts_with("# "))
        .map(|l| format!("{}\n", &l[1..]))
        .collect();
    assert!(defaults.contains("http_addr = \"127.0.0.1:8080\""), "{defaults}");
    parse("defaults.toml", &defaults).unwrap();
}

#[test]
fn the_shipped_example_is_current() {
    let shipped = include_str!("../../../deploy/plenum.toml");
    assert_eq!(shipped, example(), "run: plenum config example > deploy/plenum.toml");
}

fn check_text(dir: &std::path::Path, text: &str) -> Vec<String> {
    let file = dir.join("plenum.toml");
    std::fs::write(&file, text).unwrap();
    match check(&file) {
        Ok(_) => Vec::new(),
        Err(errors) => errors.iter().map(|e| e.to_string().replace(&format!("{}/", dir.display()), "")).collect(),
    }
}

#[test]
fn tls_files_are_checked() {
    let dir = std::env::temp_dir().join(format!("plenum-config-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["meet.example".to_owned()]).unwrap();
    let other = rcgen::generate_simple_self_signed(vec!["meet.example".to_owned()]).unwrap();
    std::fs::write(dir.join("cert.pem"), cert.cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), cert.signing_key.serialize_pem()).unwrap();
    std::fs::write(dir.join("other-key.pem"), other.signing_key.serialize_pem()).unwrap();
    let d = dir.display();
    assert_eq!(check_text(&dir, &format!("tls_cert = \"{d}/cert.pem\"\ntls_key = \"{d}/key.pem\"\n")), Vec::<String>::new());
    assert_eq!(
        check_text(&dir, &format!("tls_cert = \"{d}/cert.pem\"\n")),
        ["plenum.toml:1: \"tls_cert\" needs \"tls_key\" too"]
    );
    assert_eq!(
        check_text(&dir, &format!("\ntls_key = \"{d}/key.pem\"\n")),
        ["plenum.toml:2: \"tls_key\" needs \"tls_cert\" too"]
    );
    assert_eq!(
        check_text(&dir, &format!("tls_cert = \"{d}/missing.pem\"\ntls_key = \"{d}/key.pem\"\n")),
        ["plenum.toml:1: \"tls_cert\": cannot read missing.pem: No such file or directory (os error 2)"]
    );
    assert_eq!(
        check_text(&dir, &format!("tls_cert = \"{d}/key.pem\"\ntls_key = \"{d}/key.pem\"\n")),
        ["plenum.toml:1: \"tls_cert\": key.pem: no certificate in the file (expected PEM \"-----BEGIN CERTIFICATE-----\")"]
    );
    assert_eq!(
        check_text(&dir, &format!("tls_cert = \"{d}/cert.pem\"\ntls_key = \"{d}/other-key.pem\"\n")),
        ["plenum.toml:2: \"tls_key\": other-key.pem: the private key does not belong to the certificate in cert.pem"]
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn turn_settings_are_checked() {
    let file = parse(
        "plenum.toml",
        "turn_urls = [\"turns:turn.example.org:443?transport=tcp\", \"turn:turn.example.org:3478?transport=udp\"]\n\
         turn_ttl = \"8h\"\nice_transport_policy = \"relay\"\n",
    )
    .unwrap();
    assert_eq!(file.entries[0].values.len(), 2);
    assert_eq!(
        errors("turn_urls = [\"turn:turn.example.org:3478\", \"stun:turn.example.org\"]\n"),
        ["plenum.toml:1: bad value for \"turn_urls\": 'stun:turn.example.org': a TURN URL starts with turn: or turns: \
          (e.g. turn:turn.example.org:3478?transport=udp or turns:turn.example.org:443?transport=tcp)"]
    );
    assert_eq!(
        errors("turn_urls = \"turns:turn.example.org:443?transport=udp\"\n"),
        ["plenum.toml:1: bad value for \"turn_urls\": 'turns:turn.example.org:443?transport=udp': turns: is TURN over \
          TLS, which runs over TCP: use ?transport=tcp"]
    );
    assert_eq!(
        errors("turn_secret = \"s\"\nturn_secret_file = \"/run/secrets/turn\"\n"),
        ["plenum.toml:2: set only one of \"turn_secret\" and \"turn_secret_file\""]
    );
    assert_eq!(
        errors("ice_transport_policy = \"never\"\n"),
        ["plenum.toml:1: bad value for \"ice_transport_policy\": 'never': expected one of all, relay"]
    );
}

#[test]
fn the_oidc_options_are_checked_together() {
    let dir = std::env::temp_dir().join(format!("plenum-config-oidc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let messages = |path: &Path| -> Vec<String> {
        check(path).err().unwrap_or_default().iter().map(ToString::to_string).collect()
    };
    let lonely = write("lonely.toml", "http_addr = \"127.0.0.1:8080\"\noidc_client_id = \"plenum\"\n");
    let got = messages(&lonely);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].starts_with(&format!("{}:2: \"oidc_client_id\" is set but \"oidc_issuer\" is not", lonely.display())), "{got:?}");
    let no_values = write(
        "novalues.toml",
        "oidc_issuer = \"https://sso.example.org/realms/staff\"\noidc_client_id = \"plenum\"\noidc_client_secret = \"s\"\n",
    );
    let got = messages(&no_values);
    assert!(got[0].contains(":1: \"oidc_admin_values\" and \"oidc_staff_values\" are both empty"), "{got:?}");
    let complete = write(
        "complete.toml",
        "oidc_issuer = \"https://sso.example.org/realms/staff\"\noidc_client_id = \"plenum\"\n\
         oidc_client_secret = \"s\"\noidc_admin_values = [\"plenum-admin\"]\noidc_staff_values = \"a,b\"\n\
         oidc_role_claim = \"realm_access.roles\"\noidc_scopes = [\"profile\", \"email\"]\n",
    );
    assert_eq!(messages(&complete), Vec::<String>::new());
    std::fs::remove_dir_all(&dir).unwrap();
}
