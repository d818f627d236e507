//! Me: my follow-ups (answered here with the same domain code as the chat buttons,
//! Keep and Retire for those gone stale included), my goals, and my check-in ratings
//! over the last three months.

use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::charts::{Bar, bar_chart};
use super::layout::{Section, shell};
use super::library::day;
use super::{Signed, auth, stale_form};
use crate::app::checkin_loop::{rating_series, series_label};
use crate::app::followups::{self, Answer, KEEP, RETIRE};
use crate::http::AppState;
use crate::http::error::HttpError;
use crate::store::TrackedLesson;

/// Follow-ups listed.
const LISTED: u32 = 20;
/// Check-ins the trend reads: about three months of weekly ones.
const TREND_CHECKINS: i64 = 13;
const TREND_SECS: i64 = 92 * 86_400;

#[derive(Deserialize)]
pub struct Said {
    /// Set after answering: whether the answer was recorded.
    recorded: Option<bool>,
}

fn follow_up(lesson: &TrackedLesson, csrf: &str) -> Markup {
    html! {
        li {
            p { a href={ "/app/lessons/" (lesson.id) } { (lesson.text) } }
            p { small {
                "From " (lesson.debrief_title) " in #" (lesson.channel) ", " (day(lesson.debrief_created_at))
                @if let Some(at) = lesson.follow_up_at { " · next asked " (day(at)) }
            } }
            form.answer method="post" action={ "/app/me/followups/" (lesson.id) } {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="version" value=(lesson.not_yet_count);
                button type="submit" name="answer" value="applied" { "Applied" }
                button.quiet type="submit" name="answer" value="not_yet" { "Not yet" }
                button.quiet type="submit" name="answer" value="not_relevant" { "Not relevant" }
            }
        }
    }
}

fn stale_one(lesson: &TrackedLesson, csrf: &str) -> Markup {
    html! {
        li {
            p { a href={ "/app/lessons/" (lesson.id) } { (lesson.text) } }
            form.answer method="post" action={ "/app/me/stale/" (lesson.id) } {
                input type="hidden" name="csrf" value=(csrf);
                button type="submit" name="choice" value="keep" { "Keep (ask again in four weeks)" }
                button.quiet type="submit" name="choice" value="retire" { "Retire" }
            }
        }
    }
}

/// `/app/me`.
pub async fn page(
    State(state): State<AppState>,
    signed: Signed,
    Query(said): Query<Said>,
) -> Result<Response, HttpError> {
    let (workspace, user) = (signed.workspace.id, signed.session.user_id.as_str());
    let store = &state.store;
    let open = store.open_follow_ups(workspace, user, LISTED).await?;
    let stale = store.stale_follow_ups(workspace, user, LISTED).await?;
    let goals = store.goals(workspace, user).await?;
    let since = state.clock.now().plus_seconds(-TREND_SECS);
    let past = store
        .past_checkins(workspace, user, since, TREND_CHECKINS)
        .await?;
    let series = rating_series(&past);
    let body = html! {
        @match said.recorded {
            Some(true) => p.notice role="status" { "Recorded. Thank you." },
            Some(false) => p.notice role="status" { "That follow-up was already answered, or is not yours to answer." },
            None => {},
        }
        h2 { "My follow-ups" }
        @if open.is_empty() {
            p { "Nothing waits for you: every lesson you own has an outcome." }
        } @else {
            ul.plain { @for lesson in &open { (follow_up(lesson, &signed.session.csrf)) } }
        }
        @if !stale.is_empty() {
            h2 { "Still relevant?" }
            p { "Four times \"not yet\": keep asking about these, or retire them? Only you see this." }
            ul.plain { @for lesson in &stale { (stale_one(lesson, &signed.session.csrf)) } }
        }
        h2 { "My goals" }
        @if goals.is_empty() {
            p { "No goals yet. Set one in chat with " code { "/learn goal add TEXT" } "." }
        } @else {
            ul.plain {
                @for goal in &goals {
                    li {
                        p { "#" (goal.number) " " (goal.text) }
                        p { small {
                            @match goal.done_at {
                                Some(at) => { "reached " (day(at)) },
                                None => { "open" @if let Some(due) = &goal.due_date { " · due " (due) } },
                            }
                        } }
                    }
                }
            }
        }
        h2 { "My check-ins" }
        @if series.is_empty() {
            p { "Your ratings show here after two check-ins." }
        }
        @for (question, ratings) in &series {
            @let label = series_label(question, &goals);
            h3 { (label) }
            div.figure {
                (bar_chart(&label, &rating_bars(ratings), 5.0, &[(1.0, "1".into()), (3.0, "3".into()), (5.0, "5".into())]))
                div.wide { table {
                    thead { tr { th { "Check-in" } th.n { "Rating" } } }
                    tbody { @for (n, rating) in ratings.iter().enumerate() { tr { td { (n + 1) } td.n { (rating) } } } }
                } }
            }
        }
    };
    Ok(shell(
        StatusCode::OK,
        "Me",
        &signed,
        Some(Section::Me),
        body,
    ))
}

fn rating_bars(ratings: &[u8]) -> Vec<Bar> {
    ratings
        .iter()
        .enumerate()
        .map(|(n, rating)| Bar {
            label: (n + 1).to_string(),
            parts: vec![(f64::from(*rating), "")],
            words: format!("Check-in {}: {rating} of 5", n + 1),
        })
        .collect()
}

#[derive(Deserialize)]
pub struct Answered {
    csrf: Option<String>,
    version: Option<i64>,
    answer: Option<String>,
}

/// `POST /app/me/followups/ID`: an answer, as if the owner clicked it in chat.
pub async fn answer(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Form(form): Form<Answered>,
) -> Result<Response, HttpError> {
    if !signed.form_is_ours(form.csrf.as_deref()) {
        return Ok(stale_form(&signed));
    }
    let answer = match form.answer.as_deref() {
        Some("applied") => Answer::Applied,
        Some("not_yet") => Answer::NotYet,
        Some("not_relevant") => Answer::NotRelevant,
        _ => {
            return Err(HttpError::BadRequest(
                "answer is applied, not_yet or not_relevant".into(),
            ));
        }
    };
    let (Ok(id), Some(version)) = (id.parse::<i64>(), form.version) else {
        return Err(HttpError::BadRequest("no such follow-up".into()));
    };
    // No conversation: the dashboard is none of the person's chats.
    let ctx = state.command_context(&signed.workspace, "", &signed.session.user_id);
    let answered = followups::answer(&ctx, &format!("{id}:{version}"), answer, None).await?;
    Ok(auth::see_other(
        &format!("/app/me?recorded={}", answered.recorded),
        vec![],
    ))
}

#[derive(Deserialize)]
pub struct Choice {
    csrf: Option<String>,
    choice: Option<String>,
}

/// `POST /app/me/stale/ID`: Keep or Retire, as the buttons in chat.
pub async fn keep_or_retire(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Form(form): Form<Choice>,
) -> Result<Response, HttpError> {
    if !signed.form_is_ours(form.csrf.as_deref()) {
        return Ok(stale_form(&signed));
    }
    let action = match form.choice.as_deref() {
        Some("keep") => KEEP,
        Some("retire") => RETIRE,
        _ => return Err(HttpError::bad_request("choice is keep or retire")),
    };
    let ctx = state.command_context(&signed.workspace, "", &signed.session.user_id);
    let answered = followups::keep_or_retire(&ctx, action, &id).await?;
    Ok(auth::see_other(
        &format!("/app/me?recorded={}", answered.recorded),
        vec![],
    ))
}
