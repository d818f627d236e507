//! Schedules end to end: the commands that manage them, and firing on a moved clock:
//! once per occurrence, missed occurrences after downtime, holidays, two processes.

use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, TimeZone, Utc};
use learnloop::app::templates::Templates;
use learnloop::domain::Schedule;
use learnloop::scheduler::{FireReport, Scheduler};
use learnloop::store::{NewSchedule, ScheduleId, ScheduleKind};
use wiremock::Mock;
use wiremock::matchers::method;

use crate::support::rig::{Rig, default_delivery, ok, rig, store_on};
use crate::support::{reply_text, spawn_app};
use learnloop::domain::Timestamp;

const GRACE: Duration = Duration::from_secs(6 * 3600);

/// Monday 7 December 2026, 09:00 UTC.
fn monday_nine() -> i64 {
    Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0)
        .unwrap()
        .timestamp()
}

fn scheduler(rig: &Rig, holidays: Vec<NaiveDate>) -> Scheduler {
    Scheduler::new(
        rig.store.clone(),
        rig.clock.clone(),
        rig.delivery.clone(),
        Arc::new(Templates::built_in().unwrap()),
        GRACE,
        holidays,
    )
}

/// A daily 09:00 UTC retro reminder in C1, first due at `monday_nine()`.
async fn daily_nine(rig: &Rig) -> ScheduleId {
    let schedule = Schedule::parse(
        "daily 9:00",
        chrono_tz::UTC,
        NaiveDate::from_ymd_opt(2026, 12, 6).unwrap(),
    )
    .unwrap();
    let first = schedule
        .next_after(Utc.timestamp_opt(monday_nine() - 1, 0).unwrap())
        .unwrap();
    assert_eq!(first.timestamp(), monday_nine());
    rig.store
        .create_schedule(
            NewSchedule {
                workspace: rig.workspace,
                kind: ScheduleKind::Retro,
                channel: "C1",
                spec: "daily 9:00",
                time_zone: "UTC",
                anchor_date: "2026-12-06",
                template: None,
                next_fire_at: Timestamp::from(first),
                created_by: "U1",
                person: None,
            },
            Timestamp::from_unix_seconds(monday_nine() - 3600),
        )
        .await
        .unwrap()
}

async fn rig_at(unix: i64) -> Rig {
    let rig = rig(default_delivery()).await;
    rig.clock.set(unix);
    Mock::given(method("POST"))
        .respond_with(ok())
        .mount(&rig.slack)
        .await;
    rig
}

async fn runs(rig: &Rig, id: ScheduleId) -> Vec<(i64, String)> {
    rig.store.schedule_runs(rig.workspace, id).await.unwrap()
}

#[tokio::test]
async fn a_due_reminder_fires_once_and_reaches_its_channel() {
    let rig = rig_at(monday_nine() - 60).await;
    let sched = scheduler(&rig, vec![]);
    let id = daily_nine(&rig).await;

    assert_eq!(
        sched.fire_due().await.unwrap(),
        FireReport::default(),
        "not yet due"
    );
    rig.clock.set(monday_nine());
    let report = sched.fire_due().await.unwrap();
    assert_eq!((report.due, report.sent), (1, 1));
    assert_eq!(
        sched.fire_due().await.unwrap().due,
        0,
        "fired once; next is tomorrow"
    );

    assert_eq!(rig.delivery.run_once().await.unwrap().sent, 1);
    let requests = rig.slack.received_requests().await.unwrap();
    let body: serde_json::Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(body["channel"], "C1");
    assert!(
        body["text"].as_str().unwrap().contains("/debrief Retro"),
        "{body}"
    );
    assert!(
        body.to_string().contains("\"action_id\":\"debrief.start\""),
        "a button starts the retro: {body}"
    );
    assert_eq!(runs(&rig, id).await, [(monday_nine(), "sent".to_owned())]);

    rig.clock.set(monday_nine() + 86_400);
    assert_eq!(
        sched.fire_due().await.unwrap().sent,
        1,
        "and again the next day"
    );
}

#[tokio::test]
async fn after_a_week_of_downtime_only_the_latest_recent_occurrence_fires() {
    let rig = rig_at(monday_nine()).await;
    let id = daily_nine(&rig).await;
    // Down for a week; back two hours after the 7th occurrence: within the grace period.
    rig.clock.set(monday_nine() + 7 * 86_400 + 2 * 3600);
    let report = scheduler(&rig, vec![]).fire_due().await.unwrap();
    assert_eq!((report.sent, report.skipped), (1, 0));
    assert_eq!(
        runs(&rig, id).await,
        [(monday_nine() + 7 * 86_400, "sent".to_owned())]
    );
    assert_eq!(
        rig.delivery.run_once().await.unwrap().sent,
        1,
        "one reminder, not eight"
    );
}

#[tokio::test]
async fn an_occurrence_older_than_the_grace_period_is_skipped_not_sent() {
    let rig = rig_at(monday_nine()).await;
    let id = daily_nine(&rig).await;
    // Back at 16:00: today's 09:00 is 7 h old, beyond the 6 h grace.
    rig.clock.set(monday_nine() + 7 * 3600);
    let report = scheduler(&rig, vec![]).fire_due().await.unwrap();
    assert_eq!((report.sent, report.skipped), (0, 1));
    assert_eq!(runs(&rig, id).await, [(monday_nine(), "missed".to_owned())]);
    assert_eq!(
        rig.delivery.run_once().await.unwrap().claimed,
        0,
        "nothing was queued"
    );
}

#[tokio::test]
async fn holidays_are_skipped() {
    let rig = rig_at(monday_nine()).await;
    let id = daily_nine(&rig).await;
    let sched = scheduler(&rig, vec![NaiveDate::from_ymd_opt(2026, 12, 7).unwrap()]);
    assert_eq!(sched.fire_due().await.unwrap().skipped, 1);
    rig.clock.set(monday_nine() + 86_400);
    assert_eq!(
        sched.fire_due().await.unwrap().sent,
        1,
        "the day after is no holiday"
    );
    assert_eq!(
        runs(&rig, id).await,
        [
            (monday_nine(), "holiday".to_owned()),
            (monday_nine() + 86_400, "sent".to_owned())
        ]
    );
}

#[tokio::test]
async fn two_schedulers_on_one_database_fire_each_occurrence_once() {
    let rig = rig_at(monday_nine()).await;
    let mut ids = Vec::new();
    for _ in 0..20 {
        ids.push(daily_nine(&rig).await);
    }
    let other_store = store_on(&rig.database).await;
    let a = scheduler(&rig, vec![]);
    let b = Scheduler::new(
        other_store,
        rig.clock.clone(),
        rig.delivery.clone(),
        Arc::new(Templates::built_in().unwrap()),
        GRACE,
        vec![],
    );
    let (ra, rb) = tokio::join!(a.fire_due(), b.fire_due());
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(ra.sent + rb.sent, 20, "{ra:?} {rb:?}");
    for id in ids {
        assert_eq!(runs(&rig, id).await.len(), 1);
    }
    let mut sent = 0;
    for _ in 0..5 {
        sent += rig.delivery.run_once().await.unwrap().sent;
        rig.clock.advance(1);
    }
    // All 20 go to C1, one per second; advance further to drain.
    for _ in 0..30 {
        sent += rig.delivery.run_once().await.unwrap().sent;
        rig.clock.advance(1);
    }
    assert_eq!(sent, 20);
    assert_eq!(
        rig.slack.received_requests().await.unwrap().len(),
        20,
        "no reminder twice"
    );
}

#[tokio::test]
async fn channel_schedules_are_set_listed_and_removed_by_command() {
    let app = spawn_app().await;
    let reply = reply_text(
        &app.command_reply("/learn", "retro fridays 16:00 --template aar")
            .await,
    );
    assert!(reply.contains("Retro reminder set"), "{reply}");
    assert!(
        reply.contains("`/learn unschedule 1` removes it"),
        "{reply}"
    );
    assert!(
        !reply.contains('#'),
        "no schedule numbers with a #: {reply}"
    );
    assert!(reply.contains("`fridays 16:00` (UTC)"), "{reply}");
    assert_eq!(
        reply.matches("Fri ").count(),
        3,
        "the next three fire times: {reply}"
    );

    let berlin = reply_text(
        &app.command_reply("/learn", "retro weekdays 9:30 --tz Europe/Berlin")
            .await,
    );
    assert!(
        berlin.contains("`weekdays 9:30` (Europe/Berlin)"),
        "{berlin}"
    );

    let listed = reply_text(&app.command_reply("/learn", "schedules").await);
    assert!(
        listed.contains("• retro reminder `fridays 16:00` (UTC), next Fri"),
        "{listed}"
    );
    assert!(
        listed.contains("• retro reminder `weekdays 9:30` (Europe/Berlin), next"),
        "{listed}"
    );

    let unknown = reply_text(
        &app.command_reply("/learn", "retro fridays 16:00 --template nonsense")
            .await,
    );
    assert!(
        unknown.contains("no template `nonsense`. Available: `aar`, `checkin`, `failure-story`, `project`, `retro`"),
        "{unknown}"
    );

    let wrong = reply_text(&app.command_reply("/learn", "retro sometime soon").await);
    assert!(wrong.contains("couldn't read `sometime soon`"), "{wrong}");
    assert!(
        wrong.contains("`every 2 weeks on thursday 15:00`"),
        "three examples: {wrong}"
    );
    let noisy = reply_text(&app.command_reply("/learn", "retro */5 * * * *").await);
    assert!(noisy.contains("at least an hour apart"), "{noisy}");

    let missing = reply_text(&app.command_reply("/learn", "unschedule 99").await);
    assert!(missing.contains("no schedule number 99"), "{missing}");
    let removed = reply_text(&app.command_reply("/learn", "unschedule 1").await);
    assert!(
        removed.contains("Removed the retro reminder `fridays 16:00`"),
        "{removed}"
    );
    let removed = reply_text(&app.command_reply("/learn", "unschedule 2").await);
    assert!(
        removed.contains("Removed the retro reminder `weekdays 9:30`"),
        "{removed}"
    );
    let empty = reply_text(&app.command_reply("/learn", "schedules").await);
    assert!(empty.contains("no schedules"), "{empty}");
    app.stop().await;
}

#[tokio::test]
async fn pause_and_resume_by_command() {
    let app = spawn_app().await;
    let paused = reply_text(&app.command_reply("/learn", "pause 2w").await);
    assert!(paused.contains("paused until"), "{paused}");
    let past = reply_text(&app.command_reply("/learn", "pause until 2020-01-01").await);
    assert!(past.contains("not in the future"), "{past}");
    let resumed = reply_text(&app.command_reply("/learn", "resume").await);
    assert!(resumed.contains("Welcome back"), "{resumed}");
    let again = reply_text(&app.command_reply("/learn", "resume").await);
    assert!(again.contains("were not paused"), "{again}");
    app.stop().await;
}

#[tokio::test]
async fn times_are_echoed_in_the_persons_own_zone_looked_up_once() {
    use wiremock::ResponseTemplate;
    use wiremock::matchers::path;

    let app = spawn_app().await;
    Mock::given(path("/api/users.info"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            serde_json::json!({"ok": true, "user": {"id": "U0ALICE", "tz": "America/New_York"}}),
        ))
        .mount(&app.slack)
        .await;
    let reply = reply_text(
        &app.command_reply("/learn", "retro fridays 16:00 --tz Europe/Berlin")
            .await,
    );
    assert!(reply.contains("(Europe/Berlin)"), "{reply}");
    assert!(
        reply.contains("In your time zone (America/New_York): Fri"),
        "{reply}"
    );

    let in_a_month = (Utc::now() + chrono::Duration::days(30)).format("%Y-%m-%d");
    let paused = reply_text(
        &app.command_reply("/learn", &format!("pause until {in_a_month}"))
            .await,
    );
    assert!(
        paused.contains("00:00 (America/New_York)"),
        "midnight where Alice is: {paused}"
    );

    let lookups = app
        .slack
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == "/api/users.info")
        .count();
    assert_eq!(lookups, 1, "the zone is cached on the person");
    app.stop().await;
}

#[tokio::test]
async fn a_paused_persons_personal_prompt_is_skipped_until_the_pause_ends() {
    let rig = rig_at(monday_nine()).await;
    let id = rig
        .store
        .create_schedule(
            NewSchedule {
                workspace: rig.workspace,
                kind: ScheduleKind::Checkin,
                channel: "D9",
                spec: "daily 9:00",
                time_zone: "UTC",
                anchor_date: "2026-12-06",
                template: Some("checkin"),
                next_fire_at: Timestamp::from_unix_seconds(monday_nine()),
                created_by: "U9",
                person: Some("U9"),
            },
            Timestamp::from_unix_seconds(monday_nine() - 3600),
        )
        .await
        .unwrap();
    rig.store
        .set_paused_until(
            rig.workspace,
            "U9",
            Some(monday_nine() + 3600),
            Timestamp::from_unix_seconds(monday_nine() - 60),
        )
        .await
        .unwrap();
    let sched = scheduler(&rig, vec![]);
    assert_eq!(sched.fire_due().await.unwrap().skipped, 1);
    rig.clock.set(monday_nine() + 86_400);
    assert_eq!(sched.fire_due().await.unwrap().sent, 1, "the pause is over");
    assert_eq!(
        runs(&rig, id).await,
        [
            (monday_nine(), "paused".to_owned()),
            (monday_nine() + 86_400, "sent".to_owned())
        ]
    );
}

#[tokio::test]
async fn two_app_replicas_on_one_database_post_a_due_reminder_once() {
    let app = spawn_app().await;
    let replica = app.spawn_replica().await;
    let store = app.store().await;
    let workspace = store
        .upsert_workspace(
            learnloop::store::NewWorkspace {
                platform: learnloop::store::Platform::Slack,
                external_id: crate::support::TEAM,
                name: None,
                default_time_zone: "UTC",
            },
            Timestamp::from(Utc::now()),
        )
        .await
        .unwrap()
        .id;
    for channel in ["C1", "C2", "C3"] {
        store
            .create_schedule(
                NewSchedule {
                    workspace,
                    kind: ScheduleKind::Retro,
                    channel,
                    spec: "daily 9:00",
                    time_zone: "UTC",
                    anchor_date: "2026-11-23",
                    template: None,
                    next_fire_at: Timestamp::from(Utc::now()).plus_seconds(-1),
                    created_by: "U1",
                    person: None,
                },
                Timestamp::from(Utc::now()),
            )
            .await
            .unwrap();
    }
    // Both processes look at the same due schedules at the same moment.
    app.scheduler.wake();
    replica.scheduler.wake();
    app.wait_for_slack_calls("chat.postMessage", 3).await;
    replica.stop().await;
    app.stop().await;
    let calls = app.slack_calls("chat.postMessage").await;
    let mut channels: Vec<&str> = calls
        .iter()
        .map(|c| c["channel"].as_str().unwrap())
        .collect();
    channels.sort_unstable();
    assert_eq!(channels, ["C1", "C2", "C3"], "each reminder exactly once");
    assert_eq!(
        store.next_outbox_due().await.unwrap(),
        None,
        "and no second copy waits in the outbox"
    );
}

#[tokio::test]
async fn a_backlog_of_lessons_to_match_never_holds_up_a_due_prompt() {
    use learnloop::app::recurrence::Budget;
    use learnloop::store::{LessonKind, NewDebrief, NewLesson};
    let rig = rig_at(monday_nine()).await;
    let id = daily_nine(&rig).await;
    // 600 new lessons wait to be matched for the digest's recurrences.
    let mut tx = rig.store.begin().await.unwrap();
    let debrief = tx
        .create_debrief(
            NewDebrief {
                workspace: rig.workspace,
                channel: "C1",
                title: "Big retro",
                template: "retro",
                questions: "[]",
                facilitator: "U1",
                anonymous: false,
                author_salt: "salt",
                closes_at: None,
            },
            Timestamp::from_unix_seconds(monday_nine() - 60),
        )
        .await
        .unwrap();
    for i in 0..600 {
        let text = format!("note{i} on the deploy pipeline, item{i} of part{}", i % 37);
        tx.insert_lesson(
            NewLesson {
                workspace: rig.workspace,
                debrief,
                debrief_title: "Big retro",
                kind: LessonKind::Lesson,
                text: &text,
                author: Some("U1"),
                owner: None,
                tags: "",
                shared: true,
                follow_up_at: None,
            },
            Timestamp::from_unix_seconds(monday_nine() - 60),
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    // A pass may match 100 lessons; the prompt is queued first all the same.
    let scheduler = scheduler(&rig, vec![]).with_matching_budget(Budget {
        lessons: 100,
        time: Duration::MAX,
    });
    let report = scheduler.fire_due().await.unwrap();
    assert_eq!(report.sent, 1, "{report:?}");
    assert_eq!(
        report.lessons_matched, 100,
        "the rest waits for the next passes"
    );
    assert_eq!(runs(&rig, id).await.len(), 1);
    // The next passes work the backlog off without firing anything again.
    let mut matched = report.lessons_matched;
    while matched < 600 {
        let next = scheduler.fire_due().await.unwrap();
        assert_eq!(next.sent, 0);
        assert!(next.lessons_matched > 0);
        matched += next.lessons_matched;
    }
    assert_eq!(matched, 600);
    assert_eq!(scheduler.fire_due().await.unwrap().lessons_matched, 0);
}
