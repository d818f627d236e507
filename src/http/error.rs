//! The one error type at the HTTP edge: each variant has its status, 5xx bodies are
//! opaque, and this is the one place that logs them.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::app::AppError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The payload is not what the route takes; the reason is safe to show.
    #[error("malformed request: {0}")]
    BadRequest(String),
    #[error("unauthorized")]
    Unauthorized,
    /// Authenticated, but not one we serve (a Teams tenant not on the list).
    #[error("forbidden")]
    Forbidden,
    #[error("request body too large")]
    PayloadTooLarge,
    /// A route whose platform is not configured (e.g. no Slack signing secret).
    #[error("{0} is not configured on this server")]
    NotConfigured(&'static str),
    /// Something we depend on cannot be reached right now; the caller may retry.
    #[error("{0} cannot be reached right now")]
    Unavailable(&'static str),
    /// Another delivery of this very event is being handled right now: the platform
    /// should retry, and the retry is answered from what that handling did (or handles
    /// it, if that handler died).
    #[error("this event is being handled right now; retry later")]
    InProgress,
    /// What the request refers to does not exist in its workspace (removed, or never
    /// there): the caller's mistake or a stale button, not a server failure.
    #[error("not found: what this refers to no longer exists here")]
    NotFound,
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl HttpError {
    pub fn bad_request(reason: impl std::fmt::Display) -> Self {
        Self::BadRequest(reason.to_string())
    }
}

impl From<StoreError> for HttpError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => Self::NotFound,
            other => Self::Internal(anyhow::Error::new(other)),
        }
    }
}

impl From<AppError> for HttpError {
    fn from(err: AppError) -> Self {
        match err {
            AppError::Store(err) => err.into(),
            internal @ AppError::Internal(_) => Self::Internal(anyhow::Error::new(internal)),
        }
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let status = match &self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::NotConfigured(_) | Self::Unavailable(_) | Self::InProgress => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        match &self {
            Self::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "request failed")
            }
            Self::BadRequest(reason) => {
                // Parser messages can quote the payload: details only at debug.
                tracing::info!("rejected a malformed request");
                // Debug-quoted: the reason may quote what the request said.
                tracing::debug!(?reason, "why the request was malformed");
            }
            Self::NotFound => tracing::info!("a request referred to something that does not exist"),
            _ => {}
        }
        (status, self.to_string()).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_row_is_a_404_and_other_store_failures_a_500() {
        let missing: HttpError = StoreError::NotFound.into();
        assert_eq!(missing.into_response().status(), StatusCode::NOT_FOUND);
        let broken: HttpError = StoreError::Corrupt("x".into()).into();
        assert_eq!(
            broken.into_response().status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[test]
    fn the_app_s_errors_keep_the_store_s_404_and_its_own_failures_are_500s() {
        let missing: HttpError = AppError::from(StoreError::NotFound).into();
        assert_eq!(missing.into_response().status(), StatusCode::NOT_FOUND);
        let conflict: HttpError = AppError::from(StoreError::Conflict("x".into())).into();
        assert_eq!(
            conflict.into_response().status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        let internal: HttpError = AppError::Internal("no salt".into()).into();
        assert_eq!(
            internal.into_response().status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
