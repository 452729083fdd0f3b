//! The dry-run scan (`monitoring scan`): what the agent would report for a
//! window, found exactly as a scheduled run finds it (the source's discovery
//! and fetch, the config's classifier, [`group_records`]), then summed per
//! (log group, fingerprint) over the whole window instead of per UTC day.
//! It publishes nothing, saves no state and commits no read.

use crate::classify::Classifier;
use crate::model::{AgentConfig, AgentId, Severity};
use crate::ports::{LogSource, PortError};
use crate::usecases::agent::group_records;
use crate::window::Window;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// One grouped error of a scan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScanRow {
    pub severity: Severity,
    pub count: u64,
    pub log_group: String,
    pub fingerprint: String,
    pub title: String,
    pub sample: String,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
}

/// What a scan found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScanReport {
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    /// The log groups discovery found (and the queries covered).
    pub log_groups: Vec<String>,
    /// Records the queries returned, and how many of them classified as errors.
    pub records: u64,
    pub matched: u64,
    /// Most severe first, then most frequent.
    pub errors: Vec<ScanRow>,
}

/// Where a scan is, for a progress line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanPhase {
    Discovering,
    Querying { log_groups: usize },
}

/// Why a scan failed.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("invalid agent config: {0}")]
    BadConfig(String),
    #[error(transparent)]
    Port(#[from] PortError),
}

/// Discovers, queries and classifies one window, as the agent with `config` would.
pub async fn scan(
    source: &dyn LogSource,
    config: &AgentConfig,
    window: &Window,
    progress: &(dyn Fn(ScanPhase) + Sync),
) -> Result<ScanReport, ScanError> {
    let classifier = Classifier::new(&config.rules, &config.exclude_patterns)
        .map_err(|e| ScanError::BadConfig(e.to_string()))?;
    progress(ScanPhase::Discovering);
    let log_groups = source.discover(config).await?;
    progress(ScanPhase::Querying {
        log_groups: log_groups.len(),
    });
    let records = source.fetch(&log_groups, window, &config.rules).await?;
    // The agent id only names occurrences, which a scan does not keep.
    let agent: AgentId = "000000000000-scan".parse().expect("a valid agent id");
    let (matched, details) = group_records(&agent, &classifier, &records, window);
    let mut rows: BTreeMap<(String, String), ScanRow> = BTreeMap::new();
    for d in details {
        let key = (d.log_group.clone(), d.fingerprint.clone());
        match rows.get_mut(&key) {
            Some(r) => {
                r.count += d.count;
                r.severity = r.severity.max(d.severity);
                if d.first_seen < r.first_seen {
                    r.first_seen = d.first_seen;
                    r.title = d.title;
                    r.sample = d.sample;
                }
                r.last_seen = r.last_seen.max(d.last_seen);
            }
            None => {
                rows.insert(
                    key,
                    ScanRow {
                        severity: d.severity,
                        count: d.count,
                        log_group: d.log_group,
                        fingerprint: d.fingerprint,
                        title: d.title,
                        sample: d.sample,
                        first_seen: d.first_seen,
                        last_seen: d.last_seen,
                    },
                );
            }
        }
    }
    let mut errors: Vec<ScanRow> = rows.into_values().collect();
    errors.sort_by(|a, b| {
        (b.severity, b.count, &a.log_group, &a.title).cmp(&(
            a.severity,
            a.count,
            &b.log_group,
            &b.title,
        ))
    });
    Ok(ScanReport {
        window_start: window.start,
        window_end: window.end,
        log_groups,
        records: records.len() as u64,
        matched,
        errors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Rule;
    use crate::ports::LogRecord;
    use async_trait::async_trait;
    use std::sync::Mutex;

    /// A source with fixed groups and records that remembers whether a
    /// read was committed (a scan never commits).
    struct Fixed {
        groups: Vec<String>,
        records: Vec<LogRecord>,
        committed: Mutex<bool>,
    }

    #[async_trait]
    impl LogSource for Fixed {
        async fn discover(&self, _: &AgentConfig) -> Result<Vec<String>, PortError> {
            Ok(self.groups.clone())
        }
        async fn fetch(
            &self,
            _: &[String],
            _: &Window,
            _: &[Rule],
        ) -> Result<Vec<LogRecord>, PortError> {
            Ok(self.records.clone())
        }
        async fn commit(&self, _: &Window) -> Result<(), PortError> {
            *self.committed.lock().unwrap() = true;
            Ok(())
        }
    }

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn rec(group: &str, time: &str, message: &str) -> LogRecord {
        LogRecord {
            log_group: group.into(),
            time: t(time),
            message: message.into(),
        }
    }

    #[tokio::test]
    async fn sums_across_midnight_orders_by_severity_and_commits_nothing() {
        let source = Fixed {
            groups: vec!["/aws/lambda/a".into(), "/aws/lambda/b".into()],
            records: vec![
                rec(
                    "/aws/lambda/a",
                    "2026-11-24T23:59:00Z",
                    "ERROR timeout for order 1 after 3000 ms",
                ),
                rec(
                    "/aws/lambda/a",
                    "2026-11-25T00:01:00Z",
                    "ERROR timeout for order 2 after 3100 ms",
                ),
                rec("/aws/lambda/a", "2026-11-25T00:02:00Z", "INFO all good"),
                rec(
                    "/aws/lambda/b",
                    "2026-11-25T00:03:00Z",
                    "FATAL ledger unreachable",
                ),
            ],
            committed: Mutex::new(false),
        };
        let window = Window {
            start: t("2026-11-24T12:00:00Z"),
            end: t("2026-11-25T12:00:00Z"),
        };
        let phases = Mutex::new(Vec::new());
        let report = scan(&source, &AgentConfig::default(), &window, &|p| {
            phases.lock().unwrap().push(p)
        })
        .await
        .unwrap();
        assert_eq!(
            *phases.lock().unwrap(),
            [
                ScanPhase::Discovering,
                ScanPhase::Querying { log_groups: 2 }
            ]
        );
        assert_eq!((report.records, report.matched), (4, 3));
        assert_eq!(report.errors.len(), 2, "{:#?}", report.errors);
        let (first, second) = (&report.errors[0], &report.errors[1]);
        assert_eq!(first.severity, Severity::Critical);
        assert_eq!(first.log_group, "/aws/lambda/b");
        assert_eq!(second.count, 2, "one row across midnight");
        assert_eq!(second.first_seen, t("2026-11-24T23:59:00Z"));
        assert_eq!(second.last_seen, t("2026-11-25T00:01:00Z"));
        assert!(!*source.committed.lock().unwrap());
    }
}
