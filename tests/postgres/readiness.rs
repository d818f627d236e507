//! A replica whose database goes away says so on `/readyz`, and is ready again when
//! the database comes back, without a restart.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use learnloop::config::Settings;
use learnloop::startup::App;
use learnloop::store::db;
use learnloop::store::scratch::POSTGRES_URL_VAR;

use crate::scratch;

async fn readyz(client: &reqwest::Client, address: &str) -> u16 {
    client
        .get(format!("{address}/readyz"))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .map_or(0, |r| r.status().as_u16())
}

async fn wait_for(client: &reqwest::Client, address: &str, status: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while readyz(client, address).await != status {
        assert!(Instant::now() < deadline, "/readyz never answered {status}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn readyz_fails_while_the_database_is_gone_and_recovers_without_a_restart() {
    let database = scratch().await;
    let env = HashMap::from([
        ("LEARNLOOP_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        (
            "LEARNLOOP_DATABASE_URL".to_owned(),
            database.url().to_owned(),
        ),
        ("LEARNLOOP_LOG".to_owned(), "warn".to_owned()),
    ]);
    let app = App::build(Settings::load_from(None, &env).unwrap())
        .await
        .unwrap();
    let address = format!("http://{}", app.local_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    assert_eq!(readyz(&client, &address).await, 200);

    // The database refuses connections and drops the ones it had: as if it restarted
    // and had not come back yet.
    let name = database.url().rsplit('/').next().unwrap();
    let name = name.split('?').next().unwrap().to_owned();
    let admin = db::Pool::connect(&std::env::var(POSTGRES_URL_VAR).unwrap())
        .await
        .unwrap();
    let set_connections = |allowed: bool| {
        let statement = if allowed {
            format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true")
        } else {
            format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false")
        };
        let admin = admin.clone();
        async move { db::query(&statement).execute(&admin).await.unwrap() }
    };
    set_connections(false).await;
    db::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = ? AND pid <> pg_backend_pid()",
    )
    .bind(name.as_str())
    .execute(&admin)
    .await
    .unwrap();
    wait_for(&client, &address, 503).await;

    set_connections(true).await;
    wait_for(&client, &address, 200).await;
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
