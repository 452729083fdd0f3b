//! The delivery-log cases: idempotent admission, storm windows, summaries.

use super::*;
use domain::alerts::StormPolicy;
use domain::ports::{Admission, DeliveryLog};

const POLICY: StormPolicy = StormPolicy {
    max_per_window: 2,
    window_seconds: 60,
};

suite! {
    $
    /// Runs the delivery-log conformance suite; see the [module docs](crate::conformance) for the
    /// `$make` convention.
    macro delivery_log_conformance for deliveries;

    pub async fn an_admission_is_idempotent_until_finished(log: &dyn DeliveryLog) {
        let t = at("2026-11-25T10:00:00Z");
        assert_eq!(log.admit("c1", "ops", t, POLICY, "boom").await.unwrap(), Admission::Send);
        assert_eq!(
            log.admit("c1", "ops", t, POLICY, "boom").await.unwrap(),
            Admission::Send,
            "admitted but not yet sent: a retry sends it again"
        );
        log.finished("c1", "ops").await.unwrap();
        assert_eq!(log.admit("c1", "ops", t, POLICY, "boom").await.unwrap(), Admission::Done);
        assert_eq!(
            log.admit("c1", "pager", t, POLICY, "boom").await.unwrap(),
            Admission::Send,
            "each channel has its own delivery"
        );
    }

    pub async fn a_window_admits_its_maximum_then_holds_until_a_new_one_opens(log: &dyn DeliveryLog) {
        let t = at("2026-11-25T10:00:00Z");
        assert_eq!(log.admit("c1", "ops", t, POLICY, "a").await.unwrap(), Admission::Send);
        log.finished("c1", "ops").await.unwrap();
        assert_eq!(log.admit("c2", "ops", t + Duration::seconds(10), POLICY, "b").await.unwrap(), Admission::Send);
        assert_eq!(log.admit("c3", "ops", t + Duration::seconds(20), POLICY, "c").await.unwrap(), Admission::Held);
        assert_eq!(
            log.admit("c3", "ops", t + Duration::seconds(21), POLICY, "c").await.unwrap(),
            Admission::Held,
            "a held delivery stays held"
        );
        assert_eq!(log.admit("c4", "other", t + Duration::seconds(20), POLICY, "d").await.unwrap(), Admission::Send);
        // The window opened at the first alert; after it ends a new one opens.
        assert_eq!(log.admit("c5", "ops", t + Duration::seconds(61), POLICY, "e").await.unwrap(), Admission::Send);
    }

    pub async fn an_ended_window_that_held_alerts_wants_one_summary(log: &dyn DeliveryLog) {
        let t = at("2026-11-25T10:00:00Z");
        for (i, title) in ["a", "b", "c", "d", "e"].iter().enumerate() {
            log.admit(&format!("c{i}"), "ops", t + Duration::seconds(i as i64), POLICY, title).await.unwrap();
        }
        assert!(log.held_back(t + Duration::seconds(59)).await.unwrap().is_empty(), "the window is still open");
        let held = log.held_back(t + Duration::seconds(60)).await.unwrap();
        assert_eq!(held.len(), 1, "{held:?}");
        assert_eq!(held[0].channel, "ops");
        assert_eq!(held[0].count, 3);
        let mut titles = held[0].titles.clone();
        titles.sort();
        assert_eq!(titles, ["c", "d", "e"]);
        assert_eq!(held[0].window.start, t);
        assert_eq!(held[0].window.end, t + Duration::seconds(60));
        log.summarised("ops", held[0].window).await.unwrap();
        assert!(log.held_back(t + Duration::seconds(120)).await.unwrap().is_empty(), "one summary per window");
    }

    pub async fn a_summary_lists_at_most_ten_titles_but_counts_all(log: &dyn DeliveryLog) {
        let t = at("2026-11-25T10:00:00Z");
        for i in 0..25 {
            log.admit(&format!("c{i}"), "ops", t, POLICY, &format!("title {i}")).await.unwrap();
        }
        let held = log.held_back(t + Duration::seconds(60)).await.unwrap();
        assert_eq!(held[0].count, 23);
        assert_eq!(held[0].titles.len(), domain::alerts::MAX_SUMMARY_TITLES);
    }
}
