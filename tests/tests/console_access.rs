//! Access beyond loopback, through real HTTP to the real `monitoring local`:
//! a non-loopback listen requires the token on the API and the console alike
//! (a Bearer header, or the cookie a `?token=` link sets); a token is
//! generated and printed once when none is given; loopback stays open.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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

fn start(listen: &str, token: Option<&str>, dir: &Path) -> Proc {
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("monitoring"));
    cmd.args(["local", "--listen", listen, "--interval", "1s"])
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--logs")
        .arg(&logs)
        .env_remove("MONITORING_TOKEN")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(t) = token {
        cmd.env("MONITORING_TOKEN", t);
    }
    Proc(cmd.spawn().expect("monitoring starts"))
}

/// (status, headers, body) of one request, redirects not followed.
fn call(url: &str, headers: &[(&str, &str)]) -> (u16, ureq::http::HeaderMap, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .into();
    let mut req = agent.get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    match req.call() {
        Ok(mut r) => {
            let status = r.status().as_u16();
            let headers = r.headers().clone();
            (
                status,
                headers,
                r.body_mut().read_to_string().unwrap_or_default(),
            )
        }
        Err(_) => (0, Default::default(), String::new()),
    }
}

fn wait_for(url: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while call(url, &[]).0 == 0 {
        assert!(Instant::now() < deadline, "{url} never answered");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn beyond_loopback_the_api_and_console_need_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let token = "a-long-enough-test-token-1234";
    let _server = start(&format!("0.0.0.0:{port}"), Some(token), dir.path());
    let base = format!("http://127.0.0.1:{port}");
    wait_for(&format!("{base}/events"));

    let (s, h, body) = call(&format!("{base}/events"), &[]);
    assert_eq!(s, 401, "{body}");
    assert_eq!(h["www-authenticate"], "Bearer");
    let err: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(err["error"]["code"], "unauthorized");
    let (s, _, _) = call(
        &format!("{base}/events"),
        &[("authorization", "Bearer wrong-token-wrong-token")],
    );
    assert_eq!(s, 401);
    let bearer = format!("Bearer {token}");
    let (s, _, body) = call(&format!("{base}/events"), &[("authorization", &bearer)]);
    assert_eq!(s, 200, "{body}");
    let (s, _, _) = call(&format!("{base}/overview"), &[("authorization", &bearer)]);
    assert_eq!(s, 200);

    // The console: refused without the token; a ?token= link sets the
    // cookie and drops the token from the address.
    let (s, _, body) = call(&format!("{base}/console/"), &[]);
    assert_eq!(s, 401);
    assert!(body.contains("Token needed"));
    let (s, _, _) = call(&format!("{base}/console/?token=wrong"), &[]);
    assert_eq!(s, 401);
    let (s, h, _) = call(&format!("{base}/console/events/abc?token={token}&x=1"), &[]);
    assert_eq!(s, 303);
    assert_eq!(h["location"], "/console/events/abc?x=1");
    let cookie = h["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap();
    let (s, h, body) = call(&format!("{base}/console/events/abc"), &[("cookie", pair)]);
    assert_eq!(s, 200);
    assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(body.contains("/console/app.js"));
    let (s, _, _) = call(&format!("{base}/events"), &[("cookie", pair)]);
    assert_eq!(s, 200, "the page's API calls carry the cookie");
}

#[test]
fn a_token_is_generated_and_printed_once_and_loopback_stays_open() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server = start(&format!("0.0.0.0:{port}"), None, dir.path());
    let stderr = server.0.stderr.take().unwrap();
    // Read stderr to its end in the background: closing the pipe after the
    // token line would make the server's later log writes fail.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if let Some((_, t)) = line.split_once("?token=") {
                let _ = tx.send(t.trim().to_owned());
            }
        }
    });
    let token = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the token is printed");
    assert!(token.len() >= 32, "{token}");
    let base = format!("http://127.0.0.1:{port}");
    wait_for(&format!("{base}/events"));
    assert_eq!(call(&format!("{base}/events"), &[]).0, 401);
    let bearer = format!("Bearer {token}");
    assert_eq!(
        call(&format!("{base}/events"), &[("authorization", &bearer)]).0,
        200
    );
    drop(server);

    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let _open = start(
        &format!("127.0.0.1:{port}"),
        Some("ignored-on-loopback-1234"),
        dir.path(),
    );
    let base = format!("http://127.0.0.1:{port}");
    wait_for(&format!("{base}/events"));
    assert_eq!(call(&format!("{base}/events"), &[]).0, 200);
    let (s, h, _) = call(&format!("{base}/"), &[]);
    assert_eq!((s, h["location"].to_str().unwrap()), (303, "/console/"));
    let (s, h, _) = call(&format!("{base}/console/app.js"), &[]);
    assert_eq!(s, 200);
    assert!(h["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
}
