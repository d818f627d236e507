//! `learnloop export`: a workspace's lessons, actions, follow-ups and debriefs as CSV,
//! JSON and Markdown, from the binary, with nothing of another workspace in them.

use learnloop::config::{DatabaseSettings, DatabaseUrl};
use learnloop::domain::Timestamp;
use learnloop::store::db::{self, Pool};
use learnloop::store::{LessonKind, Store};
use serde_json::Value;

use crate::cli::learnloop;
use crate::support::seed::{self, Said};

/// 2027-01-15 08:00 UTC.
const AT: i64 = 1_800_000_000;

/// A workspace with a debrief, two lessons (one said in private), an action owned by
/// Bob with a follow-up answered; and another workspace whose lesson must never show.
async fn seeded(url: &str) -> i64 {
    let settings = DatabaseSettings {
        url: DatabaseUrl::Sqlite(url.to_owned()),
        max_connections: 2,
        busy_timeout_ms: 5000,
    };
    let store = Store::connect(&settings).await.unwrap();
    store.migrate().await.unwrap();
    let ours = seed::workspace(&store, "T0OURS", None, AT).await;
    let title = "Launch *day*";
    let launch = seed::debrief(&store, ours, "C0LAUNCH", title, AT).await;
    let at = (ours, launch, title);
    let said = |kind, text, owner, shared| Said {
        kind,
        text,
        owner,
        shared,
    };
    let flags = said(LessonKind::Lesson, "Feature flags, \"always\"", None, true);
    seed::lesson(&store, at, flags, AT + 60).await;
    seed::lesson(
        &store,
        at,
        said(LessonKind::Lesson, "Pager rota was unclear", None, false),
        AT + 60,
    )
    .await;
    let action = "=HYPERLINK(\"http://evil\") rotate keys";
    let action = seed::lesson(
        &store,
        at,
        said(LessonKind::Action, action, Some("U0BOB"), true),
        AT + 60,
    )
    .await;
    store
        .ensure_person(ours, "U0BOB", Timestamp::from_unix_seconds(AT))
        .await
        .unwrap();
    store
        .update_person_profile(
            ours,
            "U0BOB",
            Some("Bob"),
            None,
            Timestamp::from_unix_seconds(AT),
        )
        .await
        .unwrap();
    let pool = Pool::connect(url).await.unwrap();
    db::query(
        "INSERT INTO follow_ups (workspace_id, lesson_id, person, asked_at, answer, note, answered_at) \
         VALUES (?, ?, 'U0BOB', ?, 'applied', 'Done, with a runbook', ?)",
    )
    .bind(ours.0)
    .bind(action)
    .bind(AT + 86_400)
    .bind(AT + 90_000)
    .execute(&pool)
    .await
    .unwrap();
    let theirs = seed::workspace(&store, "T0THEIRS", None, AT).await;
    let secret = seed::debrief(&store, theirs, "C0LAUNCH", "Their secret launch", AT).await;
    let at = (theirs, secret, "Their secret launch");
    seed::lesson(
        &store,
        at,
        said(LessonKind::Lesson, "Their secret lesson", None, true),
        AT + 60,
    )
    .await;
    store.close().await;
    ours.0
}

/// A seeded SQLite file for the binary to export from: its directory (kept while the
/// test runs), its URL, and the id of the workspace with data.
fn seeded_file() -> (tempfile::TempDir, String, i64) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("export.db").display());
    let ours = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(seeded(&url));
    (dir, url, ours)
}

fn run(url: &str, args: &[&str]) -> std::process::Output {
    learnloop()
        .arg("export")
        .args(args)
        .env("LEARNLOOP_DATABASE_URL", url)
        .output()
        .unwrap()
}

fn stdout_of(output: std::process::Output) -> String {
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn an_admin_exports_a_workspace_as_csv_json_and_markdown_and_nothing_of_another() {
    let (dir, url, ours) = seeded_file();
    let ours = ours.to_string();

    let csv = stdout_of(run(&url, &["--workspace", &ours, "--format", "csv"]));
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("id,kind,text,tags,status,owner,owner_name,"),
        "{csv}"
    );
    assert_eq!(lines.len(), 3, "a header and two lessons: {csv}");
    assert!(
        csv.contains(",\"Feature flags, \"\"always\"\"\",deploy,open,"),
        "{csv}"
    );
    assert!(
        csv.contains(",private,C0LAUNCH,"),
        "a private lesson says so: {csv}"
    );
    assert!(
        csv.contains(",2027-01-15T08:01:00Z,"),
        "times in ISO 8601: {csv}"
    );
    assert!(!csv.contains("secret"), "another workspace's lesson: {csv}");

    let actions = stdout_of(run(
        &url,
        &["--workspace", &ours, "--format", "csv", "--what", "actions"],
    ));
    assert!(
        actions.contains(",\"'=HYPERLINK(\"\"http://evil\"\") rotate keys\","),
        "a formula is text in a spreadsheet: {actions}"
    );
    assert!(actions.contains(",U0BOB,Bob,"), "{actions}");

    let json = stdout_of(run(
        &url,
        &[
            "--workspace",
            &ours,
            "--format",
            "json",
            "--what",
            "follow-ups",
        ],
    ));
    let follow_ups: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(follow_ups.as_array().unwrap().len(), 1, "{json}");
    assert_eq!(follow_ups[0]["answer"], "applied");
    assert_eq!(follow_ups[0]["note"], "Done, with a runbook");
    assert_eq!(
        follow_ups[0]["lesson_text"],
        "=HYPERLINK(\"http://evil\") rotate keys"
    );
    let debriefs: Value = serde_json::from_str(&stdout_of(run(
        &url,
        &[
            "--workspace",
            &ours,
            "--format",
            "json",
            "--what",
            "debriefs",
        ],
    )))
    .unwrap();
    assert_eq!(debriefs[0]["title"], "Launch *day*");
    assert_eq!(
        (&debriefs[0]["lessons"], &debriefs[0]["actions"]),
        (&2.into(), &1.into())
    );
    assert_eq!(debriefs[0]["closed_at"], Value::Null);

    let file = dir.path().join("lessons-learned.md");
    let written = run(
        &url,
        &[
            "--workspace",
            &ours,
            "--format",
            "markdown",
            "--out",
            file.to_str().unwrap(),
        ],
    );
    assert!(written.status.success(), "{written:?}");
    assert!(String::from_utf8_lossy(&written.stderr).contains("wrote 1 rows"));
    let markdown = std::fs::read_to_string(&file).unwrap();
    assert!(
        markdown.starts_with("# Lessons learned: Launch \\*day\\*\n"),
        "{markdown}"
    );
    assert!(
        markdown.contains("- Feature flags, \"always\" (tags: deploy)\n"),
        "{markdown}"
    );
    assert!(
        markdown
            .contains("- Pager rota was unclear (tags: deploy) (said in a private conversation)")
    );
    assert!(markdown.contains("(owner: Bob; open)"), "{markdown}");
    assert!(!markdown.contains("secret"), "{markdown}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "the team's private lessons, its owner's only"
        );
    }
}

#[test]
fn exporting_a_workspace_that_is_not_there_says_so() {
    let (_dir, url, _) = seeded_file();
    let missing = run(&url, &["--workspace", "999"]);
    assert!(!missing.status.success());
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("no workspace 999"),
        "{missing:?}"
    );
    let wrong = run(&url, &["--workspace", "1", "--format", "xml"]);
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("csv, json, markdown"));
}
