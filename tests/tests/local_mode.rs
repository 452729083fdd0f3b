//! End-to-end: the real `monitoring` binary on temporary folders, driven as
//! a user would: log files in, REST API and CLI out.

mod support;

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use support::{append, monitoring_bin, Server};

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples/envelopes")
}

/// The log-error events, keyed by title.
fn log_events(s: &Server) -> Vec<Value> {
    let (status, body) = s.get("/events?source=monitoring.agent.logs&limit=200");
    assert_eq!(status, 200, "{body}");
    body["items"].as_array().unwrap().clone()
}

fn by_title<'a>(events: &'a [Value], needle: &str) -> Option<&'a Value> {
    events
        .iter()
        .find(|e| e["title"].as_str().unwrap_or("").contains(needle))
}

fn count_of(events: &[Value], needle: &str) -> u64 {
    by_title(events, needle).map_or(0, |e| e["count"].as_u64().unwrap())
}

const ORDERS_LOG: &str = "\
2026-11-25 10:00:00,001 INFO orders started
2026-11-25 10:00:01,002 ERROR payment gateway timeout for order 1001 after 3000 ms
2026-11-25 10:00:02,003 ERROR payment gateway timeout for order 1002 after 3100 ms
2026-11-25 10:00:03,004 ERROR handler failed for order 1003
Traceback (most recent call last):
  File \"/var/task/app.py\", line 42, in handler
    qty = event['qty']
KeyError: 'qty'
2026-11-25 10:00:04,005 WARN slow query took 2200 ms
2026-11-25 10:00:05,006 INFO done
";

#[test]
fn local_mode_groups_counts_restarts_triages_and_pushes_config() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, logs) = (tmp.path().join("data"), tmp.path().join("logs"));
    let orders = logs.join("orders/app.log");
    let payments = logs.join("payments/worker.jsonl");
    append(&orders, ORDERS_LOG);
    append(&payments, "{\"level\":\"error\",\"msg\":\"card declined\",\"order\":1}\n{\"level\":\"info\",\"msg\":\"ok\"}\n{\"level\":\"fatal\",\"msg\":\"ledger unreachable\"}\n");

    let server = Server::start(&data, &logs);

    // The grouped events appear with the right counts and severities.
    server.wait_until("the grouped events appear", || {
        let ev = log_events(&server);
        count_of(&ev, "payment gateway timeout") == 2
            && count_of(&ev, "KeyError") == 1
            && count_of(&ev, "ledger unreachable") == 1
    });
    let ev = log_events(&server);
    let timeout = by_title(&ev, "payment gateway timeout").unwrap();
    assert_eq!(timeout["severity"], "high");
    assert_eq!(timeout["log_group"], "orders/app.log");
    assert_eq!(timeout["account"], "000000000000");
    assert_eq!(timeout["region"], "local");
    assert_eq!(timeout["status"], "open");
    assert_eq!(by_title(&ev, "slow query").unwrap()["severity"], "low");
    assert_eq!(
        by_title(&ev, "ledger unreachable").unwrap()["severity"],
        "critical"
    );
    assert_eq!(by_title(&ev, "card declined").unwrap()["severity"], "high");
    assert!(by_title(&ev, "KeyError").unwrap()["sample"]
        .as_str()
        .unwrap()
        .contains("Traceback"));
    assert!(
        by_title(&ev, "orders started").is_none(),
        "INFO lines are never events"
    );
    assert_eq!(ev.len(), 5, "{ev:#?}");

    // Appended lines make the counts grow.
    append(&orders, "2026-11-25 10:01:00,000 ERROR payment gateway timeout for order 2001 after 2900 ms\n2026-11-25 10:01:01,000 INFO tick\n");
    server.wait_until("the count grows", || {
        count_of(&log_events(&server), "payment gateway timeout") == 3
    });

    // A restart resumes from the checkpoints: no duplicates.
    assert!(server.stop().success(), "SIGTERM exits 0");
    let server = Server::start(&data, &logs);
    append(&orders, "2026-11-25 10:02:00,000 ERROR payment gateway timeout for order 3001 after 2800 ms\n2026-11-25 10:02:01,000 INFO tick\n");
    server.wait_until("the new line is counted", || {
        count_of(&log_events(&server), "payment gateway timeout") == 4
    });
    std::thread::sleep(Duration::from_millis(1000));
    let ev = log_events(&server);
    assert_eq!(count_of(&ev, "payment gateway timeout"), 4);
    assert_eq!(count_of(&ev, "KeyError"), 1);
    assert_eq!(ev.len(), 5);

    // Triage with PUT and If-Match; a stale version gets 412.
    let id = by_title(&ev, "KeyError").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let version = by_title(&ev, "KeyError").unwrap()["version"]
        .as_u64()
        .unwrap();
    let (status, updated) = server.put(
        &format!("/events/{id}"),
        Some(&format!("\"{version}\"")),
        &json!({"status": "acknowledged", "assignee": "alice", "note": "looking"}),
    );
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["status"], "acknowledged");
    assert_eq!(updated["assignee"], "alice");
    assert_eq!(updated["version"], version + 1);
    let (status, err) = server.put(
        &format!("/events/{id}"),
        Some(&format!("\"{version}\"")),
        &json!({"status": "resolved"}),
    );
    assert_eq!(status, 412);
    assert_eq!(err["error"]["code"], "precondition_failed");
    assert_eq!(
        server.get(&format!("/events/{id}")).1["status"],
        "acknowledged"
    );

    // The local agent registered; a config change is pushed and applied.
    let agent_id = "000000000000-local";
    server.wait_until("the agent has registered and is in sync", || {
        let (s, a) = server.get(&format!("/agents/{agent_id}"));
        s == 200 && a["applied_config_version"] == a["config_version"]
    });
    let (_, before) = server.get(&format!("/agents/{agent_id}"));
    let (status, after) = server.put(
        &format!("/agents/{agent_id}"),
        None,
        &json!({"name": "laptop", "config": {"exclude_patterns": ["card declined"]}}),
    );
    assert_eq!(status, 200, "{after}");
    let wanted = before["config_version"].as_u64().unwrap() + 1;
    assert_eq!(after["config_version"], wanted);
    assert_eq!(after["name"], "laptop");
    server.wait_until("applied_config_version catches up", || {
        server.get(&format!("/agents/{agent_id}")).1["applied_config_version"] == wanted
    });
    let (_, agent) = server.get("/agents");
    assert_eq!(agent["items"][0]["id"], agent_id);
    assert_eq!(agent["items"][0]["status"], "active");
    assert!(agent["items"][0]["last_run"]["window_end"].is_string());

    // The pushed exclusion now applies: new "card declined" lines are not counted.
    append(&payments, "{\"level\":\"error\",\"msg\":\"card declined\",\"order\":2}\n{\"level\":\"fatal\",\"msg\":\"ledger unreachable\"}\n");
    server.wait_until("the fatal line is counted", || {
        count_of(&log_events(&server), "ledger unreachable") == 2
    });
    assert_eq!(count_of(&log_events(&server), "card declined"), 1);

    // `monitoring ingest` works while the server runs on the same data dir.
    let out = Command::new(monitoring_bin())
        .arg("ingest")
        .arg("--data-dir")
        .arg(&data)
        .arg(samples().join("guardduty-finding.json"))
        .arg(samples().join("alarm-alarm.json"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, gd) = server.get("/events?source=aws.guardduty");
    assert_eq!(gd["items"][0]["severity"], "high");
    assert_eq!(gd["items"][0]["account"], "111122223333");
    let (_, alarm) = server.get("/events?source=aws.cloudwatch");
    assert_eq!(alarm["items"][0]["status"], "open");

    assert!(server.stop().success());
}

/// Copies `samples/logs` (folders of log files) so the run leaves it untouched.
fn copy_sample_logs(to: &Path) {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples/logs");
    for group in std::fs::read_dir(from).unwrap() {
        let group = group.unwrap().path();
        let dir = to.join(group.file_name().unwrap());
        std::fs::create_dir_all(&dir).unwrap();
        for file in std::fs::read_dir(&group).unwrap() {
            let file = file.unwrap().path();
            std::fs::copy(&file, dir.join(file.file_name().unwrap())).unwrap();
        }
    }
}

/// Whether a title still starts with a prefix: a timestamp, a request id or a
/// level (upper-case: a message may well begin with the word "error").
fn prefix_of(title: &str) -> Option<&str> {
    let first = title.split([' ', '\t']).next().unwrap_or("");
    let word = first.trim_matches(|c| matches!(c, '[' | ']' | '<' | '>' | ':'));
    let b = title.as_bytes();
    let timestamp = b.len() >= 5 && b[..4].iter().all(u8::is_ascii_digit) && b"-/".contains(&b[4]);
    let request_id = word.len() == 36 && word.bytes().all(|c| c.is_ascii_hexdigit() || c == b'-');
    let level = [
        "TRACE", "DEBUG", "INFO", "WARN", "WARNING", "ERROR", "CRITICAL", "FATAL",
    ]
    .contains(&word);
    (timestamp
        || request_id
        || level
        || title.starts_with("time=")
        || title.starts_with("RequestId:"))
    .then_some(first)
}

#[test]
fn sample_log_titles_are_the_message_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, logs) = (tmp.path().join("data"), tmp.path().join("logs"));
    copy_sample_logs(&logs);
    let server = Server::start(&data, &logs);
    // One title and severity per new sample format.
    let expected = [
        ("python-lambda/webhook.log", "Failed to update order ord_8a21c0f4: ConditionalCheckFailedException", "high"),
        ("python-lambda/webhook.log", "Signature header missing, falling back to IP allow-list", "low"),
        ("python-lambda/webhook.log", "Secrets Manager secret webhook/signing-key not found, rejecting all webhooks", "critical"),
        ("python-lambda/webhook.log", "Runtime.ImportModuleError: Unable to import module 'webhook': No module named 'stripe'", "high"),
        ("python-lambda/webhook.log", "Could not parse webhook body: Expecting value: line 1 column 1 (char 0)", "high"),
        ("python-lambda/webhook.log", "Task timed out after 3.00 seconds", "critical"),
        ("python-lambda/webhook.log", "Status: timeout", "critical"),
        ("node-lambda/invoices.log", "Runtime exited with error: signal: killed", "critical"),
        ("node-lambda/invoices.log", "Status: error Error Type: Runtime.OutOfMemory", "critical"),
        ("node-lambda/invoices.log", "Failed to upload inv_02230.pdf to S3: SlowDown: Please reduce your request rate.", "high"),
        ("node-lambda/invoices.log", "RangeError: Invalid page range 3-2", "high"),
        ("node-lambda/invoices.log", "Font cache miss, loading fonts from /opt/fonts", "low"),
        ("java-service/shipping.log", "Label purchase failed for shipment shp_40913", "high"),
        ("java-service/shipping.log", "Returning 502 for shipment shp_40913", "low"),
        ("java-service/shipping.log", "Tracking poll aborted after 3 consecutive carrier errors", "high"),
        ("java-lambda/refunds.log", "Refund rejected by PSP for order ord_8a21c0f4: amount exceeds captured total", "high"),
        ("go-service/fulfilment.log", "failed to allocate stock", "high"),
        ("go-service/fulfilment.log", "warehouse API slow", "low"),
        ("go-service/dispatch.jsonl", "courier booking rejected", "high"),
        ("go-service/export-cron.log", "error writing export part 3 to s3://example-exports/2026-12-01/: RequestTimeout", "high"),
        ("billing-rs/billing.log", "charge failed error=card_declined", "high"),
        ("billing-rs/webhooks.jsonl", "webhook signature mismatch", "high"),
    ];
    server.wait_until("the sample events appear", || {
        let ev = log_events(&server);
        expected.iter().all(|(_, t, _)| by_title(&ev, t).is_some())
    });
    std::thread::sleep(Duration::from_millis(1000));
    let ev = log_events(&server);
    for (group, t, severity) in expected {
        let e = by_title(&ev, t).unwrap();
        assert_eq!(e["log_group"], group, "{e:#}");
        assert_eq!(e["severity"], severity, "{e:#}");
        assert!(e["title"].as_str().unwrap().starts_with(t), "{e:#}");
    }
    for e in &ev {
        let title = e["title"].as_str().unwrap();
        assert!(prefix_of(title).is_none(), "a prefix is left: {e:#}");
    }
    // Records differing only in time and request id are one event.
    assert_eq!(count_of(&ev, "Failed to update order"), 2);
    assert_eq!(count_of(&ev, "Refund rejected by PSP"), 2);
    assert_eq!(count_of(&ev, "Label purchase failed"), 2);
    assert_eq!(count_of(&ev, "failed to allocate stock"), 2);
    assert_eq!(count_of(&ev, "webhook signature mismatch"), 2);
    // INFO and DEBUG lines of the new formats are not events.
    for quiet in [
        "Received webhook",
        "retrying after error",
        "error budget ok",
        "webhook received",
        "Next poll in",
        "nightly export started",
    ] {
        assert!(by_title(&ev, quiet).is_none(), "{quiet}");
    }
    assert!(server.stop().success());
}

fn run_cli(args: &[&str], data: &Path, files: &[PathBuf]) -> std::process::Output {
    Command::new(monitoring_bin())
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .args(files)
        .output()
        .unwrap()
}

fn event_list(data: &Path, query: &str) -> Vec<Value> {
    // The CLI has no list command: read through a short-lived server.
    let logs = data.parent().unwrap().join("empty-logs");
    std::fs::create_dir_all(&logs).unwrap();
    let server = Server::start(data, &logs);
    let (status, body) = server.get(&format!("/events?{query}"));
    assert_eq!(status, 200);
    let items = body["items"].as_array().unwrap().clone();
    assert!(server.stop().success());
    items
}

#[test]
fn ingest_stores_aws_events_idempotently_and_names_bad_files() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let s = samples();
    let all = [
        s.join("guardduty-finding.json"),
        s.join("health-issue.json"),
        s.join("alarm-alarm.json"),
        s.join("alarm-ok.json"),
    ];
    let out = run_cli(&["ingest"], &data, &all);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Delivering everything again changes nothing.
    let again = run_cli(&["ingest"], &data, &all);
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).contains("0 stored"));

    // A bad file is named, the good one beside it is still stored, exit non-zero.
    let bad = s.join("malformed.json");
    let extra = tmp.path().join("second-finding.json");
    let mut finding: Value =
        serde_json::from_str(&std::fs::read_to_string(s.join("guardduty-finding.json")).unwrap())
            .unwrap();
    finding["detail"]["id"] = json!("another-finding");
    finding["detail"]["severity"] = json!(9.5);
    std::fs::write(&extra, finding.to_string()).unwrap();
    let out = run_cli(&["ingest"], &data, &[bad.clone(), extra]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("malformed.json"), "{stderr}");

    let events = event_list(&data, "limit=200");
    let of = |source: &str| {
        events
            .iter()
            .filter(|e| e["source"] == source)
            .cloned()
            .collect::<Vec<_>>()
    };
    let gd = of("aws.guardduty");
    assert_eq!(gd.len(), 2);
    assert!(gd.iter().any(|e| e["severity"] == "critical"));
    let health = of("aws.health");
    assert_eq!(health.len(), 2);
    assert!(
        health.iter().any(|e| e["severity"] == "high")
            && health.iter().any(|e| e["severity"] == "medium")
    );
    // The alarm went to ALARM then OK: one event, resolved, counted twice.
    let alarm = of("aws.cloudwatch");
    assert_eq!(alarm.len(), 1);
    assert_eq!(alarm[0]["status"], "resolved");
    assert_eq!(alarm[0]["count"], 2);
    assert_eq!(
        alarm[0]["resources"][0],
        "arn:aws:cloudwatch:us-east-1:111122223333:alarm:orders-api-5xx"
    );

    // The report of that day lists them and names the day.
    let out = Command::new(monitoring_bin())
        .args(["report", "--date", "2026-11-25", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(path.ends_with("outbox/report-2026-11-25.eml"), "{path}");
    let eml = std::fs::read_to_string(&path).unwrap();
    assert!(eml.contains("Subject:") && eml.contains("2026-11-25"));
    assert!(eml.contains("multipart/alternative"));
    assert!(eml.contains("text/plain") && eml.contains("text/html"));

    // An empty day is a valid report too, and a second run replaces the file.
    let out = Command::new(monitoring_bin())
        .args(["report", "--date", "2026-01-01", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(out.status.success());
    let again = Command::new(monitoring_bin())
        .args(["report", "--date", "2026-01-01", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(out.stdout, again.stdout);
}

/// `--follow` publishes each appended record while the interval (an hour)
/// has not come round, so only following can explain it; how fast it does is
/// `ops/bench`'s figure, not this test's. It joins a Python
/// traceback written at once into one record, and after a restart counts
/// exactly what was appended while it was down.
#[test]
fn follow_publishes_appended_records_without_waiting_for_the_interval() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, logs) = (tmp.path().join("data"), tmp.path().join("logs"));
    let app = logs.join("orders/app.log");
    append(&app, "2026-11-25 10:00:00,000 INFO started\n");
    let follow = ["--follow", "--interval", "1h"];
    let server = Server::start_with(&data, &logs, &follow);
    // Let the first run read the file, so the timings below start from a
    // following agent.
    std::thread::sleep(Duration::from_millis(500));

    append(
        &app,
        "2026-11-25 10:00:01,000 ERROR payment gateway timeout for order 1 after 3000 ms\n",
    );
    server.wait_until("the appended line is an event", || {
        count_of(&log_events(&server), "payment gateway timeout") == 1
    });

    append(
        &app,
        "2026-11-25 10:00:02,000 ERROR handler failed for order 2\n\
         Traceback (most recent call last):\n  \
         File \"/var/task/app.py\", line 42, in handler\n    \
         qty = event['qty']\n\
         KeyError: 'qty'\n",
    );
    server.wait_until("the traceback is an event", || {
        count_of(&log_events(&server), "KeyError") == 1
    });
    let ev = log_events(&server);
    let sample = by_title(&ev, "KeyError").unwrap()["sample"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        sample.contains("Traceback") && sample.contains("handler failed"),
        "one record: {sample}"
    );
    assert_eq!(ev.len(), 2, "the traceback's lines are one record: {ev:#?}");

    // Lines appended while it is down are published once after a restart.
    assert!(server.stop().success());
    append(
        &app,
        "2026-11-25 10:00:03,000 ERROR payment gateway timeout for order 3 after 3000 ms\n",
    );
    let server = Server::start_with(&data, &logs, &follow);
    server.wait_until("the line appended while down is counted", || {
        count_of(&log_events(&server), "payment gateway timeout") == 2
    });
    std::thread::sleep(Duration::from_millis(800));
    let ev = log_events(&server);
    assert_eq!(count_of(&ev, "payment gateway timeout"), 2);
    assert_eq!(count_of(&ev, "KeyError"), 1);
}

#[test]
fn every_subcommand_has_help() {
    for sub in [
        &["--help"][..],
        &["local", "--help"],
        &["ingest", "--help"],
        &["report", "--help"],
        &["scan", "--help"],
    ] {
        let out = Command::new(monitoring_bin()).args(sub).output().unwrap();
        assert!(out.status.success());
        assert!(String::from_utf8_lossy(&out.stdout).contains("Usage"));
    }
}

/// A problem logged several times in one agent window is one occurrence; its
/// event's `first_seen` is the first line's time and `last_seen` the last's,
/// and a window across midnight counts each line on its own UTC day.
#[test]
fn first_and_last_seen_are_the_first_and_last_lines_of_a_group() {
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path().join("logs");
    append(
        &logs.join("orders.log"),
        "\
2026-11-25 07:16:29,001 ERROR payment gateway timeout for order 1001
2026-11-25 07:16:51,002 ERROR payment gateway timeout for order 1002
2026-11-25 07:18:19,003 ERROR payment gateway timeout for order 1003
2026-11-25 23:59:58,004 ERROR ledger write failed for batch 7
2026-11-26 00:00:02,005 ERROR ledger write failed for batch 8
2026-11-26 00:00:09,006 INFO done
",
    );
    let data = tmp.path().join("data");
    let s = Server::start(&data, &logs);
    s.wait_until("both problems are stored", || {
        let events = log_events(&s);
        count_of(&events, "payment gateway timeout") == 3
            && count_of(&events, "ledger write failed") == 2
    });
    let events = log_events(&s);
    let payment = by_title(&events, "payment gateway timeout").unwrap();
    assert_eq!(
        payment["first_seen"], "2026-11-25T07:16:29.001Z",
        "{payment}"
    );
    assert_eq!(
        payment["last_seen"], "2026-11-25T07:18:19.003Z",
        "{payment}"
    );
    let ledger = by_title(&events, "ledger write failed").unwrap();
    assert_eq!(ledger["first_seen"], "2026-11-25T23:59:58.004Z", "{ledger}");
    assert_eq!(ledger["last_seen"], "2026-11-26T00:00:02.005Z", "{ledger}");
    drop(s);
    // Each day's report counts only that day's lines: the ledger problem's
    // group was split at midnight, one line on each day.
    for (day, summary) in [
        ("2026-11-25", "4 occurrences of 2 events"),
        ("2026-11-26", "1 occurrences of 1 events"),
    ] {
        let out = run_cli(&["report", "--date", day], &data, &[]);
        assert!(out.status.success(), "{out:?}");
        let path = String::from_utf8(out.stdout).unwrap();
        let eml = std::fs::read_to_string(path.trim()).unwrap();
        let subject = eml.lines().find(|l| l.starts_with("Subject: ")).unwrap();
        assert!(subject.ends_with(summary), "{day}: {subject}");
    }
}
