//! `monitoring console` (the real binary) against a local stand-in API:
//! every forwarded request arrives signed with SigV4 for `execute-api`, and
//! the stand-in verifies the signature by signing the same request again
//! with the SDK's signer (`aws-sigv4`) and the same credentials.

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

const KEY_ID: &str = "AKIDSTANDIN000000000";
const SECRET: &str = "stand-in-secret-key-0000000000000000000";

#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    if_match: Option<String>,
    body: String,
    verified: bool,
}

/// Signs the request as received again with the SDK's signer; true if the
/// Authorization header it carries is exactly the one that comes out.
fn verify(parts: &axum::http::request::Parts, body: &[u8]) -> bool {
    let h = |n: &str| parts.headers.get(n).and_then(|v| v.to_str().ok());
    let (Some(auth), Some(date), Some(host)) = (h("authorization"), h("x-amz-date"), h("host"))
    else {
        return false;
    };
    let Some(signed) = auth
        .split(", ")
        .find_map(|p| p.strip_prefix("SignedHeaders="))
    else {
        return false;
    };
    let Ok(t) = chrono::NaiveDateTime::parse_from_str(date, "%Y%m%dT%H%M%SZ") else {
        return false;
    };
    let time = SystemTime::UNIX_EPOCH + Duration::from_secs(t.and_utc().timestamp() as u64);
    let headers: Vec<(&str, &str)> = signed
        .split(';')
        .filter_map(|n| h(n).map(|v| (n, v)))
        .collect();
    let uri = format!(
        "http://{host}{}",
        parts.uri.path_and_query().map_or("/", |p| p.as_str())
    );
    let identity = Credentials::new(KEY_ID, SECRET, None, None, "test").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("eu-west-1")
        .name("execute-api")
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let signable = SignableRequest::new(
        parts.method.as_str(),
        &uri,
        headers.into_iter(),
        SignableBody::Bytes(body),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let signed: Vec<String> = instructions
        .headers()
        .filter(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| v.to_owned())
        .collect();
    signed.iter().any(|v| v == auth)
}

async fn stand_in(
    State(seen): State<Arc<Mutex<Vec<Seen>>>>,
    req: Request,
) -> axum::response::Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    let verified = verify(&parts, &body);
    seen.lock().unwrap().push(Seen {
        method: parts.method.to_string(),
        path: parts.uri.path_and_query().unwrap().to_string(),
        if_match: parts
            .headers
            .get("if-match")
            .map(|v| v.to_str().unwrap().to_owned()),
        body: String::from_utf8_lossy(&body).into_owned(),
        verified,
    });
    if verified {
        (
            StatusCode::OK,
            [("content-type", "application/json")],
            r#"{"items":[],"next_cursor":null}"#,
        )
            .into_response()
    } else {
        (
            StatusCode::FORBIDDEN,
            [("content-type", "application/json")],
            r#"{"message":"The request signature we calculated does not match"}"#,
        )
            .into_response()
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Proc(Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn call(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&str>) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    let resp = match (method, body) {
        ("PUT", Some(b)) => {
            let mut r = agent.put(url);
            for (k, v) in headers {
                r = r.header(*k, *v);
            }
            r.send(b.to_owned())
        }
        _ => {
            let mut r = agent.get(url);
            for (k, v) in headers {
                r = r.header(*k, *v);
            }
            r.call()
        }
    };
    match resp {
        Ok(mut r) => (
            r.status().as_u16(),
            r.body_mut().read_to_string().unwrap_or_default(),
        ),
        Err(_) => (0, String::new()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_calls_are_forwarded_signed_and_the_signature_verifies() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api_port = listener.local_addr().unwrap().port();
    let app = axum::Router::new()
        .fallback(stand_in)
        .with_state(seen.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let port = free_port();
    let _console = Proc(
        Command::new(env!("CARGO_BIN_EXE_monitoring"))
            .args([
                "console",
                "--api",
                &format!("http://127.0.0.1:{api_port}/prod/"),
            ])
            .args([
                "--region",
                "eu-west-1",
                "--listen",
                &format!("127.0.0.1:{port}"),
            ])
            .env("AWS_ACCESS_KEY_ID", KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", SECRET)
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_PROFILE")
            .env("AWS_CONFIG_FILE", "/nonexistent/aws-config")
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                "/nonexistent/aws-credentials",
            )
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("monitoring console starts"),
    );
    let base = format!("http://127.0.0.1:{port}");
    let results = tokio::task::spawn_blocking(move || {
        let deadline = Instant::now() + Duration::from_secs(30);
        while call("GET", &format!("{base}/console/"), &[], None).0 != 200 {
            assert!(Instant::now() < deadline, "monitoring console never answered");
            std::thread::sleep(Duration::from_millis(100));
        }
        let page = call("GET", &format!("{base}/console/events/abc"), &[], None);
        let list = call("GET", &format!("{base}/events?limit=5&severity=high"), &[], None);
        let put = call(
            "PUT",
            &format!("{base}/events/0123456789abcdef0123456789abcdef"),
            &[("content-type", "application/json"), ("if-match", "\"3\"")],
            Some(r#"{"status":"acknowledged"}"#),
        );
        let overview = call("GET", &format!("{base}/overview?date=2026-11-25"), &[], None);
        let elsewhere = call("GET", &format!("{base}/secrets"), &[], None);
        // The stand-in refuses what is not signed with the key.
        let forged = call(
            "GET",
            &format!("http://127.0.0.1:{api_port}/prod/events"),
            &[
                ("authorization", "AWS4-HMAC-SHA256 Credential=AKIDSTANDIN000000000/20261201/eu-west-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"),
                ("x-amz-date", "20261201T000000Z"),
            ],
            None,
        );
        (page, list, put, overview, elsewhere, forged)
    })
    .await
    .unwrap();
    let (page, list, put, overview, elsewhere, forged) = results;
    assert_eq!(page.0, 200);
    assert!(
        page.1.contains("/console/app.js"),
        "the console is served locally"
    );
    assert_eq!(list, (200, r#"{"items":[],"next_cursor":null}"#.to_owned()));
    assert_eq!(put.0, 200, "{}", put.1);
    assert_eq!(overview.0, 200, "{}", overview.1);
    assert_eq!(elsewhere.0, 404, "only API paths are forwarded");
    assert_eq!(forged.0, 403, "the stand-in checks signatures");

    let seen = seen.lock().unwrap().clone();
    let forwarded: Vec<&Seen> = seen.iter().filter(|s| s.verified).collect();
    assert_eq!(forwarded.len(), 3, "{seen:#?}");
    assert_eq!(
        (forwarded[0].method.as_str(), forwarded[0].path.as_str()),
        ("GET", "/prod/events?limit=5&severity=high")
    );
    assert_eq!(forwarded[1].method, "PUT");
    assert_eq!(
        forwarded[1].path,
        "/prod/events/0123456789abcdef0123456789abcdef"
    );
    assert_eq!(forwarded[1].if_match.as_deref(), Some("\"3\""));
    assert_eq!(forwarded[1].body, r#"{"status":"acknowledged"}"#);
    assert_eq!(forwarded[2].path, "/prod/overview?date=2026-11-25");
    assert_eq!(
        seen.len(),
        4,
        "the forged request is the only unverified one"
    );
}
