//! HandleMonitoringEvents: one event per distinct problem. Envelopes are
//! parsed at the edge ([`crate::inbound`]); this stores their occurrences.

use crate::envelope::Envelope;
use crate::inbound::{Inbound, InboundError};
use crate::model::Occurrence;
use crate::ports::{EventStore, PortError, Recorded};
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IngestError {
    /// The envelope cannot become an occurrence; retrying will not help.
    #[error(transparent)]
    Inbound(#[from] InboundError),
    #[error(transparent)]
    Store(#[from] PortError),
}

/// The occurrence an envelope carries, or why it carries none.
pub fn occurrence_of(env: &Envelope) -> Result<Occurrence, InboundError> {
    match Inbound::parse(env)? {
        Inbound::Occurrence(o) => Ok(*o),
        Inbound::Agent(_) => Err(InboundError::unsupported(env)),
    }
}

/// Stores one envelope's occurrence idempotently (parse, then record).
pub async fn ingest(
    store: &dyn EventStore,
    env: &Envelope,
    now: DateTime<Utc>,
) -> Result<Recorded, IngestError> {
    let o = occurrence_of(env)?;
    Ok(store.record(&o, now).await?)
}
