//! End-to-end alerts: the real `monitoring local --alerts` delivering to a
//! real HTTP receiver started here, and `monitoring alerts test`.

mod support;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use support::receiver::{Received, Receiver};
use support::{append, free_port, monitoring_bin, Server};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// The Standard Webhooks check, written from the spec rather than with our code.
fn signature_verifies(r: &Received) -> bool {
    let id = &r.headers["webhook-id"];
    let ts = &r.headers["webhook-timestamp"];
    let key = BASE64
        .decode(SECRET.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{ts}.{}", r.body).as_bytes());
    let expected = format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()));
    r.headers["webhook-signature"]
        .split(' ')
        .any(|s| s == expected)
        && ts
            .parse::<i64>()
            .is_ok_and(|t| (t - chrono::Utc::now().timestamp()).abs() < 300)
}

fn monitoring() -> Command {
    Command::new(monitoring_bin())
}

/// `monitoring local --alerts FILE`, reading the logs every 300 ms.
fn start(data: &Path, logs: &Path, alerts: &Path) -> Server {
    let alerts = alerts.to_str().expect("a UTF-8 temporary path");
    Server::start_with(data, logs, &["--interval", "300ms", "--alerts", alerts])
}

fn event_titled(server: &Server, needle: &str) -> Option<Value> {
    let (_, body) = server.get("/events?limit=200");
    body["items"]
        .as_array()?
        .iter()
        .find(|e| e["title"].as_str().unwrap_or("").contains(needle))
        .cloned()
}

fn triage(server: &Server, needle: &str, status: &str) {
    let event = event_titled(server, needle).unwrap();
    let (code, body) = server.put(
        &format!("/events/{}", event["id"].as_str().unwrap()),
        Some(&format!("\"{}\"", event["version"])),
        &json!({"status": status}),
    );
    assert_eq!(code, 200, "{body}");
}

fn write_alerts(dir: &Path, receiver: &Receiver, storm: Value) -> PathBuf {
    let path = dir.join("alerts.json");
    let all = ["opened", "regressed", "escalated", "resolved"];
    let file = json!({
        "console_url": "http://127.0.0.1:8080/console",
        "channels": [
            {"name": "pager", "kind": "webhook", "url": receiver.url("/hook"), "secret": SECRET,
             "min_severity": "low", "transitions": all},
            {"name": "flaky", "kind": "webhook", "url": receiver.url("/flaky"), "secret": SECRET, "min_severity": "low"},
            {"name": "busy", "kind": "webhook", "url": receiver.url("/busy"), "secret": SECRET, "min_severity": "critical"},
            {"name": "refusing", "kind": "webhook", "url": receiver.url("/bad"), "secret": SECRET, "min_severity": "low"},
            {"name": "ops", "kind": "slack", "url": receiver.url("/slack"), "min_severity": "critical"},
            {"name": "mail", "kind": "email", "to": ["oncall@example.com"]},
        ],
        "storm": storm,
    });
    std::fs::write(&path, file.to_string()).unwrap();
    path
}

fn line(n: u32, text: &str) -> String {
    format!("2026-11-25 10:00:{:02},000 {text}\n", n % 60)
}

#[test]
fn one_alert_per_transition_signed_retried_and_never_for_repeats_or_ignored_events() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, logs) = (tmp.path().join("data"), tmp.path().join("logs"));
    let receiver = Receiver::start();
    let alerts = write_alerts(
        tmp.path(),
        &receiver,
        json!({"max_per_window": 10, "window_seconds": 300}),
    );
    let app = logs.join("orders/app.log");
    append(
        &app,
        &line(1, "ERROR payment gateway timeout for order 1001"),
    );
    append(&app, &line(2, "FATAL ledger unreachable"));
    let server = start(&data, &logs, &alerts);

    // Exactly one event.opened per new problem, signed per the spec.
    receiver.wait_for("two opened alerts", |r| r.kinds_on("/hook").len() == 2);
    let hooks = receiver.on("/hook");
    assert!(
        hooks.iter().all(|r| r.kind() == "event.opened"),
        "{hooks:#?}"
    );
    assert!(hooks.iter().all(signature_verifies), "{hooks:#?}");
    let titles: Vec<String> = hooks
        .iter()
        .map(|r| {
            r.json()["data"]["event"]["title"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert!(
        titles.iter().any(|t| t.contains("payment gateway timeout")),
        "{titles:?}"
    );

    // Slack takes only the critical one, with a text fallback and blocks.
    receiver.wait_for("the slack alert", |r| r.on("/slack").len() == 1);
    let slack = receiver.on("/slack")[0].json();
    assert!(
        slack["text"]
            .as_str()
            .unwrap()
            .contains("ledger unreachable"),
        "{slack}"
    );
    assert_eq!(slack["blocks"][0]["type"], "header");
    assert!(slack.to_string().contains("/console/events/"), "{slack}");

    // 500 twice then 200: three tries of one webhook-id per alert, one accepted.
    receiver.wait_for("the flaky channel's third tries", |r| {
        r.on("/flaky").len() == 6
    });
    let flaky = receiver.on("/flaky");
    let mut ids: Vec<&String> = flaky.iter().map(|r| &r.headers["webhook-id"]).collect();
    ids.dedup();
    assert_eq!(
        ids.len(),
        2,
        "each alert keeps its webhook-id across retries: {flaky:#?}"
    );

    // A 429 is retried after its Retry-After.
    receiver.wait_for("the busy channel's second try", |r| {
        r.on("/busy").len() == 2
    });
    let busy = receiver.on("/busy");
    assert_eq!(busy[0].headers["webhook-id"], busy[1].headers["webhook-id"]);
    assert!(
        busy[1].at - busy[0].at >= Duration::from_millis(950),
        "{:?}",
        busy[1].at - busy[0].at
    );

    // A 400 is not retried: one request per alert.
    receiver.wait_for("the refusing channel's requests", |r| {
        r.on("/bad").len() == 2
    });

    // E-mail alerts land in the outbox as .eml files.
    let outbox = data.join("outbox");
    let emls = || {
        std::fs::read_dir(&outbox)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .filter(|e| e.file_name().to_string_lossy().starts_with("alert-"))
                    .count()
            })
            .unwrap_or(0)
    };
    receiver.wait_for(
        "the e-mail alerts (both problems are high or above)",
        |_| emls() == 2,
    );

    // Further occurrences of open events: nothing.
    append(
        &app,
        &line(3, "ERROR payment gateway timeout for order 1002"),
    );
    append(&app, &line(4, "FATAL ledger unreachable"));
    receiver.wait_for("the repeats are counted", |_| {
        event_titled(&server, "payment gateway timeout").is_some_and(|e| e["count"] == 2)
            && event_titled(&server, "ledger unreachable").is_some_and(|e| e["count"] == 2)
    });
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(receiver.on("/hook").len(), 2, "{:#?}", receiver.on("/hook"));

    // Resolved (the pager asks for it), then a new occurrence: regressed.
    triage(&server, "payment gateway timeout", "resolved");
    receiver.wait_for("the resolved alert", |r| {
        r.kinds_on("/hook").contains(&"event.resolved".to_owned())
    });
    append(
        &app,
        &line(5, "ERROR payment gateway timeout for order 1003"),
    );
    receiver.wait_for("the regressed alert", |r| {
        r.kinds_on("/hook").contains(&"event.regressed".to_owned())
    });

    // An ignored event never alerts, even on new occurrences.
    triage(&server, "ledger unreachable", "ignored");
    append(&app, &line(6, "FATAL ledger unreachable"));
    receiver.wait_for("the ignored event's occurrence is counted", |_| {
        event_titled(&server, "ledger unreachable").is_some_and(|e| e["count"] == 3)
    });
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        receiver.kinds_on("/hook"),
        vec![
            "event.opened",
            "event.opened",
            "event.resolved",
            "event.regressed"
        ]
    );
}

/// Distinct words (no digits or hex letters) so that each line is its own problem.
fn word(mut n: usize) -> String {
    let letters = b"ghijklmnopqrstuvwxyz";
    let mut w = String::new();
    loop {
        w.push(letters[n % letters.len()] as char);
        n /= letters.len();
        if n == 0 {
            return w;
        }
    }
}

#[test]
fn a_burst_of_new_problems_is_capped_and_summarised() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, logs) = (tmp.path().join("data"), tmp.path().join("logs"));
    let receiver = Receiver::start();
    let alerts = write_alerts(
        tmp.path(),
        &receiver,
        json!({"max_per_window": 5, "window_seconds": 10}),
    );
    let burst: String = (0..50)
        .map(|i| {
            line(
                i as u32,
                &format!("ERROR widget {} exploded", word(i + 100)),
            )
        })
        .collect();
    append(&logs.join("burst/app.log"), &burst);
    let _server = start(&data, &logs, &alerts);

    receiver.wait_for("the storm summary", |r| {
        r.kinds_on("/hook").contains(&"storm.summary".to_owned())
    });
    std::thread::sleep(Duration::from_millis(1000));
    let kinds = receiver.kinds_on("/hook");
    let opened = kinds.iter().filter(|k| *k == "event.opened").count();
    let opened_titles: Vec<String> = receiver
        .on("/hook")
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r.json()["timestamp"],
                r.json()["data"]["event"]["title"]
            )
        })
        .collect();
    assert_eq!(opened, 5, "{kinds:?} {opened_titles:#?}");
    let summaries: Vec<Value> = receiver
        .on("/hook")
        .iter()
        .filter(|r| r.kind() == "storm.summary")
        .map(Received::json)
        .collect();
    assert_eq!(summaries.len(), 1, "{summaries:#?}");
    let data = &summaries[0]["data"];
    assert_eq!(
        data["suppressed"], 45,
        "nothing is lost: 5 sent + 45 summarised"
    );
    assert_eq!(data["titles"].as_array().unwrap().len(), 10);
    assert!(data["window_start"].as_str().unwrap() < data["window_end"].as_str().unwrap());
}

#[test]
fn a_change_stored_while_no_server_runs_is_delivered_when_it_starts() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, logs) = (tmp.path().join("data"), tmp.path().join("logs"));
    std::fs::create_dir_all(&logs).unwrap();
    let receiver = Receiver::start();
    let alerts = write_alerts(tmp.path(), &receiver, json!({}));
    // Stored by another writer, with nobody delivering: as if the server had
    // crashed between storing and notifying.
    let envelope =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples/envelopes/guardduty-finding.json");
    let out = monitoring()
        .arg("ingest")
        .arg("--data-dir")
        .arg(&data)
        .arg(&envelope)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _server = start(&data, &logs, &alerts);
    receiver.wait_for("the guardduty alert", |r| {
        r.kinds_on("/hook") == vec!["event.opened"]
    });
    assert_eq!(
        receiver.on("/hook")[0].json()["data"]["event"]["source"],
        "aws.guardduty"
    );
}

#[test]
fn alerts_test_reports_each_channel_and_a_bad_file_names_its_field() {
    let tmp = tempfile::tempdir().unwrap();
    let receiver = Receiver::start();
    let alerts = write_alerts(tmp.path(), &receiver, json!({}));
    let out = monitoring()
        .args(["alerts", "test", "--alerts"])
        .arg(&alerts)
        .arg("--data-dir")
        .arg(tmp.path().join("data"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success(),
        "the refusing channel fails the run: {stdout}"
    );
    for expected in [
        "pager (webhook): ok",
        "flaky (webhook): ok",
        "ops (slack): ok",
        "mail (email): ok",
        "refusing (webhook): failed: refused",
    ] {
        assert!(stdout.contains(expected), "{expected:?} not in {stdout}");
    }
    assert!(receiver.on("/hook").iter().all(signature_verifies));

    let bad = tmp.path().join("bad.json");
    for (file, field) in [
        (
            json!({"channels": [{"name": "x", "kind": "pigeon"}]}),
            "kind",
        ),
        (
            json!({"channels": [{"name": "x", "kind": "webhook", "url": "http://h/", "secret": SECRET, "min_severity": "urgent"}]}),
            "min_severity",
        ),
        (
            json!({"channels": [{"name": "x", "kind": "webhook", "url": "http://h/", "secret": "nope"}]}),
            "secret",
        ),
    ] {
        std::fs::write(&bad, file.to_string()).unwrap();
        let out = monitoring()
            .args(["alerts", "test", "--alerts"])
            .arg(&bad)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(&format!("{field}:")),
            "{field} not named in {stderr}"
        );
        let port = free_port();
        let out = monitoring()
            .args(["local", "--listen", &format!("127.0.0.1:{port}"), "--logs"])
            .arg(tmp.path())
            .arg("--data-dir")
            .arg(tmp.path().join("d2"))
            .arg("--alerts")
            .arg(&bad)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "monitoring local refuses it too"
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("{field}:")));
    }
}
