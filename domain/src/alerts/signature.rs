//! Standard Webhooks signatures: `v1,` + base64 of HMAC-SHA256 over
//! `"<webhook-id>.<webhook-timestamp>.<body>"`, keyed with the base64-decoded
//! secret after its `whsec_` prefix.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("a webhook secret starts with whsec_ followed by base64")]
    BadSecret,
}

/// The three headers of a signed delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSignature {
    pub id: String,
    pub timestamp: i64,
    pub signature: String,
}

/// Signs `body` for delivery `id` at `timestamp` (Unix seconds).
pub fn sign(
    secret: &str,
    id: &str,
    timestamp: i64,
    body: &str,
) -> Result<WebhookSignature, SignatureError> {
    let key = secret
        .strip_prefix("whsec_")
        .and_then(|k| BASE64.decode(k).ok())
        .filter(|k| !k.is_empty())
        .ok_or(SignatureError::BadSecret)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|_| SignatureError::BadSecret)?;
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    Ok(WebhookSignature {
        id: id.to_owned(),
        timestamp,
        signature: format!("v1,{}", BASE64.encode(mac.finalize().into_bytes())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification and its reference libraries.
    #[test]
    fn matches_the_specification_test_vector() {
        let s = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(
            s.signature,
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn a_secret_without_its_prefix_is_refused() {
        assert_eq!(
            sign("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "id", 1, "{}"),
            Err(SignatureError::BadSecret)
        );
        assert_eq!(
            sign("whsec_!!", "id", 1, "{}"),
            Err(SignatureError::BadSecret)
        );
    }
}
