//! HTTP metrics middleware and the `GET /metrics` route.

use std::time::Instant;

use super::AppState;
use crate::metrics::RequestLabels;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Route templates known at compile time, so labels never allocate and a scan of
/// random URLs cannot blow up the label space.
const ROUTES: &[&str] = &[
    "/slack/commands",
    "/slack/events",
    "/slack/interactions",
    "/slack/install",
    "/slack/oauth_redirect",
    "/app",
    "/app/style.css",
    "/app/lessons",
    "/app/lessons/{id}",
    "/app/outcomes",
    "/app/debriefs",
    "/app/debriefs/{id}",
    "/app/me",
    "/app/me/followups/{id}",
    "/app/me/stale/{id}",
    "/app/settings",
    "/app/export/{file}",
    "/auth/slack/login",
    "/auth/slack/callback",
    "/auth/microsoft/login",
    "/auth/microsoft/callback",
    "/auth/logout",
    "/teams/messages",
    "/teams/webhook",
    "/healthz",
    "/readyz",
    "/metrics",
];

fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        _ => "OTHER",
    }
}

/// Middleware counting and timing every routed request.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .and_then(|matched| ROUTES.iter().find(|r| **r == matched.as_str()))
        .copied()
        .unwrap_or("other");
    let method = method_label(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    let labels = RequestLabels {
        route,
        method,
        status: response.status().as_u16(),
    };
    state.metrics.record_request(labels, started.elapsed());
    response
}

/// `GET /metrics`.
pub async fn serve(State(state): State<AppState>) -> impl IntoResponse {
    let (connections, idle) = state.store.pool_size();
    state.metrics.record_pool(connections, idle);
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
}
