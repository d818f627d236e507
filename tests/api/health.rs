use crate::support::{Options, metric_value, spawn_app, spawn_app_with};

#[tokio::test]
async fn healthz_and_readyz_answer() {
    let app = spawn_app().await;
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert!(
        health.headers().contains_key("x-request-id"),
        "every response carries a request id"
    );
    assert_eq!(health.text().await.unwrap(), "ok");

    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.text().await.unwrap(), "ready");
    app.stop().await;
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_status() {
    let app = spawn_app().await;
    for _ in 0..3 {
        app.client.get(app.url("/healthz")).send().await.unwrap();
    }
    app.client
        .get(app.url("/no/such/page"))
        .send()
        .await
        .unwrap();
    app.command("/learn", "help").await;

    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text"),
        "Prometheus scrapes OpenMetrics text"
    );
    let metrics = response.text().await.unwrap();
    // The database pool: at least the connection that served the command, never more
    // idle than open.
    let open = metric_value(&metrics, "learnloop_db_pool_connections");
    let idle = metric_value(&metrics, "learnloop_db_pool_idle_connections");
    assert!(open >= 1.0 && idle <= open, "{metrics}");
    assert_eq!(
        metric_value(
            &metrics,
            r#"learnloop_http_requests_total{route="/healthz",method="GET",status="200"}"#
        ),
        3.0,
        "{metrics}"
    );
    assert_eq!(
        metric_value(
            &metrics,
            r#"learnloop_http_requests_total{route="/slack/commands",method="POST",status="200"}"#
        ),
        1.0,
        "{metrics}"
    );
    assert!(
        metrics.contains(
            r#"learnloop_http_request_duration_seconds_bucket{le="0.005",route="/slack/commands",method="POST",status="200"}"#
        ),
        "{metrics}"
    );
    assert!(
        !metrics.contains("/no/such/page"),
        "unknown paths are not labels: {metrics}"
    );
    app.stop().await;
}

#[tokio::test]
async fn teams_routes_say_they_are_not_configured() {
    let app = spawn_app().await;
    for route in ["/teams/messages", "/teams/webhook"] {
        let response = app
            .client
            .post(app.url(route))
            .header("content-type", "application/json")
            .body(r#"{"type":"message","text":"hello"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 503, "{route}");
    }
    app.stop().await;
}

#[tokio::test]
async fn metrics_can_move_to_a_listener_of_their_own() {
    let app = spawn_app_with(Options {
        env: vec![("LEARNLOOP_METRICS_LISTEN", "127.0.0.1:0".to_owned())],
        ..Options::default()
    })
    .await;
    app.command("/learn", "help").await;
    let public = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(public.status(), 404, "not next to the public webhooks");
    let internal = app.metrics_address.clone().expect("its own listener");
    let metrics = app
        .client
        .get(format!("{internal}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status(), 200);
    let text = metrics.text().await.unwrap();
    assert!(
        text.contains(r#"route="/slack/commands""#),
        "the main listener's requests are counted: {text}"
    );
    let other = app
        .client
        .get(format!("{internal}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404, "nothing else on the metrics listener");
    app.stop().await;
}
