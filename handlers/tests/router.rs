//! The REST router through `lambda_http` requests in the API Gateway REST v1
//! shape, as the `api` Lambda receives them, over the memory stores.

use chrono::Duration;
use domain::envelope::Envelope;
use domain::ports::AgentStore;
use domain::usecases::ingest::ingest;
use handlers::api::{router, Route};
use lambda_http::Body;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::sync::Arc;

mod support;

use support::{fixture, now, respond, rest_v1, Fixture};

async fn call(
    f: &Fixture,
    method: &str,
    route: &str,
    path: &str,
    query: &[(&str, &str)],
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, Value) {
    let body = body.map(|b| Body::Text(b.to_owned()));
    let (status, body) = respond(&f.api, rest_v1(method, route, path, query, headers, body)).await;
    if status >= 400 {
        assert!(
            body["error"]["code"].is_string() && body["error"]["message"].is_string(),
            "{body}"
        );
    }
    (status, body)
}

async fn get(f: &Fixture, route: &str, path: &str, query: &[(&str, &str)]) -> (u16, Value) {
    call(f, "GET", route, path, query, &[], None).await
}

fn alarm(name: &str, state: &str, minute: u32) -> Envelope {
    serde_json::from_value(json!({
        "version": "0", "id": format!("{name}-{state}-{minute}"), "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch", "account": "111122223333", "time": format!("2026-11-25T10:{minute:02}:00Z"),
        "region": "eu-west-1", "resources": [format!("arn:aws:cloudwatch:eu-west-1:111122223333:alarm:{name}")],
        "detail": { "alarmName": name, "state": { "value": state, "timestamp": format!("2026-11-25T10:{minute:02}:00.000+0000") } }
    }))
    .unwrap()
}

/// `n` alarms, several sharing a `last_seen`, so pagination must break ties.
async fn seed(f: &Fixture, n: u32) -> Vec<String> {
    let mut ids = vec![];
    for i in 0..n {
        let rec = ingest(
            f.events.as_ref(),
            &alarm(&format!("alarm-{i}"), "ALARM", i % 4),
            now(),
        )
        .await
        .unwrap();
        match rec {
            domain::ports::Recorded::Applied(e) => ids.push(e.id.to_string()),
            other => panic!("{other:?}"),
        }
    }
    ids
}

async fn seed_agent(f: &Fixture) {
    let env: Envelope = serde_json::from_value(json!({
        "version": "0", "id": "r", "detail-type": "Agent Registered", "source": "monitoring.agent",
        "account": "111122223333", "time": "2026-11-25T11:00:00Z", "region": "eu-west-1", "resources": [],
        "detail": { "name": "payments-prod", "version": "0.1.0", "config_version": 1 }
    }))
    .unwrap();
    domain::usecases::deployment::handle_agent_event(
        f.agents.as_ref(),
        f.pusher.as_ref(),
        &env,
        now() - Duration::minutes(1),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn list_events_is_newest_first_and_filters() {
    let f = fixture();
    seed(&f, 6).await;
    ingest(f.events.as_ref(), &alarm("alarm-0", "OK", 30), now())
        .await
        .unwrap();
    let (s, body) = get(&f, "/events", "/events", &[]).await;
    assert_eq!(s, 200);
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 6);
    assert_eq!(body["next_cursor"], Value::Null);
    let seen: Vec<&str> = items
        .iter()
        .map(|e| e["last_seen"].as_str().unwrap())
        .collect();
    assert!(seen.windows(2).all(|w| w[0] >= w[1]), "{seen:?}");
    assert_eq!(items[0]["status"], "resolved");

    let (_, open) = get(
        &f,
        "/events",
        "/events",
        &[("status", "open"), ("severity", "high,critical")],
    )
    .await;
    assert_eq!(open["items"].as_array().unwrap().len(), 5);
    let (_, none) = get(&f, "/events", "/events", &[("account", "999999999999")]).await;
    assert!(none["items"].as_array().unwrap().is_empty());
    let (_, early) = get(&f, "/events", "/events", &[("to", "2026-11-25T10:00:30Z")]).await;
    assert_eq!(early["items"].as_array().unwrap().len(), 1);
    let (_, by_region) = get(
        &f,
        "/events",
        "/events",
        &[("region", "eu-west-1"), ("source", "aws.cloudwatch")],
    )
    .await;
    assert_eq!(by_region["items"].as_array().unwrap().len(), 6);
}

#[tokio::test]
async fn bad_query_parameters_are_400() {
    let f = fixture();
    for q in [
        ("severity", "urgent"),
        ("status", "closed"),
        ("limit", "0"),
        ("limit", "201"),
        ("limit", "ten"),
        ("from", "yesterday"),
        ("to", "2026-13-01T00:00:00Z"),
        ("account", "abc"),
        ("region", "EU WEST"),
        ("cursor", "not-a-cursor"),
        ("colour", "blue"),
    ] {
        let (s, body) = get(&f, "/events", "/events", &[q]).await;
        assert_eq!(s, 400, "{q:?}: {body}");
        assert_eq!(body["error"]["code"], "bad_request");
    }
    let (s, _) = get(&f, "/agents", "/agents", &[("limit", "500")]).await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn forged_and_foreign_cursors_are_400() {
    let f = fixture();
    seed(&f, 5).await;
    let (_, page) = get(&f, "/events", "/events", &[("limit", "2")]).await;
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    // Flip one character of the payload.
    let mut forged = cursor.clone().into_bytes();
    forged[5] = if forged[5] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    let (s, _) = get(
        &f,
        "/events",
        "/events",
        &[("limit", "2"), ("cursor", &forged)],
    )
    .await;
    assert_eq!(s, 400);
    // A cursor of one filter is not valid for another.
    let (s, _) = get(
        &f,
        "/events",
        "/events",
        &[("limit", "2"), ("status", "open"), ("cursor", &cursor)],
    )
    .await;
    assert_eq!(s, 400);
    let (s, _) = get(&f, "/agents", "/agents", &[("cursor", &cursor)]).await;
    assert_eq!(s, 400);
    let (s, _) = get(
        &f,
        "/events",
        "/events",
        &[("limit", "2"), ("cursor", &cursor)],
    )
    .await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn pagination_returns_every_event_exactly_once() {
    let f = fixture();
    let ids: HashSet<String> = seed(&f, 25).await.into_iter().collect();
    for limit in ["1", "3", "7", "25", "200"] {
        let mut seen = vec![];
        let mut cursor: Option<String> = None;
        loop {
            let mut q = vec![("limit", limit)];
            if let Some(c) = &cursor {
                q.push(("cursor", c.as_str()));
            }
            let (s, page) = get(&f, "/events", "/events", &q).await;
            assert_eq!(s, 200);
            for e in page["items"].as_array().unwrap() {
                seen.push(e["id"].as_str().unwrap().to_owned());
            }
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        assert_eq!(seen.len(), 25, "limit {limit}");
        assert_eq!(
            seen.iter().cloned().collect::<HashSet<_>>(),
            ids,
            "limit {limit}"
        );
    }
}

#[tokio::test]
async fn get_event_answers_the_event_or_404() {
    let f = fixture();
    let ids = seed(&f, 1).await;
    let path = format!("/events/{}", ids[0]);
    let (s, e) = get(&f, "/events/{eventId}", &path, &[]).await;
    assert_eq!(s, 200);
    assert_eq!(e["id"], ids[0].as_str());
    assert_eq!(e["detail_type"], "CloudWatch Alarm State Change");
    for key in [
        "account",
        "region",
        "source",
        "severity",
        "status",
        "title",
        "count",
        "first_seen",
        "last_seen",
        "resources",
        "detail",
        "note",
        "assignee",
        "updated_at",
        "version",
    ] {
        assert!(e.get(key).is_some(), "missing {key}");
    }
    for unknown in ["00000000000000000000000000000000", "not-an-id"] {
        let (s, body) = get(&f, "/events/{eventId}", &format!("/events/{unknown}"), &[]).await;
        assert_eq!(s, 404);
        assert_eq!(body["error"]["code"], "not_found");
    }
}

#[tokio::test]
async fn put_event_triages_with_if_match() {
    let f = fixture();
    let ids = seed(&f, 1).await;
    let path = format!("/events/{}", ids[0]);
    let put = |headers: Vec<(&'static str, &'static str)>, body: &'static str| {
        let path = path.clone();
        let f = &f;
        async move {
            call(
                f,
                "PUT",
                "/events/{eventId}",
                &path,
                &[],
                &headers,
                Some(body),
            )
            .await
        }
    };
    let (s, e) = put(
        vec![("If-Match", "\"1\"")],
        r#"{"status":"acknowledged","assignee":"alice"}"#,
    )
    .await;
    assert_eq!(s, 200, "{e}");
    assert_eq!(
        (
            e["status"].as_str(),
            e["assignee"].as_str(),
            e["version"].as_u64()
        ),
        (Some("acknowledged"), Some("alice"), Some(2))
    );
    let (s, e) = put(vec![("If-Match", "\"1\"")], r#"{"status":"resolved"}"#).await;
    assert_eq!(s, 412, "{e}");
    assert_eq!(e["error"]["code"], "precondition_failed");
    let (s, _) = put(vec![("If-Match", "one")], r#"{"status":"resolved"}"#).await;
    assert_eq!(s, 400);
    let (s, e) = put(vec![], r#"{"note":"fixed in 1.2","status":"resolved"}"#).await;
    assert_eq!(s, 200);
    assert_eq!(e["version"], 3);
    for bad in [
        "",
        "{}",
        "[]",
        "not json",
        r#"{"status":"closed"}"#,
        r#"{"status":1}"#,
        r#"{"owner":"bob"}"#,
        r#"{"note":7}"#,
    ] {
        let (s, body) = put(vec![], bad).await;
        assert_eq!(s, 400, "{bad}: {body}");
    }
    let (s, _) = call(
        &f,
        "PUT",
        "/events/{eventId}",
        "/events/00000000000000000000000000000000",
        &[],
        &[],
        Some(r#"{"status":"resolved"}"#),
    )
    .await;
    assert_eq!(s, 404);
    // A stored change shows on the next GET.
    let (_, e) = get(&f, "/events/{eventId}", &path, &[]).await;
    assert_eq!(e["note"], "fixed in 1.2");
}

#[tokio::test]
async fn agents_list_get_update_and_push() {
    let f = fixture();
    seed_agent(&f).await;
    let (s, list) = get(&f, "/agents", "/agents", &[]).await;
    assert_eq!(s, 200);
    assert_eq!(list["items"][0]["id"], "111122223333-eu-west-1");
    assert_eq!(list["items"][0]["status"], "active");
    let path = "/agents/111122223333-eu-west-1";
    let (s, a) = get(&f, "/agents/{agentId}", path, &[]).await;
    assert_eq!(s, 200);
    assert_eq!(
        (a["name"].as_str(), a["config_version"].as_u64()),
        (Some("payments-prod"), Some(1))
    );
    for unknown in ["/agents/999999999999-eu-west-1", "/agents/nonsense"] {
        assert_eq!(get(&f, "/agents/{agentId}", unknown, &[]).await.0, 404);
    }
    let (s, _) = call(
        &f,
        "PUT",
        "/agents/{agentId}",
        "/agents/999999999999-eu-west-1",
        &[],
        &[],
        Some(r#"{"name":"x"}"#),
    )
    .await;
    assert_eq!(s, 404);

    let body = r#"{"config":{"schedule_minutes":10,"log_group_prefixes":["/aws/lambda/orders-"],"rules":[{"pattern":"(?i)declined","severity":"medium"}]}}"#;
    let (s, a) = call(&f, "PUT", "/agents/{agentId}", path, &[], &[], Some(body)).await;
    assert_eq!(s, 200, "{a}");
    assert_eq!(a["config_version"], 2);
    assert_eq!(a["config"]["schedule_minutes"], 10);
    assert_eq!(a["config"]["rules"][0]["severity"], "medium");
    let pushed = f.pusher.pushed();
    assert_eq!(pushed.last().unwrap().config_version, 2);
    assert_eq!(
        f.agents
            .get(&"111122223333-eu-west-1".parse().unwrap())
            .await
            .unwrap()
            .unwrap()
            .config_version,
        2
    );
    // Renaming alone does not bump the config version nor push.
    let pushes = pushed.len();
    let (s, a) = call(
        &f,
        "PUT",
        "/agents/{agentId}",
        path,
        &[],
        &[],
        Some(r#"{"name":"payments"}"#),
    )
    .await;
    assert_eq!((s, a["config_version"].as_u64()), (200, Some(2)));
    assert_eq!(f.pusher.pushed().len(), pushes);

    for bad in [
        r#"{"config":{"schedule_minutes":0}}"#,
        r#"{"config":{"schedule_minutes":100000}}"#,
        r#"{"config":{"rules":[{"pattern":"(","severity":"high"}]}}"#,
        r#"{"config":{"rules":[{"pattern":"x","severity":"urgent"}]}}"#,
        r#"{"config":{"exclude_patterns":["["]}}"#,
        r#"{"config":{"log_group_prefixes":["bad prefix!"]}}"#,
        r#"{"config":{"unknown":1}}"#,
        r#"{}"#,
        r#"{"name":""}"#,
        "nope",
    ] {
        let (s, body) = call(&f, "PUT", "/agents/{agentId}", path, &[], &[], Some(bad)).await;
        assert_eq!(s, 400, "{bad}: {body}");
    }
}

#[tokio::test]
async fn agents_paginate_exactly_once_and_go_stale() {
    let f = fixture();
    for i in 0..7 {
        let env: Envelope = serde_json::from_value(json!({
            "version": "0", "id": "r", "detail-type": "Agent Heartbeat", "source": "monitoring.agent",
            "account": format!("11112222333{i}"), "time": "2026-11-25T11:00:00Z", "region": "eu-west-1", "resources": [],
            "detail": { "version": "0.1.0", "config_version": 1 }
        }))
        .unwrap();
        // Heartbeats 30 minutes old: three 5-minute periods have passed.
        domain::usecases::deployment::handle_agent_event(
            f.agents.as_ref(),
            f.pusher.as_ref(),
            &env,
            now() - Duration::minutes(30),
        )
        .await
        .unwrap();
    }
    let mut seen = vec![];
    let mut cursor: Option<String> = None;
    loop {
        let mut q = vec![("limit", "3")];
        if let Some(c) = &cursor {
            q.push(("cursor", c));
        }
        let (s, page) = get(&f, "/agents", "/agents", &q).await;
        assert_eq!(s, 200);
        for a in page["items"].as_array().unwrap() {
            assert_eq!(a["status"], "stale");
            seen.push(a["id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 7);
}

#[tokio::test]
async fn unknown_routes_are_404_and_wrong_methods_405() {
    let f = fixture();
    assert_eq!(get(&f, "/nope", "/nope", &[]).await.0, 404);
    assert_eq!(get(&f, "/events/a/b", "/events/a/b", &[]).await.0, 404);
    let (s, _) = call(&f, "POST", "/events", "/events", &[], &[], Some("{}")).await;
    assert_eq!(s, 405);
    let (s, _) = call(
        &f,
        "DELETE",
        "/agents/{agentId}",
        "/agents/111122223333-eu-west-1",
        &[],
        &[],
        None,
    )
    .await;
    assert_eq!(s, 405);
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let f = fixture();
    let ids = seed(&f, 1).await;
    let big = format!(r#"{{"note":"{}"}}"#, "x".repeat(handlers::api::MAX_BODY));
    let (s, _) = call(
        &f,
        "PUT",
        "/events/{eventId}",
        &format!("/events/{}", ids[0]),
        &[],
        &[],
        Some(&big),
    )
    .await;
    assert_eq!(s, 413);
    let long_note = format!(r#"{{"note":"{}"}}"#, "x".repeat(5000));
    let (s, _) = call(
        &f,
        "PUT",
        "/events/{eventId}",
        &format!("/events/{}", ids[0]),
        &[],
        &[],
        Some(&long_note),
    )
    .await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn every_route_resolves_to_itself() {
    let f = fixture();
    for route in Route::ALL {
        let (method, template) = route.method_and_path();
        let path = template
            .replace("{eventId}", "0123456789abcdef0123456789abcdef")
            .replace("{agentId}", "111122223333-eu-west-1");
        let (s, body) = call(&f, method, template, &path, &[], &[], Some("{}")).await;
        assert_ne!(s, 405, "{route:?}: {body}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(!message.starts_with("no route"), "{route:?}: {body}");
    }
}

/// Found by `ops/schemathesis`: the spec's If-Match pattern is exactly what
/// PUT /events/{id} accepts, and no other route reads the header.
#[tokio::test]
async fn if_match_is_read_by_put_event_only_and_strictly() {
    let f = fixture();
    let ids = seed(&f, 1).await;
    let path = format!("/events/{}", ids[0]);
    for junk in ["bogus", "\u{e9}"] {
        let (s, body) = call(
            &f,
            "GET",
            "/events/{eventId}",
            &path,
            &[],
            &[("If-Match", junk)],
            None,
        )
        .await;
        assert_eq!(s, 200, "{junk}: {body}");
    }
    let put = |if_match: &'static str| {
        let path = path.clone();
        let f = &f;
        async move {
            call(
                f,
                "PUT",
                "/events/{eventId}",
                &path,
                &[],
                &[("If-Match", if_match)],
                Some(r#"{"note":"looking"}"#),
            )
            .await
        }
    };
    for bad in [
        "\"+1\"",
        "+1",
        "\"1 \"",
        "\"\"",
        "\"12345678901234567890\"",
        "\"1\", \"2\"",
        "\u{e9}",
    ] {
        let (s, body) = put(bad).await;
        assert_eq!(s, 400, "{bad}: {body}");
    }
    for good in ["\"1\"", "W/\"2\"", "2", "*"] {
        let (s, body) = put(good).await;
        assert!(s == 200 || s == 412, "{good}: {s} {body}");
    }
}

/// Found by `ops/schemathesis`: a null in PUT /agents/{id} was read as
/// "absent" and answered 200; the spec has no nullable field there.
#[tokio::test]
async fn put_agent_refuses_nulls() {
    let f = fixture();
    seed_agent(&f).await;
    let path = "/agents/111122223333-eu-west-1";
    for body in [
        r#"{"name":null,"config":{"enabled":false}}"#,
        r#"{"config":null}"#,
        r#"{"name":"x","config":{"rules":null}}"#,
        r#"{"config":{"schedule_minutes":null}}"#,
    ] {
        let (s, e) = call(&f, "PUT", "/agents/{agentId}", path, &[], &[], Some(body)).await;
        assert_eq!(s, 400, "{body}: {e}");
    }
    let (_, a) = get(&f, "/agents/{agentId}", path, &[]).await;
    assert_eq!(
        (a["name"].as_str(), a["config"]["enabled"].as_bool()),
        (Some("payments-prod"), Some(true))
    );
}

/// What the hand-written router did and the axum one must keep: HEAD is not
/// GET, a trailing slash names the same route, the stage prefix that
/// `lambda_http` puts in the URI is not part of the route, a body over the
/// bound is 413 before the id is looked at, and an undecodable id is 404.
#[tokio::test]
async fn edge_cases_of_the_hand_written_router_are_kept() {
    let f = fixture();
    // A HEAD answer has no body (axum drops it, as HTTP servers always did).
    let head = rest_v1("HEAD", "/events", "/events", &[], &[], None);
    let (s, _) = handlers::api::answer(router(Arc::new(f.api.clone())), head).await;
    assert_eq!(s, 405);
    assert_eq!(get(&f, "/events", "/events/", &[]).await.0, 200);
    let (s, _) = get(&f, "/events/{eventId}", "/events/%ff", &[]).await;
    assert_eq!(s, 404);
    let big = "x".repeat(handlers::api::MAX_BODY + 1);
    let (s, _) = call(
        &f,
        "PUT",
        "/events/{eventId}",
        "/events/nope",
        &[],
        &[],
        Some(&big),
    )
    .await;
    assert_eq!(s, 413);
    // A local request: no stage, no API Gateway extensions.
    let req = axum::http::Request::get("/agents?limit=1")
        .body(axum::body::Body::empty())
        .unwrap();
    let (s, body) = handlers::api::answer(router(Arc::new(f.api.clone())), req).await;
    assert_eq!(s, 200, "{body:?}");
}

/// Records `count` occurrences of problem `p` at `time` straight into the store.
async fn record_at(f: &Fixture, p: &str, delivery: &str, time: &str, count: u64) -> String {
    use domain::ports::EventStore;
    let o = adapters::conformance::OccurrenceSpec::log(p, delivery, time.parse().unwrap())
        .count(count)
        .build();
    f.events.record(&o, now()).await.unwrap();
    o.event_id.to_string()
}

#[tokio::test]
async fn event_activity_is_one_entry_per_day_ending_today() {
    let f = fixture();
    let id = record_at(&f, "charted", "a", "2026-11-25T09:00:00Z", 2).await;
    record_at(&f, "charted", "b", "2026-11-25T10:00:00Z", 1).await;
    record_at(&f, "charted", "c", "2026-11-20T23:59:59Z", 3).await;
    record_at(&f, "charted", "d", "2026-10-01T00:00:00Z", 1).await;
    record_at(&f, "other", "a", "2026-11-25T09:00:00Z", 7).await;
    let route = "/events/{eventId}/activity";
    let path = format!("/events/{id}/activity");
    let days = |body: &Value| -> Vec<(String, u64)> {
        body["days"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["date"].as_str().unwrap().to_owned(),
                    d["count"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let (s, body) = get(&f, route, &path, &[]).await;
    assert_eq!(s, 200, "{body}");
    let d = days(&body);
    assert_eq!(d.len(), 14, "14 days by default");
    assert_eq!(d[0], ("2026-11-12".into(), 0), "oldest first");
    assert_eq!(d[13], ("2026-11-25".into(), 3), "ends today, UTC");
    assert_eq!(d[8], ("2026-11-20".into(), 3));
    assert_eq!(d.iter().map(|(_, c)| c).sum::<u64>(), 6);
    let (s, body) = get(&f, route, &path, &[("days", "90")]).await;
    assert_eq!(s, 200);
    let d = days(&body);
    assert_eq!((d.len(), d[0].0.as_str()), (90, "2026-08-28"));
    assert_eq!(d.iter().map(|(_, c)| c).sum::<u64>(), 7, "the whole count");
    let (_, body) = get(&f, route, &path, &[("days", "1")]).await;
    assert_eq!(days(&body), vec![("2026-11-25".into(), 3)]);
    for bad in [
        "0",
        "91",
        "abc",
        "-1",
        "+5",
        "1.5",
        "",
        "99999999999999999999",
    ] {
        let (s, body) = get(&f, route, &path, &[("days", bad)]).await;
        assert_eq!(s, 400, "days={bad:?}: {body}");
        assert_eq!(body["error"]["code"], "bad_request");
    }
    let (s, _) = get(&f, route, &path, &[("limit", "5")]).await;
    assert_eq!(s, 400, "an unknown parameter");
    let unknown = "/events/0123456789abcdef0123456789abcdef/activity";
    let (s, body) = get(&f, route, unknown, &[]).await;
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    let (s, _) = get(&f, route, "/events/not-an-id/activity", &[]).await;
    assert_eq!(s, 404);
    let (s, _) = call(&f, "PUT", route, &path, &[], &[], Some("{}")).await;
    assert_eq!(s, 405);
}

/// A day of more new events than the overview lists: 50 of them, and how many.
#[tokio::test]
async fn overview_lists_at_most_fifty_new_events_and_counts_them_all() {
    let f = fixture();
    seed(&f, 55).await;
    let (s, body) = get(&f, "/overview", "/overview", &[]).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["new"].as_array().unwrap().len(), 50);
    assert_eq!(body["new_count"], 55);
    assert_eq!(body["events"], 55);
}

#[tokio::test]
async fn overview_gives_the_daily_reports_figures() {
    let f = fixture();
    let ids = seed(&f, 3).await;
    seed_agent(&f).await;
    let older = record_at(&f, "older", "a", "2026-11-20T08:00:00Z", 4).await;
    record_at(&f, "older", "b", "2026-11-25T08:00:00Z", 5).await;
    let (s, body) = get(&f, "/overview", "/overview", &[]).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["date"], "2026-11-25", "today by default");
    assert_eq!(body["occurrences"], 8);
    assert_eq!(body["events"], 4);
    assert_eq!(
        body["by_severity"],
        json!({"info": 0, "low": 0, "medium": 0, "high": 8, "critical": 0})
    );
    assert_eq!(body["by_account"], json!({"111122223333": 8}));
    let list_ids = |name: &str| -> Vec<String> {
        body[name]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(list_ids("top")[0], older, "most frequent first");
    assert_eq!(list_ids("top").len(), 4);
    let mut new = list_ids("new");
    new.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(new, expected, "first seen that day");
    assert_eq!(body["new_count"], 3);
    assert!(list_ids("regressed").is_empty());
    assert_eq!(body["regressed_count"], 0);
    assert_eq!(
        body["day_counts"][&older], 5,
        "that day's count, not the total"
    );
    assert_eq!(
        body["top"][0]["count"], 9,
        "events as GET /events returns them"
    );
    assert_eq!(
        body["stale_agents"],
        json!([]),
        "the agent heartbeated a minute ago"
    );
    // As in the report: an agent that sent nothing that day is listed.
    let (s, body) = get(&f, "/overview", "/overview", &[("date", "2026-11-26")]).await;
    assert_eq!(s, 200);
    let quiet = body["stale_agents"].as_array().unwrap();
    assert_eq!(quiet.len(), 1, "{body}");
    assert_eq!(quiet[0]["id"], "111122223333-eu-west-1");

    let (s, body) = get(&f, "/overview", "/overview", &[("date", "2026-11-20")]).await;
    assert_eq!(s, 200);
    assert_eq!(
        (body["occurrences"].as_u64(), body["events"].as_u64()),
        (Some(4), Some(1))
    );
    let (s, body) = get(&f, "/overview", "/overview", &[("date", "2026-11-01")]).await;
    assert_eq!((s, body["occurrences"].as_u64()), (200, Some(0)));
    for bad in [
        "2026-02-30",
        "2026-1-01",
        "yesterday",
        "",
        "2026-11-25T00:00:00Z",
        "99999-01-01",
    ] {
        let (s, body) = get(&f, "/overview", "/overview", &[("date", bad)]).await;
        assert_eq!(s, 400, "date={bad:?}: {body}");
    }
    let (s, _) = get(&f, "/overview", "/overview", &[("day", "2026-11-25")]).await;
    assert_eq!(s, 400, "an unknown parameter");
}
