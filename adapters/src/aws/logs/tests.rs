//! The pure parts (rows, windows, the query string) and the query loop
//! against a scripted endpoint; the moto tests are in `tests/aws_logs.rs`.

use super::query::{build_query, covering_prefixes, split_on_second};
use super::rows::{parse_row, parse_timestamp, rows_to_records};
use super::*;
use aws_sdk_cloudwatchlogs::types::ResultField;
use chrono::Duration as Span;
use chrono::{DateTime, TimeZone, Utc};

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

/// A scripted CloudWatch Logs endpoint on loopback (std threads: the
/// statuses and refusals moto never answers).
mod fake {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};

    pub type Reply = (u16, String);
    pub type Script = Box<dyn FnMut(&str, &str) -> Reply + Send>;

    /// Serves `script(operation, body)`; answers the client and the calls seen.
    pub fn serve(script: Script) -> (aws_sdk_cloudwatchlogs::Client, Arc<Mutex<Vec<String>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let calls = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(script));
        {
            let calls = Arc::clone(&calls);
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    let Ok(stream) = stream else { return };
                    let (calls, script) = (Arc::clone(&calls), Arc::clone(&script));
                    std::thread::spawn(move || {
                        let mut reader = BufReader::new(stream.try_clone().unwrap());
                        let mut out = stream;
                        loop {
                            let (mut target, mut length) = (String::new(), 0usize);
                            let mut line = String::new();
                            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                                return;
                            }
                            loop {
                                line.clear();
                                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                                    return;
                                }
                                let l = line.trim_end();
                                if l.is_empty() {
                                    break;
                                }
                                let (k, v) = l.split_once(':').unwrap_or((l, ""));
                                match k.to_ascii_lowercase().as_str() {
                                    "x-amz-target" => {
                                        target = v.trim().rsplit('.').next().unwrap().to_owned()
                                    }
                                    "content-length" => length = v.trim().parse().unwrap(),
                                    _ => {}
                                }
                            }
                            let mut body = vec![0; length];
                            reader.read_exact(&mut body).unwrap();
                            calls.lock().unwrap().push(target.clone());
                            let (status, reply) =
                                (script.lock().unwrap())(&target, &String::from_utf8_lossy(&body));
                            let head = format!(
                                "HTTP/1.1 {status} X\r\ncontent-type: application/x-amz-json-1.1\r\ncontent-length: {}\r\n\r\n",
                                reply.len()
                            );
                            if out
                                .write_all(head.as_bytes())
                                .and_then(|_| out.write_all(reply.as_bytes()))
                                .is_err()
                            {
                                return;
                            }
                        }
                    });
                }
            });
        }
        let config = aws_sdk_cloudwatchlogs::Config::builder()
            .behavior_version(aws_sdk_cloudwatchlogs::config::BehaviorVersion::latest())
            .region(aws_sdk_cloudwatchlogs::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_cloudwatchlogs::config::Credentials::new(
                "test", "test", None, None, "test",
            ))
            .endpoint_url(format!("http://{addr}"))
            .retry_config(aws_sdk_cloudwatchlogs::config::retry::RetryConfig::disabled())
            .build();
        (aws_sdk_cloudwatchlogs::Client::from_conf(config), calls)
    }

    pub fn ok(body: &str) -> Reply {
        (200, body.to_owned())
    }

    pub fn error(code: &str) -> Reply {
        (
            400,
            format!(r#"{{"__type":"{code}","message":"scripted"}}"#),
        )
    }

    pub fn status(s: &str) -> Reply {
        ok(&format!(r#"{{"status":"{s}","results":[]}}"#))
    }
}

fn quick(client: aws_sdk_cloudwatchlogs::Client) -> InsightsLogSource {
    InsightsLogSource::new(client).with_poll(Duration::from_millis(1), Duration::from_millis(4))
}

fn window() -> Window {
    w("2026-11-25T10:00:00Z", "2026-11-25T10:05:00Z")
}

const ONE_ROW: &str = r#"{"status":"Complete","results":[[{"field":"@timestamp","value":"2026-11-25 10:01:00.000"},{"field":"@message","value":"ERROR boom"},{"field":"@log","value":"123456789012:/g"}]]}"#;

#[tokio::test]
async fn too_many_queries_is_retried_and_running_queries_are_polled() {
    let (mut starts, mut polls) = (0, 0);
    let (client, calls) = fake::serve(Box::new(move |op, body| match op {
        "StartQuery" => {
            starts += 1;
            assert!(body.contains(r#""startTime":1795600800"#), "{body}");
            assert!(body.contains(r#""endTime":1795601100"#), "{body}");
            if starts <= 2 {
                fake::error("LimitExceededException")
            } else {
                fake::ok(r#"{"queryId":"q1"}"#)
            }
        }
        "GetQueryResults" => {
            polls += 1;
            match polls {
                1 => fake::status("Scheduled"),
                2 => fake::status("Running"),
                _ => fake::ok(ONE_ROW),
            }
        }
        other => panic!("unexpected {other}"),
    }));
    let records = quick(client)
        .fetch(&groups(&["/g"]), &window())
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
    assert_eq!(
        *calls.lock().unwrap(),
        [
            "StartQuery",
            "StartQuery",
            "StartQuery",
            "GetQueryResults",
            "GetQueryResults",
            "GetQueryResults"
        ]
    );
}

#[tokio::test]
async fn queries_that_end_badly_are_errors_not_empty_results() {
    for (status, retryable) in [
        ("Failed", true),
        ("Cancelled", true),
        ("Timeout", true),
        ("Unknown", true),
        ("Exploded", false),
    ] {
        let (client, _) = fake::serve(Box::new(move |op, _| match op {
            "StartQuery" => fake::ok(r#"{"queryId":"q1"}"#),
            "GetQueryResults" => fake::status(status),
            "StopQuery" => fake::ok(r#"{"success":true}"#),
            other => panic!("unexpected {other}"),
        }));
        let err = quick(client)
            .fetch(&groups(&["/g"]), &window())
            .await
            .unwrap_err();
        assert_eq!(err.is_retryable(), retryable, "{status}: {err}");
        assert!(err.to_string().contains(status), "{err}");
    }
}

#[tokio::test]
async fn a_query_over_its_time_is_stopped_and_transient() {
    let (client, calls) = fake::serve(Box::new(|op, _| match op {
        "StartQuery" => fake::ok(r#"{"queryId":"q1"}"#),
        "GetQueryResults" => fake::status("Running"),
        "StopQuery" => fake::ok(r#"{"success":true}"#),
        other => panic!("unexpected {other}"),
    }));
    let source = quick(client).with_query_timeout(Duration::from_millis(40));
    let err = source.fetch(&groups(&["/g"]), &window()).await.unwrap_err();
    assert!(matches!(err, PortError::Transient(_)), "{err}");
    assert!(err.to_string().contains("did not complete"), "{err}");
    assert_eq!(
        calls.lock().unwrap().last().map(String::as_str),
        Some("StopQuery")
    );
}

#[tokio::test]
async fn retries_of_a_refused_start_are_bounded() {
    let (client, calls) = fake::serve(Box::new(|op, _| match op {
        "StartQuery" => fake::error("LimitExceededException"),
        other => panic!("unexpected {other}"),
    }));
    let err = quick(client)
        .fetch(&groups(&["/g"]), &window())
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert_eq!(calls.lock().unwrap().len(), START_ATTEMPTS as usize);
    // A refusal no retry can fix is not retried.
    let (client, calls) = fake::serve(Box::new(|_, _| fake::error("ResourceNotFoundException")));
    let err = quick(client)
        .fetch(&groups(&["/g"]), &window())
        .await
        .unwrap_err();
    assert!(!err.is_retryable(), "{err}");
    assert_eq!(calls.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_refused_rule_filter_falls_back_to_no_server_side_filter() {
    let (client, _) = fake::serve(Box::new(|op, body| match op {
        "StartQuery" if body.contains("filter") => fake::error("MalformedQueryException"),
        "StartQuery" => fake::ok(r#"{"queryId":"q1"}"#),
        "GetQueryResults" => fake::ok(ONE_ROW),
        other => panic!("unexpected {other}"),
    }));
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
        .query_string()
        .contains("or @message like /card declined/"));
    assert_eq!(
        source
            .fetch(&groups(&["/g"]), &window())
            .await
            .unwrap()
            .len(),
        1
    );
    // Without rules of its own, a refused query is an error.
    let (client, _) = fake::serve(Box::new(|_, _| fake::error("MalformedQueryException")));
    assert!(quick(client)
        .fetch(&groups(&["/g"]), &window())
        .await
        .is_err());
}
