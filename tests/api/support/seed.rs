//! Rows written straight to the store, for tests that start from data rather than from
//! a conversation: a workspace, a debrief, a lesson.

use learnloop::domain::Timestamp;
use learnloop::store::{
    DebriefId, LessonKind, NewDebrief, NewLesson, NewWorkspace, Platform, Store, WorkspaceId,
};

/// An installed Slack workspace, first seen at `at` (Unix seconds).
pub async fn workspace(store: &Store, team: &str, name: Option<&str>, at: i64) -> WorkspaceId {
    let new = NewWorkspace {
        platform: Platform::Slack,
        external_id: team,
        name,
        default_time_zone: "UTC",
    };
    store
        .upsert_workspace(new, Timestamp::from_unix_seconds(at))
        .await
        .unwrap()
        .id
}

/// A named debrief in `channel`, facilitated by U0ALICE, started at `at`.
pub async fn debrief(
    store: &Store,
    ws: WorkspaceId,
    channel: &str,
    title: &str,
    at: i64,
) -> DebriefId {
    let mut tx = store.begin().await.unwrap();
    let new = NewDebrief {
        workspace: ws,
        channel,
        title,
        template: "retro",
        questions: "[]",
        facilitator: "U0ALICE",
        anonymous: false,
        author_salt: "salt",
        closes_at: None,
    };
    let id = tx
        .create_debrief(new, Timestamp::from_unix_seconds(at))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

/// What a seeded lesson says: its kind, text, owner, and whether it may be shared.
pub struct Said<'a> {
    pub kind: LessonKind,
    pub text: &'a str,
    pub owner: Option<&'a str>,
    pub shared: bool,
}

/// A lesson of `debrief` (titled `title`) by U0ALICE, tagged `deploy`, stored at `at`.
pub async fn lesson(
    store: &Store,
    (ws, debrief, title): (WorkspaceId, DebriefId, &str),
    said: Said<'_>,
    at: i64,
) -> i64 {
    let mut tx = store.begin().await.unwrap();
    let new = NewLesson {
        workspace: ws,
        debrief,
        debrief_title: title,
        kind: said.kind,
        text: said.text,
        author: Some("U0ALICE"),
        owner: said.owner,
        tags: "deploy",
        shared: said.shared,
        follow_up_at: None,
    };
    let id = tx
        .insert_lesson(new, Timestamp::from_unix_seconds(at))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}
