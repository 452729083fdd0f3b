//! QueryErrorLogs: the agent's scheduled run and its config updates.

use crate::classify::Classifier;
use crate::envelope::*;
use crate::fingerprint::fingerprint_of;
use crate::logtext::{title_of, truncate, ParsedRecord};
use crate::model::*;
use crate::ports::{AgentState, AgentStateStore, LogRecord, LogSource, PortError, Publisher};
use crate::window::{plan, Planned, Window, WindowPolicy};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::HashMap;

/// Samples are cut to this many bytes here; the AWS publisher may cut further.
pub const SAMPLE_LIMIT: usize = 8 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgentError {
    #[error("{0}")]
    Port(#[from] PortError),
    #[error("config update rejected: {0}")]
    BadConfig(String),
}

impl AgentError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, AgentError::Port(e) if e.is_retryable())
    }

    /// Whether the input (a config push, the stored config) is at fault:
    /// skip it. Any other failure is ours and fails the invocation.
    pub fn is_input_fault(&self) -> bool {
        matches!(self, AgentError::BadConfig(_))
    }
}

/// Who the agent is and how it reads.
#[derive(Debug, Clone)]
pub struct AgentSettings {
    pub id: AgentId,
    pub name: String,
    pub version: String,
    pub policy: WindowPolicy,
    /// The config until the master pushes one.
    pub initial_config: AgentConfig,
}

/// What one run did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RunSummary {
    pub window: Option<Window>,
    pub log_groups: u64,
    pub records_matched: u64,
    pub occurrences_published: u64,
    pub skipped_from: Option<DateTime<Utc>>,
}

impl RunSummary {
    /// One readable line per agent run.
    pub fn describe(&self, id: &AgentId) -> String {
        match self.window {
            None => format!("agent {id}: nothing new to read"),
            Some(w) => format!(
                "agent {id}: window {} to {}: {} log groups, {} error records, {} occurrences published",
                w.start.format("%H:%M:%S"),
                w.end.format("%H:%M:%S"),
                self.log_groups,
                self.records_matched,
                self.occurrences_published
            ),
        }
    }
}

/// Records of one (log group, fingerprint) in a window.
struct Group<'a> {
    first: &'a LogRecord,
    /// The first record, read: its title is the group's.
    first_read: ParsedRecord<'a>,
    count: u64,
    first_seen: DateTime<Utc>,
    last_seen: DateTime<Utc>,
    severity: Severity,
}

/// Classifies, fingerprints and groups records: one occurrence per
/// (log group, fingerprint, UTC day) of the window, in a stable order. A
/// group never spans two UTC days, so the master's per-day counters (and the
/// report's "new that day") are exact even for a window across midnight.
pub fn group_records(
    agent_id: &AgentId,
    classifier: &Classifier,
    records: &[LogRecord],
    window: &Window,
) -> (u64, Vec<LogErrorsDetail>) {
    let mut groups: HashMap<(&str, Fingerprint, NaiveDate), Group> = HashMap::new();
    let mut matched = 0;
    for r in records {
        let record = ParsedRecord::parse(&r.message);
        let Some(sev) = classifier.classify_parsed(&record) else {
            continue;
        };
        matched += 1;
        let g = groups
            .entry((
                r.log_group.as_str(),
                fingerprint_of(&record),
                r.time.date_naive(),
            ))
            .or_insert_with(|| Group {
                first: r,
                first_read: record,
                count: 0,
                first_seen: r.time,
                last_seen: r.time,
                severity: sev,
            });
        g.count += 1;
        g.first_seen = g.first_seen.min(r.time);
        g.last_seen = g.last_seen.max(r.time);
        g.severity = g.severity.max(sev);
    }
    let agent = agent_id.to_string();
    let mut out: Vec<LogErrorsDetail> = groups
        .into_iter()
        .map(|((group, fp, day), g)| {
            let sample = truncate(&g.first.message, SAMPLE_LIMIT);
            let window_start = window.start.to_rfc3339();
            let window_end = window.end.to_rfc3339();
            let mut key = vec![&*agent, group, fp.as_str(), &window_start, &window_end];
            // The day names the groups of other days than the window's first
            // (a window across midnight; a local file read whatever its
            // times): each still gets its own id, while a window within one
            // day keeps the ids it always had.
            let day = day.to_string();
            if day != window.start.date_naive().to_string() {
                key.push(&day);
            }
            LogErrorsDetail {
                agent_id: agent.clone(),
                occurrence_key: OccurrenceId::derive(&key).to_string(),
                log_group: group.to_owned(),
                fingerprint: fp.to_string(),
                severity: g.severity,
                title: title_of(&g.first_read),
                sample_truncated: sample.len() < g.first.message.len(),
                sample,
                count: g.count,
                first_seen: g.first_seen,
                last_seen: g.last_seen,
                window_start: window.start,
                window_end: window.end,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        (&a.log_group, &a.fingerprint, a.first_seen).cmp(&(
            &b.log_group,
            &b.fingerprint,
            b.first_seen,
        ))
    });
    (matched, out)
}

/// The agent, generic over where logs come from and where envelopes go.
pub struct QueryErrorLogs<'a> {
    pub settings: &'a AgentSettings,
    pub source: &'a dyn LogSource,
    pub publisher: &'a dyn Publisher,
    pub state: &'a dyn AgentStateStore,
}

impl QueryErrorLogs<'_> {
    fn envelope(
        &self,
        detail_type: &str,
        source: &str,
        detail: serde_json::Value,
        now: DateTime<Utc>,
    ) -> Envelope {
        Envelope {
            version: "0".into(),
            id: String::new(),
            detail_type: detail_type.into(),
            source: source.into(),
            account: self.settings.id.account.to_string(),
            time: now,
            region: self.settings.id.region.to_string(),
            resources: vec![],
            detail,
        }
    }

    fn config_of<'s>(&'s self, state: &'s AgentState) -> &'s AgentConfig {
        state
            .config
            .as_ref()
            .unwrap_or(&self.settings.initial_config)
    }

    fn report(&self, state: &AgentState, last_run: Option<LastRun>) -> serde_json::Value {
        serde_json::to_value(AgentReportDetail {
            name: Some(self.settings.name.clone()),
            version: self.settings.version.clone(),
            config: Some(self.config_of(state).clone()),
            config_version: state.config_version,
            last_run,
        })
        .expect("serializable")
    }

    /// The state, read once per run and validated as it is read: a stored
    /// config that no longer validates is refused before any work starts.
    async fn load_state(&self) -> Result<AgentState, AgentError> {
        let state = self.state.load().await?;
        if let Some(config) = &state.config {
            config
                .validate()
                .map_err(|e| AgentError::BadConfig(format!("stored config: {e}")))?;
        }
        Ok(state)
    }

    /// Publishes `Agent Registered` (at deploy time, and on the first run).
    pub async fn register(&self, now: DateTime<Utc>) -> Result<(), AgentError> {
        let mut state = self.load_state().await?;
        self.register_with(&mut state, now).await
    }

    async fn register_with(
        &self,
        state: &mut AgentState,
        now: DateTime<Utc>,
    ) -> Result<(), AgentError> {
        let env = self.envelope(
            DT_AGENT_REGISTERED,
            SOURCE_AGENT,
            self.report(state, None),
            now,
        );
        self.publisher.publish(&[env]).await?;
        state.registered = true;
        self.state.save(state).await?;
        Ok(())
    }

    /// The effective schedule, in minutes.
    pub async fn schedule_minutes(&self) -> Result<u32, AgentError> {
        let state = self.load_state().await?;
        Ok(self.config_of(&state).schedule_minutes)
    }

    /// One scheduled run: query the next window, publish its occurrences,
    /// then (and only then) advance the checkpoint; then heartbeat.
    pub async fn run(&self, now: DateTime<Utc>) -> Result<RunSummary, AgentError> {
        let mut state = self.load_state().await?;
        if !state.registered {
            self.register_with(&mut state, now).await?;
        }
        let config = self.config_of(&state).clone();
        let planned = config
            .enabled
            .then(|| plan(state.checkpoint, state.pending, now, &self.settings.policy))
            .flatten();
        let summary = match planned {
            Some(planned) => {
                self.publish_window(&mut state, &config, planned, now)
                    .await?
            }
            None => RunSummary::default(),
        };
        let last_run = summary.window.map(|w| LastRun {
            window_start: w.start,
            window_end: w.end,
            log_groups: summary.log_groups,
            records_matched: summary.records_matched,
            occurrences_published: summary.occurrences_published,
        });
        let hb = self.envelope(
            DT_AGENT_HEARTBEAT,
            SOURCE_AGENT,
            self.report(&state, last_run),
            now,
        );
        // The occurrences are out and the checkpoint moved, so a retry of a
        // failed heartbeat redoes nothing else; failing makes it visible.
        self.publisher.publish(&[hb]).await?;
        Ok(summary)
    }

    /// The window's records, classified, grouped and published; then the
    /// checkpoint moves past it.
    async fn publish_window(
        &self,
        state: &mut AgentState,
        config: &AgentConfig,
        planned: Planned,
        now: DateTime<Utc>,
    ) -> Result<RunSummary, AgentError> {
        let window = planned.window;
        if let Some(from) = planned.skipped_from {
            tracing::warn!(%from, to = %window.start, "catch-up bound reached: older logs skipped");
        }
        // Remember the window before publishing, so a retry redoes it exactly.
        state.pending = Some(window);
        self.state.save(state).await?;
        let classifier = Classifier::new(&config.rules, &config.exclude_patterns)
            .map_err(|e| AgentError::BadConfig(e.to_string()))?;
        let groups = self.source.discover(config).await?;
        let records = self.source.fetch(&groups, &window, &config.rules).await?;
        let (matched, details) = group_records(&self.settings.id, &classifier, &records, &window);
        let envelopes: Vec<Envelope> = details
            .iter()
            .map(|d| {
                let detail = serde_json::to_value(d).expect("serializable");
                self.envelope(DT_LOG_ERRORS, SOURCE_LOGS, detail, now)
            })
            .collect();
        self.publisher.publish(&envelopes).await?;
        self.source.commit(&window).await?;
        state.checkpoint = Some(window.end);
        state.pending = None;
        self.state.save(state).await?;
        Ok(RunSummary {
            window: Some(window),
            log_groups: groups.len() as u64,
            records_matched: matched,
            occurrences_published: envelopes.len() as u64,
            skipped_from: planned.skipped_from,
        })
    }

    /// Applies an `Agent Config Update` addressed to this agent and acknowledges it.
    /// Returns whether the config changed.
    pub async fn apply_config_update(
        &self,
        env: &Envelope,
        now: DateTime<Utc>,
    ) -> Result<bool, AgentError> {
        let d: ConfigUpdateDetail = serde_json::from_value(env.detail.clone())
            .map_err(|e| AgentError::BadConfig(e.to_string()))?;
        if d.agent_id != self.settings.id.to_string() {
            return Err(AgentError::BadConfig(format!(
                "addressed to {}, not to {}",
                d.agent_id, self.settings.id
            )));
        }
        d.config
            .validate()
            .map_err(|e| AgentError::BadConfig(e.to_string()))?;
        let mut state = self.state.load().await?;
        let changed = d.config_version > state.config_version;
        if changed {
            state.config = Some(d.config);
            state.config_version = d.config_version;
            self.state.save(&state).await?;
        }
        let ack = serde_json::to_value(ConfigAppliedDetail {
            config_version: state.config_version,
        })
        .expect("serializable");
        self.publisher
            .publish(&[self.envelope(DT_AGENT_CONFIG_APPLIED, SOURCE_AGENT, ack, now)])
            .await?;
        Ok(changed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{MockAgentStateStore, MockLogSource, MockPublisher};
    use std::sync::{Arc, Mutex};

    fn settings() -> AgentSettings {
        AgentSettings {
            id: "111122223333-eu-west-1".parse().unwrap(),
            name: "test".into(),
            version: "0.1.0".into(),
            policy: WindowPolicy::default(),
            initial_config: AgentConfig::default(),
        }
    }

    fn rec(group: &str, msg: &str) -> LogRecord {
        LogRecord {
            log_group: group.into(),
            time: "2026-11-25T10:00:00Z".parse().unwrap(),
            message: msg.into(),
        }
    }

    #[test]
    fn grouping_counts_per_group_and_fingerprint() {
        let w = Window {
            start: "2026-11-25T09:55:00Z".parse().unwrap(),
            end: "2026-11-25T10:00:00Z".parse().unwrap(),
        };
        let records = vec![
            rec("/a", "ERROR order 1 failed"),
            rec("/a", "ERROR order 2 failed"),
            rec("/a", "INFO all good"),
            rec("/b", "ERROR order 3 failed"),
            rec("/a", "Task timed out after 3.00 seconds"),
        ];
        let (matched, groups) =
            group_records(&settings().id, &Classifier::defaults(), &records, &w);
        assert_eq!(matched, 4);
        let counts: Vec<(&str, u64, Severity)> = groups
            .iter()
            .map(|g| (g.log_group.as_str(), g.count, g.severity))
            .collect();
        assert_eq!(counts.len(), 3);
        assert!(counts.contains(&("/a", 2, Severity::High)));
        assert!(counts.contains(&("/b", 1, Severity::High)));
        assert!(counts.contains(&("/a", 1, Severity::Critical)));
        // Same window, same records: same occurrence keys (idempotent redelivery).
        let (_, again) = group_records(&settings().id, &Classifier::defaults(), &records, &w);
        assert_eq!(groups, again);
    }

    fn rec_at(time: &str, msg: &str) -> LogRecord {
        LogRecord {
            time: time.parse().unwrap(),
            ..rec("/a", msg)
        }
    }

    #[test]
    fn a_group_carries_its_first_and_last_line_times() {
        let w = Window {
            start: "2026-11-25T07:15:00Z".parse().unwrap(),
            end: "2026-11-25T07:20:00Z".parse().unwrap(),
        };
        let records: Vec<LogRecord> = ["07:16:29", "07:16:51", "07:17:30", "07:18:19"]
            .iter()
            .map(|t| {
                rec_at(
                    &format!("2026-11-25T{t}Z"),
                    &format!("ERROR order {t} failed"),
                )
            })
            .collect();
        let (_, groups) = group_records(&settings().id, &Classifier::defaults(), &records, &w);
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].count, 4);
        assert_eq!(groups[0].first_seen, records[0].time);
        assert_eq!(groups[0].last_seen, records[3].time);
    }

    #[test]
    fn a_group_never_spans_two_utc_days() {
        let w = Window {
            start: "2026-11-25T23:55:00Z".parse().unwrap(),
            end: "2026-11-26T00:05:00Z".parse().unwrap(),
        };
        let records = vec![
            rec_at("2026-11-25T23:58:00Z", "ERROR order 1 failed"),
            rec_at("2026-11-25T23:59:59.999Z", "ERROR order 2 failed"),
            rec_at("2026-11-26T00:00:00Z", "ERROR order 3 failed"),
        ];
        let (_, groups) = group_records(&settings().id, &Classifier::defaults(), &records, &w);
        let spans: Vec<(String, String, u64)> = groups
            .iter()
            .map(|g| (g.first_seen.to_rfc3339(), g.last_seen.to_rfc3339(), g.count))
            .collect();
        assert_eq!(
            spans,
            vec![
                (
                    "2026-11-25T23:58:00+00:00".into(),
                    "2026-11-25T23:59:59.999+00:00".into(),
                    2
                ),
                (
                    "2026-11-26T00:00:00+00:00".into(),
                    "2026-11-26T00:00:00+00:00".into(),
                    1
                ),
            ]
        );
        assert_eq!(groups[0].fingerprint, groups[1].fingerprint);
        assert_ne!(groups[0].occurrence_key, groups[1].occurrence_key);
    }

    /// A state store over one shared state: `load` answers it (`loads`
    /// times, or any number when None), `save` replaces it. The test reads
    /// the shared state afterwards.
    fn saved_state(
        initial: AgentState,
        loads: Option<usize>,
    ) -> (MockAgentStateStore, Arc<Mutex<AgentState>>) {
        let saved = Arc::new(Mutex::new(initial));
        let mut state = MockAgentStateStore::new();
        let s1 = saved.clone();
        let load = state.expect_load();
        if let Some(n) = loads {
            load.times(n);
        }
        load.returning(move || Ok(s1.lock().unwrap().clone()));
        let s2 = saved.clone();
        state.expect_save().returning(move |s| {
            *s2.lock().unwrap() = s.clone();
            Ok(())
        });
        (state, saved)
    }

    #[tokio::test]
    async fn a_failed_publish_keeps_the_checkpoint_and_the_pending_window() {
        let initial = AgentState {
            registered: true,
            ..Default::default()
        };
        let (state, saved) = saved_state(initial, None);
        let mut source = MockLogSource::new();
        source
            .expect_discover()
            .returning(|_| Ok(vec!["/a".into()]));
        source
            .expect_fetch()
            .returning(|_, _, _| Ok(vec![rec("/a", "ERROR boom")]));
        source.expect_commit().never();
        let mut publisher = MockPublisher::new();
        publisher
            .expect_publish()
            .returning(|_| Err(PortError::Transient("throttled".into())));
        let s = settings();
        let agent = QueryErrorLogs {
            settings: &s,
            source: &source,
            publisher: &publisher,
            state: &state,
        };
        let err = agent
            .run("2026-11-25T10:00:00Z".parse().unwrap())
            .await
            .unwrap_err();
        assert!(err.is_retryable());
        let st = saved.lock().unwrap().clone();
        assert_eq!(st.checkpoint, None);
        let pending = st.pending.expect("pending window kept");
        assert_eq!(
            pending.end,
            "2026-11-25T09:58:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }

    #[tokio::test]
    async fn a_first_run_reads_the_state_once_and_hands_the_rules_to_the_source() {
        let initial = AgentState {
            config: Some(AgentConfig {
                rules: vec![Rule {
                    pattern: "card declined".into(),
                    severity: Severity::Medium,
                }],
                ..AgentConfig::default()
            }),
            config_version: 2,
            ..Default::default()
        };
        let (state, saved) = saved_state(initial, Some(1));
        let mut source = MockLogSource::new();
        source
            .expect_discover()
            .returning(|_| Ok(vec!["/a".into()]));
        source
            .expect_fetch()
            .withf(|_, _, rules| rules.len() == 1 && rules[0].pattern == "card declined")
            .times(1)
            .returning(|_, _, _| Ok(vec![rec("/a", "card declined for order 7")]));
        source.expect_commit().times(1).returning(|_| Ok(()));
        let mut publisher = MockPublisher::new();
        // Registered, the occurrence, the heartbeat.
        publisher.expect_publish().times(3).returning(|_| Ok(()));
        let s = settings();
        let agent = QueryErrorLogs {
            settings: &s,
            source: &source,
            publisher: &publisher,
            state: &state,
        };
        let summary = agent
            .run("2026-11-25T10:00:00Z".parse().unwrap())
            .await
            .unwrap();
        assert_eq!(summary.records_matched, 1);
        let st = saved.lock().unwrap().clone();
        assert!(st.registered);
        assert!(st.checkpoint.is_some() && st.pending.is_none());
    }

    #[tokio::test]
    async fn a_stored_config_that_no_longer_validates_stops_the_run_before_any_work() {
        let mut state = MockAgentStateStore::new();
        state.expect_load().returning(|| {
            Ok(AgentState {
                registered: true,
                config: Some(AgentConfig {
                    schedule_minutes: 0,
                    ..AgentConfig::default()
                }),
                ..Default::default()
            })
        });
        state.expect_save().never();
        let mut source = MockLogSource::new();
        source.expect_discover().never();
        let mut publisher = MockPublisher::new();
        publisher.expect_publish().never();
        let s = settings();
        let agent = QueryErrorLogs {
            settings: &s,
            source: &source,
            publisher: &publisher,
            state: &state,
        };
        let err = agent
            .run("2026-11-25T10:00:00Z".parse().unwrap())
            .await
            .unwrap_err();
        assert!(!err.is_retryable());
        assert!(err.to_string().contains("stored config"), "{err}");
    }
}
