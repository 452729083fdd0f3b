//! The report's figures, its rendering (links, colours, the change against
//! the day before, escaping) and the use case over mocked ports.

use super::*;
use crate::ports::{Email, MockAgentStore, MockEventStore, MockMailer};

/// The report of a day with this activity.
fn report_for(
    day: NaiveDate,
    activity: &[DayActivity],
    agents: &[Agent],
    now: DateTime<Utc>,
) -> DailyReport {
    build(DaySummary::of(day, activity), agents, now)
}

fn event(id: u8, account: &str, sev: Severity, first: &str, count: u64) -> DayActivity {
    let t: DateTime<Utc> = first.parse().unwrap();
    DayActivity::of(
        &Event {
            id: format!("{id:032x}").parse().unwrap(),
            account: account.parse().unwrap(),
            region: "eu-west-1".parse().unwrap(),
            source: "monitoring.agent.logs".into(),
            detail_type: "Log Errors Detected".into(),
            severity: sev,
            status: Status::Open,
            title: format!("<script>alert({id})</script>"),
            fingerprint: None,
            count: count * 3,
            first_seen: t,
            last_seen: t,
            log_group: None,
            sample: String::new(),
            resources: vec![],
            detail: serde_json::json!({}),
            note: None,
            assignee: None,
            updated_at: t,
            version: 1,
            state_time: None,
            reopened_at: None,
        },
        count,
    )
}

#[test]
fn aggregates_by_severity_account_and_ranks_the_top_events() {
    let day: NaiveDate = "2026-11-24".parse().unwrap();
    let mut acts: Vec<DayActivity> = (0..15u8)
        .map(|i| {
            event(
                i,
                "111111111111",
                Severity::High,
                "2026-11-20T00:00:00Z",
                u64::from(i) + 1,
            )
        })
        .collect();
    acts.push(event(
        100,
        "222222222222",
        Severity::Critical,
        "2026-11-24T05:00:00Z",
        7,
    ));
    acts[3].reopened_at = Some("2026-11-24T06:00:00Z".parse().unwrap());
    let r = report_for(day, &acts, &[], "2026-11-25T00:10:00Z".parse().unwrap());
    assert_eq!(r.summary.occurrences, (1..=15).sum::<u64>() + 7);
    assert_eq!(r.summary.by_severity[&Severity::Critical], 7);
    assert_eq!(r.summary.by_account[&"222222222222".parse().unwrap()], 7);
    assert_eq!(r.summary.top.len(), TOP_EVENTS);
    assert_eq!(r.summary.top[0].day_count, 15);
    assert!(r
        .summary
        .top
        .windows(2)
        .all(|w| w[0].day_count >= w[1].day_count));
    assert_eq!((r.summary.new_events.len(), r.summary.new_total), (1, 1));
    assert_eq!(
        (r.summary.regressions.len(), r.summary.regressions_total),
        (1, 1)
    );
    let mail = render(&r, None);
    assert!(mail.text.contains("New events:\n"), "{}", mail.text);
}

#[test]
fn a_day_of_many_new_events_lists_the_most_frequent_and_says_how_many() {
    let day: NaiveDate = "2026-11-24".parse().unwrap();
    let acts: Vec<DayActivity> = (0..=LISTED_EVENTS as u8 + 9)
        .map(|i| {
            let mut a = event(
                i,
                "111111111111",
                Severity::High,
                "2026-11-24T05:00:00Z",
                u64::from(i) + 1,
            );
            a.reopened_at = Some("2026-11-24T06:00:00Z".parse().unwrap());
            a
        })
        .collect();
    let r = report_for(day, &acts, &[], "2026-11-25T00:10:00Z".parse().unwrap());
    let all = LISTED_EVENTS + 10;
    assert_eq!(
        (r.summary.new_events.len(), r.summary.new_total),
        (LISTED_EVENTS, all)
    );
    assert_eq!(
        (r.summary.regressions.len(), r.summary.regressions_total),
        (LISTED_EVENTS, all)
    );
    assert_eq!(r.summary.new_events[0].day_count, all as u64);
    assert!(r
        .summary
        .new_events
        .windows(2)
        .all(|w| w[0].day_count >= w[1].day_count));
    let mail = render(&r, None);
    let shown = format!("New events ({LISTED_EVENTS} of {all}, most occurrences first)");
    assert!(mail.text.contains(&shown), "{}", mail.text);
    assert!(mail.html.contains(&shown));
    assert!(mail.text.contains(&format!(
        "Regressions (reopened after being resolved) ({LISTED_EVENTS} of {all}, most occurrences first)"
    )));
}

#[test]
fn an_empty_day_renders_a_valid_report() {
    let r = report_for("2026-11-24".parse().unwrap(), &[], &[], Utc::now());
    let mail = render(&r, None);
    assert!(mail.subject.contains("2026-11-24"));
    assert!(mail.text.contains("No errors were recorded"));
    assert!(mail.html.ends_with("</html>"));
}

#[test]
fn log_text_in_titles_is_escaped_in_html() {
    let day: NaiveDate = "2026-11-24".parse().unwrap();
    let r = report_for(
        day,
        &[event(
            1,
            "111111111111",
            Severity::High,
            "2026-11-24T01:00:00Z",
            2,
        )],
        &[],
        Utc::now(),
    );
    let mail = render(&r, None);
    assert!(!mail.html.contains("<script>"));
    assert!(mail.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(mail.text.contains("<script>alert(1)</script>"));
}

fn day() -> NaiveDate {
    "2026-11-25".parse().unwrap()
}

fn console() -> ConsoleUrl {
    "http://127.0.0.1:8080/console/".parse().unwrap()
}

/// One event of each severity on 2026-11-25, `count` occurrences each.
fn one_of_each(count: u64) -> Vec<DayActivity> {
    Severity::ALL
        .iter()
        .enumerate()
        .map(|(i, s)| event(i as u8, "111111111111", *s, "2026-11-20T00:00:00Z", count))
        .collect()
}

fn report_of(activity: &[DayActivity], previous: Option<DayTotals>) -> DailyReport {
    let mut r = report_for(
        day(),
        activity,
        &[],
        "2026-11-26T06:00:00Z".parse().unwrap(),
    );
    r.previous = previous;
    r
}

fn totals(occurrences: u64, events: usize) -> DayTotals {
    DayTotals {
        day: "2026-11-24".parse().unwrap(),
        occurrences,
        events,
    }
}

#[test]
fn the_subject_keeps_its_shape() {
    let mail = render(
        &report_of(&one_of_each(2), Some(totals(1, 1))),
        Some(&console()),
    );
    assert_eq!(
        mail.subject,
        "aws-monitoring daily report for 2026-11-25: 10 occurrences of 5 events"
    );
}

#[test]
fn events_link_to_the_console_only_when_a_console_url_is_set() {
    let acts = one_of_each(2);
    let r = report_of(&acts, None);
    let plain = render(&r, None);
    assert!(!plain.html.contains("href="), "{}", plain.html);
    assert!(!plain.text.contains("http"), "{}", plain.text);

    let linked = render(&r, Some(&console()));
    for a in &acts {
        let url = format!("http://127.0.0.1:8080/console/events/{}", a.id);
        assert!(linked.html.contains(&format!("<a href=\"{url}\"")), "{url}");
        assert!(
            linked.text.lines().any(|l| l.trim() == url),
            "{url} in\n{}",
            linked.text
        );
    }
    assert!(linked
        .html
        .contains("href=\"http://127.0.0.1:8080/console/\""));
    assert!(linked
        .text
        .contains("Console: http://127.0.0.1:8080/console/"));
    // The columns line up: severity and status are padded to their widths.
    assert!(
        linked
            .text
            .contains("        2  high      open          111111111111 eu-west-1  "),
        "{}",
        linked.text
    );
}

#[test]
fn quiet_agents_link_to_their_console_page() {
    let id = AgentId::new(
        "111111111111".parse().unwrap(),
        "eu-west-1".parse().unwrap(),
    );
    let mut agent = crate::usecases::deployment::new_agent(
        &id,
        AgentConfig::default(),
        1,
        "2026-11-01T00:00:00Z".parse().unwrap(),
    );
    agent.name = "<b>billing</b>".into();
    let r = report_for(
        day(),
        &[],
        &[agent],
        "2026-11-26T06:00:00Z".parse().unwrap(),
    );
    assert_eq!(r.quiet_agents.len(), 1);
    let mail = render(&r, Some(&console()));
    let url = "http://127.0.0.1:8080/console/agents/111111111111-eu-west-1";
    assert!(
        mail.html.contains(&format!("href=\"{url}\"")),
        "{}",
        mail.html
    );
    assert!(mail.html.contains("&lt;b&gt;billing&lt;/b&gt;"));
    assert!(mail.text.contains(url));
}

#[test]
fn each_severity_badge_has_its_colours() {
    let mail = render(&report_of(&one_of_each(1), None), None);
    for s in Severity::ALL {
        let (fg, bg) = severity_colours(*s);
        let at = mail
            .html
            .find(&format!("<span data-severity=\"{s}\""))
            .unwrap_or_else(|| panic!("no {s} badge"));
        let tag = &mail.html[at..at + mail.html[at..].find('>').unwrap()];
        assert!(tag.contains(&format!(";color:{fg};")), "{tag}");
        assert!(tag.contains(&format!("background-color:{bg};")), "{tag}");
        assert!(tag.contains(&format!("border:1px solid {fg};")), "{tag}");
    }
}

/// The badges wear the console's colours: `--<severity>` and
/// `--<severity>-bg` of its stylesheet.
#[test]
fn the_severity_colours_are_the_consoles() {
    let css = include_str!("../../../../handlers/console/style.css");
    let var = |name: &str| -> String {
        let at = css.find(&format!("--{name}:")).expect(name) + name.len() + 3;
        css[at..].split(';').next().unwrap().trim().to_owned()
    };
    for s in Severity::ALL {
        let (fg, bg) = severity_colours(*s);
        assert_eq!(fg, var(s.as_str()), "{s}");
        assert_eq!(bg, var(&format!("{s}-bg")), "{s} background");
    }
}

#[test]
fn a_change_is_a_rounded_percentage_of_the_day_before() {
    let before: NaiveDate = "2026-11-24".parse().unwrap();
    let words = |now, was| change(now, was, before);
    assert_eq!(
        words(112, 100),
        (Trend::Up, "+12% vs 2026-11-24 (100)".into())
    );
    assert_eq!(
        words(60, 100),
        (Trend::Down, "-40% vs 2026-11-24 (100)".into())
    );
    assert_eq!(words(1, 3), (Trend::Down, "-67% vs 2026-11-24 (3)".into()));
    assert_eq!(
        words(5, 5),
        (Trend::Same, "unchanged vs 2026-11-24 (5)".into())
    );
    assert_eq!(words(0, 4), (Trend::Down, "-100% vs 2026-11-24 (4)".into()));
    assert_eq!(words(7, 0), (Trend::New, "new (none on 2026-11-24)".into()));
    assert_eq!(
        words(1001, 1000),
        (Trend::Up, "+<1% vs 2026-11-24 (1000)".into())
    );
    assert_eq!(
        words(u64::MAX, 1).1,
        format!("+{}% vs 2026-11-24 (1)", u128::from(u64::MAX - 1) * 100)
    );
}

#[test]
fn the_header_shows_the_change_against_the_day_before() {
    // 5 events, 10 occurrences; the day before 8 occurrences of 5 events.
    let mail = render(&report_of(&one_of_each(2), Some(totals(8, 5))), None);
    for part in [&mail.html, &mail.text] {
        assert!(part.contains("+25% vs 2026-11-24 (8)"), "{part}");
        assert!(part.contains("unchanged vs 2026-11-24 (5)"), "{part}");
    }
    assert!(mail
        .text
        .contains("Occurrences       10  +25% vs 2026-11-24 (8)"));
    // Up is drawn in the critical colour, unchanged in the muted one.
    assert!(
        mail.html.contains("color:#8e0b1a\">+25% vs"),
        "{}",
        mail.html
    );
}

#[test]
fn without_a_previous_day_the_figures_are_new() {
    let mail = render(&report_of(&one_of_each(1), Some(totals(0, 0))), None);
    for part in [&mail.html, &mail.text] {
        assert_eq!(
            part.matches("new (none on 2026-11-24)").count(),
            2,
            "{part}"
        );
    }
    // A report built without the day before (the console's overview) says nothing of it.
    let mail = render(&report_of(&one_of_each(1), None), None);
    assert!(!mail.html.contains(" vs ") && !mail.text.contains(" vs "));
    assert!(!mail.html.contains("new (none"));
}

#[test]
fn the_html_part_is_self_contained_inline_css() {
    let acts = one_of_each(3);
    let mail = render(&report_of(&acts, Some(totals(3, 1))), Some(&console()));
    let html = mail.html.to_lowercase();
    for banned in [
        "<style", "<link", "<script", "<img", "src=", "url(", "class=", "@import",
    ] {
        assert!(!html.contains(banned), "{banned} in {html}");
    }
    assert!(html.starts_with("<!doctype html>") && html.ends_with("</html>"));
    // Every table cell and heading carries its own style.
    for tag in ["<td", "<th ", "<h1", "<h2", "<a "] {
        for piece in html.split(tag).skip(1) {
            let head = &piece[..piece.find('>').unwrap()];
            assert!(head.contains("style=\""), "{tag}{head}>");
        }
    }
}

#[test]
fn titles_are_escaped_in_links_and_the_console_url_in_attributes() {
    let acts = one_of_each(1);
    let odd: ConsoleUrl = "https://ops.example.com/a&b".parse().unwrap();
    let mail = render(&report_of(&acts, None), Some(&odd));
    assert!(mail
        .html
        .contains("href=\"https://ops.example.com/a&amp;b/events/"));
    assert!(!mail.html.contains("<script>"));
    assert!(mail
        .html
        .contains("\">&lt;script&gt;alert(0)&lt;/script&gt;</a>"));
    // The text part is not markup: the title stays as it was written.
    assert!(mail.text.contains("<script>alert(0)</script>"));
}

#[test]
fn a_console_url_is_an_http_url_without_query_or_fragment() {
    let ok: ConsoleUrl = "http://127.0.0.1:8080/console//".parse().unwrap();
    assert_eq!(ok.to_string(), "http://127.0.0.1:8080/console");
    let id: EventId = format!("{:032x}", 7).parse().unwrap();
    assert_eq!(
        ok.event(&id),
        format!("http://127.0.0.1:8080/console/events/{id}")
    );
    for bad in [
        "",
        "ftp://host/console",
        "http://",
        "https:///console",
        "console.example.com",
        "http://host/console?token=x",
        "http://host/console#x",
        "http://host/con sole",
        "http://host/\"onmouseover=",
        "http://host/<b>",
    ] {
        assert!(bad.parse::<ConsoleUrl>().is_err(), "{bad:?} was accepted");
    }
}

#[tokio::test]
async fn the_use_case_compares_with_the_day_before_from_its_counters() {
    let mut events = MockEventStore::new();
    let before: NaiveDate = "2026-11-24".parse().unwrap();
    events
        .expect_day_summary()
        .withf(move |d| *d == before)
        .times(1)
        .returning(|d| Ok(DaySummary::of(d, &one_of_each(1))));
    events
        .expect_day_summary()
        .withf(|d| *d == day())
        .times(1)
        .returning(|d| Ok(DaySummary::of(d, &one_of_each(2)[..2])));
    let mut agents = MockAgentStore::new();
    agents.expect_list().returning(|_, _| {
        Ok(Page {
            items: vec![],
            next: None,
        })
    });
    let mut mailer = MockMailer::new();
    mailer
        .expect_send()
        .withf(|m: &Email| {
            m.subject.ends_with(": 4 occurrences of 2 events")
                && m.text.contains("-20% vs 2026-11-24 (5)")
                && m.text.contains("-60% vs 2026-11-24 (5)")
                && m.html.contains("/console/events/")
        })
        .times(1)
        .returning(|_| Ok("sent".into()));
    let sent = send_linked_daily_report(
        &events,
        &agents,
        &mailer,
        day(),
        "2026-11-26T06:00:00Z".parse().unwrap(),
        Some(&console()),
    )
    .await
    .unwrap();
    assert_eq!(sent, "sent");
}
