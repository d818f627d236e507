//! Prometheus metrics of the whole process, rendered as OpenMetrics text on `/metrics`.

use std::time::Duration;

use prometheus_client::encoding::{EncodeLabelSet, text::encode};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Labels of one HTTP request: static strings, so recording allocates nothing.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub route: &'static str,
    pub method: &'static str,
    pub status: u16,
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

/// What became of one attempt to send an outbox message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryOutcome {
    Sent,
    /// Will be tried again (rate limit, 5xx, timeout, network).
    Retried,
    /// Given up: a permanent error, or the retry budget ran out.
    Failed,
}

/// All metrics of one process.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RequestLabels, Histogram, fn() -> Histogram>,
    slack_events: Family<OutcomeLabels, Counter>,
    /// The database pool, as of the last scrape: open connections and idle ones.
    pool_connections: Gauge,
    pool_idle: Gauge,
    outbox_sent: Counter,
    outbox_retried: Counter,
    outbox_failed: Counter,
}

fn latency_histogram() -> Histogram {
    Histogram::new([
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ])
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("learnloop");
        let metrics = Self {
            requests: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
            slack_events: Family::default(),
            pool_connections: Gauge::default(),
            pool_idle: Gauge::default(),
            outbox_sent: Counter::default(),
            outbox_retried: Counter::default(),
            outbox_failed: Counter::default(),
            registry: Registry::default(),
        };
        registry.register(
            "http_requests",
            "HTTP requests by route, method and status",
            metrics.requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route, method and status",
            metrics.latency.clone(),
        );
        registry.register(
            "slack_events",
            "Slack Events API deliveries by outcome (handled, duplicate, ignored)",
            metrics.slack_events.clone(),
        );
        registry.register(
            "db_pool_connections",
            "Database connections open in this process's pool",
            metrics.pool_connections.clone(),
        );
        registry.register(
            "db_pool_idle_connections",
            "Database connections open and idle in this process's pool",
            metrics.pool_idle.clone(),
        );
        registry.register(
            "outbox_sent",
            "Outbox messages delivered",
            metrics.outbox_sent.clone(),
        );
        registry.register(
            "outbox_retries",
            "Outbox send attempts that failed and will be retried",
            metrics.outbox_retried.clone(),
        );
        registry.register(
            "outbox_failed",
            "Outbox messages given up on (permanent error or retry budget spent)",
            metrics.outbox_failed.clone(),
        );
        Self {
            registry,
            ..metrics
        }
    }
}

impl Metrics {
    pub fn record_request(&self, labels: RequestLabels, elapsed: Duration) {
        self.latency
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
        self.requests.get_or_create(&labels).inc();
    }

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

    pub fn record_delivery(&self, outcome: DeliveryOutcome) {
        match outcome {
            DeliveryOutcome::Sent => self.outbox_sent.inc(),
            DeliveryOutcome::Retried => self.outbox_retried.inc(),
            DeliveryOutcome::Failed => self.outbox_failed.inc(),
        };
    }

    /// Records the database pool's size, read when metrics are scraped.
    pub fn record_pool(&self, connections: u32, idle: usize) {
        self.pool_connections.set(i64::from(connections));
        self.pool_idle.set(idle as i64);
    }

    /// The registry in OpenMetrics text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}
