//! Sortable text keys of times and days, as the stores (SQLite columns,
//! DynamoDB sort keys) keep them: text order is time order.

use chrono::{DateTime, NaiveDate, Utc};

const DAY_FORMAT: &str = "%Y-%m-%d";

/// Fixed-width UTC text with nanoseconds (years 0000-9999), so that text
/// order is time order.
pub fn time_key(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string()
}

/// `YYYY-MM-DD`: text order is day order.
pub fn day_key(day: NaiveDate) -> String {
    day.format(DAY_FORMAT).to_string()
}

/// The day a [`day_key`] stands for.
pub fn parse_day_key(key: &str) -> Result<NaiveDate, chrono::ParseError> {
    NaiveDate::parse_from_str(key, DAY_FORMAT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_order_is_time_order() {
        let t: DateTime<Utc> = "2026-03-01T10:00:00Z".parse().unwrap();
        let keys = [
            time_key(t - chrono::Duration::nanoseconds(1)),
            time_key(t),
            time_key(t + chrono::Duration::nanoseconds(1)),
            time_key(t + chrono::Duration::days(400)),
        ];
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "{keys:?}");
        assert_eq!(keys[1], "2026-03-01T10:00:00.000000000Z");
    }

    #[test]
    fn day_keys_round_trip() {
        let day = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        assert_eq!(day_key(day), "2026-03-01");
        assert_eq!(parse_day_key(&day_key(day)).unwrap(), day);
        assert!(day_key(day) < day_key(day.succ_opt().unwrap()));
    }
}
