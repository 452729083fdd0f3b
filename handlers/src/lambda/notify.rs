//! Notify: the events table's DynamoDB Streams records into alerts, with
//! a partial batch response so that only what failed is retried.

use adapters::aws::dynamodb::event_from_stream_image;
use chrono::{DateTime, Utc};
use domain::alerts::Change;
use domain::ports::{AgentStore, PendingChange};
use domain::usecases::notify::Notifier;
use serde_json::Value;

/// What a notify invocation did, and the partial batch response Lambda reads.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NotifyBatch {
    /// The first record that failed (by `SequenceNumber`): Lambda retries
    /// the batch from it, then sends it to the on-failure destination.
    #[serde(rename = "batchItemFailures")]
    pub failures: Vec<BatchItemFailure>,
    #[serde(skip)]
    pub sent: usize,
    #[serde(skip)]
    pub summaries: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BatchItemFailure {
    #[serde(rename = "itemIdentifier")]
    pub item_identifier: String,
}

/// The change one stream record describes, if it may alert.
fn stream_change(record: &Value) -> Result<Option<PendingChange>, String> {
    let name = record
        .get("eventName")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if name != "INSERT" && name != "MODIFY" {
        return Ok(None);
    }
    let id = record
        .get("eventID")
        .and_then(Value::as_str)
        .ok_or("a stream record without eventID")?;
    let images = record
        .get("dynamodb")
        .ok_or("a stream record without dynamodb")?;
    let Some(new_image) = images.get("NewImage") else {
        return Err(format!(
            "record {id}: no NewImage (the stream must be NEW_AND_OLD_IMAGES)"
        ));
    };
    let Some(after) =
        event_from_stream_image(new_image).map_err(|e| format!("record {id}: {e}"))?
    else {
        return Ok(None);
    };
    // An INSERT has no before; some stream readers still hand an empty
    // `OldImage` with it.
    let before = match images.get("OldImage") {
        Some(old) if name == "MODIFY" => {
            event_from_stream_image(old).map_err(|e| format!("record {id}: {e}"))?
        }
        _ => None,
    };
    let change = Change::new(before.as_ref(), &after);
    Ok(change.may_alert().then(|| PendingChange {
        id: id.to_owned(),
        change,
    }))
}

/// Notify: a batch of the events table's stream records (in order), then
/// the storm summaries due. The first record that fails (on our side or a
/// channel's, transiently or not) is reported and the rest of the batch is
/// left for the retry, which starts from it; deliveries already made are
/// not repeated (the delivery log). Any other payload (the schedule's) only
/// sends the summaries.
pub async fn notify_stream_batch(
    notifier: &Notifier<'_>,
    payload: &Value,
    now: DateTime<Utc>,
) -> NotifyBatch {
    let mut batch = NotifyBatch::default();
    let records = payload
        .get("Records")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for record in records {
        let sequence = record
            .pointer("/dynamodb/SequenceNumber")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let outcome = match stream_change(record) {
            Ok(None) => continue,
            Ok(Some(pending)) => notifier
                .deliver(&pending, now)
                .await
                .map(|r| r.sent)
                .map_err(|e| format!("record {}: {e}", pending.id)),
            Err(e) => Err(e),
        };
        match outcome {
            Ok(sent) => batch.sent += sent,
            Err(error) => {
                tracing::error!(sequence, %error, "stream record failed, retried from here");
                batch.failures.push(BatchItemFailure {
                    item_identifier: sequence.to_owned(),
                });
                break;
            }
        }
    }
    match notifier.send_summaries(now).await {
        Ok(n) => batch.summaries = n,
        // Not a record's failure: the next invocation sends them.
        Err(error) => tracing::warn!(%error, "storm summaries not sent yet"),
    }
    tracing::info!(
        records = records.len(),
        sent = batch.sent,
        summaries = batch.summaries,
        failed = batch.failures.len(),
        "notify batch"
    );
    batch
}

/// Whether a payload is the one-minute schedule's rather than a stream batch.
pub fn is_scheduled(payload: &Value) -> bool {
    payload.get("Records").is_none()
}

/// One notify invocation. A stream batch is delivered with its partial
/// batch response. The schedule's invocation also checks the agents
/// (UpdateDeployment keeps them in the events table): a failure there fails
/// the invocation, so it shows in the function's errors; the next minute's
/// run tries again, and the delivery log keeps it from repeating a channel.
pub async fn notify_invocation(
    notifier: &Notifier<'_>,
    agents: &dyn AgentStore,
    payload: &Value,
    now: DateTime<Utc>,
) -> Result<NotifyBatch, String> {
    let checked = if is_scheduled(payload) {
        notifier
            .check_all_agents(agents, now)
            .await
            .map(|r| r.sent)
            .map_err(|e| format!("agent alerts: {e}"))
    } else {
        Ok(0)
    };
    let mut batch = notify_stream_batch(notifier, payload, now).await;
    batch.sent += checked?;
    Ok(batch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use adapters::sqlite::SqliteStore;
    use async_trait::async_trait;
    use domain::alerts::{test_event, AlertsConfig, Channel, Rendered};
    use domain::model::{Event, EventId};
    use domain::ports::{AlertSender, PortError, SendError};
    use serde_json::json;
    use std::sync::Mutex;

    /// Records what it is given; fails transiently while `failing` > 0.
    #[derive(Default)]
    struct Receiver {
        failing: Mutex<u32>,
        got: Mutex<Vec<(String, String)>>,
    }

    #[async_trait]
    impl AlertSender for Receiver {
        async fn send(
            &self,
            channel: &Channel,
            message_id: &str,
            _timestamp: DateTime<Utc>,
            rendered: &Rendered,
        ) -> Result<(), SendError> {
            let mut failing = self.failing.lock().unwrap();
            if *failing > 0 {
                *failing -= 1;
                return Err(SendError::Port(PortError::Transient("503".into())));
            }
            let Rendered::Json(body) = rendered else {
                panic!("a webhook channel gets JSON")
            };
            let kind: Value = serde_json::from_str(body).unwrap();
            self.got.lock().unwrap().push((
                format!("{}:{message_id}", channel.name),
                kind["type"].as_str().unwrap_or_default().to_owned(),
            ));
            Ok(())
        }
    }

    fn image(e: &Event) -> Value {
        json!({
            "PK": {"S": format!("EVENT#{}", e.id)},
            "SK": {"S": "EVENT"},
            "body": {"S": serde_json::to_string(e).unwrap()},
            "rev": {"N": "1"},
        })
    }

    fn record(seq: &str, name: &str, old: Option<Value>, new: Option<Value>) -> Value {
        let mut dynamodb = json!({"SequenceNumber": seq, "Keys": {}});
        if let Some(o) = old {
            dynamodb["OldImage"] = o;
        }
        if let Some(n) = new {
            dynamodb["NewImage"] = n;
        }
        json!({"eventID": format!("id-{seq}"), "eventName": name, "eventSource": "aws:dynamodb", "dynamodb": dynamodb})
    }

    #[tokio::test]
    async fn only_alerting_changes_are_delivered_and_a_failed_record_is_retried_alone() {
        let now = Utc::now();
        let config = AlertsConfig::from_json(
            r#"{"channels": [{"name": "hook", "kind": "webhook", "url": "http://127.0.0.1:9/",
                "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}]}"#,
        )
        .unwrap();
        let log = SqliteStore::open_in_memory().unwrap();
        let receiver = Receiver::default();
        let notifier = Notifier {
            config: &config,
            log: &log,
            sender: &receiver,
        };
        let first = test_event(now);
        let mut repeated = first.clone();
        repeated.count = 2;
        let mut second = test_event(now);
        second.id = EventId::derive(&second.account, &second.region, "monitoring.test", "other");
        let occurrence = json!({"PK": {"S": "OCC#x"}, "SK": {"S": "OCC"}});
        let batch = json!({"Records": [
            record("1", "INSERT", None, Some(image(&first))),
            record("2", "MODIFY", Some(image(&first)), Some(image(&repeated))),
            record("3", "INSERT", None, Some(occurrence)),
            record("4", "REMOVE", Some(image(&first)), None),
            record("5", "INSERT", None, Some(image(&second))),
            record("6", "MODIFY", Some(image(&first)), Some(image(&repeated))),
        ]});

        // An earlier invocation delivered the first record.
        let first_only = json!({"Records": [batch["Records"][0].clone()]});
        let out = notify_stream_batch(&notifier, &first_only, now).await;
        assert!(out.failures.is_empty());
        assert_eq!(out.sent, 1);

        // The whole batch again, the receiver failing once: nothing for the
        // first event (delivered), the repeat, the occurrence item or the
        // removal; the fifth record fails and the batch stops there.
        *receiver.failing.lock().unwrap() = 1;
        let out = notify_stream_batch(&notifier, &batch, now).await;
        assert_eq!(
            serde_json::to_value(&out).unwrap(),
            json!({"batchItemFailures": [{"itemIdentifier": "5"}]})
        );
        assert_eq!(out.sent, 0, "the first event was delivered already");

        // Lambda retries from record 5.
        let retry = json!({"Records": [batch["Records"][4].clone(), batch["Records"][5].clone()]});
        let out = notify_stream_batch(&notifier, &retry, now).await;
        assert!(out.failures.is_empty());
        assert_eq!(out.sent, 1);
        let got = receiver.got.lock().unwrap().clone();
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(
            got.iter().all(|(_, kind)| kind == "event.opened"),
            "{got:?}"
        );
        assert_ne!(got[0].0, got[1].0);
    }

    #[tokio::test]
    async fn a_record_that_cannot_be_read_fails() {
        let config = AlertsConfig::from_json(r#"{"channels": []}"#).unwrap();
        let log = SqliteStore::open_in_memory().unwrap();
        let receiver = Receiver::default();
        let notifier = Notifier {
            config: &config,
            log: &log,
            sender: &receiver,
        };
        let bad = json!({"PK": {"S": "EVENT#x"}, "SK": {"S": "EVENT"}, "body": {"S": "{"}});
        let out = notify_stream_batch(
            &notifier,
            &json!({"Records": [record("7", "INSERT", None, Some(bad))]}),
            Utc::now(),
        )
        .await;
        assert_eq!(out.failures[0].item_identifier, "7");
    }
}
