//! Domain values: validated newtypes, events, occurrences and agents.

mod agent;
mod day_summary;
mod enums;
mod event;
mod ids;
mod query;

pub use agent::*;
pub use day_summary::*;
pub use enums::*;
pub use event::*;
pub use ids::*;
pub use query::*;

#[cfg(test)]
use chrono::{DateTime, Utc};

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    /// The instant the occurrences are recorded at.
    fn now() -> DateTime<Utc> {
        at("2026-03-01T12:00:00Z")
    }

    /// An occurrence of a log problem (with a fingerprint) at `time`, with
    /// one record.
    fn log_occurrence(delivery: &str, time: &str) -> Occurrence {
        let account: AccountId = "111122223333".parse().unwrap();
        let region: Region = "eu-west-1".parse().unwrap();
        let event_id = EventId::derive(&account, &region, "aws.logs", "/ecs/web#abc");
        Occurrence {
            id: OccurrenceId::derive(&[event_id.as_str(), delivery]),
            event_id,
            account,
            region,
            source: "aws.logs".into(),
            detail_type: "Log Errors".into(),
            severity: Severity::Medium,
            title: format!("error ({delivery})"),
            fingerprint: Some("0123456789abcdef".parse().unwrap()),
            log_group: Some("/ecs/web".into()),
            sample: format!("ERROR sample of {delivery}"),
            resources: vec![],
            detail: serde_json::json!({ "delivery": delivery }),
            first_time: at(time),
            time: at(time),
            count: 1,
            effect: StatusEffect::Occurred,
        }
    }

    /// A CloudWatch alarm state change (no fingerprint) at `time`.
    fn alarm(delivery: &str, time: &str, effect: StatusEffect, severity: Severity) -> Occurrence {
        let account: AccountId = "111122223333".parse().unwrap();
        let region: Region = "eu-west-1".parse().unwrap();
        let event_id = EventId::derive(&account, &region, "aws.cloudwatch", "arn:alarm:cpu");
        Occurrence {
            id: OccurrenceId::derive(&[event_id.as_str(), delivery]),
            event_id,
            source: "aws.cloudwatch".into(),
            detail_type: "CloudWatch Alarm State Change".into(),
            severity,
            fingerprint: None,
            log_group: None,
            resources: vec!["arn:alarm:cpu".into()],
            effect,
            ..log_occurrence(delivery, time)
        }
    }

    /// The alarm firing at `time` with `severity`.
    fn alarm_fired(delivery: &str, time: &str, severity: Severity) -> Occurrence {
        alarm(delivery, time, StatusEffect::Occurred, severity)
    }

    /// The alarm back to OK at `time`.
    fn alarm_ok(time: &str) -> Occurrence {
        alarm("ok", time, StatusEffect::Resolve, Severity::Info)
    }

    /// The event a first log occurrence at 10:00 opened.
    fn log_event() -> Event {
        Event::from_first(&log_occurrence("w1", "2026-03-01T10:00:00Z"), now())
    }

    /// The event the alarm opened by firing (high) at 10:00.
    fn alarm_event(delivery: &str) -> Event {
        Event::from_first(
            &alarm_fired(delivery, "2026-03-01T10:00:00Z", Severity::High),
            now(),
        )
    }

    /// `e` after a user set its status to `status` now.
    fn set_status(e: &mut Event, status: Status) {
        EventPatch {
            status: Some(status),
            ..EventPatch::default()
        }
        .apply_to(e, now());
    }

    #[test]
    fn the_first_occurrence_makes_an_open_event_at_version_1() {
        let mut o = log_occurrence("w1", "2026-03-01T10:05:00Z");
        o.first_time = at("2026-03-01T10:01:00Z");
        o.count = 3;
        let e = Event::from_first(&o, now());
        assert_eq!(
            (e.id.clone(), e.status, e.version),
            (o.event_id, Status::Open, 1)
        );
        assert_eq!(e.count, 3);
        assert_eq!(e.first_seen, at("2026-03-01T10:01:00Z"));
        assert_eq!(e.last_seen, at("2026-03-01T10:05:00Z"));
        assert_eq!(e.state_time, Some(o.time));
        assert_eq!((e.updated_at, e.reopened_at), (now(), None));
        assert_eq!(e.sample, o.sample);
    }

    #[test]
    fn a_first_occurrence_that_resolves_makes_a_resolved_event() {
        let o = alarm_ok("2026-03-01T10:00:00Z");
        assert_eq!(Event::from_first(&o, now()).status, Status::Resolved);
    }

    #[test]
    fn counts_add_without_a_new_version() {
        let mut e = log_event();
        let mut o = log_occurrence("w2", "2026-03-01T10:05:00Z");
        o.count = 4;
        e.apply(&o, now() + chrono::Duration::minutes(1));
        assert_eq!(e.count, 5);
        assert_eq!(e.version, 1, "counting is not a visible state change");
        assert_eq!(e.updated_at, now());
        assert_eq!(e.sample, o.sample, "the newest occurrence gives the sample");
        assert_eq!(e.title, o.title);
        assert_eq!(e.detail, o.detail);
    }

    #[test]
    fn first_and_last_seen_span_every_record_of_every_occurrence() {
        let mut e = log_event();
        // A group whose first record is earlier than anything seen so far.
        let mut grouped = log_occurrence("w2", "2026-03-01T10:10:00Z");
        grouped.first_time = at("2026-03-01T09:50:00Z");
        e.apply(&grouped, now());
        assert_eq!(e.first_seen, at("2026-03-01T09:50:00Z"));
        assert_eq!(e.last_seen, at("2026-03-01T10:10:00Z"));
        // A late delivery inside the span moves neither end.
        e.apply(&log_occurrence("w3", "2026-03-01T10:00:30Z"), now());
        assert_eq!(e.first_seen, at("2026-03-01T09:50:00Z"));
        assert_eq!(e.last_seen, at("2026-03-01T10:10:00Z"));
        assert_eq!(e.count, 3);
    }

    #[test]
    fn a_new_occurrence_reopens_a_resolved_event() {
        let mut e = log_event();
        set_status(&mut e, Status::Resolved);
        assert_eq!((e.status, e.version), (Status::Resolved, 2));
        let later = now() + chrono::Duration::hours(1);
        e.apply(&log_occurrence("w2", "2026-03-01T12:30:00Z"), later);
        assert_eq!(e.status, Status::Open, "a regression reopens the event");
        assert_eq!(e.version, 3);
        assert_eq!(e.reopened_at, Some(at("2026-03-01T12:30:00Z")));
        assert_eq!(e.updated_at, later);
        assert_eq!(e.count, 2);
    }

    #[test]
    fn an_ignored_event_stays_ignored_but_keeps_counting() {
        let mut e = log_event();
        set_status(&mut e, Status::Ignored);
        let version = e.version;
        e.apply(&log_occurrence("w2", "2026-03-01T10:05:00Z"), now());
        e.apply(&log_occurrence("w3", "2026-03-01T10:06:00Z"), now());
        assert_eq!(
            (e.status, e.version, e.count),
            (Status::Ignored, version, 3)
        );
        assert_eq!(e.reopened_at, None);
        assert_eq!(e.last_seen, at("2026-03-01T10:06:00Z"));
    }

    #[test]
    fn an_alarm_back_to_ok_resolves_its_event() {
        let mut e = alarm_event("alarm");
        let later = now() + chrono::Duration::minutes(5);
        let ok = alarm_ok("2026-03-01T10:05:00Z");
        e.apply(&ok, later);
        assert_eq!(
            (e.status, e.version, e.updated_at),
            (Status::Resolved, 2, later)
        );
        assert_eq!(e.severity, Severity::High, "a resolve keeps the severity");
        assert_eq!(e.count, 2);
        // Firing again later is a regression: it reopens, at the new severity.
        let again = alarm_fired("again", "2026-03-01T10:10:00Z", Severity::Low);
        e.apply(&again, later);
        assert_eq!((e.status, e.version), (Status::Open, 3));
        assert_eq!(
            e.severity,
            Severity::Low,
            "AWS events follow the newest state"
        );
        assert_eq!(e.reopened_at, Some(at("2026-03-01T10:10:00Z")));
    }

    #[test]
    fn an_acknowledged_event_resolves_when_its_alarm_clears() {
        let mut e = alarm_event("a");
        e.status = Status::Acknowledged;
        e.apply(&alarm_ok("2026-03-01T10:05:00Z"), now());
        assert_eq!(e.status, Status::Resolved);
    }

    #[test]
    fn an_older_state_change_is_counted_but_not_applied() {
        let mut e = alarm_event("a");
        let ok = alarm_ok("2026-03-01T10:10:00Z");
        e.apply(&ok, now());
        let before = e.clone();
        // An ALARM that happened before the OK arrives late.
        let late = alarm_fired("late", "2026-03-01T10:05:00Z", Severity::Critical);
        e.apply(&late, now() + chrono::Duration::minutes(1));
        assert_eq!(e.count, before.count + 1, "it is counted");
        assert_eq!(
            Event {
                count: before.count,
                ..e.clone()
            },
            before,
            "and changes nothing else: status, severity, sample, version, times"
        );
        assert_eq!(e.state_time, Some(at("2026-03-01T10:10:00Z")));
    }

    #[test]
    fn a_late_occurrence_still_widens_first_seen() {
        let mut e = log_event();
        e.apply(&log_occurrence("w2", "2026-03-01T10:10:00Z"), now());
        let sample = e.sample.clone();
        e.apply(&log_occurrence("late", "2026-03-01T09:00:00Z"), now());
        assert_eq!(e.first_seen, at("2026-03-01T09:00:00Z"));
        assert_eq!(e.last_seen, at("2026-03-01T10:10:00Z"));
        assert_eq!(
            e.sample, sample,
            "an older occurrence does not replace the sample"
        );
        assert_eq!(e.count, 3);
    }

    #[test]
    fn log_severity_only_rises() {
        let mut e = log_event();
        assert_eq!(e.severity, Severity::Medium);
        let mut high = log_occurrence("w2", "2026-03-01T10:01:00Z");
        high.severity = Severity::High;
        e.apply(&high, now());
        assert_eq!(e.severity, Severity::High);
        let mut low = log_occurrence("w3", "2026-03-01T10:02:00Z");
        low.severity = Severity::Low;
        e.apply(&low, now());
        assert_eq!(
            e.severity,
            Severity::High,
            "a lower log severity does not lower it"
        );
        assert_eq!(e.version, 1, "severity is not a status change");
    }

    #[test]
    fn a_page_from_an_overfetch_says_whether_there_is_more() {
        let key = |n: &u32| *n;
        let full = Page::from_overfetch(vec![1, 2, 3], 2, key);
        assert_eq!((full.items, full.next), (vec![1, 2], Some(2)));
        let last = Page::from_overfetch(vec![1, 2], 2, key);
        assert_eq!((last.items, last.next), (vec![1, 2], None));
        let empty = Page::from_overfetch(Vec::new(), 2, key);
        assert_eq!((empty.items, empty.next), (vec![], None));
        // A limit of 0 serves one item, so paging always moves forward.
        let zero = Page::from_overfetch(vec![1, 2], 0, key);
        assert_eq!((zero.items, zero.next), (vec![1], Some(1)));
        assert_eq!(Page::<u32, u32>::fetch_size(0), 2);
        assert_eq!(Page::<u32, u32>::fetch_size(10), 11);
        assert_eq!(Page::<u32, u32>::fetch_size(usize::MAX), usize::MAX);
    }
}
