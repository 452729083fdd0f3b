//! The DynamoDB delivery log of the notify Lambda against moto: storm
//! windows, idempotent admission, summaries of ended windows.
#![cfg(feature = "aws")]
mod common;

use adapters::aws::deliveries::{create_table, DeliveryTable};
use chrono::{DateTime, Duration, Utc};
use domain::alerts::{StormPolicy, StormWindow};
use domain::ports::{Admission, DeliveryLog};

async fn table() -> DeliveryTable {
    let client = aws_sdk_dynamodb::Client::new(&common::moto_config().await);
    let name = common::unique("deliveries");
    create_table(&client, &name).await.expect("table created");
    DeliveryTable::new(client, name)
}

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).unwrap()
}

const POLICY: StormPolicy = StormPolicy {
    max_per_window: 2,
    window_seconds: 60,
};

#[tokio::test]
async fn admits_up_to_the_maximum_then_holds_and_summarises_ended_windows() {
    let log = table().await;
    let now = t0();
    let admit = |id: &'static str, channel: &'static str, at: DateTime<Utc>| {
        let log = &log;
        async move {
            log.admit(id, channel, at, POLICY, &format!("title {id}"))
                .await
                .expect("admit")
        }
    };
    assert_eq!(admit("c1", "ops", now).await, Admission::Send);
    assert_eq!(
        admit("c2", "ops", now + Duration::seconds(1)).await,
        Admission::Send
    );
    assert_eq!(
        admit("c3", "ops", now + Duration::seconds(2)).await,
        Admission::Held
    );
    assert_eq!(
        admit("c4", "ops", now + Duration::seconds(3)).await,
        Admission::Held
    );
    // Another channel has its own window.
    assert_eq!(
        admit("c3", "pager", now + Duration::seconds(2)).await,
        Admission::Send
    );

    // Idempotent: a retried record gets the same answer, and does not count twice.
    assert_eq!(
        admit("c1", "ops", now + Duration::seconds(5)).await,
        Admission::Send
    );
    assert_eq!(
        admit("c3", "ops", now + Duration::seconds(5)).await,
        Admission::Held
    );
    log.finished("c1", "ops").await.unwrap();
    assert_eq!(
        admit("c1", "ops", now + Duration::seconds(6)).await,
        Admission::Done
    );
    assert_eq!(
        admit("c2", "ops", now + Duration::seconds(6)).await,
        Admission::Send
    );

    // Nothing to summarise while the window is open.
    assert!(log
        .held_back(now + Duration::seconds(59))
        .await
        .unwrap()
        .is_empty());
    let window = StormWindow {
        start: now,
        end: now + Duration::seconds(60),
    };
    let held = log.held_back(window.end).await.unwrap();
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held[0].channel, "ops");
    assert_eq!(held[0].window, window);
    assert_eq!(held[0].count, 2);
    assert_eq!(held[0].titles, vec!["title c3", "title c4"]);

    // A new window opens after the old one ended.
    assert_eq!(
        admit("c5", "ops", now + Duration::seconds(61)).await,
        Admission::Send
    );

    log.summarised("ops", window).await.unwrap();
    log.summarised("ops", window).await.unwrap();
    assert!(log
        .held_back(now + Duration::seconds(600))
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_summary_lists_at_most_ten_titles_but_counts_all() {
    let log = table().await;
    let now = t0();
    let policy = StormPolicy {
        max_per_window: 1,
        window_seconds: 10,
    };
    for i in 0..15 {
        let expected = if i == 0 {
            Admission::Send
        } else {
            Admission::Held
        };
        let id = format!("c{i}");
        let got = log.admit(&id, "ops", now, policy, &id).await.unwrap();
        assert_eq!(got, expected, "{id}");
    }
    let held = log.held_back(now + Duration::seconds(10)).await.unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].count, 14);
    assert_eq!(held[0].titles.len(), domain::alerts::MAX_SUMMARY_TITLES);
    assert_eq!(held[0].titles[0], "c1");
}

#[tokio::test]
async fn concurrent_admissions_of_one_delivery_agree() {
    let log = table().await;
    let now = t0();
    let answers = futures_join(&log, now).await;
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
    assert_eq!(answers[0], Admission::Send);
}

async fn futures_join(log: &DeliveryTable, now: DateTime<Utc>) -> Vec<Admission> {
    let (a, b, c) = tokio::join!(
        log.admit("same", "ops", now, POLICY, "t"),
        log.admit("same", "ops", now, POLICY, "t"),
        log.admit("same", "ops", now, POLICY, "t"),
    );
    vec![a.unwrap(), b.unwrap(), c.unwrap()]
}
