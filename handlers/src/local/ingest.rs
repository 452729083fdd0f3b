//! `monitoring ingest`: envelope files through the master, one transaction each.

use super::{BoxError, DataDir};
use crate::master::{Master, Outcome};
use adapters::sqlite::SqliteStore;
use async_trait::async_trait;
use chrono::Utc;
use domain::envelope::Envelope;
use domain::inbound::Inbound;
use domain::model::Agent;
use domain::ports::{ConfigPusher, PortError};
use std::path::{Path, PathBuf};

/// Pushes nothing: `monitoring ingest` has no bus. The running server's agent
/// gets the desired config at its next heartbeat instead.
struct DeferredPusher;

#[async_trait]
impl ConfigPusher for DeferredPusher {
    async fn push(&self, _agent: &Agent) -> Result<(), PortError> {
        Ok(())
    }
}

/// What `monitoring ingest` did with one file.
#[derive(Debug)]
pub struct FileOutcome {
    pub file: PathBuf,
    pub result: Result<FileCounts, String>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct FileCounts {
    pub stored: usize,
    pub duplicates: usize,
    pub agent_messages: usize,
}

/// Feeds envelope files through the master. Each file is its own
/// transaction: a file with any bad envelope is rejected whole, with a reason.
pub async fn ingest_files(
    data_dir: &Path,
    files: &[PathBuf],
) -> Result<Vec<FileOutcome>, BoxError> {
    let store = DataDir(data_dir.to_owned()).open_store()?;
    let mut out = Vec::new();
    for file in files {
        let result = ingest_file(&store, file).await;
        out.push(FileOutcome {
            file: file.clone(),
            result,
        });
    }
    Ok(out)
}

async fn ingest_file(store: &SqliteStore, file: &Path) -> Result<FileCounts, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read: {e}"))?;
    let envelopes =
        Envelope::parse_many(&text).map_err(|e| format!("not EventBridge envelopes: {e}"))?;
    // Parsed once, all of them, before anything is stored: a bad envelope
    // fails its file as a whole.
    let mut occurrences = Vec::new();
    let mut agent_messages = Vec::new();
    for (i, env) in envelopes.iter().enumerate() {
        match Inbound::parse(env).map_err(|e| format!("envelope {}: {e}", i + 1))? {
            Inbound::Occurrence(o) => occurrences.push(*o),
            message @ Inbound::Agent(_) => agent_messages.push(message),
        }
    }
    let now = Utc::now();
    // One transaction for the file's occurrences.
    let results = store
        .record_batch(&occurrences, now)
        .await
        .map_err(|e| e.to_string())?;
    let stored = results
        .iter()
        .filter(|r| matches!(r, domain::ports::Recorded::Applied(_)))
        .count();
    let master = Master {
        events: store,
        agents: store,
        pusher: &DeferredPusher,
    };
    for message in &agent_messages {
        if let Outcome::Skipped { reason } = master
            .dispatch(message, now)
            .await
            .map_err(|e| e.to_string())?
        {
            return Err(reason);
        }
    }
    Ok(FileCounts {
        stored,
        duplicates: results.len() - stored,
        agent_messages: agent_messages.len(),
    })
}
