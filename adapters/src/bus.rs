//! The in-process bus: routes envelopes to subscribers as the master's
//! EventBridge rules would, synchronously, so that `publish` returns only
//! once every matching target has handled the envelope.

use async_trait::async_trait;
use domain::envelope::Envelope;
use domain::model::Agent;
use domain::ports::{ConfigPusher, PortError, Publisher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// A target of a rule, like a Lambda function behind an EventBridge rule.
#[async_trait]
pub trait Subscriber: Send + Sync {
    /// Handles one envelope. A `Permanent` error means the envelope is bad:
    /// the bus logs it and drops it (EventBridge would send it to the DLQ).
    async fn deliver(&self, envelope: &Envelope) -> Result<(), PortError>;
}

/// An event pattern: the envelope's source and detail-type must each be listed.
#[derive(Debug, Clone)]
pub struct Rule {
    pub name: String,
    pub sources: Vec<String>,
    pub detail_types: Vec<String>,
}

impl Rule {
    pub fn new(name: &str, sources: &[&str], detail_types: &[&str]) -> Self {
        Self {
            name: name.into(),
            sources: sources.iter().map(|s| s.to_string()).collect(),
            detail_types: detail_types.iter().map(|s| s.to_string()).collect(),
        }
    }

    pub fn matches(&self, e: &Envelope) -> bool {
        self.sources.iter().any(|s| s == &e.source)
            && self.detail_types.iter().any(|d| d == &e.detail_type)
    }
}

/// Envelopes and the rules that route them. Subscribers are added after
/// construction because they usually need the bus themselves.
#[derive(Default)]
pub struct LocalBus {
    routes: RwLock<Vec<(Rule, Arc<dyn Subscriber>)>>,
    next_id: AtomicU64,
}

impl LocalBus {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub fn subscribe(&self, rule: Rule, target: Arc<dyn Subscriber>) {
        self.routes.write().expect("bus lock").push((rule, target));
    }

    fn targets(&self, e: &Envelope) -> Vec<(String, Arc<dyn Subscriber>)> {
        let routes = self.routes.read().expect("bus lock");
        routes
            .iter()
            .filter(|(r, _)| r.matches(e))
            .map(|(r, t)| (r.name.clone(), t.clone()))
            .collect()
    }
}

#[async_trait]
impl Publisher for LocalBus {
    async fn publish(&self, envelopes: &[Envelope]) -> Result<(), PortError> {
        for e in envelopes {
            let mut e = e.clone();
            if e.id.is_empty() {
                // EventBridge gives every event an id; a process-unique one will do here.
                let n = self.next_id.fetch_add(1, Ordering::Relaxed);
                e.id = format!("local-{}-{n}", e.time.timestamp_micros());
            }
            let targets = self.targets(&e);
            if targets.is_empty() {
                tracing::debug!(source = %e.source, detail_type = %e.detail_type, "no rule matches; dropped");
            }
            for (rule, target) in targets {
                match target.deliver(&e).await {
                    Ok(()) => {}
                    Err(PortError::Permanent(reason)) => {
                        tracing::warn!(%rule, source = %e.source, detail_type = %e.detail_type, %reason, "envelope rejected; dropped");
                    }
                    Err(transient) => return Err(transient),
                }
            }
        }
        Ok(())
    }
}

/// Pushes configs over the bus as `Agent Config Update` envelopes.
pub struct BusConfigPusher {
    pub bus: Arc<dyn Publisher>,
    pub clock: Arc<dyn domain::ports::Clock>,
}

#[async_trait]
impl ConfigPusher for BusConfigPusher {
    async fn push(&self, agent: &Agent) -> Result<(), PortError> {
        let env = domain::usecases::deployment::config_update_envelope(agent, self.clock.now());
        self.bus.publish(&[env]).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    struct Recorder(Mutex<Vec<Envelope>>, Option<PortError>);

    #[async_trait]
    impl Subscriber for Recorder {
        async fn deliver(&self, e: &Envelope) -> Result<(), PortError> {
            self.0.lock().unwrap().push(e.clone());
            self.1.clone().map_or(Ok(()), Err)
        }
    }

    fn env(source: &str, dt: &str) -> Envelope {
        Envelope {
            version: "0".into(),
            id: String::new(),
            detail_type: dt.into(),
            source: source.into(),
            account: "111122223333".into(),
            time: chrono::Utc::now(),
            region: "eu-west-1".into(),
            resources: vec![],
            detail: serde_json::json!({}),
        }
    }

    #[tokio::test]
    async fn routes_by_source_and_detail_type_and_assigns_ids() {
        let bus = LocalBus::new();
        let a = Arc::new(Recorder(Mutex::default(), None));
        let b = Arc::new(Recorder(Mutex::default(), None));
        bus.subscribe(Rule::new("a", &["x"], &["One", "Two"]), a.clone());
        bus.subscribe(Rule::new("b", &["y"], &["One"]), b.clone());
        bus.publish(&[
            env("x", "One"),
            env("x", "Three"),
            env("y", "One"),
            env("x", "Two"),
        ])
        .await
        .unwrap();
        let got: Vec<String> =
            a.0.lock()
                .unwrap()
                .iter()
                .map(|e| e.detail_type.clone())
                .collect();
        assert_eq!(got, ["One", "Two"]);
        assert_eq!(b.0.lock().unwrap().len(), 1);
        assert!(a.0.lock().unwrap().iter().all(|e| !e.id.is_empty()));
    }

    #[tokio::test]
    async fn permanent_failures_are_dropped_and_transient_ones_fail_the_publish() {
        let bus = LocalBus::new();
        bus.subscribe(
            Rule::new("bad", &["x"], &["One"]),
            Arc::new(Recorder(
                Mutex::default(),
                Some(PortError::Permanent("bad".into())),
            )),
        );
        assert!(bus.publish(&[env("x", "One")]).await.is_ok());
        bus.subscribe(
            Rule::new("busy", &["x"], &["One"]),
            Arc::new(Recorder(
                Mutex::default(),
                Some(PortError::Transient("busy".into())),
            )),
        );
        assert!(bus
            .publish(&[env("x", "One")])
            .await
            .unwrap_err()
            .is_retryable());
    }
}
