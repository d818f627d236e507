//! The binary itself: `check-config`, `migrate`, and `serve` until SIGTERM.

use learnloop::domain::Timestamp;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) fn learnloop() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_learnloop"));
    // Only the variables a test sets: the developer's own LEARNLOOP_* must not leak in.
    for (name, _) in std::env::vars() {
        if name.starts_with("LEARNLOOP_") {
            command.env_remove(name);
        }
    }
    command
}

#[test]
fn check_config_prints_the_effective_settings_with_secrets_redacted() {
    let output = learnloop()
        .arg("check-config")
        .env("LEARNLOOP_SLACK_SIGNING_SECRET", "very-secret-value")
        .env("LEARNLOOP_LISTEN", "0.0.0.0:8080")
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains(r#"listen = "0.0.0.0:8080""#), "{stdout}");
    assert!(
        stdout.contains(r#"signing_secret = "[redacted]""#),
        "{stdout}"
    );
    assert!(!stdout.contains("very-secret-value"));
}

#[test]
fn check_config_into_a_reader_that_stops_early_ends_quietly() {
    // `learnloop check-config | head -1`: the pipe closes before everything is written.
    let mut child = learnloop()
        .arg("check-config")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_ne!(output.status.code(), Some(101), "{stderr}");
}

#[test]
fn check_config_lists_templates_and_stops_on_a_broken_one() {
    let output = learnloop().arg("check-config").output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains("# templates: aar, checkin, failure-story, project, retro"),
        "{stdout}"
    );

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("broken.toml"),
        "name = \"broken\"\ntitle = \"Broken\"\n\n[[questions]]\nid = \"q\"\nprompt = \"?\"\nkind = \"essay\"\n",
    )
    .unwrap();
    let config = dir.path().join("learnloop.toml");
    std::fs::write(
        &config,
        format!(
            "[templates]\ndir = {:?}\n",
            dir.path().display().to_string()
        ),
    )
    .unwrap();
    let output = learnloop()
        .args(["--config", config.to_str().unwrap(), "check-config"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("broken.toml:7: question `q` has kind `essay`"),
        "{stderr}"
    );
}

#[test]
fn check_config_fails_clearly_on_invalid_values() {
    for (var, value, expected) in [
        ("LEARNLOOP_LISTEN", "not-an-address", "LEARNLOOP_LISTEN"),
        (
            "LEARNLOOP_DATABASE_URL",
            "mysql://db/x",
            "unknown scheme `mysql`",
        ),
    ] {
        let output = learnloop()
            .arg("check-config")
            .env(var, value)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{var}={value}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(stderr.contains(expected), "{stderr}");
    }
}

#[test]
fn a_config_file_is_layered_under_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("learnloop.toml");
    std::fs::write(
        &file,
        "[http]\nlisten = \"127.0.0.1:4000\"\n[workspace]\ndefault_time_zone = \"Europe/Berlin\"\n",
    )
    .unwrap();
    let output = learnloop()
        .args(["--config", file.to_str().unwrap(), "check-config"])
        .env("LEARNLOOP_LISTEN", "127.0.0.1:5000")
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("127.0.0.1:5000"), "env wins: {stdout}");
    assert!(
        stdout.contains("Europe/Berlin"),
        "the file applies: {stdout}"
    );

    let missing = learnloop()
        .args(["--config", "/no/such.toml", "check-config"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn healthcheck_fails_when_nothing_listens() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let output = learnloop()
        .arg("healthcheck")
        .env("LEARNLOOP_LISTEN", format!("127.0.0.1:{port}"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        String::from_utf8(output.stderr)
            .unwrap()
            .contains("unhealthy")
    );
}

#[tokio::test]
async fn migrate_creates_and_migrates_the_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fresh.db");
    let url = format!("sqlite://{}", db.display());
    let status = learnloop()
        .arg("migrate")
        .env("LEARNLOOP_DATABASE_URL", &url)
        .status()
        .unwrap();
    assert!(status.success());
    assert!(db.exists());
    let settings = learnloop::config::DatabaseSettings {
        url: url.parse().unwrap(),
        max_connections: 1,
        busy_timeout_ms: 1000,
    };
    let store = learnloop::store::Store::connect(&settings).await.unwrap();
    assert!(store.is_ready().await, "every migration is applied");
}

#[test]
fn serve_becomes_ready_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = learnloop()
        .arg("serve")
        .env("LEARNLOOP_LISTEN", format!("127.0.0.1:{port}"))
        .env(
            "LEARNLOOP_DATABASE_URL",
            format!("sqlite://{}", dir.path().join("s.db").display()),
        )
        .env("LEARNLOOP_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let ready = loop {
        if let Ok(status) = http_get_status(port, "/readyz") {
            break status;
        }
        assert!(Instant::now() < deadline, "serve never answered");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(ready, 200);
    let healthcheck = learnloop()
        .arg("healthcheck")
        .env("LEARNLOOP_LISTEN", format!("0.0.0.0:{port}"))
        .status()
        .unwrap();
    assert!(healthcheck.success(), "the container health check passes");

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(
        status.success(),
        "a SIGTERM stop is a clean exit: {status:?}"
    );
}

/// A minimal blocking GET, so this test needs no async runtime.
fn http_get_status(port: u16, path: &str) -> std::io::Result<u16> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status line"))
}

#[test]
fn workspace_list_and_delete_give_admins_control_over_their_data() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("admin.db").display());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (kept, erased) = runtime.block_on(async {
        let settings = learnloop::config::DatabaseSettings {
            url: learnloop::config::DatabaseUrl::Sqlite(url.clone()),
            max_connections: 2,
            busy_timeout_ms: 5000,
        };
        let store = learnloop::store::Store::connect(&settings).await.unwrap();
        store.migrate().await.unwrap();
        let mut ids = Vec::new();
        for (team, name) in [("T0KEEP", "Keep"), ("T0GONE", "Gone")] {
            let new = learnloop::store::NewWorkspace {
                platform: learnloop::store::Platform::Slack,
                external_id: team,
                name: Some(name),
                default_time_zone: "UTC",
            };
            ids.push(
                store
                    .upsert_workspace(new, Timestamp::from_unix_seconds(1_800_000_000))
                    .await
                    .unwrap()
                    .id
                    .0,
            );
        }
        store.close().await;
        (ids[0], ids[1])
    });
    let run = |args: &[&str]| {
        learnloop()
            .args(args)
            .env("LEARNLOOP_DATABASE_URL", &url)
            .output()
            .unwrap()
    };
    let listed = run(&["workspace", "list"]);
    assert!(listed.status.success());
    let stdout = String::from_utf8(listed.stdout).unwrap();
    assert!(
        stdout.contains(&format!(
            "{erased}\tslack\tT0GONE\tGone\tinstalled\t2027-01-15"
        )),
        "{stdout}"
    );

    let unconfirmed = run(&["workspace", "delete", &erased.to_string()]);
    assert!(!unconfirmed.status.success());
    assert!(String::from_utf8_lossy(&unconfirmed.stderr).contains("--yes"));
    assert!(
        String::from_utf8(run(&["workspace", "list"]).stdout)
            .unwrap()
            .contains("T0GONE")
    );

    let deleted = run(&["workspace", "delete", &erased.to_string(), "--yes"]);
    assert!(deleted.status.success(), "{deleted:?}");
    let after = String::from_utf8(run(&["workspace", "list"]).stdout).unwrap();
    assert!(
        !after.contains("T0GONE") && after.contains("T0KEEP"),
        "{after}"
    );
    let again = run(&["workspace", "delete", &erased.to_string(), "--yes"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("no workspace"));
    let _ = kept;
}

#[test]
fn check_config_says_why_oauth_refuses_to_start_without_token_keys() {
    let output = learnloop()
        .arg("check-config")
        .env("LEARNLOOP_SLACK_CLIENT_ID", "111.222")
        .env("LEARNLOOP_SLACK_CLIENT_SECRET", "client-secret-value")
        .env("LEARNLOOP_PUBLIC_URL", "https://learnloop.example.com")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("LEARNLOOP_TOKEN_KEYS"), "{stderr}");
    assert!(!stderr.contains("client-secret-value"), "{stderr}");

    let keyed = learnloop()
        .arg("check-config")
        .env("LEARNLOOP_SLACK_CLIENT_ID", "111.222")
        .env("LEARNLOOP_SLACK_CLIENT_SECRET", "client-secret-value")
        .env("LEARNLOOP_PUBLIC_URL", "https://learnloop.example.com")
        .env(
            "LEARNLOOP_TOKEN_KEYS",
            "k1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=",
        )
        .output()
        .unwrap();
    assert!(keyed.status.success());
    let stdout = String::from_utf8(keyed.stdout).unwrap();
    assert!(
        !stdout.contains("client-secret-value") && !stdout.contains("AQEBAQEB"),
        "{stdout}"
    );
    assert!(stdout.contains("client_id = \"111.222\""), "{stdout}");
}

#[test]
fn backup_writes_a_consistent_private_copy_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("live.db").display());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let settings = |url: &str| learnloop::config::DatabaseSettings {
        url: learnloop::config::DatabaseUrl::Sqlite(url.to_owned()),
        max_connections: 2,
        busy_timeout_ms: 5000,
    };
    runtime.block_on(async {
        let store = learnloop::store::Store::connect(&settings(&url))
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let new = learnloop::store::NewWorkspace {
            platform: learnloop::store::Platform::Slack,
            external_id: "T0BACKUP",
            name: Some("Backed up"),
            default_time_zone: "UTC",
        };
        store
            .upsert_workspace(new, Timestamp::from_unix_seconds(1))
            .await
            .unwrap();
        store.close().await;
    });
    let copy = dir.path().join("copy.db");
    let run = || {
        learnloop()
            .args(["backup", "--to", copy.to_str().unwrap()])
            .env("LEARNLOOP_DATABASE_URL", &url)
            .output()
            .unwrap()
    };
    let first = run();
    assert!(first.status.success(), "{first:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&copy).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    let copy_url = format!("sqlite://{}", copy.display());
    runtime.block_on(async {
        let store = learnloop::store::Store::connect(&settings(&copy_url))
            .await
            .unwrap();
        let found = store
            .find_workspace(learnloop::store::Platform::Slack, "T0BACKUP")
            .await
            .unwrap();
        assert_eq!(found.name.as_deref(), Some("Backed up"));
    });
    let again = run();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));

    // A database that is not there (a wrong URL, another directory) is an error, not an
    // empty database quietly created and copied.
    let missing = dir.path().join("nowhere.db");
    let elsewhere = dir.path().join("elsewhere.db");
    let refused = learnloop()
        .args(["backup", "--to", elsewhere.to_str().unwrap()])
        .env(
            "LEARNLOOP_DATABASE_URL",
            format!("sqlite://{}", missing.display()),
        )
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("no database"),
        "{refused:?}"
    );
    assert!(!missing.exists() && !elsewhere.exists());
}
