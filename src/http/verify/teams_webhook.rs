//! Teams outgoing webhooks: `Authorization: HMAC <base64>`, the HMAC-SHA256 of the raw
//! body under the base64-decoded security token, compared in constant time.
//! <https://learn.microsoft.com/microsoftteams/platform/webhooks-and-connectors/how-to/add-outgoing-webhook>

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::Secret;

/// Why a webhook request was refused. Logged, never shown to the caller.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum WebhookSignatureError {
    #[error("the Authorization header is missing")]
    Missing,
    #[error("the Authorization header is not `HMAC <base64 of 32 bytes>`")]
    Malformed,
    #[error("the signature does not match")]
    Mismatch,
}

/// Checks Teams outgoing-webhook signatures with one security token.
#[derive(Clone)]
pub struct TeamsWebhookVerifier {
    keyed: Hmac<Sha256>,
}

impl std::fmt::Debug for TeamsWebhookVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TeamsWebhookVerifier([redacted])")
    }
}

impl TeamsWebhookVerifier {
    /// `security_token` is what Teams shows when the webhook is created (base64).
    pub fn new(security_token: &Secret) -> Result<Self, base64::DecodeError> {
        let key = STANDARD.decode(security_token.expose().trim())?;
        let keyed = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC accepts keys of any length");
        Ok(Self { keyed })
    }

    /// Checks an `Authorization` header value against the raw body.
    pub fn verify(
        &self,
        authorization: Option<&[u8]>,
        body: &[u8],
    ) -> Result<(), WebhookSignatureError> {
        let value = authorization.ok_or(WebhookSignatureError::Missing)?;
        let encoded = value
            .strip_prefix(b"HMAC ")
            .ok_or(WebhookSignatureError::Malformed)?;
        // Room for what any 44 characters decode to; a digest is exactly 32 bytes.
        let mut expected = [0u8; 48];
        match STANDARD.decode_slice(encoded.trim_ascii(), &mut expected) {
            Ok(32) => {}
            _ => return Err(WebhookSignatureError::Malformed),
        }
        let mut mac = self.keyed.clone();
        mac.update(body);
        mac.verify_slice(&expected[..32])
            .map_err(|_| WebhookSignatureError::Mismatch)
    }

    /// The `Authorization` value for a body; used by tests and benchmarks to sign.
    pub fn sign(&self, body: &[u8]) -> String {
        let mut mac = self.keyed.clone();
        mac.update(body);
        format!("HMAC {}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A known-answer vector: this token signs this body to this header.
    const TOKEN: &str = "vqF0En+Z0ucuRTM/01o2GuhMH3hKKk/N2bOmlM31zaA=";
    const BODY: &str = r#"{"type":"message","text":"hello"}"#;
    const HEADER: &str = "HMAC u4mqRgrbVIFC3vtz7CZ6l6p1FlBrMrWdHGNjdU5ux2o=";

    fn verifier(token: &str) -> TeamsWebhookVerifier {
        TeamsWebhookVerifier::new(&Secret::new(token)).expect("a base64 token")
    }

    #[test]
    fn the_known_vector_passes() {
        let v = verifier(TOKEN);
        assert_eq!(v.verify(Some(HEADER.as_bytes()), BODY.as_bytes()), Ok(()));
        assert_eq!(v.sign(BODY.as_bytes()), HEADER);
    }

    #[test]
    fn a_tampered_body_or_another_token_fails() {
        let tampered = BODY.replace("hello", "hellO");
        assert_eq!(
            verifier(TOKEN).verify(Some(HEADER.as_bytes()), tampered.as_bytes()),
            Err(WebhookSignatureError::Mismatch)
        );
        let other = "wqF0En+Z0ucuRTM/01o2GuhMH3hKKk/N2bOmlM31zaA=";
        assert_eq!(
            verifier(other).verify(Some(HEADER.as_bytes()), BODY.as_bytes()),
            Err(WebhookSignatureError::Mismatch)
        );
    }

    #[test]
    fn a_missing_or_malformed_header_fails() {
        let v = verifier(TOKEN);
        assert_eq!(
            v.verify(None, BODY.as_bytes()),
            Err(WebhookSignatureError::Missing)
        );
        for bad in [
            "u4mqRgrbVIFC3vtz7CZ6l6p1FlBrMrWdHGNjdU5ux2o=",
            "Bearer u4mqRgrbVIFC3vtz7CZ6l6p1FlBrMrWdHGNjdU5ux2o=",
            "HMAC not-base64!",
            "HMAC dTRtcQ==",
            "HMAC ",
        ] {
            assert_eq!(
                v.verify(Some(bad.as_bytes()), BODY.as_bytes()),
                Err(WebhookSignatureError::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_token_that_is_not_base64_is_refused_at_start() {
        assert!(TeamsWebhookVerifier::new(&Secret::new("not base64!")).is_err());
    }
}
