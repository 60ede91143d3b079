//! Health, metrics, and the web client's HTML with its security headers.

mod common;

use common::*;
use plenum_signaling::http::CONTENT_SECURITY_POLICY;

#[tokio::test]
async fn healthz_and_metrics() {
    let server = start("http-basic").await;
    let (status, _, body) = http_get(server.addr, "/healthz").await;
    assert_eq!((status, body.as_str()), (200, "ok"));

    // One join, so the counters have moved.
    let (_ws, _) = server.join("metrics-room", "erika").await;
    let (status, headers, body) = http_get(server.addr, "/metrics").await;
    assert_eq!(status, 200);
    assert!(header(&headers, "content-type").unwrap().starts_with("text/plain"));
    for name in ["plenum_ws_connections", "plenum_joins_total", "plenum_participants"] {
        assert!(body.contains(name), "{name} missing in:\n{body}");
    }
}

#[tokio::test]
async fn room_page_has_security_headers() {
    let server = start("http-page").await;
    for path in ["/r/someroom", "/"] {
        let (status, headers, body) = http_get(server.addr, path).await;
        assert_eq!(header(&headers, "content-security-policy"), Some(CONTENT_SECURITY_POLICY));
        assert_eq!(header(&headers, "x-content-type-options"), Some("nosniff"));
        assert_eq!(header(&headers, "referrer-policy"), Some("no-referrer"));
        if status == 200 {
            assert!(header(&headers, "content-type").unwrap().starts_with("text/html"));
            assert!(body.to_ascii_lowercase().contains("<html"), "{body}");
        } else {
            // web-client/dist was not built when this ran.
            assert_eq!(status, 503);
            assert!(body.contains("npm --prefix web-client run build"), "{body}");
        }
    }
    assert!(CONTENT_SECURITY_POLICY.contains("default-src 'self'"));
    assert!(CONTENT_SECURITY_POLICY.contains("frame-ancestors 'none'"));
}

#[tokio::test]
async fn web_dir_override_serves_files_and_spa_fallback() {
    let web = temp_dir("webdir");
    std::fs::create_dir_all(web.join("assets")).unwrap();
    std::fs::write(web.join("index.html"), "<!doctype html><html lang=\"en\"><title>Plenum</title></html>").unwrap();
    std::fs::write(web.join("assets/app-abc123.js"), "console.log('hi')").unwrap();
    std::fs::write(web.join("assets/app-abc123.css"), "body{}").unwrap();
    let mut config = test_config("http-webdir");
    config.web_dir = Some(web.clone());
    let server = start_with(config).await;

    let (status, headers, body) = http_get(server.addr, "/r/team-weekly").await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(header(&headers, "content-security-policy"), Some(CONTENT_SECURITY_POLICY));
    assert_eq!(header(&headers, "cache-control"), Some("no-cache"));
    assert!(body.contains("<title>Plenum</title>"));

    let (status, headers, body) = http_get(server.addr, "/assets/app-abc123.js").await;
    assert_eq!(status, 200);
    assert!(header(&headers, "content-type").unwrap().contains("javascript"), "{headers:?}");
    assert!(header(&headers, "cache-control").unwrap().contains("immutable"));
    assert_eq!(body, "console.log('hi')");
    let (_, headers, _) = http_get(server.addr, "/assets/app-abc123.css").await;
    assert_eq!(header(&headers, "content-type"), Some("text/css; charset=utf-8"));

    assert_eq!(http_get(server.addr, "/assets/missing.js").await.0, 404);
    assert_eq!(http_get(server.addr, "/favicon.ico").await.0, 404);
    assert_eq!(http_get(server.addr, "/assets/../../etc/passwd").await.0, 404);
    assert_eq!(http_get(server.addr, "/some/deep/link").await.0, 200, "SPA fallback");
    let (status, _, body) = http_get(server.addr, "/r/team.weekly-2").await;
    assert_eq!(status, 200, "room names with dots are app routes, not assets");
    assert!(body.contains("<title>Plenum</title>"));
    std::fs::remove_dir_all(web).unwrap();
}
