//! The verification layer in front of every /slack/* route.

use learnloop::clock::{Clock, SystemClock};

use crate::support::{Options, command_form, spawn_app, spawn_app_with};

const FORM: &str = "application/x-www-form-urlencoded";

#[tokio::test]
async fn unsigned_and_badly_signed_requests_get_401_on_every_route() {
    let app = spawn_app().await;
    let body = command_form("/learn", "help");
    let now = SystemClock.now().unix_seconds();
    for route in ["/slack/commands", "/slack/events", "/slack/interactions"] {
        let unsigned = app
            .client
            .post(app.url(route))
            .header("content-type", FORM)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(unsigned.status(), 401, "{route} unsigned");
        assert_eq!(
            unsigned.text().await.unwrap(),
            "unauthorized",
            "no detail in the body"
        );

        let wrong_secret = app
            .client
            .post(app.url(route))
            .header("content-type", FORM)
            .header("x-slack-request-timestamp", now.to_string())
            .header("x-slack-signature", format!("v0={}", "0".repeat(64)))
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(wrong_secret.status(), 401, "{route} wrong signature");
    }
    app.stop().await;
}

#[tokio::test]
async fn old_future_and_tampered_requests_get_401() {
    let app = spawn_app().await;
    let body = command_form("/learn", "help");
    let now = SystemClock.now().unix_seconds();
    let send = |timestamp: i64, signature: String, body: String| {
        app.client
            .post(app.url("/slack/commands"))
            .header("content-type", FORM)
            .header("x-slack-request-timestamp", timestamp.to_string())
            .header("x-slack-signature", signature)
            .body(body)
            .send()
    };
    for skew in [-301, 301] {
        let at = now + skew;
        let response = send(at, app.signature(at, &body), body.clone())
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "timestamp {skew} s away");
    }
    let tampered = body.replace("help", "goal+list");
    let response = send(now, app.signature(now, &body), tampered)
        .await
        .unwrap();
    assert_eq!(response.status(), 401, "body changed after signing");

    let v1 = app.signature(now, &body).replacen("v0=", "v1=", 1);
    assert_eq!(send(now, v1, body.clone()).await.unwrap().status(), 401);

    let ok = send(now, app.signature(now, &body), body.clone())
        .await
        .unwrap();
    assert_eq!(ok.status(), 200, "the same request signed properly passes");
    app.stop().await;
}

#[tokio::test]
async fn without_a_signing_secret_slack_routes_answer_503() {
    let app = spawn_app_with(Options {
        signing_secret: None,
        ..Options::default()
    })
    .await;
    let response = app.command("/learn", "help").await;
    assert_eq!(response.status(), 503);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("LEARNLOOP_SLACK_SIGNING_SECRET")
    );
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200, "the rest of the service still runs");
    app.stop().await;
}

#[tokio::test]
async fn an_oversized_body_gets_413() {
    let app = spawn_app().await;
    let huge = format!(
        "{}&text={}",
        command_form("/learn", "help"),
        "a".repeat(1024 * 1024)
    );
    let response = app.post_signed("/slack/commands", FORM, &huge).await;
    assert_eq!(response.status(), 413);
    app.stop().await;
}

#[tokio::test]
async fn an_oversized_chunked_body_gets_413() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    // reqwest always sends a Content-Length for a fixed body; speak HTTP/1.1 by hand
    // to send one without it, so the limit is enforced while streaming.
    let app = spawn_app().await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /slack/commands HTTP/1.1\r\nHost: {address}\r\nContent-Type: {FORM}\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![b'a'; 64 * 1024];
    for _ in 0..17 {
        let frame = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
        if stream.write_all(&frame).await.is_err() {
            break; // the server may close as soon as it has refused the body
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response).await;
    assert!(
        response.starts_with("HTTP/1.1 413"),
        "{}",
        response.lines().next().unwrap_or("")
    );
    app.stop().await;
}
