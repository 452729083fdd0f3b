//! The event-store cases.

use super::*;

suite! {
    $
    /// Runs the event-store conformance suite; see the [module docs](crate::conformance) for the
    /// `$make` convention.
    macro event_store_conformance for events;

    pub async fn new_occurrence_creates_an_open_event(store: &dyn EventStore) {
        let o = OccurrenceSpec::log("checkout", "w1", t0())
            .count(3)
            .severity(Severity::Medium)
            .build();
        let now = t0() + minutes(1);
        let event = record_new(store, &o, now).await;
        assert_eq!(event.id, o.event_id);
        assert_eq!(event.count, 3, "count of a new event");
        assert_eq!(event.first_seen, o.time, "first_seen of a new event");
        assert_eq!(event.last_seen, o.time, "last_seen of a new event");
        assert_eq!(event.severity, Severity::Medium, "severity of a new event");
        assert_eq!(event.status, Status::Open, "status of a new event");
        assert_eq!(event.version, 1, "version of a new event");
        assert_eq!(event.updated_at, now, "updated_at of a new event");
        assert_eq!(
            event,
            Event::from_first(&o, now),
            "a new event is Event::from_first"
        );
        assert_eq!(
            must_get(store, &o.event_id).await,
            event,
            "get returns the event exactly as record answered it"
        );
    }

    pub async fn redelivered_occurrence_changes_nothing(store: &dyn EventStore) {
        let o = OccurrenceSpec::log("checkout", "w1", t0()).count(4).build();
        let first = record_new(store, &o, t0()).await;
        for attempt in 1..=3 {
            let again = store
                .record(&o, t0() + minutes(attempt))
                .await
                .unwrap_or_else(|e| panic!("redelivery {attempt}: {e}"));
            assert_eq!(
                again,
                Recorded::Duplicate,
                "redelivery {attempt} of the same occurrence"
            );
        }
        assert_eq!(
            must_get(store, &o.event_id).await,
            first,
            "redeliveries changed the event"
        );
        let day = store
            .day_activity(t0().date_naive())
            .await
            .expect("day_activity");
        assert_eq!(day.len(), 1);
        assert_eq!(
            day[0].day_count, 4,
            "redeliveries were added to the day's counter"
        );
    }

    pub async fn another_occurrence_adds_its_count_without_a_new_version(store: &dyn EventStore) {
        let first = OccurrenceSpec::log("checkout", "w1", t0()).count(2).build();
        let later = OccurrenceSpec::log("checkout", "w2", t0() + minutes(5))
            .count(3)
            .build();
        let earlier = OccurrenceSpec::log("checkout", "w0", t0() - minutes(10)).build();
        record_new(store, &first, t0()).await;
        let event = record_new(store, &later, t0() + minutes(6)).await;
        assert_eq!(event.id, first.event_id, "same problem, same event");
        assert_eq!(event.count, 5, "counts add up");
        assert_eq!(event.first_seen, first.time, "first_seen stays");
        assert_eq!(
            event.last_seen, later.time,
            "last_seen moves to the newer occurrence"
        );
        assert_eq!(event.status, Status::Open);
        assert_eq!(
            event.version, 1,
            "a new occurrence alone does not bump the version"
        );
        assert_eq!(
            event.sample, later.sample,
            "the sample follows the newest occurrence"
        );

        let event = record_new(store, &earlier, t0() + minutes(7)).await;
        assert_eq!(event.count, 6);
        assert_eq!(
            event.first_seen, earlier.time,
            "an older occurrence moves first_seen back"
        );
        assert_eq!(
            event.last_seen, later.time,
            "an older occurrence does not move last_seen"
        );
        assert_eq!(must_get(store, &first.event_id).await, event);
    }

    /// A group of log records spans `first_time..=time`: the event's
    /// `first_seen` is the earliest first line and `last_seen` the latest
    /// last line over all its occurrences, whatever order they arrive in.
    pub async fn first_and_last_seen_span_every_grouped_line(store: &dyn EventStore) {
        let six_lines = OccurrenceSpec::log("checkout", "w1", at("2026-03-01T07:18:19Z"))
            .since(at("2026-03-01T07:16:29Z"))
            .count(6)
            .build();
        let event = record_new(store, &six_lines, at("2026-03-01T07:20:00Z")).await;
        assert_eq!(
            (event.first_seen, event.last_seen),
            (at("2026-03-01T07:16:29Z"), at("2026-03-01T07:18:19Z")),
            "a new event spans its first occurrence's lines"
        );
        let later = OccurrenceSpec::log("checkout", "w2", at("2026-03-01T07:24:00Z"))
            .since(at("2026-03-01T07:21:00Z"))
            .build();
        let earlier = OccurrenceSpec::log("checkout", "w0", at("2026-03-01T07:14:00Z"))
            .since(at("2026-03-01T07:10:05Z"))
            .build();
        record_new(store, &later, at("2026-03-01T07:25:00Z")).await;
        let event = record_new(store, &earlier, at("2026-03-01T07:26:00Z")).await;
        assert_eq!(
            (event.first_seen, event.last_seen),
            (at("2026-03-01T07:10:05Z"), at("2026-03-01T07:24:00Z")),
            "first_seen is the earliest line, last_seen the latest"
        );
        assert_eq!(event.count, 8);
        assert_eq!(must_get(store, &six_lines.event_id).await, event);
        let page = store
            .list(&EventFilter::default(), None, 10)
            .await
            .expect("list");
        assert_eq!(page.items, vec![event], "list agrees");
    }

    pub async fn new_occurrence_reopens_a_resolved_event(store: &dyn EventStore) {
        let o1 = OccurrenceSpec::log("checkout", "w1", t0()).build();
        let o2 = OccurrenceSpec::log("checkout", "w2", t0() + minutes(30)).build();
        record_new(store, &o1, t0()).await;
        let resolved = must_update(
            store,
            &o1.event_id,
            &set_status(Status::Resolved),
            Some(1),
            t0(),
        )
        .await;
        assert_eq!(resolved.version, 2);
        let now = t0() + minutes(31);
        let event = record_new(store, &o2, now).await;
        assert_eq!(event.status, Status::Open, "a regression reopens the event");
        assert_eq!(
            event.version, 3,
            "reopening is a visible change: version + 1"
        );
        assert_eq!(
            event.reopened_at,
            Some(o2.time),
            "reopened_at is the regression's time"
        );
        assert_eq!(event.updated_at, now);
        assert_eq!(event.count, 2);
        assert_eq!(must_get(store, &o1.event_id).await, event);
    }

    pub async fn ignored_event_stays_ignored_but_keeps_counting(store: &dyn EventStore) {
        let o1 = OccurrenceSpec::log("noisy", "w1", t0()).build();
        let o2 = OccurrenceSpec::log("noisy", "w2", t0() + minutes(5))
            .count(10)
            .build();
        record_new(store, &o1, t0()).await;
        must_update(
            store,
            &o1.event_id,
            &set_status(Status::Ignored),
            None,
            t0(),
        )
        .await;
        let event = record_new(store, &o2, t0() + minutes(6)).await;
        assert_eq!(
            event.status,
            Status::Ignored,
            "an ignored event stays ignored"
        );
        assert_eq!(event.count, 11, "an ignored event keeps counting");
        assert_eq!(event.last_seen, o2.time);
        assert_eq!(
            event.version, 2,
            "only the triage update bumped the version"
        );
    }

    pub async fn alarm_back_to_ok_resolves_its_event(store: &dyn EventStore) {
        let alarm = OccurrenceSpec::alarm("cpu-high", "ALARM", t0()).build();
        let ok = OccurrenceSpec::alarm("cpu-high", "OK", t0() + minutes(10)).build();
        let again = OccurrenceSpec::alarm("cpu-high", "ALARM", t0() + minutes(20)).build();
        assert_eq!(
            alarm.event_id, ok.event_id,
            "test bug: one alarm, one event"
        );

        let event = record_new(store, &alarm, t0()).await;
        assert_eq!(
            (event.status, event.severity),
            (Status::Open, Severity::High)
        );

        let event = record_new(store, &ok, t0() + minutes(10)).await;
        assert_eq!(
            event.status,
            Status::Resolved,
            "alarm OK resolves the event"
        );
        assert_eq!(
            event.version, 2,
            "resolving is a visible change: version + 1"
        );
        assert_eq!(event.count, 2, "every state change counts");
        assert_eq!(
            event.severity,
            Severity::High,
            "resolving keeps the severity"
        );

        let event = record_new(store, &again, t0() + minutes(20)).await;
        assert_eq!(
            event.status,
            Status::Open,
            "the alarm firing again reopens it"
        );
        assert_eq!(event.version, 3);
        assert_eq!(event.reopened_at, Some(again.time));
        assert_eq!(must_get(store, &alarm.event_id).await, event);
    }

    pub async fn older_state_change_is_counted_but_does_not_change_status(store: &dyn EventStore) {
        let alarm = OccurrenceSpec::alarm("cpu-high", "ALARM", t0()).build();
        let ok = OccurrenceSpec::alarm("cpu-high", "OK", t0() + minutes(10)).build();
        let late = OccurrenceSpec::alarm("cpu-high", "ALARM", t0() + minutes(5)).build();
        record_new(store, &alarm, t0()).await;
        let resolved = record_new(store, &ok, t0() + minutes(10)).await;
        let event = record_new(store, &late, t0() + minutes(11)).await;
        assert_eq!(event.count, 3, "an out-of-order state change is counted");
        assert_eq!(
            event.status,
            Status::Resolved,
            "an older ALARM does not reopen"
        );
        assert_eq!(event.version, resolved.version, "nor bump the version");
        assert_eq!(event.last_seen, ok.time, "nor move last_seen back");
        assert_eq!(
            event.sample, resolved.sample,
            "nor replace the newer sample"
        );
        assert_eq!(must_get(store, &alarm.event_id).await, event);
    }

    pub async fn get_of_unknown_event_is_none(store: &dyn EventStore) {
        let id = OccurrenceSpec::log("never-seen", "w1", t0()).event_id();
        let got = store.get(&id).await.expect("get of an unknown id");
        assert_eq!(got, None, "get of an unknown id");
    }

    pub async fn concurrent_records_are_all_counted(store: &dyn EventStore) {
        let shared = OccurrenceSpec::log("checkout", "shared", t0()).build();
        let worker = |w: usize| {
            let shared = shared.clone();
            async move {
                let mut applied = 0;
                for i in 0..5 {
                    let o =
                        OccurrenceSpec::log("checkout", &format!("w{w}-{i}"), t0() + minutes(i))
                            .count(2)
                            .build();
                    record_new(store, &o, t0()).await;
                    if let Recorded::Applied(_) = store.record(&shared, t0()).await.expect("record")
                    {
                        applied += 1;
                    }
                }
                applied
            }
        };
        let (a, b, c, d) = tokio::join!(worker(0), worker(1), worker(2), worker(3));
        assert_eq!(
            a + b + c + d,
            1,
            "the shared occurrence was applied more than once"
        );
        let event = must_get(store, &shared.event_id).await;
        assert_eq!(
            event.count,
            4 * 5 * 2 + 1,
            "concurrent records lost an update"
        );
        let day = store
            .day_activity(t0().date_naive())
            .await
            .expect("day_activity");
        assert_eq!(day.len(), 1);
        assert_eq!(day[0].day_count, 41, "concurrent records lost a day count");
    }

    pub async fn list_is_newest_first_with_ties_by_id_descending(store: &dyn EventStore) {
        let times = [3, 0, 5, 3, 1, 5, 3];
        let mut recorded = Vec::new();
        for (i, m) in times.iter().enumerate() {
            let o = OccurrenceSpec::log(&format!("p{i}"), "w1", t0() + minutes(*m)).build();
            recorded.push(record_new(store, &o, t0()).await);
        }
        let page = store
            .list(&EventFilter::default(), None, 50)
            .await
            .expect("list");
        assert_eq!(page.next, None, "everything fit in one page: no next key");
        assert_eq!(
            ids(&page.items),
            ids(&newest_first(recorded.clone())),
            "list is ordered by (last_seen desc, id desc)"
        );
        assert_eq!(
            page.items,
            newest_first(recorded),
            "listed events equal the recorded ones"
        );
    }

    pub async fn list_of_empty_store_is_empty(store: &dyn EventStore) {
        let page = store
            .list(&EventFilter::default(), None, 10)
            .await
            .expect("list");
        assert!(page.items.is_empty() && page.next.is_none(), "{page:?}");
    }

    pub async fn list_filters_by_time_range(store: &dyn EventStore) {
        let corpus = record_corpus(store).await;
        let from = t0() + minutes(2);
        let to = t0() + minutes(4);
        // Bounds are inclusive: events at exactly `from` and `to` exist.
        assert!(
            corpus.iter().any(|e| e.last_seen == from) && corpus.iter().any(|e| e.last_seen == to)
        );
        for filter in [
            EventFilter {
                from: Some(from),
                ..EventFilter::default()
            },
            EventFilter {
                to: Some(to),
                ..EventFilter::default()
            },
            EventFilter {
                from: Some(from),
                to: Some(to),
                ..EventFilter::default()
            },
            EventFilter {
                from: Some(from - Duration::nanoseconds(1)),
                to: Some(from + Duration::nanoseconds(1)),
                ..EventFilter::default()
            },
        ] {
            assert_filter(store, &corpus, filter).await;
        }
        let empty = EventFilter {
            from: Some(to),
            to: Some(from),
            ..EventFilter::default()
        };
        let page = store.list(&empty, None, 10).await.expect("list");
        assert!(page.items.is_empty(), "from after to selects nothing");
    }

    pub async fn list_filters_by_account_region_and_source(store: &dyn EventStore) {
        let corpus = record_corpus(store).await;
        for filter in [
            EventFilter {
                account: Some("444455556666".parse().unwrap()),
                ..EventFilter::default()
            },
            EventFilter {
                region: Some("us-east-1".parse().unwrap()),
                ..EventFilter::default()
            },
            EventFilter {
                source: Some(SOURCE_HEALTH.into()),
                ..EventFilter::default()
            },
            EventFilter {
                account: Some("111122223333".parse().unwrap()),
                region: Some("eu-west-1".parse().unwrap()),
                source: Some(SOURCE_LOGS.into()),
                ..EventFilter::default()
            },
        ] {
            assert_filter(store, &corpus, filter).await;
        }
        let unknown = EventFilter {
            account: Some("999999999999".parse().unwrap()),
            ..EventFilter::default()
        };
        let page = store.list(&unknown, None, 10).await.expect("list");
        assert!(page.items.is_empty(), "an unknown account selects nothing");
    }

    pub async fn list_filters_by_severities_and_statuses(store: &dyn EventStore) {
        let corpus = record_corpus(store).await;
        for filter in [
            EventFilter {
                severities: vec![Severity::Critical],
                ..EventFilter::default()
            },
            EventFilter {
                severities: vec![Severity::Info, Severity::High, Severity::Critical],
                ..EventFilter::default()
            },
            EventFilter {
                statuses: vec![Status::Open],
                ..EventFilter::default()
            },
            EventFilter {
                statuses: vec![Status::Acknowledged, Status::Ignored],
                ..EventFilter::default()
            },
            EventFilter {
                from: Some(t0() + minutes(1)),
                account: Some("111122223333".parse().unwrap()),
                severities: vec![Severity::Low, Severity::Medium, Severity::High],
                statuses: vec![Status::Open, Status::Resolved],
                ..EventFilter::default()
            },
        ] {
            assert_filter(store, &corpus, filter).await;
        }
    }

    pub async fn pagination_returns_every_event_once_in_order(store: &dyn EventStore) {
        let corpus = record_corpus(store).await;
        let want = ids(&newest_first(corpus.clone()));
        // 5 and 25 divide the corpus: the last page is full and has no next key.
        for limit in [1, 2, 3, 5, 7, 25, 26, 200] {
            let got = ids(&list_all(store, &EventFilter::default(), limit).await);
            assert_eq!(
                got, want,
                "pages of {limit} do not return every event exactly once in order"
            );
        }
    }

    pub async fn pagination_resumes_after_the_key_of_an_event_that_moved(store: &dyn EventStore) {
        let corpus = record_corpus(store).await;
        let want = ids(&newest_first(corpus));
        let first = store
            .list(&EventFilter::default(), None, 10)
            .await
            .expect("first page");
        assert_eq!(ids(&first.items), want[..10].to_vec());
        let next = first.next.clone().expect("a next key after 10 of 25");
        // The key is a position, not a row: it still works after new activity
        // moved the event it was taken from to the top.
        let moved = must_get(store, &want[9]).await;
        let newer = occurrence_of(&moved, "moved", t0() + minutes(60));
        record_new(store, &newer, t0()).await;
        let rest = store
            .list(&EventFilter::default(), Some(next), 100)
            .await
            .expect("second page");
        assert_eq!(
            ids(&rest.items),
            want[10..].to_vec(),
            "the page after the key"
        );
        assert_eq!(rest.next, None);
    }

    pub async fn update_of_unknown_event_is_not_found(store: &dyn EventStore) {
        let id = OccurrenceSpec::log("never-seen", "w1", t0()).event_id();
        for expected in [None, Some(1)] {
            let got = store
                .update(&id, &set_status(Status::Resolved), expected, t0())
                .await;
            assert_eq!(
                got,
                Err(UpdateEventError::NotFound),
                "update of an unknown event"
            );
        }
        assert_eq!(
            store.get(&id).await.expect("get"),
            None,
            "update must not create"
        );
    }

    pub async fn update_with_a_stale_version_is_refused(store: &dyn EventStore) {
        let o = OccurrenceSpec::log("checkout", "w1", t0()).build();
        record_new(store, &o, t0()).await;
        let patch = EventPatch {
            note: Some(Some("looking".into())),
            ..EventPatch::default()
        };
        let current = must_update(store, &o.event_id, &patch, None, t0()).await;
        assert_eq!(current.version, 2);
        let got = store
            .update(
                &o.event_id,
                &set_status(Status::Resolved),
                Some(1),
                t0() + minutes(1),
            )
            .await;
        assert_eq!(
            got,
            Err(UpdateEventError::VersionMismatch { current: 2 }),
            "a stale expected version is refused with the current version"
        );
        assert_eq!(
            must_get(store, &o.event_id).await,
            current,
            "a refused update changed the event"
        );
    }

    pub async fn update_with_the_matching_version_applies(store: &dyn EventStore) {
        let o = OccurrenceSpec::log("checkout", "w1", t0()).build();
        record_new(store, &o, t0()).await;
        let patch = EventPatch {
            status: Some(Status::Acknowledged),
            note: Some(Some("on it".into())),
            assignee: Some(Some("alice".into())),
        };
        let now = t0() + minutes(3);
        let event = must_update(store, &o.event_id, &patch, Some(1), now).await;
        assert_eq!(event.status, Status::Acknowledged);
        assert_eq!(event.note.as_deref(), Some("on it"));
        assert_eq!(event.assignee.as_deref(), Some("alice"));
        assert_eq!(event.version, 2, "an applied update bumps the version");
        assert_eq!(event.updated_at, now);
        assert_eq!(event.count, 1, "an update does not count");
        assert_eq!(
            must_get(store, &o.event_id).await,
            event,
            "the update was stored"
        );

        let clear = EventPatch {
            note: Some(None),
            ..EventPatch::default()
        };
        let event = must_update(store, &o.event_id, &clear, Some(2), now).await;
        assert_eq!(
            (event.note, event.version),
            (None, 3),
            "Some(None) clears a field"
        );
    }

    pub async fn noop_update_does_not_bump_the_version(store: &dyn EventStore) {
        let o = OccurrenceSpec::log("checkout", "w1", t0()).build();
        let created = record_new(store, &o, t0()).await;
        let noop = EventPatch {
            status: Some(Status::Open),
            note: Some(None),
            assignee: Some(None),
        };
        let event = must_update(store, &o.event_id, &noop, Some(1), t0() + minutes(5)).await;
        assert_eq!(
            event, created,
            "a patch that changes nothing changes nothing"
        );
        assert_eq!(must_get(store, &o.event_id).await, created);
    }

    pub async fn update_without_expected_version_always_applies(store: &dyn EventStore) {
        let o = OccurrenceSpec::log("checkout", "w1", t0()).build();
        record_new(store, &o, t0()).await;
        for (i, status) in [Status::Acknowledged, Status::Resolved, Status::Open]
            .into_iter()
            .enumerate()
        {
            let event = must_update(store, &o.event_id, &set_status(status), None, t0()).await;
            assert_eq!(event.status, status);
            assert_eq!(event.version, i as u64 + 2);
        }
    }

    pub async fn day_activity_counts_each_utc_day(store: &dyn EventStore) {
        let day1 = at("2026-03-01T00:00:00Z").date_naive();
        let day2 = at("2026-03-02T00:00:00Z").date_naive();
        let before_midnight = at("2026-03-01T23:59:59.999999999Z");
        let midnight = at("2026-03-02T00:00:00Z");
        let both = OccurrenceSpec::log("both-days", "a", before_midnight).count(2);
        let both_next = OccurrenceSpec::log("both-days", "b", midnight).count(3);
        let first_only = OccurrenceSpec::log("first-day", "a", at("2026-03-01T08:00:00Z")).count(1);
        let second_only =
            OccurrenceSpec::log("second-day", "a", at("2026-03-02T12:00:00Z")).count(4);
        let second_more =
            OccurrenceSpec::log("second-day", "b", at("2026-03-02T13:00:00Z")).count(5);
        let third_only = OccurrenceSpec::log("third-day", "a", at("2026-03-03T00:00:00Z")).count(6);
        for spec in [
            &both,
            &both_next,
            &first_only,
            &second_only,
            &second_more,
            &third_only,
        ] {
            record_new(store, &spec.build(), t0()).await;
        }
        // A redelivery is not counted again on its day.
        let redelivered = store.record(&both.build(), t0()).await.expect("redelivery");
        assert_eq!(redelivered, Recorded::Duplicate);

        let counts = |activity: Vec<DayActivity>| {
            let mut counts: Vec<(EventId, u64)> =
                activity.into_iter().map(|a| (a.id, a.day_count)).collect();
            counts.sort();
            counts
        };
        let sorted = |mut v: Vec<(EventId, u64)>| {
            v.sort();
            v
        };
        assert_eq!(
            counts(store.day_activity(day1).await.expect("day_activity")),
            sorted(vec![(both.event_id(), 2), (first_only.event_id(), 1)]),
            "activity of {day1}: (event, day count)"
        );
        assert_eq!(
            counts(store.day_activity(day2).await.expect("day_activity")),
            sorted(vec![(both.event_id(), 3), (second_only.event_id(), 9)]),
            "activity of {day2}: (event, day count)"
        );
        let day0 = at("2026-02-28T00:00:00Z").date_naive();
        assert!(
            store
                .day_activity(day0)
                .await
                .expect("day_activity")
                .is_empty(),
            "a day without occurrences has no activity"
        );

        // A regression: resolved, then another occurrence the same day
        // reopens it (reopened_at set, status open again).
        must_update(
            store,
            &second_only.event_id(),
            &set_status(Status::Resolved),
            None,
            t0(),
        )
        .await;
        let reopening = OccurrenceSpec::log("second-day", "c", at("2026-03-02T14:00:00Z"));
        record_new(store, &reopening.build(), t0()).await;

        // Each event's fields as it stands now, title and times included.
        let day2_events = store.day_activity(day2).await.expect("day_activity");
        assert_eq!(day2_events.len(), 2);
        for a in day2_events {
            let event = must_get(store, &a.id).await;
            assert_eq!(a, DayActivity::of(&event, a.day_count));
            if a.id == second_only.event_id() {
                assert!(a.reopened_at.is_some(), "the regression's time");
                assert_eq!(a.day_count, 10);
            }
        }
    }

    pub async fn get_many_answers_the_events_that_exist(store: &dyn EventStore) {
        let a = record_new(store, &OccurrenceSpec::log("many-a", "w1", t0()).build(), t0()).await;
        let b = record_new(store, &OccurrenceSpec::log("many-b", "w1", t0()).build(), t0()).await;
        let unknown = OccurrenceSpec::log("never-seen", "w1", t0()).event_id();
        let mut got = store
            .get_many(&[b.id.clone(), unknown, a.id.clone()])
            .await
            .expect("get_many");
        got.sort_by(|x, y| x.id.cmp(&y.id));
        let mut want = vec![a, b];
        want.sort_by(|x, y| x.id.cmp(&y.id));
        assert_eq!(got, want, "the known events, whole; the unknown id left out");
        assert!(store.get_many(&[]).await.expect("no ids").is_empty());
    }

    pub async fn event_activity_reads_one_events_counters_oldest_first(store: &dyn EventStore) {
        let day = |s: &str| at(&format!("{s}T00:00:00Z")).date_naive();
        // Across a month's end, with a day without occurrences in between.
        let a = |delivery: &str, time: &str, count: u64| {
            OccurrenceSpec::log("charted", delivery, at(time)).count(count)
        };
        let specs = [
            a("1", "2026-02-27T23:59:59Z", 1),
            a("2", "2026-02-28T08:00:00Z", 2),
            a("3", "2026-02-28T09:00:00Z", 3),
            a("4", "2026-03-02T00:00:00Z", 4),
            a("5", "2026-03-05T12:00:00Z", 5),
            OccurrenceSpec::log("other", "1", at("2026-02-28T10:00:00Z")).count(7),
        ];
        for spec in &specs {
            record_new(store, &spec.build(), t0()).await;
        }
        let redelivered = store
            .record(&specs[1].build(), t0())
            .await
            .expect("redelivery");
        assert_eq!(redelivered, Recorded::Duplicate);
        let id = specs[0].event_id();
        let read = |from: &str, to: &str| {
            let id = id.clone();
            let (from, to) = (day(from), day(to));
            async move {
                store
                    .event_activity(&id, from, to)
                    .await
                    .expect("event_activity")
                    .into_iter()
                    .map(|c| (c.date.to_string(), c.count))
                    .collect::<Vec<_>>()
            }
        };
        let owned = |v: &[(&str, u64)]| {
            v.iter()
                .map(|(d, c)| (d.to_string(), *c))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            read("2026-02-28", "2026-03-04").await,
            owned(&[("2026-02-28", 5), ("2026-03-02", 4)]),
            "the days in range with occurrences, oldest first, without the other event's"
        );
        assert_eq!(
            read("2026-02-01", "2026-03-31").await,
            owned(&[
                ("2026-02-27", 1),
                ("2026-02-28", 5),
                ("2026-03-02", 4),
                ("2026-03-05", 5)
            ]),
            "both ends of the range are included"
        );
        assert_eq!(read("2026-02-27", "2026-02-27").await, owned(&[("2026-02-27", 1)]));
        assert!(
            read("2026-03-03", "2026-03-04").await.is_empty(),
            "a range without occurrences"
        );
        let unknown = OccurrenceSpec::log("never-recorded", "1", t0()).event_id();
        assert!(
            store
                .event_activity(&unknown, day("2026-01-01"), day("2026-12-31"))
                .await
                .expect("event_activity")
                .is_empty(),
            "an unknown event has no activity"
        );
        let total: u64 = read("2026-01-01", "2026-12-31")
            .await
            .iter()
            .map(|(_, c)| c)
            .sum();
        assert_eq!(
            total,
            must_get(store, &id).await.count,
            "the days add up to the event's count"
        );
    }


    pub async fn day_summary_is_the_summary_of_the_day_activity(store: &dyn EventStore) {
        let day = |s: &str| at(&format!("{s}T00:00:00Z")).date_naive();
        let (day1, day2, day3) = (day("2026-03-01"), day("2026-03-02"), day("2026-03-03"));
        let record = |spec: OccurrenceSpec| async move {
            store.record(&spec.build(), t0()).await.expect("record");
            spec.event_id()
        };
        // More new events than a list shows, with equal counts to order by
        // severity and then id, in two accounts.
        for i in 0..60u64 {
            let spec = OccurrenceSpec::log(&format!("busy-{i}"), "a", at("2026-03-01T08:00:00Z"))
                .count(1 + i % 4)
                .severity(Severity::ALL[(i % 5) as usize])
                .account(if i % 3 == 0 { "444455556666" } else { ACCOUNT });
            record(spec).await;
        }
        // Escalated on day 2: its day-1 occurrences now count as critical.
        let escalated = record(
            OccurrenceSpec::log("busy-1", "b", at("2026-03-02T09:00:00Z"))
                .severity(Severity::Critical),
        )
        .await;
        // An alarm whose severity falls: ALARM (high), then no data (low).
        record(OccurrenceSpec::alarm("cpu", "ALARM", at("2026-03-01T10:00:00Z"))).await;
        record(OccurrenceSpec::alarm("cpu", "INSUFFICIENT_DATA", at("2026-03-02T10:00:00Z"))).await;
        // Reopened on day 2, then again on day 3: only day 3 lists it.
        let reopened = escalated.clone();
        must_update(store, &reopened, &set_status(Status::Resolved), None, t0()).await;
        record(OccurrenceSpec::log("busy-1", "c", at("2026-03-02T11:00:00Z"))).await;
        must_update(store, &reopened, &set_status(Status::Resolved), None, t0()).await;
        record(OccurrenceSpec::log("busy-1", "d", at("2026-03-03T11:00:00Z"))).await;
        // Reopened on a day it had already occurred on.
        let once = record(OccurrenceSpec::log("once", "a", at("2026-03-02T08:00:00Z"))).await;
        must_update(store, &once, &set_status(Status::Resolved), None, t0()).await;
        record(OccurrenceSpec::log("once", "b", at("2026-03-02T10:00:00Z"))).await;
        // First seen on day 2, then an older occurrence makes it day 1's.
        let late = record(OccurrenceSpec::log("late", "a", at("2026-03-02T12:00:00Z"))).await;
        record(OccurrenceSpec::log("late", "b", at("2026-03-01T23:00:00Z")).count(7)).await;
        // A redelivery counts nothing.
        record(OccurrenceSpec::log("late", "b", at("2026-03-01T23:00:00Z")).count(7)).await;

        for d in [day("2026-02-28"), day1, day2, day3] {
            let activity = store.day_activity(d).await.expect("day_activity");
            let summary = store.day_summary(d).await.expect("day_summary");
            assert_eq!(summary, DaySummary::of(d, &activity), "the summary of {d}");
        }
        let on_day1 = store.day_summary(day1).await.expect("day_summary");
        assert_eq!((on_day1.events, on_day1.new_total), (62, 62), "day 1: events, new");
        assert_eq!(on_day1.new_events.len(), LISTED_EVENTS);
        assert_eq!(on_day1.top[0].id, late, "the most frequent event of day 1");
        let busy = |level: usize, except: u64| -> u64 {
            (0..60u64)
                .filter(|i| i % 5 == level as u64 && *i != except)
                .map(|i| 1 + i % 4)
                .sum()
        };
        assert_eq!(
            on_day1.by_severity.get(&Severity::Low),
            Some(&(busy(1, 1) + 1)),
            "the alarm's day-1 occurrence counts as low, its severity now"
        );
        assert_eq!(
            on_day1.by_severity.get(&Severity::Critical),
            Some(&(busy(4, 1) + 2)),
            "busy-1's day-1 occurrences count as critical, its severity now"
        );
        let on_day2 = store.day_summary(day2).await.expect("day_summary");
        assert_eq!(
            on_day2.regressions.iter().map(|a| &a.id).collect::<Vec<_>>(),
            vec![&once],
            "busy-1 was reopened again since"
        );
        assert_eq!(
            on_day2.new_events.iter().map(|a| &a.id).collect::<Vec<_>>(),
            vec![&once],
            "the late event is day 1's"
        );
        let on_day3 = store.day_summary(day3).await.expect("day_summary");
        assert_eq!(
            on_day3.regressions.iter().map(|a| &a.id).collect::<Vec<_>>(),
            vec![&reopened]
        );
    }
}
