//! The local mailer: each report becomes `<dir>/report-YYYY-MM-DD.eml`, a
//! MIME message any mail client opens (multipart/alternative, text + HTML).
//! [`render_mime`] renders it; the SES mailer sends the same message.

use async_trait::async_trait;
use domain::ports::{Email, Mailer, PortError};
use std::path::PathBuf;

pub const DEFAULT_FROM: &str = "aws-monitoring@localhost";
pub const DEFAULT_TO: &str = "operators@localhost";

/// Writes each email to a folder instead of sending it.
#[derive(Debug, Clone)]
pub struct OutboxMailer {
    dir: PathBuf,
    from: String,
    to: String,
}

impl OutboxMailer {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            from: DEFAULT_FROM.into(),
            to: DEFAULT_TO.into(),
        }
    }

    /// The `From` and `To` addresses written into each message.
    pub fn with_addresses(mut self, from: impl Into<String>, to: impl Into<String>) -> Self {
        self.from = from.into();
        self.to = to.into();
        self
    }

    /// The folder the reports are written to.
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }
}

#[async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, email: &Email) -> Result<String, PortError> {
        let path = self
            .dir
            .join(format!("report-{}.eml", email.day.format("%Y-%m-%d")));
        let message = render_mime(email, &self.from, std::slice::from_ref(&self.to));
        let target = path.clone();
        tokio::task::spawn_blocking(move || {
            crate::atomic_file::write_atomically(&target, message.as_bytes())
        })
        .await
        .map_err(|e| PortError::Transient(format!("outbox task failed: {e}")))?
        .map_err(|e| PortError::Transient(format!("cannot write {}: {e}", path.display())))?;
        Ok(path.display().to_string())
    }
}

pub use crate::mime::render_mime;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mime::subject_header;
    use base64::engine::general_purpose::STANDARD as BASE64;
    use base64::Engine;
    use chrono::NaiveDate;

    fn email(text: &str) -> Email {
        Email {
            subject: "Rapport quotidien — 2026-11-24: 3 événements critiques, 12 erreurs au total sur 4 comptes".into(),
            text: text.into(),
            html: format!(
                "<html><body><h1>Rapport</h1><p>{}</p><p>{}</p></body></html>",
                text,
                "é".repeat(200)
            ),
            day: NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
        }
    }

    fn decode_words(header: &str) -> String {
        header
            .split_whitespace()
            .map(|w| {
                let b64 = w
                    .strip_prefix("=?UTF-8?B?")
                    .and_then(|w| w.strip_suffix("?="))
                    .expect("an encoded word");
                String::from_utf8(BASE64.decode(b64).unwrap()).unwrap()
            })
            .collect()
    }

    /// (name, value) pairs: headers, or a part's content type and decoded body.
    type Pairs = Vec<(String, String)>;

    /// The headers (unfolded) and the decoded parts of a message.
    fn parse(message: &str) -> (Pairs, Pairs) {
        assert!(!message.replace("\r\n", "").contains('\n'), "bare LF");
        assert!(!message.replace("\r\n", "").contains('\r'), "bare CR");
        let (head, body) = message.split_once("\r\n\r\n").unwrap();
        let headers: Vec<(String, String)> = head
            .replace("\r\n ", " ")
            .split("\r\n")
            .map(|l| {
                let (k, v) = l.split_once(": ").unwrap();
                (k.to_owned(), v.to_owned())
            })
            .collect();
        let content_type = &headers.iter().find(|(k, _)| k == "Content-Type").unwrap().1;
        let boundary = content_type
            .split_once("boundary=\"")
            .unwrap()
            .1
            .trim_end_matches('"');
        let (parts, epilogue) = body.split_once(&format!("\r\n--{boundary}--")).unwrap();
        assert_eq!(epilogue, "\r\n");
        let parts = parts
            .split(&format!("--{boundary}\r\n"))
            .skip(1)
            .map(|part| {
                let (part_head, part_body) = part.split_once("\r\n\r\n").unwrap();
                assert!(part_head.contains("Content-Transfer-Encoding: base64"));
                assert!(part_body.split("\r\n").all(|l| l.len() <= 76));
                let kind = part_head
                    .lines()
                    .find_map(|l| l.strip_prefix("Content-Type: "))
                    .unwrap()
                    .to_owned();
                let decoded = BASE64.decode(part_body.replace("\r\n", "")).unwrap();
                (kind, String::from_utf8(decoded).unwrap())
            })
            .collect();
        (headers, parts)
    }

    #[tokio::test]
    async fn writes_a_mime_message_that_parses_back_and_replaces_it_the_same_day() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = dir.path().join("outbox");
        let mailer = OutboxMailer::new(&outbox);
        let sent = email("3 critical events\n12 errors in total");
        let path = mailer.send(&sent).await.unwrap();
        assert_eq!(PathBuf::from(&path), outbox.join("report-2026-11-24.eml"));
        let message = std::fs::read_to_string(&path).unwrap();
        assert!(message.split("\r\n").all(|l| l.len() <= 78), "{message}");
        let (headers, parts) = parse(&message);
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
                .unwrap_or_else(|| panic!("no {name} header"))
        };
        assert_eq!(header("From"), DEFAULT_FROM);
        assert_eq!(header("To"), DEFAULT_TO);
        assert_eq!(header("MIME-Version"), "1.0");
        assert_eq!(decode_words(header("Subject")), sent.subject);
        assert!(chrono::DateTime::parse_from_rfc2822(header("Date")).is_ok());
        assert!(
            header("Message-ID").starts_with('<') && header("Message-ID").ends_with("@localhost>")
        );
        assert!(header("Content-Type").starts_with("multipart/alternative; boundary="));
        assert_eq!(
            parts,
            [
                ("text/plain; charset=utf-8".to_owned(), sent.text.clone()),
                ("text/html; charset=utf-8".to_owned(), sent.html.clone()),
            ]
        );

        // Same day again: the file is replaced, nothing else is left behind.
        let mailer = mailer.with_addresses("reports@example.com", "ops@example.com");
        let resent = Email {
            subject: "Daily report 2026-11-24".into(),
            ..email("updated")
        };
        assert_eq!(mailer.send(&resent).await.unwrap(), path);
        let (headers, parts) = parse(&std::fs::read_to_string(&path).unwrap());
        assert!(headers.contains(&("Subject".into(), "Daily report 2026-11-24".into())));
        assert!(headers.contains(&("From".into(), "reports@example.com".into())));
        assert_eq!(parts[0].1, "updated");
        let files: Vec<_> = std::fs::read_dir(&outbox).unwrap().collect();
        assert_eq!(files.len(), 1);
    }

    #[test]
    fn render_mime_lists_every_recipient_folded_between_addresses() {
        let to: Vec<String> = (0..6)
            .map(|i| format!("operator-{i}@example.com"))
            .collect();
        let message = render_mime(&email("x"), "reports@example.com", &to);
        assert!(message.split("\r\n").all(|l| l.len() <= 78), "{message}");
        let (headers, parts) = parse(&message);
        let to_header = &headers.iter().find(|(k, _)| k == "To").unwrap().1;
        assert_eq!(*to_header, to.join(", "));
        assert_eq!(parts.len(), 2);
        assert!(
            message.contains("@example.com>\r\n"),
            "Message-ID domain of From"
        );
    }

    #[test]
    fn header_text_cannot_inject_headers() {
        let h = subject_header("a\r\nBcc: x@example.com");
        assert!(!h.contains("\r\nBcc"));
        let long = subject_header(&"word ".repeat(40));
        assert!(long.split("\r\n").all(|l| l.len() <= 78));
    }
}
