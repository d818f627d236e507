//! Debriefs: the list, newest first, and each one's summary (its lessons and action
//! items, the open actions first).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;

use super::layout::{Section, shell};
use super::library::{day, status_label};
use super::{Signed, not_found};
use crate::http::AppState;
use crate::http::error::HttpError;
use crate::store::{DebriefEntry, LessonDetail};

/// Debriefs the list shows.
const LISTED: u32 = 100;

fn state_of(debrief: &DebriefEntry) -> String {
    match debrief.closed_at {
        Some(at) => format!("closed {}", day(at)),
        None => "open".to_owned(),
    }
}

/// `/app/debriefs`.
pub async fn list(State(state): State<AppState>, signed: Signed) -> Result<Response, HttpError> {
    let debriefs = state
        .store
        .library_debriefs(signed.viewer(), None, LISTED)
        .await?;
    let body = html! {
        @if debriefs.is_empty() {
            p { "No debrief you can see yet. Start one in a channel with " code { "/debrief TITLE" } "." }
        } @else {
            div.wide { table {
                thead { tr { th { "Debrief" } th { "Channel" } th { "Started" } th { "State" }
                    th.n { "People" } th.n { "Lessons" } th.n { "Open actions" } } }
                tbody {
                    @for debrief in &debriefs {
                        tr {
                            td { a href={ "/app/debriefs/" (debrief.id) } { (debrief.title) } }
                            td { "#" (debrief.channel) }
                            td { (day(debrief.created_at)) }
                            td { (state_of(debrief)) }
                            td.n { (debrief.reflections) }
                            td.n { (debrief.lessons) }
                            td.n { (debrief.open_actions) }
                        }
                    }
                }
            } }
        }
    };
    Ok(shell(
        StatusCode::OK,
        "Debriefs",
        &signed,
        Some(Section::Debriefs),
        body,
    ))
}

fn item(lesson: &LessonDetail) -> maud::Markup {
    html! {
        li {
            p { a href={ "/app/lessons/" (lesson.id) } { (lesson.text) } }
            p { small {
                span class={ "status " (lesson.status) } { (status_label(&lesson.status)) }
                @if let Some(owner) = &lesson.owner { " · owner @" (owner) }
            } }
        }
    }
}

/// `/app/debriefs/ID`: one debrief's summary.
pub async fn one(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, HttpError> {
    let found = match id.parse::<i64>() {
        Ok(id) => state
            .store
            .library_debriefs(signed.viewer(), Some(id), 1)
            .await?
            .pop(),
        Err(_) => None,
    };
    let Some(debrief) = found else {
        return Ok(not_found(&signed));
    };
    let items = state
        .store
        .library_lessons_of(signed.viewer(), debrief.id)
        .await?;
    let open =
        |l: &&LessonDetail| l.kind == "action" && matches!(l.status.as_str(), "open" | "not_yet");
    let open_actions: Vec<&LessonDetail> = items.iter().filter(open).collect();
    let other_actions: Vec<&LessonDetail> = items
        .iter()
        .filter(|l| l.kind == "action" && !open(l))
        .collect();
    let lessons: Vec<&LessonDetail> = items.iter().filter(|l| l.kind == "lesson").collect();
    let body = html! {
        p {
            "In #" (debrief.channel) ", started " (day(debrief.created_at)) ", " (state_of(&debrief))
            ". " (debrief.reflections) " people reflected"
            @if debrief.anonymous != 0 { ", anonymously" }
            "."
        }
        h2 { "Open actions" }
        @if open_actions.is_empty() { p { "None." } } @else { ul.plain { @for a in &open_actions { (item(a)) } } }
        h2 { "Lessons" }
        @if lessons.is_empty() { p { "None that you can see." } } @else { ul.plain { @for l in &lessons { (item(l)) } } }
        @if !other_actions.is_empty() {
            h2 { "Settled actions" }
            ul.plain { @for a in &other_actions { (item(a)) } }
        }
    };
    Ok(shell(
        StatusCode::OK,
        &debrief.title,
        &signed,
        Some(Section::Debriefs),
        body,
    ))
}
