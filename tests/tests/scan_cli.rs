//! `monitoring scan` against moto: the real binary, pointed at moto with
//! `AWS_ENDPOINT_URL` through a recording proxy, finds the seeded errors,
//! groups them as the agent does, and sends only read requests.
#![cfg(feature = "aws")]

use chrono::{Duration, Utc};
use e2e_tests::moto;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::{Arc, Mutex};

fn monitoring_bin() -> std::path::PathBuf {
    assert_cmd::cargo::cargo_bin("monitoring")
}

/// A one-request-per-connection HTTP proxy to moto that records the
/// operation (`X-Amz-Target`) of every request.
fn recording_proxy(upstream: String) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let upstream = upstream
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let record = seen.clone();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let (upstream, record) = (upstream.clone(), record.clone());
            std::thread::spawn(move || {
                let _ = forward(client, &upstream, &record);
            });
        }
    });
    (format!("http://{addr}"), seen)
}

fn forward(client: TcpStream, upstream: &str, record: &Mutex<Vec<String>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut head = Vec::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        if lower.starts_with("x-amz-target:") {
            let op = line["x-amz-target:".len()..]
                .trim()
                .rsplit('.')
                .next()
                .unwrap_or("")
                .to_owned();
            record.lock().unwrap().push(op);
        }
        if lower.starts_with("connection:") {
            continue;
        }
        if line == "\r\n" {
            head.extend_from_slice(b"connection: close\r\n\r\n");
            break;
        }
        head.extend_from_slice(line.as_bytes());
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let mut up = TcpStream::connect(upstream)?;
    up.write_all(&head)?;
    up.write_all(&body)?;
    let mut answer = Vec::new();
    up.read_to_end(&mut answer)?;
    let mut client = client;
    client.write_all(&answer)?;
    client.shutdown(std::net::Shutdown::Both)
}

fn scan(endpoint: &str, args: &[&str]) -> std::process::Output {
    Command::new(monitoring_bin())
        .arg("scan")
        .args(args)
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("monitoring runs")
}

#[tokio::test]
async fn scan_reports_grouped_errors_and_only_reads() {
    let config = moto::config().await;
    let prefix = format!("{}/", moto::unique("/aws/lambda/scan"));
    let (orders, billing, other) = (
        format!("{prefix}orders"),
        format!("{prefix}billing"),
        moto::unique("/aws/lambda/elsewhere"),
    );
    let now = Utc::now();
    let ago = |m: i64| now - Duration::minutes(m);
    moto::seed_log_group(
        &config,
        &orders,
        &[
            (ago(26 * 60), "ERROR too old for the default 24h"),
            (ago(50), "INFO started"),
            (
                ago(40),
                "ERROR payment gateway timeout for order 1 after 3000 ms",
            ),
            (
                ago(30),
                "ERROR payment gateway timeout for order 2 after 3100 ms",
            ),
            (
                ago(20),
                "ERROR payment gateway timeout for order 3 after 2900 ms",
            ),
        ],
    )
    .await;
    moto::seed_log_group(&config, &billing, &[(ago(10), "FATAL ledger unreachable")]).await;
    moto::seed_log_group(&config, &other, &[(ago(10), "ERROR not under the prefix")]).await;

    let (endpoint, seen) = recording_proxy(moto::endpoint());
    let out = scan(
        &endpoint,
        &[
            "--region",
            "us-east-1",
            "--log-group-prefix",
            &prefix,
            "--json",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        !stderr.contains("scan: "),
        "no progress line off a terminal: {stderr}"
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(
        report["log_groups"].as_array().unwrap().len(),
        2,
        "{report:#}"
    );
    assert_eq!(errors.len(), 2, "{report:#}");
    assert_eq!(errors[0]["severity"], "critical");
    assert_eq!(errors[0]["log_group"], billing.as_str());
    assert_eq!(errors[0]["count"], 1);
    assert_eq!(errors[1]["severity"], "high");
    assert_eq!(errors[1]["log_group"], orders.as_str());
    assert_eq!(errors[1]["count"], 3);
    assert!(errors[1]["title"]
        .as_str()
        .unwrap()
        .contains("payment gateway timeout"));

    // Only reads went to AWS.
    let ops = seen.lock().unwrap().clone();
    assert!(ops.contains(&"StartQuery".to_owned()), "{ops:?}");
    for op in &ops {
        assert!(
            [
                "DescribeLogGroups",
                "StartQuery",
                "GetQueryResults",
                "StopQuery"
            ]
            .contains(&op.as_str()),
            "scan sent {op}"
        );
    }

    // The table, and a longer --since that reaches the older line.
    let out = scan(
        &moto::endpoint(),
        &[
            "--region",
            "us-east-1",
            "--log-group-prefix",
            &prefix,
            "--since",
            "2d",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("SEVERITY"), "{table}");
    assert!(
        lines[1].starts_with("critical") && lines[1].contains(&billing),
        "{table}"
    );
    assert!(table.contains("too old for the default 24h"), "{table}");
    assert!(table.contains("3 grouped errors"), "{table}");
}

#[test]
fn scan_without_a_region_is_a_usage_error() {
    let out = Command::new(monitoring_bin())
        .args(["scan"])
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--region"));
}
