//! Baseline for the load benchmark (`bench/load.py`): a bare axum server that answers
//! `POST /slack/commands` with a fixed JSON body, with no signature check, parsing or
//! database. learnloop's figures are reported as a ratio to this one, measured in the
//! same session, because the machine is shared and noisy.
//!
//! Run: `cargo run --release --example bench_baseline -- 127.0.0.1:3901`

use axum::Router;
use axum::routing::post;

const FIXED: &str = r#"{"response_type":"ephemeral","text":"learnloop help: /learn help"}"#;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3901".into());
    let app = Router::new().route(
        "/slack/commands",
        post(|| async { ([("content-type", "application/json")], FIXED) }),
    );
    let listener = tokio::net::TcpListener::bind(&address).await?;
    axum::serve(listener, app).await
}
