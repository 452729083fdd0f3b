//! What the REST tests share: the API over the memory stores, and requests in
//! the API Gateway REST v1 shape, as the `api` Lambda receives them.
//!
//! A module of each test target (`mod support;`); each target uses part of it.
#![allow(dead_code)]

use adapters::memory::{FixedClock, MemoryAgentStore, MemoryEventStore, MemoryPusher};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{DateTime, Utc};
use domain::cursor::CursorCodec;
use domain::usecases::api::Api;
use handlers::api::router;
use lambda_http::Body;
use serde_json::{json, Value};
use std::sync::Arc;

/// The fixed clock's time.
pub fn now() -> DateTime<Utc> {
    "2026-11-25T12:00:00Z".parse().unwrap()
}

/// The API over the memory stores, with the stores kept to seed and inspect.
pub struct Fixture {
    pub api: Api,
    pub events: Arc<MemoryEventStore>,
    pub agents: Arc<MemoryAgentStore>,
    pub pusher: Arc<MemoryPusher>,
}

/// A fixture whose cursors are signed with `key`.
pub fn fixture_with_key(key: &[u8]) -> Fixture {
    let events = Arc::new(MemoryEventStore::new());
    let agents = Arc::new(MemoryAgentStore::new());
    let pusher = Arc::new(MemoryPusher::new());
    let api = Api {
        events: events.clone(),
        agents: agents.clone(),
        pusher: pusher.clone(),
        clock: Arc::new(FixedClock::new(now())),
        cursors: CursorCodec::new(key.to_vec()),
    };
    Fixture {
        api,
        events,
        agents,
        pusher,
    }
}

pub fn fixture() -> Fixture {
    fixture_with_key(b"test-key-0123456789abcdef")
}

/// A REST v1 proxy event, as API Gateway sends it to the `api` Lambda. A
/// repeated query parameter is listed in full in the multi-value parameters;
/// a binary body is sent base64-encoded, as API Gateway does.
pub fn rest_v1(
    method: &str,
    route: &str,
    path: &str,
    query: &[(&str, &str)],
    headers: &[(&str, &str)],
    body: Option<Body>,
) -> lambda_http::Request {
    let mut path_params = serde_json::Map::new();
    for (t, p) in route.split('/').zip(path.split('/')) {
        if let Some(name) = t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
            path_params.insert(name.into(), json!(p));
        }
    }
    let mut single = serde_json::Map::new();
    let mut multi = serde_json::Map::new();
    for (k, v) in query {
        single.insert((*k).into(), json!(v));
        multi
            .entry(k.to_string())
            .or_insert_with(|| json!([]))
            .as_array_mut()
            .unwrap()
            .push(json!(v));
    }
    let mut hdrs = serde_json::Map::new();
    hdrs.insert(
        "Host".into(),
        json!("abc123.execute-api.eu-west-1.amazonaws.com"),
    );
    for (k, v) in headers {
        hdrs.insert((*k).into(), json!(v));
    }
    let (body, base64) = match body {
        None | Some(Body::Empty) => (Value::Null, false),
        Some(Body::Text(t)) => (json!(t), false),
        Some(Body::Binary(b)) => (json!(STANDARD.encode(b)), true),
        Some(_) => unreachable!("no streaming bodies here"),
    };
    let event = json!({
        "resource": route,
        "path": path,
        "httpMethod": method,
        "headers": hdrs,
        "multiValueHeaders": {},
        "queryStringParameters": if query.is_empty() { Value::Null } else { Value::Object(single) },
        "multiValueQueryStringParameters": if query.is_empty() { Value::Null } else { Value::Object(multi) },
        "pathParameters": if path_params.is_empty() { Value::Null } else { Value::Object(path_params) },
        "stageVariables": null,
        "requestContext": {
            "accountId": "111122223333", "resourceId": "r1", "stage": "prod", "requestId": "req-1",
            "identity": { "sourceIp": "127.0.0.1", "userAgent": "test" },
            "resourcePath": route, "httpMethod": method, "apiId": "abc123", "path": format!("/prod{path}"),
            "protocol": "HTTP/1.1", "requestTimeEpoch": 1764072000000u64
        },
        "body": body,
        "isBase64Encoded": base64
    });
    lambda_http::request::from_str(&event.to_string()).expect("a valid REST v1 event")
}

/// `request` through the router over `api`: the status and the JSON body
/// (every answer is `application/json`).
pub async fn respond(api: &Api, request: lambda_http::Request) -> (u16, Value) {
    let resp = tower::ServiceExt::oneshot(router(Arc::new(api.clone())), request)
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-type"], "application/json");
    let status = resp.status().as_u16();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    let body = serde_json::from_slice(&bytes).expect("a JSON body");
    (status, body)
}
