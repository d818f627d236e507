//! The lessons library: search (the same search as `/learn lessons`) with filters by
//! tag, channel, status, owner and date, newest first a page at a time; and a lesson's
//! page with its debrief, follow-up history and notes, and the lessons it recurs with.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::NaiveDate;
use maud::{Markup, html};
use serde::Deserialize;

use super::layout::{Section, shell};
use super::{Signed, auth, not_found, off, signed_in};
use crate::app::search::user_terms;
use crate::domain::Timestamp;
use crate::http::AppState;
use crate::http::error::HttpError;
use crate::store::{LessonFilter, LessonHit, SEARCH_CANDIDATES, StatusFilter};

/// Lessons a page shows.
const PAGE: u32 = 50;

/// The library's query string, as typed.
#[derive(Debug, Default, Deserialize)]
pub struct LibraryQuery {
    q: Option<String>,
    tag: Option<String>,
    channel: Option<String>,
    status: Option<String>,
    owner: Option<String>,
    /// `YYYY-MM-DD`, inclusive.
    from: Option<String>,
    /// `YYYY-MM-DD`, inclusive.
    to: Option<String>,
    /// `SECONDS-ID`: the position of the last lesson of the page before.
    before: Option<String>,
}

/// A field as typed, or `None` when left empty.
fn typed(field: &Option<String>) -> Option<&str> {
    field.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// A page position, `SECONDS-ID` (see [`LibraryQuery::after`]).
fn position(text: &str) -> Option<(Timestamp, i64)> {
    let (at, id) = text.split_once('-')?;
    Some((
        Timestamp::from_unix_seconds(at.parse().ok()?),
        id.parse().ok()?,
    ))
}

/// The start of a `YYYY-MM-DD` day in UTC (`days_later` days on).
fn day_start(text: &str, days_later: i64) -> Option<Timestamp> {
    let day = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    let start = day.and_hms_opt(0, 0, 0)?.and_utc().timestamp();
    Some(Timestamp::from_unix_seconds(start + days_later * 86_400))
}

impl LibraryQuery {
    /// The filters, and what could not be read (said above the results).
    fn filter(&self) -> (LessonFilter, Vec<&'static str>) {
        let mut problems = Vec::new();
        let mut date = |field: &Option<String>, days_later| {
            let text = typed(field)?;
            let at = day_start(text, days_later);
            if at.is_none() {
                problems.push("Dates are written as YYYY-MM-DD, e.g. 2026-03-31.");
            }
            at
        };
        let since = date(&self.from, 0);
        let until = date(&self.to, 1);
        let status = typed(&self.status).and_then(|s| {
            let status = StatusFilter::parse(s);
            if status.is_none() {
                problems.push("Status is one of open, applied, not relevant or stale.");
            }
            status
        });
        let filter = LessonFilter {
            tag: typed(&self.tag).map(|t| t.trim_start_matches('#').to_lowercase()),
            channel: typed(&self.channel).map(|c| c.trim_start_matches('#').to_owned()),
            status,
            owner: typed(&self.owner).map(|o| o.trim_start_matches('@').to_owned()),
            since,
            until,
            before: typed(&self.before).and_then(position),
        };
        (filter, problems)
    }

    /// This query's link with `before` set to `last` (the next page).
    fn after(&self, last: &LessonHit) -> String {
        let pairs: Vec<(&str, &str)> = [
            ("tag", &self.tag),
            ("channel", &self.channel),
            ("status", &self.status),
            ("owner", &self.owner),
            ("from", &self.from),
            ("to", &self.to),
        ]
        .into_iter()
        .filter_map(|(name, value)| typed(value).map(|value| (name, value)))
        .collect();
        let before = format!("{}-{}", last.created_at.unix_seconds(), last.id);
        let mut pairs = pairs;
        pairs.push(("before", &before));
        format!(
            "/app/lessons?{}",
            serde_urlencoded::to_string(pairs).unwrap_or_default()
        )
    }
}

pub fn status_label(status: &str) -> &'static str {
    match status {
        "applied" => "applied",
        "not_relevant" => "not relevant",
        "stale" => "stale",
        "unreachable" => "unreachable",
        "not_yet" => "not yet",
        _ => "open",
    }
}

pub fn day(at: Timestamp) -> String {
    at.to_utc().format("%-d %b %Y").to_string()
}

/// The library filtered by one tag.
fn tag_href(tag: &str) -> String {
    let query = serde_urlencoded::to_string([("tag", tag)]).unwrap_or_default();
    format!("/app/lessons?{query}")
}

/// A lesson in a list.
pub fn lesson_item(hit: &LessonHit) -> Markup {
    html! {
        li {
            p { a href={ "/app/lessons/" (hit.id) } { (hit.text) } }
            p {
                small {
                    span class={ "status " (hit.status) } { (status_label(&hit.status)) }
                    " · from "
                    a href={ "/app/debriefs/" (hit.debrief_id) } { (hit.debrief_title) }
                    " in #" (hit.channel) " · " (day(hit.created_at))
                    @if let Some(owner) = &hit.owner { " · owner @" (owner) }
                    @for tag in hit.tags.split_whitespace() {
                        " " a href=(tag_href(tag)) { "#" (tag) }
                    }
                }
            }
        }
    }
}

fn filters(query: &LibraryQuery) -> Markup {
    let value = |field: &Option<String>| typed(field).unwrap_or_default().to_owned();
    let status = value(&query.status);
    html! {
        form.filters method="get" action="/app/lessons" role="search" {
            label { "Search" input name="q" type="search" value=(value(&query.q)); }
            label { "Tag" input name="tag" value=(value(&query.tag)); }
            label { "Channel" input name="channel" value=(value(&query.channel)); }
            label {
                "Status"
                select name="status" {
                    @for (option, label) in [("", "any"), ("open", "open"), ("applied", "applied"),
                        ("not_relevant", "not relevant"), ("stale", "stale")] {
                        @if option == status {
                            option value=(option) selected { (label) }
                        } @else {
                            option value=(option) { (label) }
                        }
                    }
                }
            }
            label { "Owner" input name="owner" value=(value(&query.owner)); }
            label { "From" input name="from" type="date" value=(value(&query.from)); }
            label { "To" input name="to" type="date" value=(value(&query.to)); }
            button type="submit" { "Show" }
        }
    }
}

async fn library(
    state: &AppState,
    signed: &Signed,
    query: &LibraryQuery,
) -> Result<Response, HttpError> {
    let (filter, problems) = query.filter();
    let text = typed(&query.q).unwrap_or_default();
    let terms = user_terms(text);
    let page = state
        .store
        .library_lessons(signed.viewer(), terms.as_ref(), &filter, PAGE)
        .await?;
    let hits = page.hits;
    let next = (terms.is_none() && hits.len() == PAGE as usize)
        .then(|| hits.last().map(|last| query.after(last)))
        .flatten();
    let body = html! {
        (filters(query))
        @for problem in &problems { p.notice role="alert" { (problem) } }
        @if !text.is_empty() && terms.is_none() {
            p { "There is nothing to search for in " q { (text) } "." }
        }
        @if page.ranked_newest_only {
            p.notice {
                (thousands(SEARCH_CANDIDATES)) " or more lessons match: these are the \
                 best of the newest " (thousands(SEARCH_CANDIDATES)) ". Add a word, a \
                 filter or dates to reach older ones."
            }
        }
        @if hits.is_empty() {
            p { "No lesson matches." }
        } @else {
            ol.lessons { @for hit in &hits { (lesson_item(hit)) } }
        }
        @if let Some(next) = next { p { a href=(next) rel="next" { "Older lessons" } } }
        p.muted {
            small {
                "Search words, a \"phrase\" in quotes, or the start of a word and *. \
                 You see the workspace's shared lessons said in public channels, and \
                 those of the private channels you are in."
            }
        }
    };
    Ok(shell(
        StatusCode::OK,
        "Lessons",
        signed,
        Some(Section::Library),
        body,
    ))
}

/// `n` with a comma between thousands, as the page writes numbers.
fn thousands(n: u32) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// `/app`: the sign-in button, or the library.
pub async fn home(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<LibraryQuery>,
) -> Result<Response, HttpError> {
    let Some(signin) = state.signin.clone() else {
        return Ok(off());
    };
    match signed_in(&state, &signin, &headers).await? {
        Some(signed) => library(&state, &signed, &query).await,
        None => Ok(auth::sign_in_page(&signin)),
    }
}

/// `/app/lessons`: the library.
pub async fn lessons(
    State(state): State<AppState>,
    signed: Signed,
    Query(query): Query<LibraryQuery>,
) -> Result<Response, HttpError> {
    library(&state, &signed, &query).await
}

fn answer_label(answer: Option<&str>) -> &'static str {
    match answer {
        Some("applied") => "applied",
        Some("not_yet") => "not yet",
        Some("not_relevant") => "not relevant",
        Some("unreachable") => "could not be asked",
        _ => "not answered",
    }
}

/// `/app/lessons/ID`: a lesson, where it came from, what became of it.
pub async fn lesson(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, HttpError> {
    let lesson = match id.parse() {
        Ok(id) => state.store.library_lesson(signed.viewer(), id).await?,
        Err(_) => None,
    };
    let Some(lesson) = lesson else {
        return Ok(not_found(&signed));
    };
    let history = state
        .store
        .follow_up_history(signed.workspace.id, lesson.id, &signed.session.user_id)
        .await?;
    let recurs = state
        .store
        .library_recurrences(signed.viewer(), lesson.id)
        .await?;
    let kind = if lesson.kind == "action" {
        "Action item"
    } else {
        "Lesson"
    };
    let body = html! {
        blockquote { p { (lesson.text) } }
        dl {
            dt { "Status" } dd { span class={ "status " (lesson.status) } { (status_label(&lesson.status)) } }
            dt { "From" }
            dd {
                a href={ "/app/debriefs/" (lesson.debrief_id) } { (lesson.debrief_title) }
                " in #" (lesson.channel) ", " (day(lesson.created_at))
            }
            @if let Some(owner) = &lesson.owner { dt { "Owner" } dd { "@" (owner) } }
            @if !lesson.tags.is_empty() {
                dt { "Tags" }
                dd { @for tag in lesson.tags.split_whitespace() { a href=(tag_href(tag)) { "#" (tag) } " " } }
            }
        }
        h2 { "Follow-ups" }
        @if history.is_empty() {
            p { "Nobody has been asked about it yet." }
        } @else {
            div.wide { table {
                thead { tr { th { "Asked" } th { "Answer" } th { "Note" } } }
                tbody {
                    @for entry in &history {
                        tr {
                            td { (day(entry.asked_at)) }
                            td {
                                (answer_label(entry.answer.as_deref()))
                                @if let Some(at) = entry.answered_at { " on " (day(at)) }
                            }
                            td { (entry.note.as_deref().unwrap_or("")) }
                        }
                    }
                }
            } }
        }
        h2 { "Said again" }
        @if recurs.is_empty() {
            p { "No other debrief said the same, as far as you can see." }
        } @else {
            ol.lessons { @for hit in &recurs { (lesson_item(hit)) } }
        }
    };
    Ok(shell(
        StatusCode::OK,
        kind,
        &signed,
        Some(Section::Library),
        body,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_with_commas_between_thousands() {
        assert_eq!(thousands(7), "7");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(10_000), "10,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn dates_and_statuses_that_cannot_be_read_are_said_not_guessed() {
        let query = LibraryQuery {
            from: Some("2026-03-01".into()),
            to: Some("31/03/2026".into()),
            status: Some("done".into()),
            tag: Some(" #Deploys ".into()),
            ..LibraryQuery::default()
        };
        let (filter, problems) = query.filter();
        assert_eq!(filter.since, day_start("2026-03-01", 0));
        assert_eq!(filter.until, None);
        assert_eq!(filter.status, None);
        assert_eq!(filter.tag.as_deref(), Some("deploys"));
        assert_eq!(problems.len(), 2);
        // The end date counts whole: lessons of that day are in.
        let to = LibraryQuery {
            to: Some("2026-03-31".into()),
            ..LibraryQuery::default()
        };
        assert_eq!(to.filter().0.until, day_start("2026-04-01", 0));
    }

    #[test]
    fn the_next_page_keeps_the_filters() {
        let query = LibraryQuery {
            tag: Some("ops".into()),
            status: Some("applied".into()),
            owner: Some(String::new()),
            ..LibraryQuery::default()
        };
        let last = LessonHit {
            id: 42,
            text: String::new(),
            tags: String::new(),
            owner: None,
            status: "open".into(),
            debrief_id: 1,
            debrief_title: String::new(),
            channel: String::new(),
            created_at: Timestamp::from_unix_seconds(1_700_000_000),
        };
        let next = query.after(&last);
        assert_eq!(
            next,
            "/app/lessons?tag=ops&status=applied&before=1700000000-42"
        );
        let back: LibraryQuery =
            serde_urlencoded::from_str(next.split_once('?').unwrap().1).unwrap();
        assert_eq!(back.filter().0.before, Some((last.created_at, 42)));
        assert_eq!(position("12-x"), None);
    }
}
