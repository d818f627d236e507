//! Settings (admins): the workspace's digest and retro schedules, the follow-up hour,
//! workdays and holidays, and the debrief templates, with the templates directory
//! checked again as `learnloop check-config` checks it. A view: changes are made in
//! chat (`/learn digest`, `/learn retro`) and in the service's configuration.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;

use super::Admin;
use super::layout::{Section, shell};
use crate::app::templates::Templates;
use crate::http::AppState;
use crate::http::error::HttpError;

/// `/app/settings`.
pub async fn page(
    State(state): State<AppState>,
    Admin(signed): Admin,
) -> Result<Response, HttpError> {
    let schedules = state
        .store
        .workspace_channel_schedules(signed.workspace.id)
        .await?;
    let settings = state.settings.clone();
    // The files may have changed since the service started: say what is wrong now,
    // in the words of `learnloop check-config`.
    let check = tokio::task::spawn_blocking(move || {
        Templates::load_with_default(&settings.templates.dir, &settings.debriefs.default_template)
            .err()
            .map(|err| format!("learnloop: {err}"))
    })
    .await
    .map_err(|e| HttpError::Internal(anyhow::anyhow!("template check: {e}")))?;
    let settings = &state.settings;
    let templates = state.templates.names();
    let body = html! {
        h2 { "Digests and retro reminders" }
        @if schedules.is_empty() {
            p { "None. Set one in a channel with " code { "/learn digest weekly" } " or " code { "/learn retro" } "." }
        } @else {
            div.wide { table {
                thead { tr { th { "Channel" } th { "What" } th { "When" } th { "Time zone" } th { "Next" } } }
                tbody {
                    @for schedule in &schedules {
                        tr {
                            td { "#" (schedule.channel) }
                            td { (schedule.kind.as_str()) }
                            td { code { (schedule.spec) } }
                            td { (schedule.time_zone) }
                            td { (schedule.next_fire_at.to_utc().format("%-d %b %Y %H:%M UTC")) }
                        }
                    }
                }
            } }
        }
        h2 { "Follow-ups" }
        dl {
            dt { "Hour" } dd { (settings.followups.hour) ":00 in each person's own time zone" }
            dt { "Workdays" }
            dd { @for day in &settings.workspace.workdays { (day) " " } }
            dt { "Holidays" }
            dd {
                @if settings.workspace.holidays.is_empty() { "none" }
                @for holiday in &settings.workspace.holidays { (holiday) " " }
            }
            dt { "Default time zone" } dd { (settings.workspace.default_time_zone) }
        }
        h2 { "Debrief templates" }
        @if let Some(problem) = &check {
            p.notice role="alert" { code { (problem) } }
        }
        div.wide { table {
            thead { tr { th { "Name" } th { "Title" } th.n { "Questions" } th { "Anonymous" } } }
            tbody {
                @for name in &templates {
                    @if let Some(template) = state.templates.get(name) {
                        tr {
                            td { code { (name) } @if *name == settings.debriefs.default_template { " (default)" } }
                            td { (template.title) }
                            td.n { (template.questions.len()) }
                            td { @if template.anonymous { "yes" } @else { "no" } }
                        }
                    }
                }
            }
        } }
        h2 { "Export" }
        ul {
            @for what in ["lessons", "actions", "followups", "debriefs"] {
                li {
                    (what) ": "
                    a href={ "/app/export/" (what) ".csv" } download { "CSV" } " · "
                    a href={ "/app/export/" (what) ".json" } download { "JSON" }
                }
            }
            li { "Lessons learned per debrief, for a wiki: " a href="/app/export/debriefs.md" download { "Markdown" } }
        }
    };
    Ok(shell(
        StatusCode::OK,
        "Settings",
        &signed,
        Some(Section::Settings),
        body,
    ))
}
