//! What can go wrong while the app carries out a command, an event or a job: the store
//! failed (its own error, which keeps `NotFound` and `Conflict` apart), or something
//! the app itself holds could not be read or made (a stored template, a salt).

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A value of the app's own could not be read or made; never the user's input,
    /// which gets an answer instead of an error.
    #[error("{0}")]
    Internal(String),
}
