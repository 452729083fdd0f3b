use crate::common::*;
use crate::support::*;
use adapters::outbox::OutboxMailer;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::NaiveDate;
use domain::usecases::report::send_daily_report;
use handlers::master::Master;
use serde_json::json;

/// The parts of a MIME message: (content type, decoded body).
fn mime_parts(message: &str) -> Vec<(String, String)> {
    let (head, body) = message.split_once("\r\n\r\n").unwrap();
    let boundary = head
        .split_once("boundary=\"")
        .unwrap()
        .1
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let (parts, epilogue) = body.split_once(&format!("\r\n--{boundary}--")).unwrap();
    assert_eq!(epilogue, "\r\n");
    parts
        .split(&format!("--{boundary}\r\n"))
        .skip(1)
        .map(|part| {
            let (part_head, part_body) = part.split_once("\r\n\r\n").unwrap();
            assert!(part_head.contains("Content-Transfer-Encoding: base64"));
            let kind = part_head
                .lines()
                .find_map(|l| l.strip_prefix("Content-Type: "))
                .unwrap()
                .to_owned();
            (
                kind,
                String::from_utf8(STANDARD.decode(part_body.replace("\r\n", "")).unwrap()).unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn script_in_log_text_is_escaped_in_the_html_part_and_plain_in_the_text_part() {
    let f = fixture();
    let day: NaiveDate = "2026-11-25".parse().unwrap();
    let script = "<script>alert('x')</script>";
    let img = r#"<img src=x onerror="alert(1)">"#;
    let boundary_break =
        "\r\n--=_aws-monitoring_0\r\nContent-Type: text/html\r\n\r\n<h1>owned</h1>";
    // A log error whose title is markup, a forwarded alarm whose name is, and
    // an agent whose name is: every place a sender's text reaches the report.
    f.deliver(&envelope(
        "monitoring.agent.logs",
        "Log Errors Detected",
        ACCOUNT,
        &[],
        log_errors_detail(&format!("{script}{img}{boundary_break}"), script, json!({})),
    ))
    .await;
    f.deliver(&envelope(
        "aws.cloudwatch",
        "CloudWatch Alarm State Change",
        ACCOUNT,
        &[],
        json!({"alarmName": img, "state": {"value": "ALARM", "reason": script,
               "timestamp": "2026-11-25T10:00:00.000+0000"}}),
    ))
    .await;
    let mut quiet = envelope(
        "monitoring.agent",
        "Agent Registered",
        OTHER,
        &[],
        json!({"name": format!("{script}&amp;"), "version": "0.1.0"}),
    );
    quiet.time = "2026-11-23T10:00:00Z".parse().unwrap();
    Master {
        events: f.events.as_ref(),
        agents: f.agents.as_ref(),
        pusher: f.pusher.as_ref(),
    }
    .handle(&quiet, "2026-11-23T10:00:00Z".parse().unwrap())
    .await
    .unwrap();

    let outbox = tempfile::tempdir().unwrap();
    let path = send_daily_report(
        f.events.as_ref(),
        f.agents.as_ref(),
        &OutboxMailer::new(outbox.path()),
        day,
        "2026-11-26T06:00:00Z".parse().unwrap(),
    )
    .await
    .unwrap();
    let message = std::fs::read_to_string(path).unwrap();
    let parts = mime_parts(&message);
    assert_eq!(
        parts.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
        ["text/plain; charset=utf-8", "text/html; charset=utf-8"],
        "the title's boundary and headers added no part"
    );
    let (text, html) = (&parts[0].1, &parts[1].1);
    // HTML: the sender's text is there, escaped; no markup of its own survives.
    for needle in ["<script", "<img", "onerror=\"", "<h1>owned"] {
        assert!(!html.contains(needle), "{needle} in {html}");
    }
    assert!(
        html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"),
        "{html}"
    );
    assert!(
        html.contains("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"),
        "{html}"
    );
    assert!(
        html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;amp;"),
        "agent name: {html}"
    );
    // Text: the same words, as they were written (a text part renders no markup),
    // and the title stays on its line.
    assert!(text.contains(&format!("{script}{img}")), "{text}");
    assert!(text.contains(&format!("Alarm {img} is ALARM")), "{text}");
    assert!(text.contains(&format!("{script}&amp;")), "{text}");
    assert!(!text.contains("\n--=_aws-monitoring_0"), "{text}");
    assert!(!text.lines().any(|l| l.starts_with("<h1>")), "{text}");
    // And the API serves the same text as JSON only (`call_api` checks the
    // content type), never as a page.
    assert_eq!(list_events(&f, &[]).await.len(), 2);
}
