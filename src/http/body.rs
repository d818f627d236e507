//! Reading a request body whole, within the configured size limit, before any check or
//! parse looks at it.

use axum::body::{Body, Bytes};
use axum::http::HeaderMap;
use axum::http::header::CONTENT_LENGTH;
use http_body_util::LengthLimitError;

use super::error::HttpError;

/// The raw body: 413 past `limit` (declared or actual), 400 if it cannot be read.
pub async fn read_limited(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Bytes, HttpError> {
    let declared_too_large = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .is_some_and(|length| length > limit);
    if declared_too_large {
        return Err(HttpError::PayloadTooLarge);
    }
    axum::body::to_bytes(body, limit).await.map_err(|err| {
        if is_length_limit(&err) {
            HttpError::PayloadTooLarge
        } else {
            HttpError::bad_request("the request body could not be read")
        }
    })
}

/// Whether a body error is the size limit (413) rather than a broken connection (400).
fn is_length_limit(err: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(current) = source {
        if current.is::<LengthLimitError>() {
            return true;
        }
        source = current.source();
    }
    false
}
