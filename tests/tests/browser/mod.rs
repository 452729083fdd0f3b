//! What the browser tests share: a headless Chromium driven by its own
//! chromedriver, waiting for elements, axe-core, screenshots into `docs/`.
#![allow(dead_code)]

use crate::support::free_port;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn on_path(bin: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {bin}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A child process killed on drop.
pub struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits for an element and answers it.
pub async fn find(c: &Client, css: &str) -> fantoccini::elements::Element {
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no element {css}: {e}"))
}

pub async fn text_of(c: &Client, css: &str) -> String {
    find(c, css).await.text().await.unwrap()
}

/// Waits until the element's text contains `needle`.
pub async fn wait_text(c: &Client, css: &str, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Ok(e) = c.find(Locator::Css(css)).await {
            if let Ok(t) = e.text().await {
                if t.contains(needle) {
                    return t;
                }
                if Instant::now() > deadline {
                    panic!("{css} says {t:?}, not {needle:?}");
                }
            }
        }
        assert!(Instant::now() < deadline, "no {css} saying {needle:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn click_button(c: &Client, label: &str) {
    let xpath = format!("//button[normalize-space()='{label}']");
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::XPath(&xpath))
        .await
        .unwrap_or_else(|e| panic!("no button {label}: {e}"))
        .click()
        .await
        .unwrap();
}

/// Injects axe-core and fails on any serious or critical violation.
pub async fn axe(c: &Client, axe_source: &str, page: &str) {
    c.execute(&format!("{axe_source}\n;return true;"), vec![])
        .await
        .expect("axe-core loads");
    let found = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { resultTypes: ['violations'] }).then(
               (r) => done(r.violations
                 .filter((v) => v.impact === 'serious' || v.impact === 'critical')
                 .map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)),
               (e) => done(['axe failed: ' + e]));",
            vec![],
        )
        .await
        .expect("axe runs");
    let found: Vec<String> = serde_json::from_value(found).unwrap();
    assert!(found.is_empty(), "axe on {page}:\n{}", found.join("\n"));
}

/// Writes `docs/<name>.png` when `UPDATE_SCREENSHOTS=1`.
pub async fn screenshot(c: &Client, name: &str) {
    if std::env::var("UPDATE_SCREENSHOTS").as_deref() != Ok("1") {
        return;
    }
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(repo().join(format!("docs/{name}.png")), png).unwrap();
}

/// axe-core's source, after checking for chromium and its driver; `None`
/// (the test then skips, saying so) when they are absent outside CI.
pub fn browser_tools(test: &str) -> Option<String> {
    if !(on_path("chromium") && on_path("chromedriver")) {
        if std::env::var_os("CI").is_some() {
            panic!("chromium and chromium-driver are required in CI: run ops/browser-tools");
        }
        eprintln!("SKIPPED {test}: chromium or chromedriver is not installed (ops/browser-tools installs them)");
        return None;
    }
    let tools = Command::new(repo().join("ops/browser-tools"))
        .stderr(Stdio::inherit())
        .output()
        .expect("ops/browser-tools runs");
    assert!(tools.status.success(), "ops/browser-tools failed");
    let axe_path = String::from_utf8(tools.stdout).unwrap().trim().to_owned();
    Some(std::fs::read_to_string(&axe_path).expect("axe.min.js"))
}

/// A headless Chromium of that window size (`W,H`), driven by its own
/// chromedriver (killed on drop).
pub async fn chromium(window: &str) -> (Proc, Client) {
    let driver_port = free_port();
    let driver = Proc(
        Command::new("chromedriver")
            .arg(format!("--port={driver_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts"),
    );
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({ "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", format!("--window-size={window}")] }),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match ClientBuilder::rustls()
            .expect("rustls")
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{driver_port}"))
            .await
        {
            Ok(c) => return (driver, c),
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("chromedriver does not answer: {e}"),
        }
    }
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
