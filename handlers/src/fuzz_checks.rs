//! What the fuzzers check, one function per target. `fuzz/` (cargo fuzz,
//! libFuzzer) calls these on generated inputs, and
//! `handlers/tests/fuzz_regressions.rs` runs them on every input kept under
//! `fuzz/regressions/` and `fuzz/seeds/`, so each crash found stays fixed on
//! the stable toolchain too.
//!
//! Each check panics when a property does not hold; a panic is what libFuzzer
//! reports as a crash. Every check builds its state afresh, so an input
//! replays the same way on its own.

use crate::api::router;
use crate::master::{Master, Outcome};
use adapters::memory::{FixedClock, MemoryAgentStore, MemoryEventStore, MemoryPusher};
use axum::body::Body;
use axum::http::{header, Method};
use chrono::{DateTime, Utc};
use domain::classify::Classifier;
use domain::cursor::CursorCodec;
use domain::envelope::Envelope;
use domain::fingerprint::{fingerprint, mask};
use domain::logtext::{level_token, structured, title};
use domain::model::{EventFilter, EventPageKey};
use domain::ports::{AgentStore, EventStore};
use domain::usecases::api::Api;
use std::future::Future;
use std::sync::{Arc, OnceLock};

/// The fuzz targets, by the name `cargo fuzz run` takes.
pub const TARGETS: [&str; 5] = [
    "envelope",
    "api_request",
    "cursor",
    "record_splitter",
    "fingerprint",
];

/// Runs one target by name on one input (for the regression runner).
pub fn run(target: &str, data: &[u8]) {
    match target {
        "envelope" => envelope(data),
        "api_request" => api_request(data),
        "cursor" => cursor(data),
        "record_splitter" => record_splitter(data),
        "fingerprint" => fingerprint_record(data),
        other => panic!("unknown fuzz target {other}"),
    }
}

fn now() -> DateTime<Utc> {
    "2026-11-25T12:00:00Z".parse().expect("valid time")
}

fn block_on<F: Future>(f: F) -> F::Output {
    // One runtime per thread: building one per input would cost more than
    // most checks. It holds no state between inputs.
    thread_local! {
        static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime");
    }
    RUNTIME.with(|rt| rt.block_on(f))
}

/// The default rules, compiled once: compiling them per input made the
/// fingerprint target run 40 inputs a second.
fn default_classifier() -> &'static Classifier {
    static CLASSIFIER: OnceLock<Classifier> = OnceLock::new();
    CLASSIFIER.get_or_init(Classifier::defaults)
}

/// EventBridge envelope parsing and HandleMonitoringEvents / UpdateDeployment
/// for every kind, as the master receives them. Properties: no panic; no
/// error is retryable (the memory stores never fail, so a retryable error
/// would be a lie to Lambda); a second delivery of a stored envelope is a
/// duplicate and changes nothing.
pub fn envelope(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(envelopes) = Envelope::parse_many(text) else {
        return;
    };
    let events = MemoryEventStore::new();
    let agents = MemoryAgentStore::new();
    let pusher = MemoryPusher::new();
    let master = Master {
        events: &events,
        agents: &agents,
        pusher: &pusher,
    };
    block_on(async {
        for env in &envelopes {
            match master.handle(env, now()).await {
                Ok(Outcome::Stored) => {
                    let again = master.handle(env, now()).await;
                    assert_eq!(
                        again,
                        Ok(Outcome::Duplicate),
                        "a redelivered envelope must be a duplicate: {env:?}"
                    );
                }
                Ok(_) => {}
                Err(e) => panic!("a memory store failed: {e} for {env:?}"),
            }
        }
    });
}

/// One request through the REST router over memory stores that hold an
/// alarm event and an agent. The input is `METHOD-BYTE PATH \0 QUERY \0
/// IF-MATCH \0 BODY`; `{event}` and `{agent}` in the path stand for the
/// stored ids, so the fuzzer reaches found resources. Properties: never a
/// 5xx; the status is one the API documents; the body is JSON, with
/// `error.code` and `error.message` on every error.
pub fn api_request(data: &[u8]) {
    let Some((&method_byte, rest)) = data.split_first() else {
        return;
    };
    let mut fields = rest.splitn(4, |b| *b == 0);
    let (path, query, if_match, body) = (
        fields.next().unwrap_or_default(),
        fields.next().unwrap_or_default(),
        fields.next(),
        fields.next().unwrap_or_default(),
    );
    let method =
        [Method::GET, Method::PUT, Method::POST, Method::DELETE][method_byte as usize % 4].clone();
    block_on(async {
        let events = Arc::new(MemoryEventStore::new());
        let agents = Arc::new(MemoryAgentStore::new());
        let pusher = Arc::new(MemoryPusher::new());
        let (event_id, agent_id) = seed(&events, &agents, &pusher).await;
        let app = router(Arc::new(Api {
            events,
            agents,
            pusher,
            clock: Arc::new(FixedClock::new(now())),
            cursors: CursorCodec::new(b"fuzz-key".to_vec()),
        }));
        let path = String::from_utf8_lossy(path)
            .replace("{event}", &event_id)
            .replace("{agent}", &agent_id);
        let query = String::from_utf8_lossy(query);
        let uri = if query.is_empty() {
            format!("http://localhost/{}", path.trim_start_matches('/'))
        } else {
            format!("http://localhost/{}?{query}", path.trim_start_matches('/'))
        };
        // Bytes no HTTP server would pass on never reach the router.
        let Ok(uri) = uri.parse::<axum::http::Uri>() else {
            return;
        };
        let mut builder = axum::http::Request::builder().method(method).uri(uri);
        if let Some(v) = if_match {
            let Ok(v) = axum::http::HeaderValue::from_bytes(v) else {
                return;
            };
            builder = builder.header(header::IF_MATCH, v);
        }
        let req = builder
            .body(Body::from(body.to_vec()))
            .expect("valid parts");
        let resp = tower::ServiceExt::oneshot(app, req)
            .await
            .unwrap_or_else(|e| match e {});
        let status = resp.status().as_u16();
        assert!(
            [200, 400, 404, 405, 412, 413].contains(&status),
            "undocumented status {status} for {path:?} {query:?}"
        );
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .expect("a readable answer");
        let text = String::from_utf8(bytes.to_vec())
            .unwrap_or_else(|e| panic!("the answer is not text: {e}"));
        let json: serde_json::Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("the answer is not JSON ({e}): {text}"));
        if status >= 400 {
            assert!(
                json["error"]["code"].is_string() && json["error"]["message"].is_string(),
                "an error without code and message: {text}"
            );
        } else {
            assert!(json.is_object(), "a 200 that is not an object: {text}");
        }
    });
}

/// Stores an alarm event and registers an agent; returns their ids.
async fn seed(
    events: &MemoryEventStore,
    agents: &MemoryAgentStore,
    pusher: &MemoryPusher,
) -> (String, String) {
    let master = Master {
        events,
        agents,
        pusher,
    };
    let alarm = Envelope::parse_many(include_str!("../../samples/envelopes/alarm-alarm.json"))
        .expect("the sample parses");
    master.handle(&alarm[0], now()).await.expect("stored");
    let registered: Envelope = serde_json::from_value(serde_json::json!({
        "version": "0", "id": "r", "detail-type": "Agent Registered", "source": "monitoring.agent",
        "account": "111122223333", "time": "2026-11-25T11:00:00Z", "region": "eu-west-1",
        "resources": [], "detail": { "name": "payments-prod", "version": "0.1.0", "config_version": 1 }
    }))
    .expect("a valid envelope");
    master.handle(&registered, now()).await.expect("registered");
    let page = events
        .list(&EventFilter::default(), None, 1)
        .await
        .expect("listed");
    let agent = agents.list(None, 1).await.expect("listed");
    (page.items[0].id.to_string(), agent.items[0].id.to_string())
}

/// Cursor decoding. The input is `QUERY \0 CURSOR`. Properties: an arbitrary
/// cursor never decodes (it would need the HMAC key) and never panics; a
/// genuine cursor decodes to its key under its own query only, and any
/// change to one of its characters is rejected.
pub fn cursor(data: &[u8]) {
    let (query, given) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let query = String::from_utf8_lossy(query);
    let given = String::from_utf8_lossy(given);
    let codec = CursorCodec::new(b"fuzz-key".to_vec());
    assert!(
        codec.decode::<EventPageKey>(&query, &given).is_err(),
        "a cursor the server never issued was accepted: {given:?}"
    );
    let key = EventPageKey {
        last_seen: now(),
        id: "0123456789abcdef0123456789abcdef"
            .parse()
            .expect("valid id"),
    };
    let genuine = codec.encode(&query, &key);
    assert_eq!(codec.decode::<EventPageKey>(&query, &genuine), Ok(key));
    let other_query = format!("{query}|other");
    assert!(codec
        .decode::<EventPageKey>(&other_query, &genuine)
        .is_err());
    if let Some(&b) = data.first() {
        let at = usize::from(b) % genuine.len();
        let mut tampered = genuine.clone().into_bytes();
        tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).expect("ASCII");
        assert!(
            codec.decode::<EventPageKey>(&query, &tampered).is_err(),
            "a tampered cursor was accepted"
        );
    }
}

/// The file log source's record splitter, on the bytes of a complete file.
/// Properties: every non-blank line lands in exactly one record, in order;
/// no record is empty or starts or ends blank.
pub fn record_splitter(data: &[u8]) {
    let records = adapters::files::split_file_records(data, "fuzz/group", now());
    let lines = |text: &str| -> Vec<String> {
        text.split('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.trim_end().to_owned())
            .collect()
    };
    let input: Vec<String> = data
        .split(|b| *b == b'\n')
        .flat_map(|l| lines(&String::from_utf8_lossy(l)))
        .collect();
    let output: Vec<String> = records.iter().flat_map(|r| lines(&r.message)).collect();
    assert_eq!(input, output, "lines lost, added or reordered");
    for r in &records {
        assert!(!r.message.trim().is_empty(), "an empty record");
        assert_eq!(r.message.trim_end(), r.message, "a record ends blank");
        let first = r.message.split('\n').next().unwrap_or_default();
        assert!(
            !first.trim().is_empty(),
            "a record starts with a blank line"
        );
        assert_eq!(r.log_group, "fuzz/group");
    }
}

/// Classification and fingerprinting of one record. Properties: no panic; a
/// fingerprint is the same every time and is 16 hex digits; the masked text
/// holds no ASCII digit and no run of spaces; a title is one line.
pub fn fingerprint_record(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let fp = fingerprint(&text);
    assert_eq!(fp, fingerprint(&text), "fingerprints differ between runs");
    let s = fp.to_string();
    assert!(
        s.len() == 16 && s.bytes().all(|b| b.is_ascii_hexdigit()),
        "fingerprint {s:?}"
    );
    let masked = mask(&text);
    assert!(
        !masked.bytes().any(|b| b.is_ascii_digit()),
        "a digit survived masking: {masked:?}"
    );
    assert!(!masked.contains("  "), "spaces not folded: {masked:?}");
    let t = title(&text);
    assert!(!t.contains('\n'), "a title spans lines: {t:?}");
    let _ = default_classifier().classify(&text);
    let _ = level_token(&text);
    let _ = structured(&text);
}
