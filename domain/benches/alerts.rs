//! Alert policy throughput: for each store write, whether it may alert, and
//! which of three channels hear of it (transition + filters).
//! `cargo bench -p domain --bench alerts` prints changes/s (criterion "elem/s").

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use domain::alerts::{test_event, AlertsConfig, Change};
use domain::model::{Severity, Status};

const CONFIG: &str = r#"{"channels": [
  {"name": "ops", "kind": "slack", "url": "https://hooks.example/T0/B0/x", "min_severity": "high"},
  {"name": "pager", "kind": "webhook", "url": "http://127.0.0.1:9000/hook",
   "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "min_severity": "low",
   "transitions": ["opened", "regressed", "escalated", "resolved"], "sources": ["monitoring.test"]},
  {"name": "mail", "kind": "email", "to": ["oncall@example.com"], "accounts": ["000000000000"]}]}"#;

/// Writes as a store sees them: mostly repeats of open events, some new,
/// resolved, regressed, escalated and ignored ones.
fn changes(n: usize) -> Vec<Change> {
    let now = "2026-11-25T10:00:00Z".parse().unwrap();
    let base = test_event(now);
    let sev = [
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];
    let status = [
        Status::Open,
        Status::Open,
        Status::Acknowledged,
        Status::Resolved,
        Status::Ignored,
    ];
    (0..n)
        .map(|i| {
            let mut before = base.clone();
            before.severity = sev[i % 4];
            before.status = status[i % 5];
            before.count = i as u64;
            let mut after = before.clone();
            after.count += 1;
            after.severity = sev[(i / 3) % 4].max(before.severity);
            if i % 7 == 0 {
                after.status = Status::Resolved;
            }
            let before = (i % 11 != 0).then_some(&before);
            Change::new(before, &after)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let config = AlertsConfig::from_json(CONFIG).unwrap();
    let changes = changes(10_000);
    let mut g = c.benchmark_group("alerts");
    g.throughput(Throughput::Elements(changes.len() as u64));
    g.bench_function("transition+match", |b| {
        b.iter(|| {
            let mut alerts = 0usize;
            for change in &changes {
                if change.may_alert() {
                    alerts += config
                        .channels
                        .iter()
                        .filter(|ch| ch.transition(black_box(change)).is_some())
                        .count();
                }
            }
            alerts
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
