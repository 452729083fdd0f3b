//! `monitoring cost` through the real binary: the itemised estimate, its
//! price table's date and region, and bad usage answered with exit code 2.

use serde_json::Value;
use std::process::Command;

fn cost(args: &[&str]) -> std::process::Output {
    Command::new(assert_cmd::cargo::cargo_bin("monitoring"))
        .arg("cost")
        .args(args)
        .output()
        .expect("monitoring runs")
}

fn estimate(args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    let out = cost(&all);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn item(e: &Value, name: &str) -> f64 {
    e["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["item"] == name)
        .unwrap_or_else(|| panic!("no item {name}"))["monthly"]
        .as_f64()
        .unwrap()
}

const USAGE: [&str; 6] = [
    "--accounts",
    "10",
    "--log-gb-per-day",
    "5",
    "--error-lines-per-day",
    "2000",
];

#[test]
fn the_estimate_is_itemised_and_names_its_prices() {
    let out = cost(&USAGE);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for line in [
        "Lambda requests",
        "Lambda compute",
        "Logs Insights scanned",
        "Subscription delivery",
        "EventBridge events",
        "DynamoDB write units",
        "DynamoDB read units",
        "SES e-mails",
        "Own CloudWatch Logs ingestion",
        "total",
        "us-east-1",
    ] {
        assert!(text.contains(line), "{line} missing from:\n{text}");
    }
}

#[test]
fn realtime_scans_nothing_and_scheduled_delivers_nothing() {
    let mut s = USAGE.to_vec();
    s.extend(["--mode", "scheduled"]);
    let scheduled = estimate(&s);
    let mut r = USAGE.to_vec();
    r.extend(["--mode", "realtime"]);
    let realtime = estimate(&r);
    // 10 accounts x 5 GB x 30 days x $0.005 per GB scanned.
    assert!((item(&scheduled, "Logs Insights scanned") - 7.5).abs() < 1e-9);
    assert_eq!(item(&realtime, "Logs Insights scanned"), 0.0);
    let mut b = USAGE.to_vec();
    b.extend(["--mode", "both"]);
    let both = estimate(&b);
    assert!(both["total"].as_f64() > scheduled["total"].as_f64());
    assert_eq!(both["region"], "us-east-1");
    assert!(both["prices_date"].as_str().unwrap().len() == 10);
}

#[test]
fn more_accounts_cost_more() {
    let ten = estimate(&USAGE);
    let mut h = USAGE.to_vec();
    h[1] = "100";
    let hundred = estimate(&h);
    assert!(hundred["total"].as_f64().unwrap() > 5.0 * ten["total"].as_f64().unwrap());
}

#[test]
fn bad_usage_exits_2_naming_the_argument() {
    for (args, named) in [
        (
            vec![
                "--accounts",
                "0",
                "--log-gb-per-day",
                "1",
                "--error-lines-per-day",
                "1",
            ],
            "--accounts",
        ),
        (
            vec![
                "--accounts",
                "1",
                "--log-gb-per-day",
                "lots",
                "--error-lines-per-day",
                "1",
            ],
            "--log-gb-per-day",
        ),
        (
            vec![
                "--accounts",
                "1",
                "--log-gb-per-day",
                "NaN",
                "--error-lines-per-day",
                "1",
            ],
            "--log-gb-per-day",
        ),
        (
            vec![
                "--accounts",
                "1",
                "--log-gb-per-day",
                "1",
                "--error-lines-per-day",
                "-3",
            ],
            "error-lines",
        ),
        (
            vec![
                "--accounts",
                "1",
                "--log-gb-per-day",
                "1",
                "--error-lines-per-day",
                "1",
                "--mode",
                "hourly",
            ],
            "--mode",
        ),
        (
            vec![
                "--accounts",
                "1",
                "--log-gb-per-day",
                "1",
                "--error-lines-per-day",
                "1",
                "--schedule-minutes",
                "0",
            ],
            "--schedule-minutes",
        ),
        (
            vec!["--log-gb-per-day", "1", "--error-lines-per-day", "1"],
            "--accounts",
        ),
    ] {
        let out = cost(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(named), "{args:?}: {err}");
        assert!(out.stdout.is_empty());
    }
}
