//! The pure parts (rows, windows, the query string) and the query loop
//! against scripted answers (the SDK's own mocks, `aws-smithy-mocks`); the
//! moto tests are in `tests/aws_logs.rs`.

use super::query::{build_query, covering_prefixes, split_on_second};
use super::rows::{parse_row, parse_timestamp, rows_to_records};
use super::*;
use crate::sync::lock;
use aws_sdk_cloudwatchlogs::types::ResultField;
use aws_smithy_mocks::{mock, RuleMode};
use chrono::Duration as Span;
use chrono::{DateTime, TimeZone, Utc};
use std::sync::Mutex;

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn w(start: &str, end: &str) -> Window {
    Window {
        start: t(start),
        end: t(end),
    }
}

fn groups(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

#[test]
fn rows_from_aws_name_their_group_after_the_account() {
    let r = parse_row(
        [
            ("@timestamp", "2026-11-25 10:00:00.123"),
            ("@message", "ERROR boom\n"),
            ("@log", "123456789012:/aws/lambda/orders"),
            ("@ptr", "Cm4KNQ"),
        ],
        &groups(&["/aws/lambda/orders", "/aws/lambda/other"]),
    )
    .unwrap();
    assert_eq!(
        r,
        LogRecord {
            log_group: "/aws/lambda/orders".into(),
            time: t("2026-11-25T10:00:00.123Z"),
            message: "ERROR boom".into(),
        }
    );
}

#[test]
fn rows_from_moto_carry_epoch_millis_and_bare_group_names() {
    let r = parse_row(
        [
            ("@timestamp", "1795600800123"),
            (
                "@message",
                "Traceback (most recent call last):\n  File \"x.py\"",
            ),
            ("@log", "/aws/lambda/orders"),
        ],
        &groups(&["/aws/lambda/orders", "/b"]),
    )
    .unwrap();
    assert_eq!(r.log_group, "/aws/lambda/orders");
    assert_eq!(r.time, Utc.timestamp_millis_opt(1_795_600_800_123).unwrap());
    assert!(r.message.ends_with("File \"x.py\""));
    assert_eq!(
        parse_timestamp("2026-11-25T10:00:00.5Z").unwrap(),
        t("2026-11-25T10:00:00.500Z")
    );
    assert_eq!(
        parse_timestamp("2026-11-25 10:00:00").unwrap(),
        t("2026-11-25T10:00:00Z")
    );
}

#[test]
fn rows_without_a_group_belong_to_the_only_group_or_to_none() {
    let fields = [
        ("@timestamp", "2026-11-25 10:00:00.000"),
        ("@message", "ERROR x"),
    ];
    assert_eq!(
        parse_row(fields, &groups(&["/only"])).unwrap().log_group,
        "/only"
    );
    assert_eq!(
        parse_row(fields, &groups(&["/a", "/b"])).unwrap().log_group,
        UNKNOWN_LOG_GROUP
    );
    assert_eq!(
        parse_row(
            [("@timestamp", "1"), ("@message", "x"), ("@log", "123:")],
            &groups(&["/a", "/b"])
        )
        .unwrap()
        .log_group,
        UNKNOWN_LOG_GROUP
    );
}

#[test]
fn rows_without_time_or_message_are_refused() {
    assert!(parse_row([("@message", "ERROR x")], &groups(&["/a"])).is_err());
    assert!(parse_row([("@timestamp", "1795600800123")], &groups(&["/a"])).is_err());
    assert!(parse_row(
        [("@timestamp", "yesterday"), ("@message", "x")],
        &groups(&["/a"])
    )
    .is_err());
}

#[test]
fn rows_outside_the_window_are_dropped() {
    let row = |ts: &str| {
        vec![
            ResultField::builder().field("@timestamp").value(ts).build(),
            ResultField::builder()
                .field("@message")
                .value("ERROR x")
                .build(),
        ]
    };
    let window = w("2026-11-25T10:00:00.250Z", "2026-11-25T10:00:01.500Z");
    let rows = vec![
        row("2026-11-25 10:00:00.249"),
        row("2026-11-25 10:00:00.250"),
        row("2026-11-25 10:00:01.499"),
        row("2026-11-25 10:00:01.500"),
        row("not a time"),
    ];
    let got: Vec<_> = rows_to_records(&rows, &groups(&["/a"]), &window)
        .into_iter()
        .map(|r| r.time)
        .collect();
    assert_eq!(
        got,
        [t("2026-11-25T10:00:00.250Z"), t("2026-11-25T10:00:01.499Z")]
    );
}

#[test]
fn windows_map_to_whole_seconds_that_cover_them() {
    assert_eq!(
        query_range(&w("2026-11-25T10:00:00Z", "2026-11-25T10:05:00Z")),
        (1_795_600_800, 1_795_601_100)
    );
    assert_eq!(
        query_range(&w("2026-11-25T10:00:00.999Z", "2026-11-25T10:05:00.001Z")),
        (1_795_600_800, 1_795_601_101)
    );
    // Sub-millisecond precision rounds outwards too.
    let start = t("2026-11-25T10:00:00Z") + Span::nanoseconds(1);
    assert_eq!(
        query_range(&Window {
            start,
            end: start + Span::nanoseconds(1)
        }),
        (1_795_600_800, 1_795_600_801)
    );
}

#[test]
fn consecutive_windows_take_every_millisecond_exactly_once() {
    // Windows with odd, sub-second boundaries, as the agent plans them.
    let mut bounds = vec![t("2026-11-25T10:00:00.250Z")];
    for step in [1_750, 1, 999, 1_000, 2_345, 500] {
        let last = *bounds.last().unwrap();
        bounds.push(last + Span::milliseconds(step));
    }
    let windows: Vec<Window> = bounds
        .windows(2)
        .map(|b| Window {
            start: b[0],
            end: b[1],
        })
        .collect();
    let first = bounds[0] - Span::seconds(1);
    for ms in 0..9_000 {
        let at = first + Span::milliseconds(ms);
        let owners: Vec<&Window> = windows
            .iter()
            .filter(|w| w.start <= at && at < w.end)
            .collect();
        let inside = bounds[0] <= at && at < *bounds.last().unwrap();
        assert_eq!(owners.len(), usize::from(inside), "{at}");
        for w in owners {
            // ...and the query of the window that keeps it asks for its second.
            let (s, e) = query_range(w);
            assert!(
                s * 1000 <= at.timestamp_millis() && at.timestamp() <= e,
                "{at}"
            );
        }
    }
}

#[test]
fn windows_split_on_whole_seconds_down_to_one_second() {
    let window = w("2026-11-25T10:00:00.250Z", "2026-11-25T10:00:03.700Z");
    let (a, b) = split_on_second(&window).unwrap();
    assert_eq!((a.start, a.end, b.end), (window.start, b.start, window.end));
    assert_eq!(b.start, t("2026-11-25T10:00:01Z"));
    // Each half queries fewer seconds than the whole.
    let span = |w: &Window| query_range(w).1 - query_range(w).0;
    assert!(span(&a) < span(&window) && span(&b) < span(&window));
    // A midpoint before the first whole second moves up to it.
    let (c, d) =
        split_on_second(&w("2026-11-25T10:00:00.250Z", "2026-11-25T10:00:01.100Z")).unwrap();
    assert_eq!(
        (c.end, d.start),
        (t("2026-11-25T10:00:01Z"), t("2026-11-25T10:00:01Z"))
    );
    // No whole second strictly inside: the smallest query already.
    assert!(split_on_second(&w("2026-11-25T10:00:00.250Z", "2026-11-25T10:00:01Z")).is_none());
    assert!(split_on_second(&w("2026-11-25T10:00:00Z", "2026-11-25T10:00:01Z")).is_none());
    assert!(split_on_second(&w("2026-11-25T10:00:00Z", "2026-11-25T10:00:02Z")).is_some());
}

#[test]
fn the_query_filters_sorts_and_limits() {
    assert_eq!(
        build_query(10_000, Some(&[])),
        format!(
            "fields @timestamp, @message, @log | filter @message like /{ERROR_PATTERN}/ | sort @timestamp asc | limit 10000"
        )
    );
    let q = build_query(5, Some(&groups(&["(?i)card declined", "a/b\\/c"])));
    assert!(q.ends_with(
        "/ or @message like /(?i)card declined/ or @message like /a\\/b\\/c/ | sort @timestamp asc | limit 5"
    ));
    assert_eq!(
        build_query(7, None),
        "fields @timestamp, @message, @log | sort @timestamp asc | limit 7"
    );
}

#[test]
fn the_default_filter_lets_through_every_default_error() {
    let filter = filter_words(ERROR_PATTERN);
    for line in [
        "thread 'main' panicked at src/main.rs:10:5",
        "Task timed out after 3.00 seconds",
        "java.lang.OutOfMemoryError: Java heap space",
        "Runtime exited with error: signal: killed",
        "Runtime.ExitError",
        "TypeError: x",
        "Traceback (most recent call last):",
        "Unhandled promise rejection",
        "2026-11-25 10:00:00 WARN disk",
        "[ERR] x",
        r#"{"level":"crit","msg":"x"}"#,
        r#"{"level":"emerg","msg":"x"}"#,
        r#"{"level":"alert","msg":"x"}"#,
        r#"{"level":"severe","msg":"x"}"#,
    ] {
        assert!(filter(line), "{line}");
        assert!(
            domain::classify::Classifier::defaults()
                .classify(line)
                .is_some(),
            "{line}"
        );
    }
}

/// The filter's words, matched case-insensitively as Logs Insights does.
fn filter_words(pattern: &str) -> impl Fn(&str) -> bool {
    let words: Vec<String> = pattern
        .trim_start_matches("(?i)(")
        .trim_end_matches(')')
        .split('|')
        .map(str::to_lowercase)
        .collect();
    move |line| {
        let line = line.to_lowercase();
        words.iter().any(|w| line.contains(w.as_str()))
    }
}

#[test]
fn covering_prefixes_drop_duplicates_and_covered_ones() {
    assert_eq!(
        covering_prefixes(&groups(&[
            "/aws/lambda/",
            "/aws/",
            "/b",
            "/aws/lambda/x",
            "/b"
        ])),
        groups(&["/aws/", "/b"])
    );
    assert_eq!(covering_prefixes(&groups(&["/a", "", "/b"])), groups(&[""]));
    assert!(covering_prefixes(&[]).is_empty());
}

/// Scripted Logs Insights answers (the statuses and refusals moto never
/// gives): `aws-smithy-mocks` rules, each answering one operation, served by
/// the SDK's own interceptor instead of a network endpoint. A call that no
/// rule answers panics; in [`RuleMode::Sequential`] the rules must also be met
/// in their order, each used up before the next.
mod scripted {
    use aws_sdk_cloudwatchlogs::config::retry::RetryConfig;
    use aws_sdk_cloudwatchlogs::operation::get_query_results::GetQueryResultsOutput;
    use aws_sdk_cloudwatchlogs::operation::start_query::{StartQueryError, StartQueryOutput};
    use aws_sdk_cloudwatchlogs::operation::stop_query::StopQueryOutput;
    use aws_sdk_cloudwatchlogs::types::error::{
        LimitExceededException, MalformedQueryException, ResourceNotFoundException,
    };
    use aws_sdk_cloudwatchlogs::types::{QueryStatus, ResultField};
    use aws_sdk_cloudwatchlogs::Client;
    use aws_smithy_mocks::{mock_client, Rule, RuleMode};
    use aws_smithy_types::error::ErrorMetadata;

    /// A client answered by `rules`, without the SDK's own retries: the
    /// source retries StartQuery itself, and the tests count its calls.
    pub fn client(mode: RuleMode, rules: &[&Rule]) -> Client {
        mock_client!(aws_sdk_cloudwatchlogs, mode, rules, |config| config
            .retry_config(RetryConfig::disabled()))
    }

    /// The code and message a refusal carries, as the service sends them.
    fn meta(code: &str) -> ErrorMetadata {
        ErrorMetadata::builder()
            .code(code)
            .message("scripted")
            .build()
    }

    pub fn limit_exceeded() -> StartQueryError {
        StartQueryError::LimitExceededException(
            LimitExceededException::builder()
                .message("scripted")
                .meta(meta("LimitExceededException"))
                .build(),
        )
    }

    pub fn malformed() -> StartQueryError {
        StartQueryError::MalformedQueryException(
            MalformedQueryException::builder()
                .message("scripted")
                .meta(meta("MalformedQueryException"))
                .build(),
        )
    }

    pub fn not_found() -> StartQueryError {
        StartQueryError::ResourceNotFoundException(
            ResourceNotFoundException::builder()
                .message("scripted")
                .meta(meta("ResourceNotFoundException"))
                .build(),
        )
    }

    pub fn started() -> StartQueryOutput {
        StartQueryOutput::builder().query_id("q1").build()
    }

    pub fn stopped() -> StopQueryOutput {
        StopQueryOutput::builder().success(true).build()
    }

    /// A query still under way (or ended badly): a status and no rows.
    pub fn status(s: &str) -> GetQueryResultsOutput {
        GetQueryResultsOutput::builder()
            .status(QueryStatus::from(s))
            .set_results(Some(Vec::new()))
            .build()
    }

    /// A complete query with one row, as AWS words it.
    pub fn one_row() -> GetQueryResultsOutput {
        let field = |f: &str, v: &str| ResultField::builder().field(f).value(v).build();
        GetQueryResultsOutput::builder()
            .status(QueryStatus::Complete)
            .results(vec![
                field("@timestamp", "2026-11-25 10:01:00.000"),
                field("@message", "ERROR boom"),
                field("@log", "123456789012:/g"),
            ])
            .build()
    }
}

fn quick(client: aws_sdk_cloudwatchlogs::Client) -> InsightsLogSource {
    InsightsLogSource::new(client).with_poll(Duration::from_millis(1), Duration::from_millis(4))
}

fn window() -> Window {
    w("2026-11-25T10:00:00Z", "2026-11-25T10:05:00Z")
}

#[tokio::test]
async fn too_many_queries_is_retried_and_running_queries_are_polled() {
    let start = mock!(Client::start_query)
        .match_requests(|q| {
            (q.start_time(), q.end_time()) == (Some(1_795_600_800), Some(1_795_601_100))
        })
        .sequence()
        .error(scripted::limit_exceeded)
        .times(2)
        .output(scripted::started)
        .build();
    let poll = mock!(Client::get_query_results)
        .sequence()
        .output(|| scripted::status("Scheduled"))
        .output(|| scripted::status("Running"))
        .output(scripted::one_row)
        .build();
    // In order: the three StartQuery calls, then the three polls, and no more.
    let client = scripted::client(RuleMode::Sequential, &[&start, &poll]);
    let records = quick(client)
        .fetch(&groups(&["/g"]), &window(), &[])
        .await
        .unwrap();
    assert_eq!(
        records,
        [LogRecord {
            log_group: "/g".into(),
            time: t("2026-11-25T10:01:00Z"),
            message: "ERROR boom".into()
        }]
    );
    assert_eq!((start.num_calls(), poll.num_calls()), (3, 3));
}

#[tokio::test]
async fn queries_that_end_badly_are_errors_not_empty_results() {
    // (status, retryable, stopped): a status this agent does not know is
    // stopped, in case the query is still running.
    for (status, retryable, stops) in [
        ("Failed", true, 0),
        ("Cancelled", true, 0),
        ("Timeout", true, 0),
        ("Unknown", true, 0),
        ("Exploded", false, 1),
    ] {
        let start = mock!(Client::start_query).then_output(scripted::started);
        let poll = mock!(Client::get_query_results).then_output(move || scripted::status(status));
        let stop = mock!(Client::stop_query).then_output(scripted::stopped);
        let client = scripted::client(RuleMode::MatchAny, &[&start, &poll, &stop]);
        let err = quick(client)
            .fetch(&groups(&["/g"]), &window(), &[])
            .await
            .unwrap_err();
        assert_eq!(err.is_retryable(), retryable, "{status}: {err}");
        assert!(err.to_string().contains(status), "{err}");
        assert_eq!(
            (start.num_calls(), poll.num_calls(), stop.num_calls()),
            (1, 1, stops),
            "{status}"
        );
    }
}

#[tokio::test]
async fn a_query_over_its_time_is_stopped_and_transient() {
    let start = mock!(Client::start_query).then_output(scripted::started);
    let poll = mock!(Client::get_query_results).then_output(|| scripted::status("Running"));
    // The polls seen when StopQuery came: none may follow it.
    let polls_at_stop = Arc::new(Mutex::new(None));
    let stop = mock!(Client::stop_query).then_compute_output({
        let (poll, polls_at_stop) = (poll.clone(), Arc::clone(&polls_at_stop));
        move |_| {
            *lock(&polls_at_stop) = Some(poll.num_calls());
            scripted::stopped()
        }
    });
    let client = scripted::client(RuleMode::MatchAny, &[&start, &poll, &stop]);
    let source = quick(client).with_query_timeout(Duration::from_millis(40));
    let err = source
        .fetch(&groups(&["/g"]), &window(), &[])
        .await
        .unwrap_err();
    assert!(matches!(err, PortError::Transient(_)), "{err}");
    assert!(err.to_string().contains("did not complete"), "{err}");
    assert_eq!((start.num_calls(), stop.num_calls()), (1, 1));
    assert!(poll.num_calls() >= 1);
    assert_eq!(
        *lock(&polls_at_stop),
        Some(poll.num_calls()),
        "StopQuery is the last call"
    );
}

#[tokio::test]
async fn retries_of_a_refused_start_are_bounded() {
    let refused = mock!(Client::start_query).then_error(scripted::limit_exceeded);
    let client = scripted::client(RuleMode::MatchAny, &[&refused]);
    let err = quick(client)
        .fetch(&groups(&["/g"]), &window(), &[])
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(err.to_string().contains("LimitExceededException"), "{err}");
    assert_eq!(refused.num_calls(), START_ATTEMPTS as usize);
    // A refusal no retry can fix is not retried.
    let refused = mock!(Client::start_query).then_error(scripted::not_found);
    let client = scripted::client(RuleMode::MatchAny, &[&refused]);
    let err = quick(client)
        .fetch(&groups(&["/g"]), &window(), &[])
        .await
        .unwrap_err();
    assert!(!err.is_retryable(), "{err}");
    assert!(
        err.to_string().contains("ResourceNotFoundException"),
        "{err}"
    );
    assert_eq!(refused.num_calls(), 1);
}

#[tokio::test]
async fn a_refused_rule_filter_falls_back_to_no_server_side_filter() {
    let filtered = |q: &str| q.contains("filter");
    let refused = mock!(Client::start_query)
        .match_requests(move |q| q.query_string().is_some_and(filtered))
        .then_error(scripted::malformed);
    let started = mock!(Client::start_query)
        .match_requests(move |q| q.query_string().is_some_and(|q| !filtered(q)))
        .then_output(scripted::started);
    let poll = mock!(Client::get_query_results).then_output(scripted::one_row);
    // In order: the filtered query refused, the unfiltered one run.
    let client = scripted::client(RuleMode::Sequential, &[&refused, &started, &poll]);
    let source = quick(client);
    let config = AgentConfig {
        log_group_prefixes: vec![],
        rules: vec![domain::model::Rule {
            pattern: "card declined".into(),
            severity: domain::model::Severity::Medium,
        }],
        ..AgentConfig::default()
    };
    assert!(source.discover(&config).await.unwrap().is_empty());
    assert!(source
        .query_string(&config.rules)
        .contains("or @message like /card declined/"));
    assert_eq!(
        source
            .fetch(&groups(&["/g"]), &window(), &config.rules)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        (refused.num_calls(), started.num_calls(), poll.num_calls()),
        (1, 1, 1)
    );
    // Without rules of its own, a refused query is an error.
    let refused = mock!(Client::start_query).then_error(scripted::malformed);
    let client = scripted::client(RuleMode::MatchAny, &[&refused]);
    let err = quick(client)
        .fetch(&groups(&["/g"]), &window(), &[])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("MalformedQueryException"), "{err}");
    assert_eq!(refused.num_calls(), 1);
}
