//! Times as text, the way the stored and sent JSON writes them: RFC 3339
//! in UTC, `2026-11-25T10:00:00[.fff|.ffffff|.fffffffff]Z`.
//!
//! chrono reads any RFC 3339 text with a general parser and writes through
//! `fmt`, about 2,000 instructions a time each way; envelopes carry five
//! times and a stored event six, so that was a tenth of ingest and of the
//! API's reads. The form written here is read and written directly, and
//! everything else is left to chrono, so what is accepted, what it means and
//! what is written stay chrono's (the tests compare the two).

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveTime, Timelike, Utc};
use serde::de::{self, Deserializer, Visitor};
use serde::{Serialize, Serializer};
use std::fmt;

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    struct Rfc3339;
    impl Visitor<'_> for Rfc3339 {
        type Value = DateTime<Utc>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an RFC 3339 date and time")
        }
        fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
            parse(s).map_err(E::custom)
        }
    }
    d.deserialize_str(Rfc3339)
}

pub fn parse(s: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    match utc_form(s.as_bytes()) {
        Some(t) => Ok(t),
        None => s
            .parse::<DateTime<FixedOffset>>()
            .map(|t| t.with_timezone(&Utc)),
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.1-9 digits]Z` with a valid date and time (no
/// leap second); `None` for anything else.
fn utc_form(b: &[u8]) -> Option<DateTime<Utc>> {
    let end = b.len().checked_sub(1)?;
    if b.len() < 20 || [b[4], b[7], b[10], b[13], b[16], b[end]] != *b"--T::Z" {
        return None;
    }
    let number = |from: usize, to: usize| {
        b[from..to].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let nanos = match &b[19..end] {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            number(20, end)? * 10u32.pow(9 - u32::try_from(digits.len()).ok()?)
        }
        _ => return None,
    };
    let year = i32::try_from(number(0, 4)?).ok()?;
    let date = NaiveDate::from_ymd_opt(year, number(5, 7)?, number(8, 10)?)?;
    let second = number(17, 19)?;
    if second > 59 {
        return None;
    }
    let time = NaiveTime::from_hms_nano_opt(number(11, 13)?, number(14, 16)?, second, nanos)?;
    Some(date.and_time(time).and_utc())
}

/// Writes `t` as chrono's `Serialize` does (RFC 3339, `Z`, the fraction in
/// 0, 3, 6 or 9 digits as needed).
pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    let mut buf = [0u8; 30];
    match utc_text(t, &mut buf) {
        // Only ASCII digits and punctuation are written.
        Some(n) => s.serialize_str(std::str::from_utf8(&buf[..n]).unwrap_or_default()),
        None => t.serialize(s),
    }
}

/// [`serialize`] and [`deserialize`] for an optional time.
pub mod option {
    use super::*;

    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_some(&Text(t)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        #[derive(serde::Deserialize)]
        struct Read(#[serde(deserialize_with = "super::deserialize")] DateTime<Utc>);
        Ok(<Option<Read> as serde::Deserialize>::deserialize(d)?.map(|Read(t)| t))
    }

    struct Text<'a>(&'a DateTime<Utc>);

    impl Serialize for Text<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            super::serialize(self.0, s)
        }
    }
}

/// The text of `t` in `buf`, and its length; `None` for a year outside
/// 0-9999 or a leap second, which chrono writes.
fn utc_text(t: &DateTime<Utc>, buf: &mut [u8; 30]) -> Option<usize> {
    let year = u32::try_from(t.year()).ok().filter(|y| *y <= 9999)?;
    let nanos = t.nanosecond();
    if nanos >= 1_000_000_000 {
        return None;
    }
    let put = |buf: &mut [u8; 30], at: usize, width: usize, mut n: u32| {
        for i in (at..at + width).rev() {
            buf[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    buf[..20].copy_from_slice(b"0000-00-00T00:00:00Z");
    put(buf, 0, 4, year);
    put(buf, 5, 2, t.month());
    put(buf, 8, 2, t.day());
    put(buf, 11, 2, t.hour());
    put(buf, 14, 2, t.minute());
    put(buf, 17, 2, t.second());
    let (digits, fraction) = match nanos {
        0 => return Some(20),
        n if n % 1_000_000 == 0 => (3, n / 1_000_000),
        n if n % 1_000 == 0 => (6, n / 1_000),
        n => (9, n),
    };
    buf[19] = b'.';
    put(buf, 20, digits, fraction);
    buf[20 + digits] = b'Z';
    Some(21 + digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_form_as_chrono_does() {
        let chrono_reads = |s: &str| {
            s.parse::<DateTime<FixedOffset>>()
                .map(|t| t.with_timezone(&Utc))
        };
        // What senders write: read without chrono, to the same instant.
        let direct = [
            "2026-11-25T10:00:00Z",
            "2026-11-25T10:00:00.5Z",
            "2026-11-25T10:00:00.123Z",
            "2026-11-25T23:59:59.123456789Z",
            "0000-01-01T00:00:00Z",
            "2024-02-29T12:00:00Z",
        ];
        // Other forms and invalid text: chrono's answer, whatever it is.
        let other = [
            "2026-11-25T10:00:00+01:00",
            "2026-11-25t10:00:00z",
            "2026-11-25 10:00:00Z",
            "2026-11-25T10:00:00.1234567891Z",
            "2026-11-25T10:00:60Z",
            "2026-11-25T24:00:00Z",
            "2026-02-30T10:00:00Z",
            "2026-13-01T10:00:00Z",
            "2026-11-25T10:00:00.Z",
            "2026-11-25T10:00:0aZ",
            "+2026-11-25T10:00:00Z",
            "2026-11-25T10:00:00",
            "",
        ];
        for s in direct {
            assert_eq!(
                utc_form(s.as_bytes()).ok_or(()),
                chrono_reads(s).map_err(|_| ()),
                "{s:?}"
            );
        }
        for s in other {
            assert!(utc_form(s.as_bytes()).is_none(), "{s:?}");
            assert_eq!(parse(s).ok(), chrono_reads(s).ok(), "{s:?}");
        }
    }

    #[test]
    fn writes_what_chrono_writes() {
        let chrono_writes = |t: &DateTime<Utc>| serde_json::to_string(t).unwrap();
        #[derive(serde::Serialize)]
        struct Direct<'a>(#[serde(serialize_with = "serialize")] &'a DateTime<Utc>);
        let base: DateTime<Utc> = "2026-11-25T10:00:00Z".parse().unwrap();
        let mut times: Vec<DateTime<Utc>> = [
            0,
            1,
            10,
            999,
            1_000,
            1_001,
            120_000,
            999_999,
            1_000_000,
            5_000_000,
            123_000_000,
            123_456_000,
            123_456_789,
            500_000_000,
            999_999_999,
        ]
        .iter()
        .map(|n| base + chrono::Duration::nanoseconds(*n))
        .collect();
        times.extend(
            [
                "0000-01-01T00:00:00Z",
                "0999-12-31T23:59:59.9Z",
                "9999-12-31T23:59:59.999999999Z",
                "2024-02-29T00:00:00.000001Z",
                "-0001-06-01T00:00:00Z",
                "+10000-01-01T00:00:00Z",
            ]
            .iter()
            .map(|s| s.parse::<DateTime<Utc>>().unwrap()),
        );
        // A leap second, which chrono writes as :60.
        times.push(
            NaiveDate::from_ymd_opt(2016, 12, 31)
                .unwrap()
                .and_hms_nano_opt(23, 59, 59, 1_500_000_000)
                .unwrap()
                .and_utc(),
        );
        for t in &times {
            let direct = serde_json::to_string(&Direct(t)).unwrap();
            assert_eq!(direct, chrono_writes(t), "{t:?}");
            let read: DateTime<Utc> = parse(direct.trim_matches('"')).unwrap();
            assert_eq!(read, *t, "{direct} reads back");
        }
    }
}
