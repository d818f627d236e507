//! `learnloop migrate-data`: an existing SQLite install moves to PostgreSQL whole,
//! verified, resumable, and never over data already there.

use std::process::Command;

use learnloop::domain::Timestamp;
use learnloop::store::scratch::ScratchDatabase;
use learnloop::store::search_terms::{Term, Terms};
use learnloop::store::transfer::Import;
use learnloop::store::{
    Audience, LessonKind, NewDebrief, NewLesson, NewOutboxMessage, NewWorkspace, Platform, Store,
    WorkspaceId, db,
};

use crate::{scratch, store_on};

/// A SQLite install with a workspace, a debrief, its lessons, a goal and a message.
async fn sqlite_install() -> (ScratchDatabase, WorkspaceId) {
    let database = ScratchDatabase::sqlite().unwrap();
    let store = store_on(&database).await;
    let ws = store
        .upsert_workspace(
            NewWorkspace {
                platform: Platform::Slack,
                external_id: "T0MOVE",
                name: Some("Acmé"),
                default_time_zone: "Europe/Paris",
            },
            Timestamp::from_unix_seconds(1),
        )
        .await
        .unwrap()
        .id;
    let mut tx = store.begin().await.unwrap();
    let debrief = tx
        .create_debrief(
            NewDebrief {
                workspace: ws,
                channel: "C1",
                title: "Release 2.3 rollout",
                template: "retro",
                questions: "[]",
                facilitator: "U1",
                anonymous: false,
                author_salt: "salt",
                closes_at: None,
            },
            Timestamp::from_unix_seconds(2),
        )
        .await
        .unwrap();
    for (text, tags) in [
        ("Feature flags let us roll back in minutes", "deploy"),
        ("L'équipe écrit le runbook d'abord", ""),
    ] {
        tx.insert_lesson(
            NewLesson {
                workspace: ws,
                debrief,
                debrief_title: "Release 2.3 rollout",
                kind: LessonKind::Lesson,
                text,
                author: Some("U1"),
                owner: Some("U1"),
                tags,
                shared: true,
                follow_up_at: Some(Timestamp::from_unix_seconds(100)),
            },
            Timestamp::from_unix_seconds(3),
        )
        .await
        .unwrap();
    }
    tx.enqueue(
        NewOutboxMessage::post(ws, "C1", r#"{"channel":"C1","text":"hi"}"#),
        Timestamp::from_millis(4),
        Timestamp::from_millis(5),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    // One lesson applied, so the outcome counts have something to carry.
    let pool = db::Pool::connect(database.url()).await.unwrap();
    db::query("UPDATE lessons SET status = 'applied', settled_at = 1000000 WHERE tags = 'deploy'")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    store
        .add_goal(
            ws,
            "U1",
            "Learn Rust's borrow checker",
            None,
            Timestamp::from_unix_seconds(6),
        )
        .await
        .unwrap();
    store.close().await;
    (database, ws)
}

fn migrate_data(from: &ScratchDatabase, to: &ScratchDatabase) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_learnloop"))
        .args(["migrate-data", "--from", from.url(), "--to", to.url()])
        .env_clear()
        .env("LEARNLOOP_LOG", "warn")
        .output()
        .expect("the learnloop binary runs")
}

async fn search(store: &Store, ws: WorkspaceId, word: &str) -> Vec<String> {
    let terms = Terms::every(vec![Term::phrase(word).unwrap()]).unwrap();
    store
        .search_lessons(ws, &terms, Audience::In("C1"), 10)
        .await
        .unwrap()
        .into_iter()
        .map(|hit| hit.text)
        .collect()
}

#[tokio::test]
async fn an_install_moves_whole_and_verified_and_a_second_run_is_refused() {
    let (source, ws) = sqlite_install().await;
    let target = scratch().await;
    let moved = migrate_data(&source, &target);
    let (out, err) = (
        String::from_utf8_lossy(&moved.stdout),
        String::from_utf8_lossy(&moved.stderr),
    );
    assert!(moved.status.success(), "{out}\n{err}");
    assert!(out.contains("lessons\t2\t"), "{out}");
    assert!(out.contains("workspaces\t1\t"), "{out}");
    assert!(err.contains("copied lessons: 2 rows, verified"), "{err}");
    assert!(!err.contains('\r'), "no progress bar off a terminal");

    let store = store_on(&target).await;
    // Search works on what was moved: text, the debrief's title, accents folded.
    assert_eq!(
        search(&store, ws, "roll back").await,
        ["Feature flags let us roll back in minutes"]
    );
    assert_eq!(search(&store, ws, "rollout").await.len(), 2);
    assert_eq!(search(&store, ws, "equipe").await.len(), 1);
    let goals = store.goals(ws, "U1").await.unwrap();
    assert_eq!(goals[0].text, "Learn Rust's borrow checker");
    // New rows get ids after the moved ones.
    let next = store
        .upsert_workspace(
            NewWorkspace {
                platform: Platform::Slack,
                external_id: "T0NEXT",
                name: None,
                default_time_zone: "UTC",
            },
            Timestamp::from_unix_seconds(9),
        )
        .await
        .unwrap()
        .id;
    assert!(next.0 > ws.0);
    // The lesson trigger was off for the copy: only the source's waiting rows.
    let pool = db::Pool::connect(target.url()).await.unwrap();
    let waiting: i64 = db::query_scalar("SELECT COUNT(*) FROM lessons_to_match")
        .fetch_one(&pool)
        .await
        .unwrap();
    let source_pool = db::Pool::connect(source.url()).await.unwrap();
    let waiting_before: i64 = db::query_scalar("SELECT COUNT(*) FROM lessons_to_match")
        .fetch_one(&source_pool)
        .await
        .unwrap();
    assert_eq!(waiting, waiting_before);
    // The outcome counts come as they were (the triggers that keep them were off).
    let counts = "SELECT week, channel, shared, applied, settled, asked FROM outcome_weeks";
    let moved: Vec<(i64, String, i64, i64, i64, i64)> =
        db::query_as(counts).fetch_all(&pool).await.unwrap();
    let before: Vec<(i64, String, i64, i64, i64, i64)> =
        db::query_as(counts).fetch_all(&source_pool).await.unwrap();
    assert_eq!(moved, before);
    assert_eq!(moved, [(1, "C1".to_owned(), 1, 1, 1, 0)]);

    let again = migrate_data(&source, &target);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already holds data"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}

#[tokio::test]
async fn a_run_that_stopped_resumes_at_the_first_table_not_done() {
    let (source, ws) = sqlite_install().await;
    let target = scratch().await;
    {
        // A run stopped after two tables.
        let from = store_on(&source).await;
        let to = store_on(&target).await;
        let mut import = Import::prepare(&from, &to).await.unwrap();
        for _ in 0..2 {
            import.copy_next(|_, _| {}).await.unwrap().expect("a table");
        }
    }
    let resumed = migrate_data(&source, &target);
    let err = String::from_utf8_lossy(&resumed.stderr);
    assert!(resumed.status.success(), "{err}");
    assert!(err.contains("resuming: 2 tables"), "{err}");
    let store = store_on(&target).await;
    assert_eq!(
        store
            .lessons_of(ws, learnloop::store::DebriefId(1))
            .await
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn a_resumed_run_refuses_a_source_that_changed_since_it_stopped() {
    let (source, ws) = sqlite_install().await;
    let target = scratch().await;
    {
        let from = store_on(&source).await;
        let to = store_on(&target).await;
        let mut import = Import::prepare(&from, &to).await.unwrap();
        while let Some(copied) = import.copy_next(|_, _| {}).await.unwrap() {
            if copied.name == "workspaces" {
                break;
            }
        }
        // The service ran again meanwhile: a workspace's name changed.
        from.upsert_workspace(
            NewWorkspace {
                platform: Platform::Slack,
                external_id: "T0MOVE",
                name: Some("Acme renamed"),
                default_time_zone: "Europe/Paris",
            },
            Timestamp::from_unix_seconds(7),
        )
        .await
        .unwrap();
        assert_eq!(
            from.workspace_by_id(ws).await.unwrap().name.as_deref(),
            Some("Acme renamed")
        );
    }
    let resumed = migrate_data(&source, &target);
    let err = String::from_utf8_lossy(&resumed.stderr);
    assert!(!resumed.status.success());
    assert!(err.contains("changed in the SQLite database"), "{err}");
}
