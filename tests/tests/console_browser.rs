//! The triage console in a real headless Chromium (Debian's `chromium` and
//! `chromium-driver`, driven over WebDriver by fantoccini), through the real
//! `monitoring local` on the sample logs: list, filter, open an event,
//! acknowledge then resolve, the state surviving a reload, a concurrent
//! change answered with the 412 message, and an agent config edit (the API's
//! validation error beside the field, then a valid change and its version
//! bump). axe-core (pinned, installed by `ops/browser-tools`) runs on every
//! page: no serious or critical violation. And the daily report e-mail as a
//! mail client shows it: the HTML part of a real `monitoring report` .eml.
//!
//! Skipped, saying so, only when chromium is absent and `CI` is unset.
//! `UPDATE_SCREENSHOTS=1` rewrites docs/console-*.png and docs/report-email.png.

mod browser;
mod support;

use browser::{
    axe, browser_tools, chromium, click_button, copy_dir, find, repo, screenshot, text_of,
    wait_text,
};
use fantoccini::Locator;
use serde_json::json;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use support::{get, monitoring_bin, put, Server};

/// `monitoring local` on a copy of the sample logs, once it has read them.
fn sample_server(dir: &Path) -> Server {
    let logs = dir.join("logs");
    copy_dir(&repo().join("samples/logs"), &logs);
    let server = Server::start(&dir.join("data"), &logs);
    server.wait_until("the sample events are stored", || {
        server.get("/events?severity=critical").1["items"]
            .as_array()
            .is_some_and(|i| !i.is_empty())
            && server.get("/agents").1["items"][0]["last_run"].is_object()
    });
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_triages_in_a_real_browser() {
    let Some(axe_source) = browser_tools("the_console_triages_in_a_real_browser") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let server = sample_server(dir.path());
    let base = server.base.clone();
    let (_driver, c) = chromium("1280,1000").await;

    // The events list: `/` redirects to it.
    c.goto(&format!("{base}/")).await.unwrap();
    find(&c, "tbody tr[data-id]").await;
    assert!(c.current_url().await.unwrap().path() == "/console/");
    let rows = c.find_all(Locator::Css("tbody tr[data-id]")).await.unwrap();
    assert!(rows.len() >= 5, "only {} rows", rows.len());
    find(&c, "td.spark svg").await;
    axe(&c, &axe_source, "events").await;
    screenshot(&c, "console-events").await;

    // Filter on critical: the filter goes into the URL, every row is critical.
    find(&c, "input[name=severity][value=critical]")
        .await
        .click()
        .await
        .unwrap();
    click_button(&c, "Apply filters").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !c
        .current_url()
        .await
        .unwrap()
        .query()
        .unwrap_or_default()
        .contains("severity=critical")
    {
        assert!(Instant::now() < deadline, "the filter is not in the URL");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    wait_text(&c, "#list-status", "updated").await;
    let severities = c
        .find_all(Locator::Css("tbody tr[data-id] td:first-child"))
        .await
        .unwrap();
    assert!(!severities.is_empty());
    for s in severities {
        assert_eq!(s.text().await.unwrap(), "critical");
    }

    // Open the first one.
    find(&c, "tbody tr[data-id] td.title a")
        .await
        .click()
        .await
        .unwrap();
    find(&c, "pre.sample").await;
    let id = c
        .current_url()
        .await
        .unwrap()
        .path()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    find(&c, "pre.sample").await;
    // textContent, not WebDriver's rendered text (which folds tabs).
    let sample = c
        .execute(
            "return document.querySelector('pre.sample').textContent",
            vec![],
        )
        .await
        .unwrap();
    let sample = sample.as_str().unwrap().to_owned();
    let (_, stored) = get(&base, &format!("/events/{id}"));
    assert_eq!(
        sample,
        stored["sample"].as_str().unwrap(),
        "the sample is shown as text"
    );
    find(&c, ".chart-box svg").await;
    axe(&c, &axe_source, "one event").await;
    screenshot(&c, "console-event").await;

    // Acknowledge, then resolve; both survive a reload.
    click_button(&c, "Acknowledge").await;
    wait_text(&c, "#notice", "Acknowledge: saved").await;
    wait_text(&c, "dl.facts", "acknowledged").await;
    click_button(&c, "Resolve").await;
    wait_text(&c, "#notice", "Resolve: saved").await;
    c.refresh().await.unwrap();
    wait_text(&c, "dl.facts", "resolved").await;
    let (_, now) = get(&base, &format!("/events/{id}"));
    assert_eq!(now["status"], "resolved");

    // Someone else reopens it behind the page's back: the page's Acknowledge
    // carries the old version and gets the 412 message with the current state.
    let version = now["version"].as_u64().unwrap();
    let (s, other) = put(
        &base,
        &format!("/events/{id}"),
        Some(&format!("\"{version}\"")),
        &json!({"status": "open", "assignee": "bob"}),
    );
    assert_eq!(s, 200, "{other}");
    click_button(&c, "Acknowledge").await;
    let msg = wait_text(&c, "#notice", "Someone else changed this event").await;
    assert!(msg.contains("open"), "{msg}");
    wait_text(&c, "dl.facts", "bob").await;
    let (_, after) = get(&base, &format!("/events/{id}"));
    assert_eq!(after["status"], "open", "the stale change was not applied");

    // Agents: the list, then one agent's config.
    c.goto(&format!("{base}/console/agents")).await.unwrap();
    find(&c, "tbody tr a").await;
    axe(&c, &axe_source, "agents").await;
    screenshot(&c, "console-agents").await;
    find(&c, "tbody tr a").await.click().await.unwrap();
    let schedule = find(&c, "#cfg-schedule_minutes").await;
    let agent_id = c
        .current_url()
        .await
        .unwrap()
        .path()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let (_, agent) = get(&base, &format!("/agents/{agent_id}"));
    let desired = agent["config_version"].as_u64().unwrap();
    axe(&c, &axe_source, "one agent").await;
    schedule.clear().await.unwrap();
    schedule.send_keys("0").await.unwrap();
    click_button(&c, "Save configuration").await;
    let err = wait_text(&c, "#err-schedule_minutes", "schedule_minutes").await;
    assert!(err.contains("between 1 and 1440"), "{err}");
    assert_eq!(
        find(&c, "#cfg-schedule_minutes")
            .await
            .attr("aria-invalid")
            .await
            .unwrap()
            .as_deref(),
        Some("true")
    );
    axe(&c, &axe_source, "agent with an error").await;
    let (_, unchanged) = get(&base, &format!("/agents/{agent_id}"));
    assert_eq!(unchanged["config_version"].as_u64(), Some(desired));
    let schedule = find(&c, "#cfg-schedule_minutes").await;
    schedule.clear().await.unwrap();
    schedule.send_keys("7").await.unwrap();
    click_button(&c, "Save configuration").await;
    wait_text(
        &c,
        "form.config",
        &format!("desired config version {}", desired + 1),
    )
    .await;
    let (_, changed) = get(&base, &format!("/agents/{agent_id}"));
    assert_eq!(changed["config_version"].as_u64(), Some(desired + 1));
    assert_eq!(changed["config"]["schedule_minutes"], 7);

    // The day overview.
    c.goto(&format!("{base}/console/overview")).await.unwrap();
    find(&c, ".cards").await;
    let cards = text_of(&c, ".cards").await;
    let cards = cards.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(cards.contains("occurrences"));
    // The card shows `new_count` (the cap itself is proven in the router test).
    let (_, overview) = get(&base, "/overview");
    let new = format!("{} new", overview["new_count"]);
    assert!(cards.contains(&new), "{new:?} not in {cards:?}");
    axe(&c, &axe_source, "overview").await;
    screenshot(&c, "console-overview").await;

    c.close().await.unwrap();
}

/// The HTML part of a `.eml` the outbox wrote (base64, as `render_mime` writes it).
fn html_part(eml: &str) -> String {
    use base64::Engine;
    let (_, part) = eml
        .split_once("Content-Type: text/html; charset=utf-8\r\n")
        .expect("an HTML part");
    let body = part.split_once("\r\n\r\n").unwrap().1;
    let body: String = body.lines().take_while(|l| !l.starts_with("--")).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(body.trim())
        .unwrap();
    String::from_utf8(bytes).unwrap()
}

/// A colour variable of the console's stylesheet, as the browser computes it
/// (`--high: #8a3400` -> `rgb(138, 52, 0)`).
fn console_colour(name: &str) -> String {
    let css = std::fs::read_to_string(repo().join("handlers/console/style.css")).unwrap();
    let at = css.find(&format!("--{name}:")).expect(name) + name.len() + 3;
    let hex = css[at..]
        .split(';')
        .next()
        .unwrap()
        .trim()
        .trim_start_matches('#');
    let c = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).unwrap();
    format!("rgb({}, {}, {})", c(0), c(2), c(4))
}

/// The daily report e-mail as a mail client shows it: `monitoring report`
/// over the sample logs `monitoring local` read (2026-11-25, with
/// 2026-11-24 before it), its HTML part opened in Chromium from a file:
/// inline styles only, the console's severity colours, the change against
/// the day before, and every event linking to its console page, which opens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_email_renders_in_a_real_browser() {
    let Some(axe_source) = browser_tools("the_report_email_renders_in_a_real_browser") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let server = sample_server(dir.path());
    // Every file's last record is published once the file has stopped growing.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let out = Command::new(monitoring_bin())
        .args(["report", "--date", "2026-11-25", "--console-url"])
        .arg(format!("{}/console/", server.base))
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let eml = std::fs::read_to_string(String::from_utf8(out.stdout).unwrap().trim()).unwrap();
    let html = html_part(&eml);
    for banned in ["<style", "<link", "<script", "<img", "src=", "url("] {
        assert!(!html.contains(banned), "{banned} in the report's HTML");
    }
    let file = dir.path().join("report.html");
    std::fs::write(&file, &html).unwrap();

    let (_driver, c) = chromium("760,1000").await;
    c.goto(&format!("file://{}", file.display())).await.unwrap();
    let overview = server.get("/overview?date=2026-11-25").1;
    let heading = text_of(&c, "h1").await;
    assert_eq!(heading, "Daily report for 2026-11-25");
    let total = text_of(&c, "td").await;
    assert!(
        total.contains(&overview["occurrences"].to_string()),
        "{total}"
    );
    for figure in ["occurrences", "events"] {
        let change = text_of(&c, &format!("[data-change={figure}]")).await;
        assert!(change.contains("vs 2026-11-24"), "{figure}: {change}");
    }

    // Each top event links to its console page; every link names a stored event.
    let links = c
        .find_all(Locator::Css("a[href*='/console/events/']"))
        .await
        .unwrap();
    let mut hrefs = Vec::new();
    for a in &links {
        hrefs.push(a.attr("href").await.unwrap().unwrap());
    }
    for e in overview["top"].as_array().unwrap() {
        let url = format!(
            "{}/console/events/{}",
            server.base,
            e["id"].as_str().unwrap()
        );
        assert!(hrefs.contains(&url), "no link {url} in {hrefs:?}");
    }
    for href in &hrefs {
        let id = href.rsplit('/').next().unwrap();
        assert_eq!(server.get(&format!("/events/{id}")).0, 200, "{href}");
    }

    // The severity badges wear the console's colours.
    let badges = c.find_all(Locator::Css("[data-severity]")).await.unwrap();
    assert!(badges.len() >= hrefs.len());
    for b in badges {
        let severity = b.attr("data-severity").await.unwrap().unwrap();
        let style = c
            .execute(
                "const s = getComputedStyle(arguments[0]); return [s.color, s.backgroundColor];",
                vec![serde_json::to_value(&b).unwrap()],
            )
            .await
            .unwrap();
        let want = json!([
            console_colour(&severity),
            console_colour(&format!("{severity}-bg"))
        ]);
        assert_eq!(style, want, "{severity} badge");
    }
    axe(&c, &axe_source, "report e-mail").await;
    // The whole message in the window: its height plus the window's own frame.
    let size = c
        .execute(
            "return [document.documentElement.scrollHeight, window.outerHeight - window.innerHeight]",
            vec![],
        )
        .await
        .unwrap();
    let height = size[0].as_u64().unwrap().min(3000) + size[1].as_u64().unwrap();
    c.set_window_size(760, height as u32).await.unwrap();
    screenshot(&c, "report-email").await;

    // A link opens the event in the console.
    c.goto(&hrefs[0]).await.unwrap();
    find(&c, "pre.sample").await;
    c.close().await.unwrap();
}

/// For ops/bench: navigation start -> first rows painted of the events page
/// at `CONSOLE_BENCH_URL` (a running `monitoring local`), in milliseconds,
/// printed as `first-rows-ms: <worst of 5 loads>`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: ops/bench runs it against a filled store"]
async fn events_page_first_rows_benchmark() {
    let url = std::env::var("CONSOLE_BENCH_URL").expect("CONSOLE_BENCH_URL");
    let (_driver, c) = chromium("1280,1000").await;
    let mut times = Vec::new();
    for _ in 0..6 {
        c.goto(&url).await.unwrap();
        find(&c, "tbody tr[data-id]").await;
        let t = loop {
            let v = c
                .execute("const m = performance.getEntriesByName('console:first-rows')[0]; return m ? m.startTime : null", vec![])
                .await
                .unwrap();
            if let Some(t) = v.as_f64() {
                break t;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        times.push(t);
    }
    times.remove(0); // the first load warms the caches
    let worst = times.iter().cloned().fold(0.0, f64::max);
    println!("first-rows-ms: {worst:.0}");
    c.close().await.unwrap();
}
