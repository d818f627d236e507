//! Prometheus metrics: request counts and latency by route template and status, plus
//! counters the rest of the app bumps. Served as OpenMetrics text on `GET /metrics`.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::{EncodeLabelSet, text::encode};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use super::AppState;

/// Route templates known at compile time, so labels never allocate and a scan of
/// random URLs cannot blow up the label space.
const ROUTES: &[&str] = &[
    "/slack/commands",
    "/slack/events",
    "/slack/interactions",
    "/teams/messages",
    "/teams/webhook",
    "/healthz",
    "/readyz",
    "/metrics",
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: &'static str,
    method: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

/// What became of an Events API delivery.
#[derive(Clone, Copy, Debug)]
pub enum EventOutcome {
    Handled,
    Duplicate,
    Ignored,
}

/// All metrics of one process.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RequestLabels, Histogram, fn() -> Histogram>,
    slack_events: Family<OutcomeLabels, Counter>,
}

fn latency_histogram() -> Histogram {
    Histogram::new([
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ])
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("learnloop");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RequestLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        let slack_events = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route, method and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route, method and status",
            latency.clone(),
        );
        registry.register(
            "slack_events",
            "Slack Events API deliveries by outcome (handled, duplicate, ignored)",
            slack_events.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            slack_events,
        }
    }
}

impl Metrics {
    pub fn record_slack_event(&self, outcome: EventOutcome) {
        let outcome = match outcome {
            EventOutcome::Handled => "handled",
            EventOutcome::Duplicate => "duplicate",
            EventOutcome::Ignored => "ignored",
        };
        self.slack_events
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    /// The registry in OpenMetrics text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

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
    state.metrics.requests.get_or_create(&labels).inc();
    state
        .metrics
        .latency
        .get_or_create(&labels)
        .observe(started.elapsed().as_secs_f64());
    response
}

/// `GET /metrics`.
pub async fn serve(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
}
