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
        if c.is_ascii_alphanumeric() || c == b'_' {
            let start = i;
            let (mut digit, mut hex) = (false, true);
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'-') {
                digit |= b[i].is_ascii_digit();
                hex &= b[i].is_ascii_hexdigit() || b[i] == b'-';
                i += 1;
            }
            let token = &text[start..i];
            if digit || (hex && token.len() >= 8) {
                out.push('#');
            } else {
                out.push_str(token);
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
                    out.push(c as char);
                    i += 1;
                }
            }
            prev_space = false;
        } else if c.is_ascii_whitespace() {
            if !prev_space {
                out.push(' ');
                prev_space = true;
            }
            i += 1;
        } else {
            // Any other character, copied whole (it may be multi-byte).
            let ch = text[i..].chars().next().expect("in bounds");
            out.push(ch);
            i += ch.len_utf8();
            prev_space = false;
        }
    }
    out.truncate(out.trim_end().len());
    out
}

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
