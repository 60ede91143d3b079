use super::*;

fn args() -> OidcArgs {
    OidcArgs {
        oidc_issuer: Some("https://sso.example.org/realms/staff".into()),
        oidc_client_id: Some("plenum".into()),
        oidc_client_secret: Some("s3cret".into()),
        oidc_client_secret_file: None,
        oidc_display_name: "Landesportal".into(),
        oidc_role_claim: "roles".into(),
        oidc_admin_values: vec!["plenum-admin".into()],
        oidc_staff_values: vec!["plenum-staff".into(), "staff".into()],
        oidc_scopes: vec!["profile".into(), "email".into(), "openid".into(), "email".into()],
    }
}

#[test]
fn off_when_nothing_is_set() {
    let off = OidcArgs { oidc_display_name: "Single Sign-On".into(), oidc_role_claim: "roles".into(), ..Default::default() };
    assert_eq!(OidcSettings::from_args(&off), Ok(None));
}

#[test]
fn a_complete_setting_is_accepted() {
    let s = OidcSettings::from_args(&args()).unwrap().unwrap();
    assert_eq!(s.issuer, "https://sso.example.org/realms/staff");
    assert_eq!(s.scopes, ["profile", "email"], "openid is implied, duplicates dropped");
    assert_eq!(s.role_for(&["x".into(), "plenum-admin".into()]), Some(Role::Admin));
    assert_eq!(s.role_for(&["staff".into()]), Some(Role::Staff));
    assert_eq!(s.role_for(&["plenum-staff".into(), "plenum-admin".into()]), Some(Role::Admin), "admin wins");
    assert_eq!(s.role_for(&["Plenum-Admin".into()]), None, "values compare exactly");
    assert_eq!(s.role_for(&[]), None);
}

#[test]
fn clear_messages_for_incomplete_settings() {
    let no_issuer = OidcArgs { oidc_issuer: None, ..args() };
    let e = OidcSettings::from_args(&no_issuer).unwrap_err();
    assert_eq!(e, OidcConfigError::NoIssuer("oidc_client_id"));
    assert!(e.to_string().contains("\"oidc_client_id\" is set but \"oidc_issuer\" is not"), "{e}");
    let no_id = OidcArgs { oidc_client_id: None, ..args() };
    assert_eq!(OidcSettings::from_args(&no_id), Err(OidcConfigError::NoClientId));
    let no_secret = OidcArgs { oidc_client_secret: None, ..args() };
    assert_eq!(OidcSettings::from_args(&no_secret), Err(OidcConfigError::NoClientSecret));
    let no_values = OidcArgs { oidc_admin_values: vec![], oidc_staff_values: vec![" ".into()], ..args() };
    assert_eq!(OidcSettings::from_args(&no_values), Err(OidcConfigError::NoRoleValues("roles".into())));
    let plain = OidcArgs { oidc_issuer: Some("http://sso.example.org".into()), ..args() };
    assert!(matches!(OidcSettings::from_args(&plain), Err(OidcConfigError::BadIssuer { .. })));
    let loopback = OidcArgs { oidc_issuer: Some("http://127.0.0.1:9000".into()), ..args() };
    assert!(OidcSettings::from_args(&loopback).unwrap().is_some());
    let junk = OidcArgs { oidc_issuer: Some("sso.example.org".into()), ..args() };
    assert!(matches!(OidcSettings::from_args(&junk), Err(OidcConfigError::BadIssuer { .. })));
}

#[test]
fn the_secret_comes_from_a_file() {
    let dir = std::env::temp_dir().join(format!("plenum-oidc-secret-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("secret");
    std::fs::write(&file, "from-the-file\n").unwrap();
    let a = OidcArgs { oidc_client_secret: None, oidc_client_secret_file: Some(file.clone()), ..args() };
    assert_eq!(OidcSettings::from_args(&a).unwrap().unwrap().client_secret, "from-the-file");
    std::fs::write(&file, "  \n").unwrap();
    assert!(matches!(OidcSettings::from_args(&a), Err(OidcConfigError::EmptySecret(_))));
    let missing = OidcArgs { oidc_client_secret_file: Some(dir.join("nope")), ..a };
    assert!(matches!(OidcSettings::from_args(&missing), Err(OidcConfigError::SecretFile { .. })));
    std::fs::remove_dir_all(&dir).unwrap();
}
