//! Teams ingress benchmark (issue 6's figure): Bot Framework activities on
//! `POST /teams/messages`, each with a bearer token checked in full (RS256 signature with
//! the cached key, issuer, audience, lifetime, endorsement, serviceurl) and its body
//! parsed, loaded with `wrk -t1 -c32` like the Slack ingress benchmark (bench/load.py).
//!
//! The activity is a `messageReaction`, which the bot acknowledges without storing
//! anything, so the figure is the ingress path itself. Baseline, in the same run: a bare
//! axum route answering the same request with 200 and no checks. As from the real Bot
//! Framework, every request carries the same token (it is reused for up to an hour), so
//! its RSA signature is checked once and remembered; the cost of a first check is
//! measured separately, in-process, over 2,000 distinct tokens.
//!
//! Run: `cargo run --release --example bench_teams -- [SECONDS] [RUNS]` (needs `wrk`,
//! Debian package `wrk`). The OpenID metadata and key set come from a local fake with a
//! test-only key (tests/fixtures), as in the tests.

#[path = "../tests/api/support/bot_framework.rs"]
mod bot_framework;

use std::collections::HashMap;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use bot_framework::{APP_ID, BotFramework, KID, SERVICE_URL};
use learnloop::clock::{Clock, SystemClock};
use learnloop::config::Settings;
use learnloop::http::verify::BotTokenVerifier;
use learnloop::startup::App;
use serde_json::json;

const TENANT: &str = "72f988bf-0000-4000-8000-00000000c0de";

/// One wrk run: (requests/s, p99 ms).
fn wrk(url: &str, seconds: u32, script: &str) -> anyhow::Result<(f64, f64)> {
    let out = Command::new("wrk")
        .args([
            "-t1",
            "-c32",
            &format!("-d{seconds}s"),
            "--latency",
            "-s",
            script,
            url,
        ])
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if text.contains("Non-2xx") || text.contains("Socket errors") {
        anyhow::bail!("wrk saw failures:\n{text}");
    }
    let rps = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no Requests/sec in wrk's output:\n{text}"))?;
    let p99 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("99%"))
        .map(str::trim)
        .and_then(|v| {
            let (number, factor) = if let Some(us) = v.strip_suffix("us") {
                (us, 0.001)
            } else if let Some(ms) = v.strip_suffix("ms") {
                (ms, 1.0)
            } else {
                (v.strip_suffix('s')?, 1000.0)
            };
            number.parse::<f64>().ok().map(|n| n * factor)
        })
        .ok_or_else(|| anyhow::anyhow!("no 99% line in wrk's output:\n{text}"))?;
    Ok((rps, p99))
}

/// The cost of one token check in-process, without HTTP: 2,000 distinct tokens seen for
/// the first time (RSA signature and claims), then each again (remembered); p50 in µs.
async fn verification_cost(bot: &BotFramework) -> anyhow::Result<(f64, f64)> {
    let verifier = BotTokenVerifier::new(APP_ID, &bot.openid_url(), Arc::new(SystemClock));
    let now = SystemClock.now().unix_seconds();
    let headers: Vec<String> = (0..2_000)
        .map(|n| {
            let mut claims = BotFramework::claims(SERVICE_URL, now);
            claims["jti"] = json!(n);
            format!("Bearer {}", bot.token(KID, &claims))
        })
        .collect();
    verifier.verify(Some(headers[0].as_bytes())).await?; // fetches the keys
    let mut rounds = [Vec::new(), Vec::new()];
    for round in &mut rounds {
        for header in &headers[1..] {
            let started = Instant::now();
            verifier.verify(Some(header.as_bytes())).await?;
            round.push(started.elapsed().as_secs_f64() * 1e6);
        }
    }
    let [first, again] = rounds;
    Ok((median(first), median(again)))
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seconds: u32 = args.first().and_then(|a| a.parse().ok()).unwrap_or(10);
    let runs: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(3);

    let bot = BotFramework::start().await;
    let dir = tempfile::tempdir()?;
    let env = HashMap::from([
        ("LEARNLOOP_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        (
            "LEARNLOOP_DATABASE_URL".to_owned(),
            format!("sqlite://{}", dir.path().join("bench.db").display()),
        ),
        ("LEARNLOOP_TEAMS_APP_ID".to_owned(), APP_ID.to_owned()),
        ("LEARNLOOP_TEAMS_OPENID_URL".to_owned(), bot.openid_url()),
        ("LEARNLOOP_LOG".to_owned(), "warn".to_owned()),
    ]);
    learnloop::telemetry::init("warn");
    let app = App::build(Settings::load_from(None, &env)?).await?;
    let learnloop_url = format!("http://{}/teams/messages", app.local_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    let baseline = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let baseline_url = format!("http://{}/teams/messages", baseline.local_addr()?);
    tokio::spawn(async move {
        let routes = Router::new().route("/teams/messages", post(|| async { StatusCode::OK }));
        axum::serve(baseline, routes).await
    });

    let token = bot.token(
        KID,
        &BotFramework::claims(SERVICE_URL, SystemClock.now().unix_seconds()),
    );
    let body = json!({
        "type": "messageReaction",
        "id": "1700000000002",
        "timestamp": "2026-11-23T10:00:00.000Z",
        "serviceUrl": SERVICE_URL,
        "channelId": "msteams",
        "from": {"id": "29:alice", "name": "Alice", "aadObjectId": "a1"},
        "recipient": {"id": "28:bot", "name": "learnloop"},
        "conversation": {"id": "19:chan@thread.tacv2;messageid=1", "conversationType": "channel",
                         "tenantId": TENANT},
        "reactionsAdded": [{"type": "like"}],
        "replyToId": "1700000000001",
        "channelData": {"tenant": {"id": TENANT}, "team": {"id": "19:team@thread.tacv2"}},
    })
    .to_string();
    // The app must accept this request and refuse a bad token, or the numbers mean nothing.
    let client = reqwest::Client::new();
    let send = |authorization: String| {
        client
            .post(&learnloop_url)
            .header("authorization", authorization)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
    };
    assert_eq!(send(format!("Bearer {token}")).await?.status(), 200);
    assert_eq!(send(format!("Bearer {token}x")).await?.status(), 401);

    let script = dir.path().join("activity.lua");
    std::fs::write(
        &script,
        format!(
            "wrk.method = \"POST\"\nwrk.body = [[{body}]]\n\
             wrk.headers[\"Content-Type\"] = \"application/json\"\n\
             wrk.headers[\"Authorization\"] = \"Bearer {token}\"\n"
        ),
    )?;
    let script = script.display().to_string();
    let mut results: HashMap<&str, Vec<(f64, f64)>> = HashMap::new();
    for _ in 0..runs {
        for (name, url) in [("baseline", &baseline_url), ("learnloop", &learnloop_url)] {
            let (url, script) = (url.clone(), script.clone());
            let measured = tokio::task::spawn_blocking(move || {
                wrk(&url, 2, &script)?; // warm-up
                wrk(&url, seconds, &script)
            })
            .await??;
            results.entry(name).or_default().push(measured);
        }
    }
    let _ = stop.send(());
    server.await??;
    let (full_us, remembered_us) = verification_cost(&bot).await?;

    let summary = |name: &str| {
        let runs = &results[name];
        json!({
            "requests_per_s": median(runs.iter().map(|r| r.0).collect()),
            "p99_ms": median(runs.iter().map(|r| r.1).collect()),
            "runs": runs,
        })
    };
    let (base, ours) = (summary("baseline"), summary("learnloop"));
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({
            "wrk": format!("-t1 -c32 -d{seconds}s, {runs} runs, medians"),
            "baseline": base,
            "learnloop": ours,
            "throughput_ratio": ours["requests_per_s"].as_f64().unwrap_or(0.0)
                / base["requests_per_s"].as_f64().unwrap_or(1.0),
            "key_set_fetches": bot.key_set.fetched(),
            "verify_in_process_us": {
                "first_sight_of_a_token_p50": full_us,
                "token_seen_before_p50": remembered_us,
            },
        }))?
    );
    Ok(())
}
