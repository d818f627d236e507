//! A secret string (a token, a signing secret, a database URL with its password) that
//! never shows itself: settings, logs and errors print `[redacted]`. It lives apart from
//! `config` so that what uses secrets (sealing, the clients) does not depend on settings.

use std::fmt;

use serde::{Deserialize, Serialize, Serializer};

/// A secret string whose `Debug`, `Display` and `Serialize` never reveal it.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    /// The secret itself; call only where it is used (signing, Authorization headers).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("[redacted]")
    }
}
