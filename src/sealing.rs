//! Seals secrets stored in the database (bot tokens, refresh tokens, webhook URLs) with
//! XChaCha20-Poly1305 under a keyring from `LEARNLOOP_TOKEN_KEYS`: `kid:BASE64,…`,
//! the first key sealing, every key opening. A sealed value reads `v1:<kid>:<b64>`
//! where the base64 holds the 24-byte random nonce and the ciphertext; the row's
//! identity is bound as associated data, so a value copied onto another row does not
//! open there.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};

use crate::secret::Secret;

const VERSION: &str = "v1";
const NONCE_LEN: usize = 24;

/// Why a keyring or a sealed value was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error(
        "token keys must read `kid:BASE64,…` with a 32-byte key each (generate one with \
         `openssl rand -base64 32`): {0}"
    )]
    BadKeyring(String),
    #[error("a stored value is not sealed (`v1:<kid>:<base64>`)")]
    NotSealed,
    #[error("a stored value is sealed with key `{0}`, which LEARNLOOP_TOKEN_KEYS does not hold")]
    UnknownKey(String),
    #[error("a stored value does not open with its key (tampered, or moved to another row)")]
    Tampered,
}

/// The keys of `LEARNLOOP_TOKEN_KEYS`, the first one active.
pub struct Keyring {
    /// `(kid, cipher)`, in the order given.
    keys: Vec<(String, XChaCha20Poly1305)>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<&str> = self.keys.iter().map(|(kid, _)| kid.as_str()).collect();
        f.debug_struct("Keyring").field("kids", &kids).finish()
    }
}

impl Keyring {
    /// Parses `kid:BASE64,kid:BASE64`; kids are short names without `:` or `,`.
    pub fn parse(spec: &Secret) -> Result<Self, SealError> {
        let mut keys: Vec<(String, XChaCha20Poly1305)> = Vec::new();
        for entry in spec.expose().split([',', '\n']).map(str::trim) {
            if entry.is_empty() {
                continue;
            }
            let Some((kid, encoded)) = entry.split_once(':') else {
                return Err(SealError::BadKeyring(
                    "an entry has no `kid:` in front".into(),
                ));
            };
            let kid = kid.trim();
            if kid.is_empty()
                || !kid
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            {
                return Err(SealError::BadKeyring(format!(
                    "`{kid}` is not a key id (letters, digits, - _ .)"
                )));
            }
            if keys.iter().any(|(known, _)| known == kid) {
                return Err(SealError::BadKeyring(format!(
                    "key id `{kid}` appears twice"
                )));
            }
            let bytes = STANDARD
                .decode(encoded.trim())
                .map_err(|_| SealError::BadKeyring(format!("the key of `{kid}` is not base64")))?;
            if bytes.len() != 32 {
                return Err(SealError::BadKeyring(format!(
                    "the key of `{kid}` has {} bytes, not 32",
                    bytes.len()
                )));
            }
            let cipher = XChaCha20Poly1305::new(Key::from_slice(&bytes));
            keys.push((kid.to_owned(), cipher));
        }
        if keys.is_empty() {
            return Err(SealError::BadKeyring("no key given".into()));
        }
        Ok(Self { keys })
    }

    /// The id of the key that seals.
    pub fn active_kid(&self) -> &str {
        &self.keys[0].0
    }

    /// Seals `plaintext` for the row named by `identity`.
    pub fn seal(&self, plaintext: &str, identity: &str) -> String {
        let (kid, cipher) = &self.keys[0];
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: identity.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 seals any message under 256 GiB");
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!("{VERSION}:{kid}:{}", STANDARD.encode(bytes))
    }

    /// Opens a value sealed for the row named by `identity`.
    pub fn open(&self, sealed: &str, identity: &str) -> Result<Secret, SealError> {
        let (kid, encoded) = split(sealed)?;
        let cipher = self
            .keys
            .iter()
            .find(|(known, _)| known == kid)
            .map(|(_, cipher)| cipher)
            .ok_or_else(|| SealError::UnknownKey(kid.to_owned()))?;
        let bytes = STANDARD.decode(encoded).map_err(|_| SealError::Tampered)?;
        if bytes.len() < NONCE_LEN {
            return Err(SealError::Tampered);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let plain = cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: identity.as_bytes(),
                },
            )
            .map_err(|_| SealError::Tampered)?;
        String::from_utf8(plain)
            .map(Secret::new)
            .map_err(|_| SealError::Tampered)
    }

    /// Whether this keyring can open values sealed with `kid`.
    pub fn knows(&self, kid: &str) -> bool {
        self.keys.iter().any(|(known, _)| known == kid)
    }
}

/// The key id a sealed value names.
pub fn kid_of(sealed: &str) -> Result<&str, SealError> {
    split(sealed).map(|(kid, _)| kid)
}

fn split(sealed: &str) -> Result<(&str, &str), SealError> {
    let mut parts = sealed.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(VERSION), Some(kid), Some(encoded)) if !kid.is_empty() => Ok((kid, encoded)),
        _ => Err(SealError::NotSealed),
    }
}

#[cfg(test)]
pub mod test_keys {
    /// A keyring spec with two keys, `k2` active.
    pub const TWO: &str = "k2:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=,k1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
    /// Only the old key.
    pub const OLD: &str = "k1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(spec: &str) -> Keyring {
        Keyring::parse(&Secret::new(spec)).unwrap()
    }

    #[test]
    fn a_sealed_value_opens_on_its_row_only_and_hides_the_plaintext() {
        let keys = ring(test_keys::TWO);
        let sealed = keys.seal("xoxb-very-secret", "workspace:7:bot_token");
        assert!(sealed.starts_with("v1:k2:"), "{sealed}");
        assert!(!sealed.contains("xoxb"), "{sealed}");
        assert_eq!(
            keys.open(&sealed, "workspace:7:bot_token")
                .unwrap()
                .expose(),
            "xoxb-very-secret"
        );
        assert_eq!(
            keys.open(&sealed, "workspace:8:bot_token").unwrap_err(),
            SealError::Tampered
        );
        assert_ne!(
            sealed,
            keys.seal("xoxb-very-secret", "workspace:7:bot_token"),
            "a fresh nonce every time"
        );
    }

    #[test]
    fn rotation_opens_old_values_and_seals_with_the_first_key() {
        let old = ring(test_keys::OLD).seal("xoxb-1", "row");
        let rotated = ring(test_keys::TWO);
        assert_eq!(kid_of(&old).unwrap(), "k1");
        assert_eq!(rotated.open(&old, "row").unwrap().expose(), "xoxb-1");
        assert_eq!(rotated.active_kid(), "k2");
        let only_new = ring("k2:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=");
        assert_eq!(
            only_new.open(&old, "row").unwrap_err(),
            SealError::UnknownKey("k1".into())
        );
        assert!(!only_new.knows("k1"));
    }

    #[test]
    fn bad_keyrings_and_values_are_refused_with_a_reason() {
        for spec in [
            "",
            "nokid",
            "k1:not base64!",
            "k1:AAAA",
            "k1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=,k1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=",
        ] {
            let err = Keyring::parse(&Secret::new(spec)).unwrap_err();
            assert!(matches!(err, SealError::BadKeyring(_)), "{spec}: {err}");
        }
        let keys = ring(test_keys::TWO);
        assert_eq!(
            keys.open("xoxb-plain", "row").unwrap_err(),
            SealError::NotSealed
        );
        assert_eq!(
            keys.open("v1:k2:AAAA", "row").unwrap_err(),
            SealError::Tampered
        );
    }
}
