//! Microsoft Teams: `POST /teams/messages` (the Bot Framework bot, bearer tokens) and
//! `POST /teams/webhook` (an outgoing webhook, HMAC). Each is checked before its body is
//! parsed.

mod messages;
mod webhook;

use axum::Router;
use axum::routing::post;

use super::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/teams/messages", post(messages::handle))
        .route("/teams/webhook", post(webhook::handle))
}
