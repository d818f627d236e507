//! One snapshot per kind of message the bot sends, rendered for each platform: Slack
//! Block Kit (`chat.postMessage` body) and the Teams Adaptive Card activity. A renderer
//! change shows up here as a diff to review.
//!
//! The snapshots live in `tests/snapshots/KIND.PLATFORM.json`. After an intended change,
//! `LEARNLOOP_UPDATE_SNAPSHOTS=1 cargo test snapshot` rewrites them; review the diff.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use chrono_tz::Tz;
use serde_json::Value;

use super::command::parse_learn;
use super::debrief::card::card;
use super::debrief::nudge::nudge_message;
use super::debrief::review::{Candidate, Decision, ReviewPage, Verdict};
use super::debrief::summary::{Listed, Made, Reflected, summary};
use super::debrief::timers::reminder;
use super::debrief::{Debrief, Shown, StartChoices, reflection_form, review_form, start_form};
use super::digest::{Recurring, WEEK_SECS, render};
use super::{checkins, followups, messages};
use crate::domain::Timestamp;
use crate::platform::outgoing::no_names;
use crate::platform::slack::blocks::post_message_body;
use crate::platform::teams::card_activity;
use crate::platform::{Form, Message};
use crate::store::{
    AnsweredFollowUp, AskedLesson, ConversationKind, DigestFacts, KudosLine, LessonHit, LessonKind,
    OpenAction, ReachedGoal, SettledAction, TrackedLesson,
};

fn hit(id: i64, text: &str) -> LessonHit {
    LessonHit {
        id,
        text: text.into(),
        tags: "deploy".into(),
        owner: Some("U2".into()),
        status: "open".into(),
        debrief_id: 7,
        debrief_title: "Release 2.3".into(),
        channel: "C1".into(),
        created_at: Timestamp::from_unix_seconds(1_764_000_000),
    }
}

/// A representative message of every kind.
fn messages_by_kind() -> Vec<(&'static str, Message)> {
    let usage = parse_learn("goal add").expect_err("a usage error");
    let berlin = Tz::Europe__Berlin;
    // Closing Thu 5 Nov 2026, 17:00 in Berlin.
    let mut debrief = Debrief::sample(false, false);
    debrief.closes_at = Some(Timestamp::from_unix_seconds(1_793_894_400));
    let summary_parts = summary(
        &Debrief::sample(false, true),
        &[Reflected {
            author: Some("U2".into()),
            answers: BTreeMap::from([
                (
                    "went_well".to_owned(),
                    "Feature flags let us roll back fast".to_owned(),
                ),
                ("mood".to_owned(), "4".to_owned()),
                ("kudos".to_owned(), "<@U3> for the calm rollback".to_owned()),
            ]),
        }],
        &Made {
            lessons: vec![Listed {
                text: "Feature flags let us roll back fast".into(),
                author: Some("U2".into()),
                owner: Some("U2".into()),
                follow_up: "Mon 7 Dec".into(),
                count: 2,
            }],
            actions: vec![Listed {
                text: "Write the rollback runbook".into(),
                author: Some("U2".into()),
                owner: Some("U3".into()),
                follow_up: "Mon 7 Dec".into(),
                count: 1,
            }],
            kudos: vec![Listed {
                text: "<@U3> for the calm rollback".into(),
                author: Some("U2".into()),
                owner: None,
                follow_up: String::new(),
                count: 1,
            }],
            dropped: 1,
            since: vec![SettledAction {
                text: "Write the rollback runbook".into(),
                owner: Some("U3".into()),
                outcome: "done".into(),
            }],
            ..Made::default()
        },
        crate::app::scopes::who_sees(ConversationKind::PublicChannel),
    );
    let lesson = TrackedLesson {
        id: 9,
        workspace_id: 1,
        kind: "lesson".into(),
        text: "Announce deploys in the channel".into(),
        owner: Some("U2".into()),
        status: "open".into(),
        not_yet_count: 0,
        follow_up_at: Some(Timestamp::from_unix_seconds(1_765_000_000)),
        debrief_title: "Release 2.3".into(),
        channel: "C1".into(),
        debrief_created_at: Timestamp::from_unix_seconds(1_764_000_000),
    };
    let facts = DigestFacts {
        new_lessons: vec![hit(1, "Pin versions"), hit(2, "Page early")],
        answered: vec![AnsweredFollowUp {
            answer: "applied".into(),
            note: None,
            text: "Announce deploys".into(),
            owner: Some("U2".into()),
            tags: "deploy".into(),
            debrief_title: "Outage".into(),
        }],
        settled_unanswered: Vec::new(),
        goals_reached: vec![ReachedGoal {
            person: "U3".into(),
            text: "Learn Rust".into(),
        }],
        kudos: vec![KudosLine {
            text: "<@U3> for the calm rollback".into(),
            author: Some("U2".into()),
            debrief_title: "Release 2.3".into(),
        }],
        debriefs_held: 1,
        people_reflected: 3,
        follow_ups_asked: 1,
        follow_ups_answered: 1,
        trend: vec![
            (0, 0),
            (0, 0),
            (0, 0),
            (2, 1),
            (3, 1),
            (2, 2),
            (4, 3),
            (1, 1),
        ],
    };
    let recurring = [Recurring {
        text: "Page early".into(),
        debriefs: 2,
    }];
    // As the scheduler builds it: the built-in check-in template and one open goal.
    let templates = crate::app::templates::Templates::built_in().expect("built-in templates");
    let goal = crate::store::Goal {
        number: 1,
        text: "Learn Rust".into(),
        due_date: Some("2026-12-31".into()),
        shared: false,
        created_at: Timestamp::from_unix_seconds(0),
        done_at: None,
        buddy: None,
    };
    let questions = checkins::questions(None, templates.get(checkins::TEMPLATE), &[goal]);
    vec![
        ("help", messages::help(None)),
        ("usage_error", messages::usage_error(&usage)),
        (
            "debrief_card",
            card(
                &debrief,
                2,
                &Shown {
                    past: vec![hit(3, "Test the rollback")],
                    since: vec![OpenAction {
                        id: 8,
                        text: "Write the rollback runbook".into(),
                        owner: Some("U3".into()),
                        debrief_title: "Release 2.2".into(),
                        channel: "C1".into(),
                        created_at: Timestamp::from_unix_seconds(1_764_000_000),
                    }],
                },
                berlin,
            ),
        ),
        ("nudge", nudge_message(&debrief, 3, berlin)),
        (
            "close_by_reminder",
            reminder(&debrief, 3, "Thu 5 Nov 17:00 (Europe/Berlin)"),
        ),
        ("debrief_summary", summary_parts[0].clone()),
        (
            "retro_reminder",
            messages::retro_reminder(5, "fridays 16:00", Some("retro"), NaiveDate::MIN),
        ),
        ("follow_up_question", followups::question(&lesson, Tz::UTC)),
        (
            "follow_ups_daily",
            followups::daily(
                &[
                    AskedLesson {
                        follow_up: 0,
                        answer: None,
                        lesson: lesson.clone(),
                    },
                    AskedLesson {
                        follow_up: 12,
                        answer: Some("applied".into()),
                        lesson: TrackedLesson {
                            id: 10,
                            kind: "action".into(),
                            text: "Write the rollback runbook".into(),
                            ..lesson.clone()
                        },
                    },
                ],
                2,
                Tz::UTC,
            ),
        ),
        (
            "applied_reply",
            followups::applied_reply(
                &lesson,
                Some("U2"),
                Some("We announce every deploy in #releases now"),
            ),
        ),
        ("checkin_opening", checkins::opening(&questions, Vec::new())),
        ("welcome", super::welcome::message()),
        ("channel_intro", super::welcome::channel_intro()),
        ("file_hint", super::welcome::file_hint()),
        ("welcome_teams_team", super::welcome::teams_message(false)),
        (
            "welcome_teams_personal",
            super::welcome::teams_message(true),
        ),
        ("installer_welcome", super::installs::installer_welcome()),
        (
            "digest",
            render(
                &facts,
                &recurring,
                Timestamp::from_unix_seconds(1_764_000_000),
                Timestamp::from_unix_seconds(1_764_000_000 + WEEK_SECS),
                Tz::UTC,
            ),
        ),
        (
            "quiet_digest",
            render(
                &DigestFacts::default(),
                &[],
                Timestamp::from_unix_seconds(0),
                Timestamp::from_unix_seconds(WEEK_SECS),
                Tz::UTC,
            ),
        ),
    ]
}

/// The first page of a review with a merged lesson, an action with an owner and a
/// line the facilitator already marked as kudos.
fn review_sample() -> ReviewPage {
    let candidate = |key: &str, kind, text: &str, count| Candidate {
        key: key.into(),
        kind,
        text: text.into(),
        count,
        owner: None,
        decision: None,
    };
    ReviewPage {
        debrief: 42,
        title: "Release 2.3".into(),
        anonymous: false,
        page: 0,
        pages: 2,
        total: 23,
        reflected: 6,
        late: false,
        candidates: vec![
            candidate(
                "a1",
                LessonKind::Lesson,
                "Flaky tests slowed the release",
                3,
            ),
            Candidate {
                owner: Some("U3".into()),
                ..candidate("b2", LessonKind::Action, "Quarantine flaky tests", 1)
            },
            Candidate {
                decision: Some(Decision {
                    verdict: Verdict::Kudos,
                    ..Decision::default()
                }),
                ..candidate("c3", LessonKind::Lesson, "Thanks Carol for pairing", 1)
            },
        ],
    }
}

/// People a Teams card may offer (id, name).
type Roster = Vec<(String, String)>;

/// A representative form of every kind, as each platform's handler builds it (a
/// Slack start form knows its channel, a Teams card its conversation), with the
/// roster a Teams card offers owners from (only the review has one).
fn forms_by_kind() -> Vec<(&'static str, Form, Form, Roster)> {
    let choices = StartChoices::from_templates(
        &crate::app::templates::Templates::built_in().expect("built-in templates"),
        "retro",
    );
    let none = BTreeMap::new();
    let earlier = BTreeMap::from([
        ("went_well".to_owned(), "Feature flags".to_owned()),
        ("try_next.owner".to_owned(), "U3".to_owned()),
    ]);
    let mut anonymous = Debrief::sample(true, false);
    anonymous.questions = crate::app::templates::sample_questions();
    let roster = vec![("29:carol".to_owned(), "Carol Example".to_owned())];
    let reflection = reflection_form(&anonymous, &earlier, &none);
    vec![
        (
            "start_form",
            start_form::form(&choices, &none, &none, Some("C1")),
            start_form::form(&choices, &none, &none, None),
            Vec::new(),
        ),
        (
            "review_form",
            review_form(&review_sample()),
            review_form(&review_sample()),
            roster,
        ),
        (
            "reflection_form",
            reflection.clone(),
            reflection,
            Vec::new(),
        ),
    ]
}

/// The first `:short_name:` in `text`, as Slack writes emoji.
fn slack_emoji_name(text: &str) -> Option<&str> {
    let mut rest = text;
    while let Some(start) = rest.find(':') {
        let after = &rest[start + 1..];
        let name_len = after
            .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
            .unwrap_or(after.len());
        if name_len > 1 && after[name_len..].starts_with(':') {
            return Some(&rest[start..start + name_len + 2]);
        }
        rest = after;
    }
    None
}

fn check(name: &str, rendered: &Value, problems: &mut Vec<String>) {
    let path = format!("{}/tests/snapshots/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let pretty = serde_json::to_string_pretty(rendered).expect("JSON serializes") + "\n";
    if std::env::var_os("LEARNLOOP_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &pretty).expect("snapshot written");
        return;
    }
    match std::fs::read_to_string(&path) {
        Ok(stored) if stored == pretty => {}
        Ok(stored) => problems.push(format!(
            "{name} changed:\n--- stored\n{stored}\n+++ now\n{pretty}"
        )),
        Err(_) => problems.push(format!("{name}: no snapshot at {path}")),
    }
}

#[test]
fn every_message_kind_matches_its_snapshot_on_each_platform() {
    let mut problems = Vec::new();
    for (kind, message) in messages_by_kind() {
        check(
            &format!("{kind}.slack"),
            &post_message_body("C1", None, &message),
            &mut problems,
        );
        let card = card_activity(&message, &no_names);
        // Teams has no slash commands: its texts say `@learnloop …`.
        let said = card.to_string();
        for slash in ["/learn", "/debrief"] {
            if said.contains(slash) {
                problems.push(format!("{kind}.teams shows `{slash}`: {said}"));
            }
        }
        // Nor does it know Slack's emoji names: each must be turned into its emoji.
        if let Some(name) = slack_emoji_name(&said) {
            problems.push(format!("{kind}.teams shows `{name}`: {said}"));
        }
        check(&format!("{kind}.teams"), &card, &mut problems);
    }
    // The forms are no messages, but people see them just the same.
    for (kind, slack, teams, roster) in forms_by_kind() {
        check(
            &format!("{kind}.slack"),
            &crate::platform::slack::modal::form_view(&slack),
            &mut problems,
        );
        check(
            &format!("{kind}.teams"),
            &crate::platform::teams::form::form_card(&teams, &roster),
            &mut problems,
        );
    }
    assert!(
        problems.is_empty(),
        "{}\n\nIf the change is intended: LEARNLOOP_UPDATE_SNAPSHOTS=1 cargo test snapshot",
        problems.join("\n\n")
    );
}
