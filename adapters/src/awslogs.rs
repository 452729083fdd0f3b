//! The transport of CloudWatch Logs subscription payloads: Lambda receives
//! `{"awslogs": {"data": "<base64 of the gzip of the JSON message>"}}`.
//! [`decode`] undoes it (the JSON itself is parsed by
//! `domain::usecases::stream::SubscriptionMessage`); [`encode`] builds a
//! payload the way CloudWatch Logs does, for tests and benchmarks.

use base64::Engine;
use std::io::Read;

/// Largest decompressed message accepted (CloudWatch Logs batches stay
/// under 1 MB of events; a bigger one is not a subscription payload).
pub const MAX_DECOMPRESSED: u64 = 16 * 1024 * 1024;

/// The `awslogs.data` string of a Lambda payload, if it has one.
pub fn data_of(payload: &serde_json::Value) -> Option<&str> {
    payload.get("awslogs")?.get("data")?.as_str()
}

/// base64, then gunzip: the message's JSON bytes, or why not.
pub fn decode(data: &str) -> Result<Vec<u8>, String> {
    let gz = base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|e| format!("awslogs.data is not base64: {e}"))?;
    // A gzip member ends with its decompressed size (mod 2^32): read into a
    // buffer of that size at once rather than growing and copying one.
    let size = gz
        .last_chunk::<4>()
        .map_or(0, |s| u64::from(u32::from_le_bytes(*s)));
    let mut out = Vec::with_capacity(size.min(MAX_DECOMPRESSED + 1) as usize);
    flate2::read::GzDecoder::new(gz.as_slice())
        .take(MAX_DECOMPRESSED + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("awslogs.data is not gzip: {e}"))?;
    if out.len() as u64 > MAX_DECOMPRESSED {
        return Err(format!(
            "awslogs.data decompresses to more than {MAX_DECOMPRESSED} bytes"
        ));
    }
    Ok(out)
}

/// gzip, then base64: the `awslogs.data` of a message.
pub fn encode(json: &[u8]) -> String {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(json).expect("writes to memory");
    base64::engine::general_purpose::STANDARD.encode(gz.finish().expect("writes to memory"))
}

/// A whole Lambda payload for a message.
pub fn payload(message: &serde_json::Value) -> serde_json::Value {
    serde_json::json!({"awslogs": {"data": encode(message.to_string().as_bytes())}})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_undoes_encode() {
        let json = br#"{"messageType":"DATA_MESSAGE"}"#;
        assert_eq!(decode(&encode(json)).unwrap(), json);
        let p = payload(&serde_json::json!({"a": 1}));
        assert_eq!(decode(data_of(&p).unwrap()).unwrap(), br#"{"a":1}"#);
    }

    #[test]
    fn bad_transport_is_named() {
        assert!(decode("%%%").unwrap_err().contains("base64"));
        let not_gzip = base64::engine::general_purpose::STANDARD.encode(b"plain");
        assert!(decode(&not_gzip).unwrap_err().contains("gzip"));
        assert_eq!(data_of(&serde_json::json!({"awslogs": {}})), None);
    }
}
