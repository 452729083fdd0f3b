//! What the end-to-end tests of `monitoring local` share: starting the real
//! binary on temporary folders, JSON over real HTTP, waiting, appending to
//! log files, a webhook receiver. Each test target uses part of it.
#![allow(dead_code)]

pub mod receiver;

use serde_json::Value;
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn monitoring_bin() -> PathBuf {
    // Built by `cargo test --workspace` for the handlers package's own tests.
    assert_cmd::cargo::cargo_bin("monitoring")
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn http() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

/// (status, JSON body); status 0 when nothing answered.
fn answer(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> (u16, Value) {
    match r {
        Ok(mut resp) => {
            let status = resp.status().as_u16();
            let text = resp.body_mut().read_to_string().unwrap_or_default();
            (status, serde_json::from_str(&text).unwrap_or(Value::Null))
        }
        Err(_) => (0, Value::Null),
    }
}

pub fn get(base: &str, path: &str) -> (u16, Value) {
    answer(http().get(format!("{base}{path}")).call())
}

pub fn put(base: &str, path: &str, if_match: Option<&str>, body: &Value) -> (u16, Value) {
    let mut req = http()
        .put(format!("{base}{path}"))
        .header("content-type", "application/json");
    if let Some(v) = if_match {
        req = req.header("if-match", v);
    }
    answer(req.send(body.to_string()))
}

/// Polls `ok` every 100 ms for up to 30 s.
pub fn wait_until(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out waiting until {what}");
}

pub fn append(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

/// A running `monitoring local` on loopback, killed on drop.
pub struct Server {
    child: Child,
    pub base: String,
}

impl Server {
    pub fn start(data: &Path, logs: &Path) -> Server {
        Self::start_with(data, logs, &["--interval", "300ms"])
    }

    /// With `args` added to `monitoring local`; answers once the API does.
    pub fn start_with(data: &Path, logs: &Path, args: &[&str]) -> Server {
        let port = free_port();
        let child = Command::new(monitoring_bin())
            .args(["local", "--listen", &format!("127.0.0.1:{port}")])
            .args(args)
            .arg("--data-dir")
            .arg(data)
            .arg("--logs")
            .arg(logs)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("monitoring starts");
        let s = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        s.wait_until("the API answers", || s.get("/events").0 == 200);
        s
    }

    pub fn get(&self, path: &str) -> (u16, Value) {
        get(&self.base, path)
    }

    pub fn put(&self, path: &str, if_match: Option<&str>, body: &Value) -> (u16, Value) {
        put(&self.base, path, if_match, body)
    }

    pub fn wait_until(&self, what: &str, ok: impl FnMut() -> bool) {
        wait_until(what, ok)
    }

    /// SIGTERM, then the exit status: it must finish its step and exit 0.
    pub fn stop(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "monitoring did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
