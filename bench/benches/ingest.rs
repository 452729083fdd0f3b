//! Ingest throughput: EventBridge envelopes in, events out, through the
//! memory store and the SQLite store (batched transactions, a real file).
//! `cargo bench -p bench --bench ingest` prints events/s ("elem/s").

use adapters::memory::MemoryEventStore;
use adapters::sqlite::SqliteStore;
use chrono::{DateTime, Utc};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use domain::envelope::Envelope;
use domain::usecases::ingest::{ingest, occurrence_of};
use serde_json::json;

/// Log-error envelopes of 500 distinct problems, each delivered many times.
fn envelopes(n: usize, salt: &str) -> Vec<String> {
    (0..n)
        .map(|i| {
            json!({
                "version": "0", "id": format!("{salt}-{i}"), "detail-type": "Log Errors Detected",
                "source": "monitoring.agent.logs", "account": "111122223333", "time": "2026-11-25T10:00:00Z",
                "region": "eu-west-1", "resources": [],
                "detail": {
                    "agent_id": "111122223333-eu-west-1", "occurrence_key": format!("{salt}-{i}"),
                    "log_group": format!("/aws/lambda/fn-{}", i % 50), "fingerprint": format!("{:016x}", i % 500),
                    "severity": "high", "title": "KeyError: 'qty'", "sample": "Traceback ...\nKeyError: 'qty'",
                    "count": 3, "first_seen": "2026-11-25T09:55:00Z", "last_seen": "2026-11-25T09:59:00Z",
                    "window_start": "2026-11-25T09:55:00Z", "window_end": "2026-11-25T10:00:00Z"
                }
            })
            .to_string()
        })
        .collect()
}

fn now() -> DateTime<Utc> {
    "2026-11-25T10:00:01Z".parse().unwrap()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let n = 5_000;
    let mut g = c.benchmark_group("ingest");
    g.throughput(Throughput::Elements(n as u64));
    g.sample_size(10);
    let mut round = 0u64;
    g.bench_function("memory (parse + record)", |b| {
        b.iter_batched(
            || {
                round += 1;
                (MemoryEventStore::new(), envelopes(n, &round.to_string()))
            },
            |(store, envs)| {
                rt.block_on(async {
                    for e in &envs {
                        let env: Envelope = serde_json::from_str(e).unwrap();
                        ingest(&store, &env, now()).await.unwrap();
                    }
                })
            },
            BatchSize::LargeInput,
        )
    });
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("bench.db")).unwrap();
    g.bench_function("sqlite (parse + record_batch of 500)", |b| {
        b.iter_batched(
            || {
                round += 1;
                envelopes(n, &round.to_string())
            },
            |envs| {
                rt.block_on(async {
                    let occs: Vec<_> = envs
                        .iter()
                        .map(|e| {
                            occurrence_of(&serde_json::from_str::<Envelope>(e).unwrap()).unwrap()
                        })
                        .collect();
                    for chunk in occs.chunks(500) {
                        store.record_batch(chunk, now()).await.unwrap();
                    }
                })
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
