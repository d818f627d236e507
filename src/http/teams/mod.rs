//! Microsoft Teams: `POST /teams/messages` (the Bot Framework bot, bearer tokens) and
//! `POST /teams/webhook` (an outgoing webhook, HMAC). Each is checked before its body is
//! parsed.

mod messages;
mod webhook;

use axum::Router;
use axum::routing::post;

use super::AppState;
use super::error::HttpError;
use crate::platform::teams::Activity;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/teams/messages", post(messages::handle))
        .route("/teams/webhook", post(webhook::handle))
}

/// Refuses (403, with a log line) an activity from a tenant that is not served: a
/// signed activity proves it came from Microsoft, not that it came from this
/// organisation.
fn tenant_allowed(state: &AppState, activity: &Activity) -> Result<(), HttpError> {
    let tenant = activity.tenant_id();
    if tenant.is_some_and(|tenant| state.teams_tenants.iter().any(|t| t == tenant)) {
        return Ok(());
    }
    if state.teams_tenants.is_empty() {
        tracing::warn!(
            ?tenant,
            "refused a Teams activity: no tenant is allowed (set LEARNLOOP_TEAMS_TENANTS or LEARNLOOP_TEAMS_TENANT_ID)"
        );
    } else {
        tracing::warn!(
            ?tenant,
            "refused a Teams activity from a tenant that is not served"
        );
    }
    Err(HttpError::Forbidden)
}
