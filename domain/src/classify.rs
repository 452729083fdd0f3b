//! Severity classification: ordered rules compiled once into a `RegexSet`.

use crate::logtext::{level_of_parsed, ParsedRecord};
use crate::model::{compile_pattern, InvalidValue, Rule, Severity};
use regex::{RegexSet, RegexSetBuilder};
use regex_automata::meta::Regex;
use std::sync::{Arc, LazyLock, Mutex, OnceLock, PoisonError};

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
    /// The agent's own rules, tried first (the first that matches wins).
    rules: RegexSet,
    severities: Vec<Severity>,
    exclude: RegexSet,
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

/// The default rules of one severity as one pattern, compiled the first
/// time a record needs it and then shared by every classifier of the
/// process. Compiling all three cost 6.5M instructions, 40% of a
/// stream-error-logs cold start; a batch of records that carry a level
/// (`ERROR ...`) needs only the critical one (3.6M), and a config push
/// recompiles none.
#[derive(Debug)]
struct DefaultPattern {
    severity: Severity,
    source: String,
    regex: OnceLock<Regex>,
}

impl DefaultPattern {
    fn is_match(&self, text: &str) -> bool {
        self.regex
            .get_or_init(|| default_regex(&self.source))
            .is_match(text)
    }
}

/// The default rules as one pattern per severity, most severe first. The
/// rules are listed by decreasing severity, so "the first rule that
/// matches" is "the most severe pattern that matches": each `is_match`
/// stops at its first hit instead of an overlapping search of every rule
/// over the whole record.
static DEFAULTS: LazyLock<Vec<DefaultPattern>> = LazyLock::new(|| {
    let mut out: Vec<(Severity, Vec<String>)> = Vec::new();
    for (p, s) in DEFAULT_RULES {
        match out.last_mut() {
            Some((last, group)) if last == s => group.push(format!("(?:{p})")),
            _ => out.push((*s, vec![format!("(?:{p})")])),
        }
    }
    out.into_iter()
        .map(|(severity, group)| DefaultPattern {
            severity,
            source: group.join("|"),
            regex: OnceLock::new(),
        })
        .collect()
});

/// The severity of the first default rule that matches.
fn default_severity(text: &str) -> Option<Severity> {
    DEFAULTS
        .iter()
        .find(|p| p.is_match(text))
        .map(|p| p.severity)
}

/// Whether a critical default (timeout, OOM, panic) matches.
fn critical(text: &str) -> bool {
    DEFAULTS
        .first()
        .is_some_and(|p| p.severity == Severity::Critical && p.is_match(text))
}

/// One default pattern as `regex::Regex::new` builds it, less the full DFA.
/// A full DFA is only tried for small patterns and only when some crate
/// switches on `regex-automata/dfa-build` (tracing-subscriber's env-filter
/// does, in every function); then it cost 2.5M instructions of a Lambda
/// cold start. The lazy DFA, which is what the classification bench
/// measures, matches the same records as fast.
fn default_regex(pattern: &str) -> Regex {
    Regex::builder()
        .configure(
            Regex::config()
                .nfa_size_limit(Some(10 << 20))
                .hybrid_cache_capacity(2 << 20)
                .dfa(false),
        )
        .build(pattern)
        .expect("default rules compile")
}

impl Classifier {
    /// Compiles the agent's rules (tried first) and exclusions with the defaults.
    pub fn new(rules: &[Rule], exclude: &[String]) -> Result<Self, InvalidValue> {
        let patterns: Vec<&str> = rules.iter().map(|r| r.pattern.as_str()).collect();
        let excl: Vec<&str> = exclude.iter().map(String::as_str).collect();
        Ok(Self {
            rules: build_set(&patterns, "rules")?,
            severities: rules.iter().map(|r| r.severity).collect(),
            exclude: build_set(&excl, "exclude_patterns")?,
        })
    }

    pub fn defaults() -> Self {
        Self::new(&[], &[]).expect("default rules compile")
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
        if !self.rules.is_empty() {
            if let Some(i) = self.rules.matches(record).iter().next() {
                return Some(self.severities[i]);
            }
        }
        let level = match &r.structured {
            Some(s) => match &s.level {
                Some(l) => Some(level_of(l)?),
                // A JSON record without a level is judged by its message.
                None => return s.message.as_deref().and_then(default_severity),
            },
            None => match level_of_parsed(r) {
                Some(l) => Some(level_of(l)?),
                None => None,
            },
        };
        match level {
            // A level is trusted, but a critical default (timeout, OOM)
            // raises an error.
            Some(Severity::High) if critical(record) => Some(Severity::Critical),
            Some(s) => Some(s),
            None => default_severity(record),
        }
    }
}

/// The classifier of the rules and exclusions last asked for. A function
/// that classifies batch after batch under one config compiles the
/// operator's rules once, not once a batch.
#[derive(Debug, Default)]
pub struct ClassifierCache(Mutex<Option<CachedClassifier>>);

type CachedClassifier = (Vec<Rule>, Vec<String>, Arc<Classifier>);

impl ClassifierCache {
    /// The classifier of `rules` and `exclude`, compiled when they differ
    /// from the last call's.
    pub fn get(&self, rules: &[Rule], exclude: &[String]) -> Result<Arc<Classifier>, InvalidValue> {
        let mut last = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((r, e, c)) = last.as_ref() {
            if r == rules && e == exclude {
                return Ok(Arc::clone(c));
            }
        }
        let c = Arc::new(Classifier::new(rules, exclude)?);
        *last = Some((rules.to_vec(), exclude.to_vec(), Arc::clone(&c)));
        Ok(c)
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
    fn default_rules_are_listed_most_severe_first_so_one_pattern_stands_for_each_severity() {
        assert!(DEFAULT_RULES.windows(2).all(|w| w[0].1 >= w[1].1));
        let severities: Vec<Severity> = DEFAULTS.iter().map(|p| p.severity).collect();
        assert_eq!(
            severities,
            [Severity::Critical, Severity::High, Severity::Low]
        );
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

    #[test]
    fn the_cache_compiles_again_only_when_the_rules_or_exclusions_change() {
        let cache = ClassifierCache::default();
        let rules = vec![Rule {
            pattern: "(?i)card declined".into(),
            severity: Severity::Medium,
        }];
        let first = cache.get(&rules, &[]).unwrap();
        assert!(Arc::ptr_eq(&first, &cache.get(&rules, &[]).unwrap()));
        assert_eq!(first.classify("card declined"), Some(Severity::Medium));
        let excluded = cache.get(&rules, &["card".into()]).unwrap();
        assert!(!Arc::ptr_eq(&first, &excluded));
        assert_eq!(excluded.classify("card declined"), None);
        let defaults = cache.get(&[], &["card".into()]).unwrap();
        assert!(!Arc::ptr_eq(&excluded, &defaults));
        assert_eq!(defaults.classify("ERROR card declined"), None);
        assert_eq!(defaults.classify("ERROR db down"), Some(Severity::High));
        // A bad pattern is an error and leaves the last classifier cached.
        let bad = vec![Rule {
            pattern: "(".into(),
            severity: Severity::Low,
        }];
        assert!(cache.get(&bad, &[]).is_err());
        assert!(Arc::ptr_eq(
            &defaults,
            &cache.get(&[], &["card".into()]).unwrap()
        ));
    }
}
