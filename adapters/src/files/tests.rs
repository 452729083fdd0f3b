//! Reading, joining, committing and re-reading log files in a temporary folder.

use super::*;
use chrono::{DateTime, Utc};
use std::io::Write;
use std::sync::atomic::{AtomicI64, Ordering};

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    state: PathBuf,
    next_window: AtomicI64,
}

fn all_groups() -> AgentConfig {
    AgentConfig {
        log_group_prefixes: vec![String::new()],
        ..AgentConfig::default()
    }
}

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("logs");
        fs::create_dir_all(&root).unwrap();
        let state = dir.path().join("data/files-state.json");
        Self {
            root,
            state,
            _dir: dir,
            next_window: AtomicI64::new(0),
        }
    }

    fn source(&self) -> FileLogSource {
        FileLogSource::open(&self.root, &self.state).unwrap()
    }

    fn write(&self, name: &str, text: &str) {
        let path = self.root.join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    fn append(&self, name: &str, text: &str) {
        let mut f = fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(self.root.join(name))
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
    }

    /// A new window, after every earlier one.
    fn window(&self) -> Window {
        let n = self.next_window.fetch_add(1, Ordering::Relaxed);
        let start = t("2026-11-25T10:00:00Z") + chrono::Duration::minutes(5 * n);
        Window {
            start,
            end: start + chrono::Duration::minutes(5),
        }
    }
}

/// One agent run: discover, fetch, commit.
async fn run(src: &FileLogSource, w: Window) -> Vec<LogRecord> {
    let groups = src.discover(&all_groups()).await.unwrap();
    let records = src.fetch(&groups, &w, &[]).await.unwrap();
    src.commit(&w).await.unwrap();
    records
}

/// Runs until the files are read to their end (the last record of a
/// file comes once it stopped growing).
async fn drain(fx: &Fixture, src: &FileLogSource) -> Vec<LogRecord> {
    let mut all = Vec::new();
    loop {
        let got = run(src, fx.window()).await;
        let again = run(src, fx.window()).await;
        let done = got.is_empty() && again.is_empty();
        all.extend(got);
        all.extend(again);
        if done {
            return all;
        }
    }
}

fn messages(records: &[LogRecord]) -> Vec<&str> {
    records.iter().map(|r| r.message.as_str()).collect()
}

#[tokio::test]
async fn python_tracebacks_join_their_record() {
    let fx = Fixture::new();
    let traceback = "2026-11-25 10:00:01,250 ERROR [orders.api] order failed\n\
        Traceback (most recent call last):\n  \
        File \"/app/orders/handlers.py\", line 42, in create_order\n    \
        customer = payload[\"customer_id\"]\n\
        KeyError: 'customer_id'";
    fx.write(
        "orders/app.log",
        &format!(
            "2026-11-25 10:00:00,000 INFO [orders.api] started\n{traceback}\n\
             2026-11-25 10:00:02,000 INFO [orders.api] GET /health 200\n"
        ),
    );
    let records = drain(&fx, &fx.source()).await;
    assert_eq!(
        messages(&records),
        [
            "2026-11-25 10:00:00,000 INFO [orders.api] started",
            traceback,
            "2026-11-25 10:00:02,000 INFO [orders.api] GET /health 200",
        ]
    );
    assert_eq!(records[1].time, t("2026-11-25T10:00:01.250Z"));
    assert_eq!(records[1].log_group, "orders/app.log");
}

#[tokio::test]
async fn java_stack_traces_join_with_and_without_timestamps() {
    let fx = Fixture::new();
    let trace = "java.lang.IllegalStateException: stock reservation failed for sku 4411\n\
        \tat com.example.inventory.Reservations.reserve(Reservations.java:88)\n\
        \tat com.example.inventory.Api.handle(Api.java:41)\n\
        Caused by: java.sql.SQLTimeoutException: timeout after 5000 ms\n\
        \tat org.postgresql.jdbc.PgStatement.execute(PgStatement.java:120)\n\
        \t... 2 more";
    fx.write(
        "inventory/service.log",
        &format!(
            "2026-11-25T10:00:00.000Z INFO  c.e.i.Api - reserving\n\
             2026-11-25T10:00:01.000Z ERROR c.e.i.Api - request failed\n{trace}\n\
             2026-11-25T10:00:02.000Z INFO  c.e.i.Api - done\n"
        ),
    );
    fx.write(
        "inventory/stderr.log",
        &format!("Exception in thread \"main\" {trace}\nshutting down\n"),
    );
    let records = drain(&fx, &fx.source()).await;
    let logged: Vec<&str> = records
        .iter()
        .filter(|r| r.log_group == "inventory/service.log")
        .map(|r| r.message.as_str())
        .collect();
    assert_eq!(logged.len(), 3);
    assert_eq!(
        logged[1],
        format!("2026-11-25T10:00:01.000Z ERROR c.e.i.Api - request failed\n{trace}")
    );
    let stderr: Vec<&str> = records
        .iter()
        .filter(|r| r.log_group == "inventory/stderr.log")
        .map(|r| r.message.as_str())
        .collect();
    assert_eq!(
        stderr,
        [
            format!("Exception in thread \"main\" {trace}").as_str(),
            "shutting down"
        ]
    );
}

#[tokio::test]
async fn rust_panics_join_the_record_before_them_in_a_timestamped_file() {
    let fx = Fixture::new();
    let panic =
        "2026-11-25T10:00:01.000000Z ERROR billing::ledger: invariant broken account=acct_1\n\
        thread 'tokio-runtime-worker' panicked at src/ledger.rs:88:14:\n\
        called `Option::unwrap()` on a `None` value\n\
        note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace";
    fx.write(
        "billing.log",
        &format!(
            "2026-11-25T10:00:00.000000Z  INFO billing: started\n{panic}\n\
             2026-11-25T10:00:03.000000Z  INFO billing: restarted\n"
        ),
    );
    let records = drain(&fx, &fx.source()).await;
    assert_eq!(messages(&records).len(), 3);
    assert_eq!(records[1].message, panic);
    assert_eq!(records[1].time, t("2026-11-25T10:00:01Z"));
}

#[tokio::test]
async fn without_timestamps_only_indented_lines_continue() {
    let fx = Fixture::new();
    fx.write(
        "plain.log",
        "starting worker\n\
         Traceback (most recent call last):\n  \
         File \"w.py\", line 3, in <module>\n\
         KeyError: 'id'\n\n\
         \x20 orphan indented line\n\
         done\r\n",
    );
    let before = Utc::now();
    let records = drain(&fx, &fx.source()).await;
    let after = Utc::now();
    assert_eq!(
        messages(&records),
        [
            "starting worker",
            "Traceback (most recent call last):\n  File \"w.py\", line 3, in <module>",
            "KeyError: 'id'",
            "  orphan indented line",
            "done",
        ]
    );
    // No timestamp of their own: the time of the scan.
    assert!(records.iter().all(|r| before <= r.time && r.time <= after));
}

#[tokio::test]
async fn the_last_record_waits_until_the_file_stops_growing() {
    let fx = Fixture::new();
    let src = fx.source();
    fx.write(
        "app.log",
        "2026-11-25 10:00:00 INFO a\n2026-11-25 10:00:01 ERROR b\nTraceback (most recent call last):\n",
    );
    assert_eq!(
        messages(&run(&src, fx.window()).await),
        ["2026-11-25 10:00:00 INFO a"]
    );
    // The traceback goes on: still growing, still held back.
    fx.append("app.log", "  File \"a.py\", line 1, in f\n");
    assert!(run(&src, fx.window()).await.is_empty());
    fx.append("app.log", "KeyError: 'x'\n");
    assert!(run(&src, fx.window()).await.is_empty());
    // Stable since the previous fetch: now it is complete.
    assert_eq!(
        messages(&run(&src, fx.window()).await),
        ["2026-11-25 10:00:01 ERROR b\nTraceback (most recent call last):\n  File \"a.py\", line 1, in f\nKeyError: 'x'"]
    );
    assert!(run(&src, fx.window()).await.is_empty());
}

#[tokio::test]
async fn appended_lines_come_next_and_nothing_is_read_twice() {
    let fx = Fixture::new();
    let src = fx.source();
    fx.write("a.log", "one\ntwo\n");
    assert_eq!(messages(&drain(&fx, &src).await), ["one", "two"]);
    fx.append("a.log", "three\nfour\n");
    fx.write("b.log", "other\n");
    let records = drain(&fx, &src).await;
    let mut got = messages(&records);
    got.sort();
    assert_eq!(got, ["four", "other", "three"]);
    assert!(drain(&fx, &src).await.is_empty());
}

#[tokio::test]
async fn a_retried_window_returns_the_same_records_despite_new_bytes() {
    let fx = Fixture::new();
    let src = fx.source();
    fx.write("plain.log", "one\ntwo\nthree\n");
    let groups = src.discover(&all_groups()).await.unwrap();
    let w = fx.window();
    let first = src.fetch(&groups, &w, &[]).await.unwrap();
    assert_eq!(messages(&first), ["one", "two"]);
    // Publishing failed; meanwhile more was written and time went by.
    fx.append("plain.log", "four\n");
    std::thread::sleep(std::time::Duration::from_millis(5));
    assert_eq!(src.fetch(&groups, &w, &[]).await.unwrap(), first);
    assert_eq!(src.fetch(&groups, &w, &[]).await.unwrap(), first);
    // A new process retrying the same pending window gets them too.
    assert_eq!(fx.source().fetch(&groups, &w, &[]).await.unwrap(), first);
    src.commit(&w).await.unwrap();
    assert_eq!(messages(&drain(&fx, &src).await), ["three", "four"]);
}

#[tokio::test]
async fn an_abandoned_window_is_read_again_by_the_next_one() {
    let fx = Fixture::new();
    let src = fx.source();
    fx.write("plain.log", "one\ntwo\n");
    let groups = src.discover(&all_groups()).await.unwrap();
    assert_eq!(
        messages(&src.fetch(&groups, &fx.window(), &[]).await.unwrap()),
        ["one"]
    );
    // Never committed: the next window starts from the committed offset.
    assert_eq!(messages(&run(&src, fx.window()).await), ["one", "two"]);
}

#[tokio::test]
async fn a_restart_neither_rereads_nor_skips() {
    let fx = Fixture::new();
    fx.write("a.log", "one\ntwo\n");
    assert_eq!(messages(&drain(&fx, &fx.source()).await), ["one", "two"]);
    fx.append("a.log", "three\nfour\nfive\n");
    // Stopped after a fetch that was never committed.
    let src = fx.source();
    let groups = src.discover(&all_groups()).await.unwrap();
    assert_eq!(
        messages(&src.fetch(&groups, &fx.window(), &[]).await.unwrap()),
        ["three", "four"]
    );
    drop(src);
    let restarted = fx.source();
    assert_eq!(
        messages(&drain(&fx, &restarted).await),
        ["three", "four", "five"]
    );
    assert!(drain(&fx, &fx.source()).await.is_empty());
}

#[tokio::test]
async fn a_truncated_file_is_read_from_the_start() {
    let fx = Fixture::new();
    let src = fx.source();
    fx.write("a.log", "first long line\nsecond long line\n");
    assert_eq!(drain(&fx, &src).await.len(), 2);
    fx.write("a.log", "new\n");
    assert_eq!(messages(&drain(&fx, &src).await), ["new"]);
}

#[tokio::test]
async fn a_file_rotated_by_rename_is_not_read_again() {
    let fx = Fixture::new();
    let src = fx.source();
    fx.write("app.log", "one\ntwo\n");
    assert_eq!(messages(&drain(&fx, &src).await), ["one", "two"]);
    // A line lands just before rotation, then a new file takes the name.
    fx.append("app.log", "three\n");
    fs::rename(fx.root.join("app.log"), fx.root.join("app.log.1")).unwrap();
    fx.write("app.log", "four\n");
    let records = drain(&fx, &src).await;
    let mut got: Vec<(&str, &str)> = records
        .iter()
        .map(|r| (r.log_group.as_str(), r.message.as_str()))
        .collect();
    got.sort();
    assert_eq!(got, [("app.log", "four"), ("app.log.1", "three")]);
    // The rotated file is deleted: its state is forgotten.
    fs::remove_file(fx.root.join("app.log.1")).unwrap();
    assert!(drain(&fx, &src).await.is_empty());
    let saved = fs::read_to_string(&fx.state).unwrap();
    assert!(!saved.contains("app.log.1"), "{saved}");
}

#[tokio::test]
async fn discovery_walks_folders_and_applies_prefixes() {
    let fx = Fixture::new();
    for name in [
        "orders-api/app.log",
        "orders-api/nested/deep.log",
        "payments/worker.jsonl",
        "top.log",
        ".hidden/x.log",
        "orders-api/.app.log.swp",
    ] {
        fx.write(name, "x\n");
    }
    std::os::unix::fs::symlink(fx.root.join("orders-api"), fx.root.join("linked-dir")).unwrap();
    std::os::unix::fs::symlink(fx.root.join("top.log"), fx.root.join("linked.log")).unwrap();
    let src = fx.source();
    assert_eq!(
        src.discover(&all_groups()).await.unwrap(),
        [
            "linked.log",
            "orders-api/app.log",
            "orders-api/nested/deep.log",
            "payments/worker.jsonl",
            "top.log",
        ]
    );
    let config = AgentConfig {
        log_group_prefixes: vec!["orders-api/".into()],
        log_groups: vec!["top.log".into()],
        ..AgentConfig::default()
    };
    assert_eq!(
        src.discover(&config).await.unwrap(),
        [
            "orders-api/app.log",
            "orders-api/nested/deep.log",
            "top.log"
        ]
    );
    let missing = FileLogSource::open(fx.root.join("nope"), &fx.state).unwrap();
    assert!(missing
        .discover(&all_groups())
        .await
        .unwrap_err()
        .is_retryable());
}

#[tokio::test]
async fn the_state_file_under_the_root_is_not_a_log_group() {
    let fx = Fixture::new();
    fx.write("a.log", "x\n");
    let src = FileLogSource::open(&fx.root, fx.root.join("state.json")).unwrap();
    run(&src, fx.window()).await;
    assert!(fx.root.join("state.json").exists());
    assert_eq!(src.discover(&all_groups()).await.unwrap(), ["a.log"]);
}

#[tokio::test]
async fn large_files_are_read_in_bounded_steps_without_loss() {
    let fx = Fixture::new();
    let lines: Vec<String> = (0..50).map(|i| format!("line {i:02}")).collect();
    fx.write("big.log", &(lines.join("\n") + "\n"));
    let src = fx.source().with_read_limit(40);
    let mut got = Vec::new();
    for _ in 0..100 {
        let records = run(&src, fx.window()).await;
        assert!(records.len() <= 5);
        got.extend(records.into_iter().map(|r| r.message));
    }
    assert_eq!(got, lines);
    // A record longer than the limit is cut rather than stalling the file.
    fx.append("big.log", &format!("{}\nend\n", "y".repeat(100)));
    let mut rest = String::new();
    for _ in 0..10 {
        for r in run(&src, fx.window()).await {
            rest.push_str(&r.message);
        }
    }
    assert_eq!(rest, format!("{}end", "y".repeat(100)));
}

#[tokio::test]
async fn invalid_utf8_is_read_lossily_and_json_records_keep_their_time() {
    let fx = Fixture::new();
    fs::write(fx.root.join("bin.log"), b"bad \xff byte\nok\n").unwrap();
    fx.write(
        "w.jsonl",
        "{\"time\":\"2026-11-24T23:59:58.5Z\",\"level\":\"error\",\"msg\":\"x\"}\n{}\n",
    );
    let records = drain(&fx, &fx.source()).await;
    let of = |group: &str| -> Vec<&LogRecord> {
        records.iter().filter(|r| r.log_group == group).collect()
    };
    let bin: Vec<&str> = of("bin.log").iter().map(|r| r.message.as_str()).collect();
    assert_eq!(bin, ["bad \u{fffd} byte", "ok"]);
    let json = of("w.jsonl");
    assert_eq!(json.len(), 2);
    assert_eq!(json[0].time, t("2026-11-24T23:59:58.5Z"));
}

#[tokio::test]
async fn lambda_platform_lines_are_records_of_their_own() {
    let fx = Fixture::new();
    fx.write(
        "fn.log",
        "2026-11-25T10:00:00.000Z\tabc\tERROR\tInvoke Error \t{}\n\
         END RequestId: abc\n\
         REPORT RequestId: abc\tDuration: 6000.00 ms\n\
         2026-11-25T10:00:06.020Z abc Task timed out after 6.01 seconds\n",
    );
    let records = drain(&fx, &fx.source()).await;
    assert_eq!(records.len(), 4);
}

#[test]
fn corrupt_state_is_a_permanent_error_naming_the_file() {
    let fx = Fixture::new();
    fs::create_dir_all(fx.state.parent().unwrap()).unwrap();
    fs::write(&fx.state, "{not json").unwrap();
    let err = FileLogSource::open(&fx.root, &fx.state).unwrap_err();
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("files-state.json"), "{err}");
}

/// `--follow` asks `has_unread` several times a second and runs the agent
/// only when it says yes: new files, appended bytes and a held-back last
/// record all say yes; a fully published, unchanged folder says no.
#[tokio::test]
async fn has_unread_tracks_new_bytes_and_the_held_back_record() {
    let fx = Fixture::new();
    let src = fx.source();
    assert!(!src.has_unread().await.unwrap(), "empty folder");
    fx.write("app.log", "2026-11-25 10:00:00 ERROR one\n");
    assert!(src.has_unread().await.unwrap(), "new file");
    assert!(run(&src, fx.window()).await.is_empty(), "held back");
    assert!(src.has_unread().await.unwrap(), "held-back record");
    assert_eq!(run(&src, fx.window()).await.len(), 1);
    assert!(!src.has_unread().await.unwrap(), "all published");
    fx.append("app.log", "2026-11-25 10:00:01 ERROR two\n");
    assert!(src.has_unread().await.unwrap(), "appended");
    // A fetch not yet committed is still unread.
    let w = fx.window();
    let groups = src.discover(&all_groups()).await.unwrap();
    src.fetch(&groups, &w, &[]).await.unwrap();
    assert!(src.has_unread().await.unwrap(), "pending read");
    src.commit(&w).await.unwrap();
    assert_eq!(run(&src, fx.window()).await.len(), 1);
    assert!(!src.has_unread().await.unwrap());
}
