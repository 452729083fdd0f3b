//! Events out of DynamoDB Streams records (the notify Lambda's input).

use super::{EVENT_SK, PK, SK};
use domain::model::Event;
use domain::ports::PortError;

/// The event an item image of a DynamoDB Streams record holds (DynamoDB
/// JSON, as in `NewImage` / `OldImage`): `None` for the other items of the
/// table (occurrences, day counters, agents).
pub fn event_from_stream_image(image: &serde_json::Value) -> Result<Option<Event>, PortError> {
    let attr = |name: &str| {
        image
            .get(name)
            .and_then(|v| v.get("S"))
            .and_then(|v| v.as_str())
    };
    let (Some(pk), Some(sk)) = (attr(PK), attr(SK)) else {
        return Err(PortError::Permanent(
            "stream image: no string PK and SK".into(),
        ));
    };
    if sk != EVENT_SK || !pk.starts_with("EVENT#") {
        return Ok(None);
    }
    let body = attr("body").ok_or_else(|| {
        PortError::Permanent(format!("stream image of {pk}: no string attribute body"))
    })?;
    serde_json::from_str(body).map(Some).map_err(|e| {
        PortError::Permanent(format!("stream image of {pk}: body does not parse: {e}"))
    })
}
