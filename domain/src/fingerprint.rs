//! Fingerprints: the message with its variable parts masked, then hashed.

use crate::logprefix::report_status;
use crate::logtext::ParsedRecord;
use crate::model::Fingerprint;

/// Bytes of masked text that take part in the hash; stack traces are long
/// and their tails add little to telling problems apart.
const MASKED_LIMIT: usize = 2048;

/// Masks numbers, hex, UUIDs, timestamps, IPs, addresses and quoted values,
/// and folds runs of whitespace, so variants of one message read the same.
pub fn mask(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(b.len().min(MASKED_LIMIT) + 8);
    let mut i = 0;
    let mut prev_space = false;
    while i < b.len() && out.len() < MASKED_LIMIT {
        let c = b[i];
        let class = CLASS[usize::from(c)];
        if class & WORD != 0 {
            // A token: letters, digits, `_` and `-`. Masked when it holds a
            // digit, or is all hex (and `-`) and at least 8 long.
            let start = i;
            let (mut any, mut all) = (0u8, u8::MAX);
            while let Some(&t) = b.get(i) {
                let f = CLASS[usize::from(t)];
                if f & TOKEN == 0 {
                    break;
                }
                any |= f;
                all &= f;
                i += 1;
            }
            if any & DIGIT != 0 || (all & HEXISH != 0 && i - start >= 8) {
                out.push('#');
            } else {
                out.push_str(&text[start..i]);
            }
            prev_space = false;
        } else if (c == b'"' || c == b'\'' || c == b'`')
            && !(c == b'\'' && i > 0 && b[i - 1].is_ascii_alphanumeric())
        {
            // A quoted value on this line becomes "*"; an unmatched quote stays.
            match b[i + 1..]
                .iter()
                .take(512)
                .position(|&x| x == c || x == b'\n')
            {
                Some(p) if b[i + 1 + p] == c => {
                    out.push_str("\"*\"");
                    i += p + 2;
                }
                _ => {
                    out.push(char::from(c));
                    i += 1;
                }
            }
            prev_space = false;
        } else if class & SPACE != 0 {
            if !prev_space {
                out.push(' ');
                prev_space = true;
            }
            i += 1;
        } else if c.is_ascii() {
            out.push(char::from(c));
            i += 1;
            prev_space = false;
        } else {
            // Any other character, copied whole (it is multi-byte).
            let ch = text[i..].chars().next().expect("in bounds");
            out.push(ch);
            i += ch.len_utf8();
            prev_space = false;
        }
    }
    out.truncate(out.trim_end().len());
    out
}

// What `mask` needs to know of a byte, looked up once per byte.
/// Starts a token: ASCII alphanumeric or `_`.
const WORD: u8 = 1;
/// Continues a token: a [`WORD`] byte or `-`.
const TOKEN: u8 = 2;
const DIGIT: u8 = 4;
/// A hex digit or `-` (UUIDs and hashes).
const HEXISH: u8 = 8;
/// ASCII whitespace.
const SPACE: u8 = 16;

static CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        let mut f = 0;
        if c.is_ascii_alphanumeric() || c == b'_' {
            f |= WORD | TOKEN;
        }
        if c == b'-' {
            f |= TOKEN | HEXISH;
        }
        if c.is_ascii_digit() {
            f |= DIGIT;
        }
        if c.is_ascii_hexdigit() {
            f |= HEXISH;
        }
        if c.is_ascii_whitespace() {
            f |= SPACE;
        }
        table[i] = f;
        i += 1;
    }
    table
};

/// The fingerprint of one record. A structured record is fingerprinted on its
/// level and message, a Lambda REPORT on its status; any other record on its
/// masked text without the leading timestamp.
pub fn fingerprint(record: &str) -> Fingerprint {
    fingerprint_of(&ParsedRecord::parse(record))
}

/// [`fingerprint`] of a record already read.
pub fn fingerprint_of(r: &ParsedRecord) -> Fingerprint {
    // A failed invocation's REPORT: its status, not its durations (a cold
    // start adds an Init Duration).
    if let Some(status) = report_status(r.text) {
        let basis = format!("lambda-report\u{1f}{}", mask(status));
        return Fingerprint::from_hash(xxhash_rust::xxh3::xxh3_64(basis.as_bytes()));
    }
    let basis = match &r.structured {
        Some(s) if s.message.is_some() || s.level.is_some() => format!(
            "json\u{1f}{}\u{1f}{}",
            s.level.as_deref().unwrap_or_default(),
            mask(s.message.as_deref().unwrap_or(""))
        ),
        _ => mask(r.body.trim_start()),
    };
    Fingerprint::from_hash(xxhash_rust::xxh3::xxh3_64(basis.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(a: &str, b: &str) {
        assert_eq!(
            fingerprint(a),
            fingerprint(b),
            "should share a fingerprint:\n{a}\n{b}"
        );
    }
    fn differ(a: &str, b: &str) {
        assert_ne!(fingerprint(a), fingerprint(b), "should differ:\n{a}\n{b}");
    }

    #[test]
    fn python_tracebacks_differing_in_values_share_a_fingerprint() {
        let a = "2026-11-25 10:00:01,123 ERROR [orders] failed for order 1842\nTraceback (most recent call last):\n  File \"/var/task/app.py\", line 42, in handler\n    total = int(event['qty'])\nValueError: invalid literal for int() with base 10: 'abc'";
        let b = "2026-11-25 11:30:59,007 ERROR [orders] failed for order 99\nTraceback (most recent call last):\n  File \"/var/task/app.py\", line 42, in handler\n    total = int(event['qty'])\nValueError: invalid literal for int() with base 10: 'x-7'";
        same(a, b);
        let c = a.replace(
            "ValueError: invalid literal for int() with base 10: 'abc'",
            "KeyError: 'qty'",
        );
        differ(a, &c);
    }

    #[test]
    fn node_errors_with_different_ids_share_and_different_types_differ() {
        let a = "2026-11-25T10:00:00.000Z\t3f1c2b9a-1d2e-4f5a-9b8c-7d6e5f4a3b2c\tERROR\tTypeError: Cannot read properties of undefined (reading 'id')\n    at handler (/var/task/index.js:12:18)";
        let b = "2026-11-25T10:05:00.000Z\t0a9b8c7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d\tERROR\tTypeError: Cannot read properties of undefined (reading 'id')\n    at handler (/var/task/index.js:12:18)";
        same(a, b);
        differ(a, &a.replace("TypeError", "RangeError"));
    }

    #[test]
    fn rust_panics_share_across_thread_ids_and_addresses() {
        same(
            "thread 'tokio-runtime-worker' panicked at src/db.rs:88:14:\ncalled `Option::unwrap()` on a `None` value at 0x7ffd5e8c1a40",
            "thread 'tokio-runtime-worker' panicked at src/db.rs:91:3:\ncalled `Option::unwrap()` on a `None` value at 0x7ffd00aa1b20",
        );
        differ(
            "thread 'main' panicked at src/db.rs:88:14: index out of bounds",
            "thread 'main' panicked at src/db.rs:88:14: attempt to divide by zero",
        );
    }

    #[test]
    fn java_stack_traces_share_across_line_numbers_and_hashes() {
        same(
            "java.lang.NullPointerException: user 1234 missing\n\tat com.acme.Orders.load(Orders.java:77)\n\tat com.acme.Api$$Lambda$14/0x0000000800c0b840.apply(Unknown Source)",
            "java.lang.NullPointerException: user 98 missing\n\tat com.acme.Orders.load(Orders.java:79)\n\tat com.acme.Api$$Lambda$15/0x0000000800c0c000.apply(Unknown Source)",
        );
    }

    #[test]
    fn lambda_timeouts_and_runtime_exits_share_across_request_ids() {
        same(
            "2026-11-25T10:00:00.000Z 3f1c2b9a-1d2e-4f5a-9b8c-7d6e5f4a3b2c Task timed out after 3.00 seconds",
            "2026-11-25T12:00:00.000Z 9e8d7c6b-5a4f-3e2d-1c0b-a9f8e7d6c5b4 Task timed out after 3.01 seconds",
        );
        same(
            "RequestId: 3f1c2b9a-1d2e-4f5a-9b8c-7d6e5f4a3b2c Error: Runtime exited with error: signal: killed",
            "RequestId: 9e8d7c6b-5a4f-3e2d-1c0b-a9f8e7d6c5b4 Error: Runtime exited with error: signal: killed",
        );
        differ(
            "Task timed out after 3.00 seconds",
            "Runtime exited with error: signal: killed",
        );
    }

    #[test]
    fn json_records_use_level_and_message_only() {
        same(
            r#"{"level":"error","msg":"charge 42 failed","ts":"2026-11-25T10:00:00Z","trace":"abc123"}"#,
            r#"2026-11-25T10:00:00Z {"level":"error","msg":"charge 7 failed","ts":"2026-11-26T10:00:00Z","trace":"ffe"}"#,
        );
        differ(
            r#"{"level":"error","msg":"charge failed"}"#,
            r#"{"level":"error","msg":"refund failed"}"#,
        );
        differ(
            r#"{"level":"error","msg":"x"}"#,
            r#"{"level":"warn","msg":"x"}"#,
        );
    }

    #[test]
    fn ips_timestamps_uuids_and_quoted_values_are_masked() {
        assert_eq!(
            mask("conn to 10.0.12.7:5432 failed at 2026-11-25T10:00:00Z id=550e8400-e29b-41d4-a716-446655440000 user \"bob\""),
            mask("conn to 192.168.1.1:6543 failed at 2025-01-01T00:00:00Z id=abcdef01-0000-41d4-a716-000000000000 user \"alice\"")
        );
        assert_eq!(mask("can't  connect\t\tnow"), "can't connect now");
        assert_eq!(mask("deadbeefcafe token"), "# token");
    }

    #[test]
    fn masking_survives_odd_input() {
        for s in ["", "\"", "'", "é\"ü", "\u{0}\u{1f}", "a'b", "`x"] {
            assert_eq!(fingerprint(s).as_str().len(), 16, "{s:?}");
        }
        assert!(mask(&"9".repeat(100_000)).len() <= MASKED_LIMIT + 4);
    }
}

/// Fingerprints are stored (they key every event): a change to masking or
/// hashing that moves one splits every open problem in two. These are the
/// values stores hold today; they may never change.
#[cfg(test)]
mod pinned {
    use super::fingerprint;

    pub(super) const CASES: [&str; 12] = [
        "2026-11-25 10:00:01,123 ERROR [orders] failed for order 1842\nTraceback (most recent call last):\n  File \"/var/task/app.py\", line 42, in handler\n    total = int(event['qty'])\nValueError: invalid literal for int() with base 10: 'abc'",
        "2026-11-25T10:00:00.000Z\t3f1c2b9a-1d2e-4f5a-9b8c-7d6e5f4a3b2c\tERROR\tTypeError: Cannot read properties of undefined (reading 'id')",
        "thread 'tokio-runtime-worker' panicked at src/db.rs:88:14:\ncalled `Option::unwrap()` on a `None` value at 0x7ffd5e8c1a40",
        r#"{"level":"error","msg":"charge 42 failed: card declined","ts":"2026-11-25T10:00:00Z"}"#,
        "REPORT RequestId: 3f1c2b9a-1d2e-4f5a-9b8c-7d6e5f4a3b2c\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 128 MB\tMax Memory Used: 64 MB\tStatus: timeout",
        "java.lang.NullPointerException: user 7 missing\n\tat com.acme.Orders.load(Orders.java:70)\nCaused by: java.sql.SQLException: timeout after 300 ms",
        "can't  connect\t\tnow to deadbeefcafe or cafe_babe-1 \"unterminated",
        "Fehler: Größe überschritten für Schlüssel «ключ» — 数据 ошибка 🚨 at 10.0.0.1:8080",
        "ERROR \u{0}\u{1f} control\u{7f} bytes and `backtick` and 'quoted' and it's fine",
        "WARN retry_count=3 user-id=abc-123 path=/v1/orders/ORD-99/items?x=1&y=two",
        "",
        "ERROR a very long line ",
    ];

    #[test]
    fn fingerprints_stored_today_never_change() {
        let long = format!("{}{}", CASES[11], "segment-with-7 \"q\" ".repeat(400));
        let got: Vec<String> = CASES
            .iter()
            .map(|c| fingerprint(c).to_string())
            .chain([fingerprint(&long).to_string()])
            .collect();
        assert_eq!(got, PINNED);
    }

    const PINNED: [&str; 13] = [
        "61bf3741ae11d8aa",
        "a8dade958bf9033c",
        "4ba34f4b0b5088b6",
        "57f6fc07261d5d65",
        "4bcef8afa00e4674",
        "b2b5a177e368c11e",
        "93428995192db181",
        "982500f801af684d",
        "453a1854c81ed388",
        "deeebde07a669812",
        "2d06800538d394c2",
        "9529c0acd6b243d9",
        "e8e1b7ab260fc39a",
    ];
}
