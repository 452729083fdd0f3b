//! The report e-mail as one MIME message (multipart/alternative, text +
//! HTML): the local outbox writes it, the SES mailer sends it.

use crate::random::random_hex;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use chrono::Utc;
use domain::ports::Email;

/// Longest line of a base64 body (RFC 2045).
const BASE64_LINE: usize = 76;
/// Longest header line we fold to (RFC 5322 recommends 78).
const HEADER_LINE: usize = 78;

/// The whole message, CRLF line endings: headers (`From`, `To`, `Subject`,
/// `Date`, `Message-ID`) and a multipart/alternative body with the text and
/// the HTML part, each base64. The outbox writes it to a file; the SES mailer
/// sends it with `SendRawEmail`.
pub fn render_mime(email: &Email, from: &str, to: &[String]) -> String {
    let boundary = format!("=_aws-monitoring_{}", random_hex());
    let domain = from
        .rsplit_once('@')
        .map_or("localhost", |(_, d)| d.trim_end_matches('>'));
    let mut lines = vec![
        format!("From: {}", single_line(from)),
        to_header(to),
        subject_header(&email.subject),
        format!("Date: {}", Utc::now().to_rfc2822()),
        format!("Message-ID: <{}.{}@{}>", email.day, random_hex(), domain),
        "MIME-Version: 1.0".into(),
        format!("Content-Type: multipart/alternative;\r\n boundary=\"{boundary}\""),
        String::new(),
        "This is a multi-part message in MIME format.".into(),
    ];
    for (kind, body) in [("plain", &email.text), ("html", &email.html)] {
        lines.push(format!("--{boundary}"));
        lines.push(format!("Content-Type: text/{kind}; charset=utf-8"));
        lines.push("Content-Transfer-Encoding: base64".into());
        lines.push(String::new());
        lines.extend(base64_lines(body.as_bytes()));
    }
    lines.push(format!("--{boundary}--"));
    lines.push(String::new());
    lines.join("\r\n")
}

/// `To:` with the addresses separated by commas, folded between addresses.
fn to_header(to: &[String]) -> String {
    let words: Vec<String> = to
        .iter()
        .enumerate()
        .map(|(i, address)| {
            let address = single_line(address);
            if i + 1 < to.len() {
                format!("{address},")
            } else {
                address
            }
        })
        .collect();
    fold("To:", &words)
}

/// Header text cannot carry line breaks (they would start new headers).
fn single_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// `Subject:` as is when printable ASCII (folded at spaces), else as RFC 2047
/// encoded words.
pub(crate) fn subject_header(subject: &str) -> String {
    let subject = single_line(subject);
    let words: Vec<String> = if subject.is_ascii() {
        subject.split(' ').map(str::to_owned).collect()
    } else {
        encoded_words(&subject)
    };
    fold("Subject:", &words)
}

/// `=?UTF-8?B?...?=` words, never splitting a character.
fn encoded_words(text: &str) -> Vec<String> {
    // 39 bytes make 52 base64 characters, a 64-character word: with
    // "Subject: " the line stays within RFC 2047's 76 characters.
    const MAX_BYTES: usize = 39;
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in text.chars() {
        if chunk.len() + c.len_utf8() > MAX_BYTES {
            words.push(format!("=?UTF-8?B?{}?=", BASE64.encode(&chunk)));
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(format!("=?UTF-8?B?{}?=", BASE64.encode(&chunk)));
    }
    words
}

/// Joins words with spaces after `name`, folding (CRLF + space) before a
/// word that would make the line longer than 78 characters.
fn fold(name: &str, words: &[String]) -> String {
    let mut out = name.to_owned();
    let mut line_len = out.len();
    for word in words {
        if line_len + 1 + word.len() > HEADER_LINE && line_len > name.len() {
            out.push_str("\r\n");
            line_len = 0;
        }
        out.push(' ');
        out.push_str(word);
        line_len += 1 + word.len();
    }
    out
}

fn base64_lines(bytes: &[u8]) -> Vec<String> {
    let encoded = BASE64.encode(bytes);
    encoded
        .as_bytes()
        .chunks(BASE64_LINE)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect()
}
