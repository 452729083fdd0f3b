//! Severity classification: ordered rules compiled once into a `RegexSet`.

use crate::logtext::{level_of_parsed, ParsedRecord};
use crate::model::{compile_pattern, InvalidValue, Rule, Severity};
use regex::{Regex, RegexSet, RegexSetBuilder};

/// The default rules, in order: the first match wins.
pub const DEFAULT_RULES: &[(&str, Severity)] = &[
    (r"(?i)\bpanic(?:ked)?\b", Severity::Critical),
    (r"\bFATAL\b|(?i:\bfatal error\b)", Severity::Critical),
    (r"\bCRITICAL\b", Severity::Critical),
    // A Lambda REPORT of a timed-out invocation says `Status: timeout`.
    (r"Task timed out|\bStatus: timeout\b", Severity::Critical),
    (
        r"(?i)out of memory|OutOfMemory|Runtime exited|Runtime\.ExitError",
        Severity::Critical,
    ),
    (
        r"(?i)\berror\b|[A-Za-z]Error\b|Exception\b|\bTraceback\b|\bERR\b",
        Severity::High,
    ),
    (r"(?i)\bunhandled\b", Severity::High),
    (r"\bWARN(?:ING)?\b|(?i:\bwarning\b)", Severity::Low),
];

/// Classifies a record, or says it is not an event (`None`).
#[derive(Debug, Clone)]
pub struct Classifier {
    /// Agent rules first, then the defaults.
    rules: RegexSet,
    severities: Vec<Severity>,
    /// Index where the default rules start in `rules`.
    defaults_from: usize,
    exclude: RegexSet,
    /// The critical defaults as one pattern: whether one matches, without
    /// the overlapping search of the whole set.
    critical: Regex,
}

fn build_set(patterns: &[&str], field: &'static str) -> Result<RegexSet, InvalidValue> {
    for p in patterns {
        compile_pattern(field, p)?;
    }
    RegexSetBuilder::new(patterns)
        .size_limit(1 << 24)
        .build()
        .map_err(|e| InvalidValue::new(field, e.to_string()))
}

/// The default rules of severity critical, which precede the others.
fn critical_defaults() -> Regex {
    let critical: Vec<String> = DEFAULT_RULES
        .iter()
        .take_while(|(_, s)| *s == Severity::Critical)
        .map(|(p, _)| format!("(?:{p})"))
        .collect();
    Regex::new(&critical.join("|")).expect("default rules compile")
}

impl Classifier {
    /// Compiles the agent's rules (tried first) and exclusions with the defaults.
    pub fn new(rules: &[Rule], exclude: &[String]) -> Result<Self, InvalidValue> {
        let mut patterns: Vec<&str> = rules.iter().map(|r| r.pattern.as_str()).collect();
        let mut severities: Vec<Severity> = rules.iter().map(|r| r.severity).collect();
        let defaults_from = patterns.len();
        for (p, s) in DEFAULT_RULES {
            patterns.push(p);
            severities.push(*s);
        }
        let excl: Vec<&str> = exclude.iter().map(String::as_str).collect();
        Ok(Self {
            rules: build_set(&patterns, "rules")?,
            severities,
            defaults_from,
            exclude: build_set(&excl, "exclude_patterns")?,
            critical: critical_defaults(),
        })
    }

    pub fn defaults() -> Self {
        Self::new(&[], &[]).expect("default rules compile")
    }

    /// First matching rule among `from..`, in order.
    fn first_match(&self, text: &str, from: usize) -> Option<Severity> {
        self.rules
            .matches(text)
            .iter()
            .find(|i| *i >= from)
            .map(|i| self.severities[i])
    }

    /// The severity of a record, or `None` when it is no error event
    /// (INFO/DEBUG records, excluded records, records no rule matches).
    pub fn classify(&self, record: &str) -> Option<Severity> {
        self.classify_parsed(&ParsedRecord::parse(record))
    }

    /// [`Classifier::classify`] of a record already read.
    pub fn classify_parsed(&self, r: &ParsedRecord) -> Option<Severity> {
        let record = r.text;
        if !self.exclude.is_empty() && self.exclude.is_match(record) {
            return None;
        }
        // Operator rules win over everything else.
        if self.defaults_from > 0 {
            let m = self.rules.matches(record);
            if let Some(i) = m.iter().next().filter(|i| *i < self.defaults_from) {
                return Some(self.severities[i]);
            }
        }
        let level = match &r.structured {
            Some(s) => match &s.level {
                Some(l) => Some(level_of(l)?),
                // A JSON record without a level is judged by its message.
                None => {
                    return s
                        .message
                        .as_deref()
                        .and_then(|m| self.first_match(m, self.defaults_from))
                }
            },
            None => match level_of_parsed(r) {
                Some(l) => Some(level_of(l)?),
                None => None,
            },
        };
        match level {
            // A level is trusted, but a critical default (timeout, OOM)
            // raises an error. The critical defaults come first, so "the
            // first default that matches is critical" is "one of them matches".
            Some(Severity::High) if self.critical.is_match(record) => Some(Severity::Critical),
            Some(s) => Some(s),
            None => self.first_match(record, self.defaults_from),
        }
    }
}

/// Maps a level word to a severity; `None` for levels that are never events.
fn level_of(level: &str) -> Option<Severity> {
    match level {
        "fatal" | "critical" | "crit" | "panic" | "emergency" | "emerg" | "alert" => {
            Some(Severity::Critical)
        }
        "error" | "err" | "severe" => Some(Severity::High),
        "warn" | "warning" => Some(Severity::Low),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(line: &str) -> Option<Severity> {
        Classifier::defaults().classify(line)
    }

    #[test]
    fn default_rules_rank_critical_above_errors_above_warnings() {
        assert_eq!(
            c("thread 'main' panicked at src/main.rs:10:5"),
            Some(Severity::Critical)
        );
        assert_eq!(
            c("2026-11-25T10:00:00.000Z 1f2e Task timed out after 3.00 seconds"),
            Some(Severity::Critical)
        );
        assert_eq!(
            c("java.lang.OutOfMemoryError: Java heap space"),
            Some(Severity::Critical)
        );
        assert_eq!(
            c("Runtime exited with error: signal: killed"),
            Some(Severity::Critical)
        );
        assert_eq!(c("FATAL could not bind port"), Some(Severity::Critical));
        assert_eq!(
            c("TypeError: Cannot read properties of undefined"),
            Some(Severity::High)
        );
        assert_eq!(
            c("Traceback (most recent call last):\n  File \"x.py\""),
            Some(Severity::High)
        );
        assert_eq!(
            c("java.lang.IllegalStateException: bad"),
            Some(Severity::High)
        );
        assert_eq!(c("Unhandled promise rejection"), Some(Severity::High));
        assert_eq!(
            c("2026-11-25 10:00:00 WARN disk at 91%"),
            Some(Severity::Low)
        );
        assert_eq!(c("user logged in"), None);
    }

    #[test]
    fn critical_defaults_precede_the_others_so_one_pattern_stands_for_them() {
        let first_other = DEFAULT_RULES
            .iter()
            .position(|(_, s)| *s != Severity::Critical)
            .unwrap();
        assert!(DEFAULT_RULES[first_other..]
            .iter()
            .all(|(_, s)| *s != Severity::Critical));
        // An ERROR-level record that also names a critical condition is critical.
        assert_eq!(
            c("2026-11-25 10:00:00 ERROR worker panicked"),
            Some(Severity::Critical)
        );
        assert_eq!(
            c("[ERROR] java.lang.OutOfMemoryError: heap"),
            Some(Severity::Critical)
        );
        assert_eq!(c("2026-11-25 10:00:00 ERROR db down"), Some(Severity::High));
    }

    #[test]
    fn info_and_debug_records_are_never_events() {
        assert_eq!(c("2026-11-25 10:00:00 INFO retrying after error"), None);
        assert_eq!(c("[DEBUG] Exception handler registered"), None);
        assert_eq!(c(r#"{"level":"info","msg":"error budget ok"}"#), None);
        assert_eq!(c("REPORT RequestId: 1 Duration: 2.0 ms"), None);
    }

    #[test]
    fn structured_records_are_classified_by_level() {
        assert_eq!(
            c(r#"{"level":"error","msg":"charge failed"}"#),
            Some(Severity::High)
        );
        assert_eq!(
            c(r#"{"level":"fatal","msg":"x"}"#),
            Some(Severity::Critical)
        );
        assert_eq!(
            c(r#"2026-11-25T10:00:00Z {"severity":"WARNING","message":"slow"}"#),
            Some(Severity::Low)
        );
        assert_eq!(c(r#"{"msg":"Unhandled rejection"}"#), Some(Severity::High));
    }

    #[test]
    fn an_error_level_with_a_timeout_is_critical() {
        assert_eq!(
            c("ERROR Task timed out after 30 seconds"),
            Some(Severity::Critical)
        );
    }

    #[test]
    fn agent_rules_come_first_and_exclusions_drop_records() {
        let rules = vec![Rule {
            pattern: "(?i)card declined".into(),
            severity: Severity::Medium,
        }];
        let cl = Classifier::new(&rules, &["healthcheck".into()]).unwrap();
        assert_eq!(
            cl.classify("ERROR card declined for order 7"),
            Some(Severity::Medium)
        );
        assert_eq!(cl.classify("ERROR healthcheck failed"), None);
        assert_eq!(cl.classify("ERROR other"), Some(Severity::High));
    }

    #[test]
    fn invalid_patterns_are_rejected_with_the_field() {
        let bad = vec![Rule {
            pattern: "(".into(),
            severity: Severity::Low,
        }];
        assert_eq!(Classifier::new(&bad, &[]).unwrap_err().field, "rules");
        assert_eq!(
            Classifier::new(&[], &["[".into()]).unwrap_err().field,
            "exclude_patterns"
        );
    }
}
