//! The Lambda binaries check their configuration at start-up: a missing or
//! invalid variable stops them with a message that names it. The README's
//! table of variables is exactly what the binaries read.
#![cfg(feature = "aws")]

use handlers::lambda::BINARIES;
use std::process::Command;

fn run(bin: &str, env: &[(&str, &str)]) -> (i32, String) {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin(bin));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    // Keep the SDK from looking for real credentials or regions.
    cmd.env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "x")
        .env("AWS_SECRET_ACCESS_KEY", "x");
    cmd.env("AWS_ENDPOINT_URL", "http://127.0.0.1:9");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn each_binary_names_its_first_missing_variable() {
    for (bin, vars) in BINARIES {
        let first = vars
            .iter()
            .find(|v| v.required && v.name != "AWS_REGION")
            .unwrap();
        let (code, stderr) = run(bin, &[]);
        assert_eq!(code, 2, "{bin}: {stderr}");
        assert!(
            stderr.contains(first.name),
            "{bin} should name {}: {stderr}",
            first.name
        );
    }
}

#[test]
fn invalid_values_are_named_too() {
    let (code, stderr) = run(
        "handle-monitoring-events",
        &[("TABLE_NAME", "t"), ("RETENTION_DAYS", "forever")],
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("RETENTION_DAYS"), "{stderr}");
    let (code, stderr) = run(
        "query-error-logs",
        &[
            ("AGENT_ACCOUNT_ID", "12345"),
            ("AGENT_NAME", "a"),
            ("STATE_PARAMETER", "/p"),
        ],
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("AGENT_ACCOUNT_ID"), "{stderr}");
}

#[test]
fn the_readme_table_lists_exactly_the_variables_each_binary_reads() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let mut table: Vec<(String, String)> = readme
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            // | `binary` | `VARIABLE` | required | meaning |
            (cells.len() >= 5
                && cells[1].starts_with('`')
                && cells[2].starts_with('`')
                && cells[2]
                    .trim_matches('`')
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c == '_'))
            .then(|| {
                (
                    cells[1].trim_matches('`').to_owned(),
                    cells[2].trim_matches('`').to_owned(),
                )
            })
        })
        .collect();
    table.sort();
    let mut wanted: Vec<(String, String)> = BINARIES
        .iter()
        .flat_map(|(b, vars)| vars.iter().map(move |v| (b.to_string(), v.name.to_owned())))
        .collect();
    wanted.sort();
    assert_eq!(table, wanted);
}
