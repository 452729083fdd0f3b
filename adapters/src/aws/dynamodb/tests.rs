//! Pure parts of the DynamoDB adapter: keys, filters, expiry. The moto tests
//! are in `tests/`.

use super::codec::last_seen_sk;
use super::list::ServerFilter;
use super::*;
use crate::keys::time_key;
use domain::model::{EventFilter, EventId};

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

#[test]
fn sort_keys_order_as_last_seen_then_id() {
    let a: EventId = "0".repeat(32).parse().unwrap();
    let f: EventId = "f".repeat(32).parse().unwrap();
    let t = at("2026-03-01T10:00:00Z");
    let later = t + Duration::nanoseconds(1);
    let mut keys = [
        last_seen_sk(later, &a),
        last_seen_sk(t, &f),
        last_seen_sk(t, &a),
        last_seen_sk(at("2026-03-01T09:59:59.999999999Z"), &f),
    ];
    keys.sort();
    assert_eq!(
        keys,
        [
            last_seen_sk(at("2026-03-01T09:59:59.999999999Z"), &f),
            last_seen_sk(t, &a),
            last_seen_sk(t, &f),
            last_seen_sk(later, &a),
        ]
    );
    // The inclusive upper bound for `to` covers every id at `to`, nothing after.
    let high = format!("{}#~", time_key(t));
    assert!(last_seen_sk(t, &f) < high && high < last_seen_sk(later, &a));
}

#[test]
fn server_filter_binds_every_value() {
    let filter = EventFilter {
        account: Some("111122223333".parse().unwrap()),
        source: Some("x') OR (1=1".into()),
        severities: vec![domain::model::Severity::High],
        statuses: vec![domain::model::Status::Open, domain::model::Status::Ignored],
        ..EventFilter::default()
    };
    let f = ServerFilter::of(&filter);
    let expr = f.expression.unwrap();
    assert_eq!(
        expr,
        "#account = :account AND #source = :source AND #severity IN (:severity0) \
         AND #status IN (:status0, :status1)"
    );
    assert!(!expr.contains("1=1"));
    assert_eq!(f.values.len(), 5);
    assert!(ServerFilter::of(&EventFilter::default())
        .expression
        .is_none());
}

#[test]
fn day_expiry_is_after_every_event_of_the_day() {
    let client = Client::from_conf(
        aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .build(),
    );
    let store = DynamoStore::new(client, "t").with_retention_days(7);
    let day = at("2026-03-01T00:00:00Z").date_naive();
    let last = at("2026-03-01T23:59:59.999999999Z");
    assert!(store.day_expiry(day) >= store.expiry(last));
    assert_eq!(
        store.expiry(at("2026-03-01T00:00:00Z")),
        at("2026-03-08T00:00:00Z").timestamp()
    );
}
