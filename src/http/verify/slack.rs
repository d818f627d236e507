//! Slack request signatures: HMAC-SHA256 over `v0:{timestamp}:{raw body}`, compared in
//! constant time, within five minutes either way.
//! <https://api.slack.com/authentication/verifying-requests-from-slack>

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::Secret;
use crate::domain::Timestamp;

/// How far a request timestamp may be from our clock, in either direction.
pub const MAX_CLOCK_SKEW_SECS: i64 = 300;

/// Why a request's signature was refused. Logged at debug, never shown to the caller.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("header {0} is missing")]
    MissingHeader(&'static str),
    #[error("the timestamp is not a number")]
    BadTimestamp,
    #[error("the timestamp is more than five minutes from now")]
    Stale,
    #[error("the signature is not `v0=` and 64 hex digits")]
    Malformed,
    #[error("the signature does not match")]
    Mismatch,
}

/// Verifies Slack request signatures with one signing secret.
#[derive(Clone)]
pub struct SlackSignatureVerifier {
    /// Keyed once; each check clones it instead of re-deriving the key pads.
    keyed: Hmac<Sha256>,
}

impl std::fmt::Debug for SlackSignatureVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SlackSignatureVerifier([redacted])")
    }
}

impl SlackSignatureVerifier {
    pub fn new(signing_secret: &Secret) -> Self {
        let keyed = Hmac::<Sha256>::new_from_slice(signing_secret.expose().as_bytes())
            .expect("HMAC accepts keys of any length");
        Self { keyed }
    }

    /// Checks the `X-Slack-Request-Timestamp` and `X-Slack-Signature` values against
    /// the raw body at `now`.
    pub fn verify(
        &self,
        timestamp: Option<&[u8]>,
        signature: Option<&[u8]>,
        body: &[u8],
        now: Timestamp,
    ) -> Result<(), SignatureError> {
        let timestamp =
            timestamp.ok_or(SignatureError::MissingHeader("X-Slack-Request-Timestamp"))?;
        let signature = signature.ok_or(SignatureError::MissingHeader("X-Slack-Signature"))?;
        let sent_at: i64 = std::str::from_utf8(timestamp)
            .ok()
            .and_then(|t| t.trim().parse().ok())
            .ok_or(SignatureError::BadTimestamp)?;
        // Slack's timestamp is Unix seconds.
        if now.unix_seconds().abs_diff(sent_at) > MAX_CLOCK_SKEW_SECS as u64 {
            return Err(SignatureError::Stale);
        }
        let hex_digest = signature
            .strip_prefix(b"v0=")
            .ok_or(SignatureError::Malformed)?;
        let mut expected = [0u8; 32];
        hex::decode_to_slice(hex_digest, &mut expected).map_err(|_| SignatureError::Malformed)?;

        let mut mac = self.keyed.clone();
        mac.update(b"v0:");
        mac.update(timestamp);
        mac.update(b":");
        mac.update(body);
        mac.verify_slice(&expected)
            .map_err(|_| SignatureError::Mismatch)
    }

    /// The `X-Slack-Signature` value for a body; used by tests and benchmarks to sign.
    pub fn sign(&self, timestamp: i64, body: &[u8]) -> String {
        let mut mac = self.keyed.clone();
        mac.update(format!("v0:{timestamp}:").as_bytes());
        mac.update(body);
        format!("v0={}", hex::encode(mac.finalize().into_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The vector of python-slack-sdk's tests/slack_sdk/signature/test_signature_verifier.py.
    const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const TIMESTAMP: i64 = 1531420618;
    const BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const SIGNATURE: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

    fn verifier(secret: &str) -> SlackSignatureVerifier {
        SlackSignatureVerifier::new(&Secret::new(secret))
    }

    fn check(
        secret: &str,
        timestamp: &str,
        signature: &str,
        body: &str,
        now: i64,
    ) -> Result<(), SignatureError> {
        verifier(secret).verify(
            Some(timestamp.as_bytes()),
            Some(signature.as_bytes()),
            body.as_bytes(),
            Timestamp::from_unix_seconds(now),
        )
    }

    #[test]
    fn the_python_slack_sdk_vector_passes() {
        assert_eq!(
            check(SECRET, "1531420618", SIGNATURE, BODY, TIMESTAMP),
            Ok(())
        );
        assert_eq!(verifier(SECRET).sign(TIMESTAMP, BODY.as_bytes()), SIGNATURE);
    }

    #[test]
    fn a_tampered_body_fails() {
        let tampered = BODY.replace("roadrunner", "coyote");
        assert_eq!(
            check(SECRET, "1531420618", SIGNATURE, &tampered, TIMESTAMP),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn a_wrong_secret_fails() {
        assert_eq!(
            check(
                "8f742231b10e8888abcd99yyyzzz85a6",
                "1531420618",
                SIGNATURE,
                BODY,
                TIMESTAMP
            ),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn missing_headers_fail() {
        let v = verifier(SECRET);
        assert_eq!(
            v.verify(
                None,
                Some(SIGNATURE.as_bytes()),
                BODY.as_bytes(),
                Timestamp::from_unix_seconds(TIMESTAMP)
            ),
            Err(SignatureError::MissingHeader("X-Slack-Request-Timestamp"))
        );
        assert_eq!(
            v.verify(
                Some(b"1531420618"),
                None,
                BODY.as_bytes(),
                Timestamp::from_unix_seconds(TIMESTAMP)
            ),
            Err(SignatureError::MissingHeader("X-Slack-Signature"))
        );
    }

    #[test]
    fn only_version_zero_is_accepted() {
        let v1 = SIGNATURE.replacen("v0=", "v1=", 1);
        assert_eq!(
            check(SECRET, "1531420618", &v1, BODY, TIMESTAMP),
            Err(SignatureError::Malformed)
        );
        let bare = SIGNATURE.trim_start_matches("v0=");
        assert_eq!(
            check(SECRET, "1531420618", bare, BODY, TIMESTAMP),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            check(SECRET, "1531420618", "v0=zz", BODY, TIMESTAMP),
            Err(SignatureError::Malformed)
        );
    }

    #[test]
    fn the_window_is_five_minutes_both_ways() {
        for skew in [-300, 0, 300] {
            assert_eq!(
                check(SECRET, "1531420618", SIGNATURE, BODY, TIMESTAMP + skew),
                Ok(()),
                "skew {skew}"
            );
        }
        // Our clock 301 s later: the request is 301 s old.
        assert_eq!(
            check(SECRET, "1531420618", SIGNATURE, BODY, TIMESTAMP + 301),
            Err(SignatureError::Stale)
        );
        // Our clock 301 s earlier: the request claims to come from 301 s in the future.
        assert_eq!(
            check(SECRET, "1531420618", SIGNATURE, BODY, TIMESTAMP - 301),
            Err(SignatureError::Stale)
        );
    }

    #[test]
    fn a_non_numeric_timestamp_fails() {
        assert_eq!(
            check(SECRET, "yesterday", SIGNATURE, BODY, TIMESTAMP),
            Err(SignatureError::BadTimestamp)
        );
    }

    #[test]
    fn debug_does_not_print_the_key() {
        assert!(!format!("{:?}", verifier(SECRET)).contains("8f74"));
    }
}
