//! `InsightsLogSource` against moto's CloudWatch Logs.
//!
//! What moto 5.1's Logs Insights does (checked in its source and by hand):
//! StartQuery runs the query at once, so GetQueryResults answers `Complete`
//! on the first poll; it honours `fields`, `limit` and the time range
//! (`startTime`/`endTime` in seconds, both inclusive at `.000`), ignores
//! `filter` (every event comes back), and sorts the wrong way round
//! (`sort @timestamp asc` answers newest first). `@timestamp` comes back as
//! epoch milliseconds and `@log` as the bare group name (AWS: `2026-11-25
//! 10:00:00.123` and `<account>:<group>`). StartQuery does not enforce the
//! 50-group limit, and StopQuery answers 500. DescribeLogGroups pages by 50.
#![cfg(feature = "aws")]
mod common;

use adapters::aws::logs::InsightsLogSource;
use adapters::aws::testing::{create_log_group, put_log_lines};
use aws_sdk_cloudwatchlogs::Client;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use chrono::{DateTime, Duration, DurationRound, Utc};
use domain::classify::Classifier;
use domain::model::{AgentConfig, Severity};
use domain::ports::{LogRecord, LogSource};
use domain::usecases::agent::group_records;
use domain::window::Window;
use std::sync::{Arc, Mutex};

/// Keeps the body of every StartQuery request the client sends.
#[derive(Debug, Clone, Default)]
struct StartQueries(Arc<Mutex<Vec<serde_json::Value>>>);

impl StartQueries {
    fn all(&self) -> Vec<serde_json::Value> {
        self.0.lock().unwrap().clone()
    }
}

impl Intercept for StartQueries {
    fn name(&self) -> &'static str {
        "StartQueries"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request();
        let is_start = request
            .headers()
            .get("x-amz-target")
            .is_some_and(|t| t.ends_with(".StartQuery"));
        if let (true, Some(body)) = (is_start, request.body().bytes()) {
            self.0.lock().unwrap().push(serde_json::from_slice(body)?);
        }
        Ok(())
    }
}

async fn client() -> (Client, StartQueries) {
    let starts = StartQueries::default();
    let config = aws_sdk_cloudwatchlogs::config::Builder::from(&common::moto_config().await)
        .interceptor(starts.clone())
        .build();
    (Client::from_conf(config), starts)
}

/// A window of recent past (PutLogEvents takes the last 14 days) with
/// sub-second boundaries, as the agent plans them.
fn recent_window(length: Duration) -> Window {
    let start = (Utc::now() - Duration::minutes(30))
        .duration_trunc(Duration::seconds(1))
        .unwrap()
        + Duration::milliseconds(250);
    Window {
        start,
        end: start + length,
    }
}

fn source(client: Client) -> InsightsLogSource {
    InsightsLogSource::new(client).with_poll(
        std::time::Duration::from_millis(5),
        std::time::Duration::from_millis(50),
    )
}

#[tokio::test]
async fn discovery_pages_through_prefixes_and_checks_named_groups() {
    let (client, _) = client().await;
    let prefix = format!("{}/", common::unique("/it/discover"));
    let mut expected: Vec<String> = (0..61).map(|i| format!("{prefix}svc-{i:02}")).collect();
    for g in &expected {
        client
            .create_log_group()
            .log_group_name(g)
            .send()
            .await
            .unwrap();
    }
    let other = common::unique("/it/elsewhere");
    let named = format!("{other}/named");
    let unwatched = format!("{other}/unwatched");
    for g in [&named, &unwatched] {
        client
            .create_log_group()
            .log_group_name(g)
            .send()
            .await
            .unwrap();
    }
    // The premise: moto pages DescribeLogGroups by 50.
    let first = client
        .describe_log_groups()
        .log_group_name_prefix(&prefix)
        .send()
        .await
        .unwrap();
    assert_eq!(first.log_groups().len(), 50);
    assert!(first.next_token().is_some());

    let source = source(client);
    let config = AgentConfig {
        log_group_prefixes: vec![prefix.clone(), format!("{prefix}svc-1"), prefix.clone()],
        log_groups: vec![
            named.clone(),
            format!("{other}/missing"),
            format!("{prefix}svc-03"),
        ],
        ..AgentConfig::default()
    };
    let found = source.discover(&config).await.unwrap();
    expected.push(named.clone());
    expected.sort();
    assert_eq!(found, expected);
    assert!(!found.contains(&unwatched));

    // An empty prefix means every group.
    let all = source
        .discover(&AgentConfig {
            log_group_prefixes: vec![String::new()],
            ..AgentConfig::default()
        })
        .await
        .unwrap();
    assert!(all.len() > 63);
    assert!(expected
        .iter()
        .chain([&unwatched])
        .all(|g| all.binary_search(g).is_ok()));
    assert!(all.windows(2).all(|p| p[0] < p[1]), "sorted, no duplicates");
}

#[tokio::test]
async fn fetch_over_more_than_fifty_groups_returns_exactly_the_window() {
    let (client, starts) = client().await;
    let prefix = common::unique("/it/fetch");
    let groups: Vec<String> = (0..57).map(|i| format!("{prefix}/g{i:02}")).collect();
    let window = recent_window(Duration::milliseconds(60_500));
    let next = Window {
        start: window.end,
        end: window.end + Duration::seconds(10),
    };
    let mut inside = Vec::new();
    let mut later = Vec::new();
    for (i, g) in groups.iter().enumerate() {
        create_log_group(&client, g).await;
        let ms = |n: i64| Duration::milliseconds(n);
        let events = [
            (window.start - ms(1), "ERROR before the window"),
            (window.start, "ERROR at the start"),
            (window.start + ms(1_000 * i as i64), "ERROR inside"),
            (window.end - ms(1), "ERROR at the last millisecond"),
            (window.end, "ERROR at the end, so in the next window"),
            (
                window.end + ms(300),
                "ERROR after the end, in the same second",
            ),
        ];
        put_log_lines(&client, g, &events).await;
        for (t, m) in &events[1..4] {
            inside.push(LogRecord {
                log_group: g.clone(),
                time: *t,
                message: m.to_string(),
            });
        }
        for (t, m) in &events[4..] {
            later.push(LogRecord {
                log_group: g.clone(),
                time: *t,
                message: m.to_string(),
            });
        }
    }
    let sort = |v: &mut Vec<LogRecord>| {
        v.sort_by(|a, b| {
            (a.time, &a.log_group, &a.message).cmp(&(b.time, &b.log_group, &b.message))
        })
    };
    sort(&mut inside);
    sort(&mut later);

    let source = source(client);
    let got = source.fetch(&groups, &window, &[]).await.unwrap();
    assert_eq!(got.len(), inside.len());
    assert_eq!(got, inside);

    // Chunked: every query named at most 50 groups, and all of them together.
    let queries = starts.all();
    assert_eq!(queries.len(), 2);
    let mut asked: Vec<String> = Vec::new();
    for q in &queries {
        let names = q["logGroupNames"].as_array().unwrap();
        assert!(names.len() <= 50);
        asked.extend(names.iter().map(|n| n.as_str().unwrap().to_owned()));
        // Whole seconds that cover the window.
        assert_eq!(q["startTime"].as_i64().unwrap(), window.start.timestamp());
        assert_eq!(q["endTime"].as_i64().unwrap(), window.end.timestamp() + 1);
        assert!(q["queryString"].as_str().unwrap().contains("| limit 10000"));
    }
    asked.sort();
    assert_eq!(asked, groups);

    // The next window picks up exactly where this one stopped.
    assert_eq!(source.fetch(&groups, &next, &[]).await.unwrap(), later);
}

#[tokio::test]
async fn a_full_query_splits_its_window_and_still_returns_every_record_once() {
    let (client, starts) = client().await;
    let group = common::unique("/it/split");
    create_log_group(&client, &group).await;
    let window = recent_window(Duration::milliseconds(9_500));
    let events: Vec<(DateTime<Utc>, String)> = (0..13)
        .map(|i| {
            (
                window.start + Duration::milliseconds(700 * i),
                format!("ERROR job {i} failed"),
            )
        })
        .collect();
    let refs: Vec<(DateTime<Utc>, &str)> = events.iter().map(|(t, m)| (*t, m.as_str())).collect();
    put_log_lines(&client, &group, &refs).await;

    let got = source(client)
        .with_row_limit(5)
        .fetch(std::slice::from_ref(&group), &window, &[])
        .await
        .unwrap();
    let got: Vec<(DateTime<Utc>, String)> = got.into_iter().map(|r| (r.time, r.message)).collect();
    assert_eq!(got, events);
    let queries = starts.all();
    assert!(queries.len() >= 5, "{} queries", queries.len());
    assert!(queries
        .iter()
        .all(|q| q["queryString"].as_str().unwrap().ends_with("| limit 5")));
}

#[tokio::test]
async fn a_minimal_window_over_the_limit_returns_what_it_has() {
    let (client, _) = client().await;
    let group = common::unique("/it/overflow");
    create_log_group(&client, &group).await;
    let window = recent_window(Duration::milliseconds(500));
    let events: Vec<(DateTime<Utc>, &str)> = (0..8)
        .map(|i| (window.start + Duration::milliseconds(50 * i), "ERROR burst"))
        .collect();
    put_log_lines(&client, &group, &events).await;
    let got = source(client)
        .with_row_limit(5)
        .fetch(std::slice::from_ref(&group), &window, &[])
        .await
        .unwrap();
    // One second cannot be split further: the limit's worth, with a warning.
    assert_eq!(got.len(), 5);
    assert!(got.iter().all(|r| r.log_group == group));
}

#[tokio::test]
async fn fetched_records_group_and_fingerprint_as_the_agent_expects() {
    let (client, _) = client().await;
    let prefix = common::unique("/it/classify");
    let (api, worker) = (format!("{prefix}/api"), format!("{prefix}/worker"));
    create_log_group(&client, &api).await;
    create_log_group(&client, &worker).await;
    let window = recent_window(Duration::seconds(120));
    let at = |s: i64| window.start + Duration::seconds(s);
    let traceback = |id: &str| {
        format!(
            "Traceback (most recent call last):\n  File \"/var/task/app.py\", line 42, in handler\n    charge(order_id)\nKeyError: 'order-{id}'"
        )
    };
    let (t1, t2, t3) = (traceback("1001"), traceback("2002"), traceback("3003"));
    put_log_lines(
        &client,
        &api,
        &[
            (at(1), "INFO request started id=1"),
            (at(2), t1.as_str()),
            (at(3), "INFO request finished id=1"),
            (at(10), t2.as_str()),
            (at(20), t3.as_str()),
            (at(30), "DEBUG cache warm"),
            (at(40), "2026-11-25 10:00:00 WARN slow response 1200 ms"),
        ],
    )
    .await;
    put_log_lines(
        &client,
        &worker,
        &[
            (at(5), r#"{"level":"error","msg":"payment 4711 failed","request_id":"6f1c2a8e-0b7d-4a55-9b6e-0d1f3c2b9a11"}"#),
            (at(6), r#"{"level":"info","msg":"error budget ok"}"#),
            (at(50), r#"{"level":"error","msg":"payment 4712 failed","request_id":"0a9b8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d"}"#),
            (at(60), r#"{"level":"error","msg":"inventory sync failed"}"#),
            (at(200), r#"{"level":"error","msg":"payment 9999 failed","note":"outside the window"}"#),
        ],
    )
    .await;

    let records = source(client)
        .fetch(&[worker.clone(), api.clone()], &window, &[])
        .await
        .unwrap();
    // Moto ignores the filter: the INFO noise comes back too, in the window only.
    assert_eq!(records.len(), 11);
    assert!(records
        .windows(2)
        .all(|p| (p[0].time, &p[0].log_group) <= (p[1].time, &p[1].log_group)));

    let agent = "000000000000-us-east-1".parse().unwrap();
    let (matched, details) = group_records(&agent, &Classifier::defaults(), &records, &window);
    assert_eq!(matched, 7, "3 tracebacks, 1 warning, 3 JSON errors");
    let summary: Vec<(&str, u64, Severity)> = details
        .iter()
        .map(|d| (d.log_group.as_str(), d.count, d.severity))
        .collect();
    let mut expected_summary = vec![
        (api.as_str(), 3, Severity::High),
        (api.as_str(), 1, Severity::Low),
        (worker.as_str(), 2, Severity::High),
        (worker.as_str(), 1, Severity::High),
    ];
    let mut got_summary = summary.clone();
    expected_summary.sort();
    got_summary.sort();
    assert_eq!(got_summary, expected_summary);
    let tracebacks = details
        .iter()
        .find(|d| d.log_group == api && d.count == 3)
        .unwrap();
    assert_eq!(tracebacks.sample, t1);
    assert_eq!(
        (tracebacks.first_seen, tracebacks.last_seen),
        (at(2), at(20))
    );
    let payments = details
        .iter()
        .find(|d| d.log_group == worker && d.count == 2)
        .unwrap();
    assert!(payments.sample.contains("payment 4711 failed"));
    assert!(details
        .iter()
        .all(|d| !d.sample.contains("INFO") && !d.sample.contains("\"info\"")));
}
