//! Exports of a workspace's learning: lessons, action items, follow-ups and debriefs as
//! CSV or JSON, and a Markdown "lessons learned" document per debrief for a wiki.
//! Rows are read a page at a time and written as they come, so a workspace of any
//! size exports in bounded memory. `learnloop export` runs it.
//!
//! Typed text is made inert for where it is opened: a CSV cell that a spreadsheet
//! would read as a formula is prefixed with `'`, and Markdown's markup characters
//! are escaped, so a lesson reads in a wiki exactly as it was written.

use std::io::Write;

use chrono::SecondsFormat;
use serde_json::{Value, json};

use crate::app::AppError;
use crate::domain::Timestamp;
use crate::store::{
    ExportScope, ExportSize, ExportedDebrief, ExportedFollowUp, ExportedLesson, LessonKind, Store,
};

/// Rows read per query.
const PAGE: u32 = 500;

/// What is exported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exported {
    Lessons,
    Actions,
    FollowUps,
    Debriefs,
}

/// How it is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
    /// A lessons-learned document per debrief (whatever [`Exported`] says).
    Markdown,
}

/// One exported row: its fields in column order.
type Record = Vec<(&'static str, Value)>;

/// Writes the workspace's `what` (all of it, or what a dashboard viewer may see) as
/// `format` to `out`; how many rows (debriefs, for Markdown). `progress` hears (done,
/// total) as pages are written.
pub async fn export(
    store: &Store,
    scope: ExportScope<'_>,
    what: Exported,
    format: Format,
    out: &mut dyn Write,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<u64, AppError> {
    let what = if format == Format::Markdown {
        Exported::Debriefs
    } else {
        what
    };
    let total = store.export_size(scope, size_of(what)).await?;
    let mut writer = Writer::start(format, out)?;
    let mut done = 0;
    let mut after = 0;
    progress(0, total);
    loop {
        let page = page(store, scope, what, after).await?;
        let Some(last) = page.last() else { break };
        after = last.0;
        for (_, record, debrief) in &page {
            match (format, debrief) {
                (Format::Markdown, Some(debrief)) => {
                    let lessons = store.export_lessons_of(scope, debrief.id).await?;
                    writer.write_markdown(&lessons_learned(debrief, &lessons))?;
                }
                _ => writer.write(record)?,
            }
        }
        done += page.len() as u64;
        progress(done, total);
    }
    writer.finish()?;
    Ok(done)
}

fn size_of(what: Exported) -> ExportSize {
    match what {
        Exported::Lessons => ExportSize::Lessons(LessonKind::Lesson),
        Exported::Actions => ExportSize::Lessons(LessonKind::Action),
        Exported::FollowUps => ExportSize::FollowUps,
        Exported::Debriefs => ExportSize::Debriefs,
    }
}

/// The next page of rows after id `after`: each row's id, its record, and the debrief
/// itself when the rows are debriefs.
async fn page(
    store: &Store,
    scope: ExportScope<'_>,
    what: Exported,
    after: i64,
) -> Result<Vec<(i64, Record, Option<ExportedDebrief>)>, AppError> {
    Ok(match what {
        Exported::Lessons | Exported::Actions => {
            let kind = if what == Exported::Actions {
                LessonKind::Action
            } else {
                LessonKind::Lesson
            };
            store
                .export_lessons(scope, kind, after, PAGE)
                .await?
                .into_iter()
                .map(|lesson| (lesson.id, lesson_record(&lesson), None))
                .collect()
        }
        Exported::FollowUps => store
            .export_follow_ups(scope, after, PAGE)
            .await?
            .into_iter()
            .map(|follow_up| (follow_up.id, follow_up_record(&follow_up), None))
            .collect(),
        Exported::Debriefs => store
            .export_debriefs(scope, after, PAGE)
            .await?
            .into_iter()
            .map(|debrief| (debrief.id, debrief_record(&debrief), Some(debrief)))
            .collect(),
    })
}

/// A time as ISO 8601 in UTC, or null.
fn time(at: Option<Timestamp>) -> Value {
    at.and_then(Timestamp::checked_utc)
        .map_or(Value::Null, |at| {
            json!(at.to_rfc3339_opts(SecondsFormat::Secs, true))
        })
}

fn lesson_record(lesson: &ExportedLesson) -> Record {
    vec![
        ("id", json!(lesson.id)),
        ("kind", json!(lesson.kind)),
        ("text", json!(lesson.text)),
        ("tags", json!(lesson.tags)),
        ("status", json!(lesson.status)),
        ("owner", json!(lesson.owner)),
        ("owner_name", json!(lesson.owner_name)),
        ("author", json!(lesson.author)),
        ("visibility", json!(lesson.visibility)),
        ("channel", json!(lesson.channel)),
        ("debrief_id", json!(lesson.debrief_id)),
        ("debrief_title", json!(lesson.debrief_title)),
        ("created_at", time(Some(lesson.created_at))),
        ("next_follow_up_at", time(lesson.follow_up_at)),
        ("settled_at", time(lesson.settled_at)),
    ]
}

fn follow_up_record(follow_up: &ExportedFollowUp) -> Record {
    vec![
        ("id", json!(follow_up.id)),
        ("lesson_id", json!(follow_up.lesson_id)),
        ("lesson_text", json!(follow_up.lesson_text)),
        ("person", json!(follow_up.person)),
        ("asked_at", time(Some(follow_up.asked_at))),
        ("answer", json!(follow_up.answer)),
        ("note", json!(follow_up.note)),
        ("answered_at", time(follow_up.answered_at)),
    ]
}

fn debrief_record(debrief: &ExportedDebrief) -> Record {
    vec![
        ("id", json!(debrief.id)),
        ("title", json!(debrief.title)),
        ("channel", json!(debrief.channel)),
        ("template", json!(debrief.template)),
        ("facilitator", json!(debrief.facilitator)),
        ("anonymous", json!(debrief.anonymous != 0)),
        ("created_at", time(Some(debrief.created_at))),
        ("closed_at", time(debrief.closed_at)),
        ("reflections", json!(debrief.reflections)),
        ("lessons", json!(debrief.lessons)),
        ("actions", json!(debrief.actions)),
    ]
}

/// Writes records in one format: the header or the opening bracket first, the
/// closing one last.
struct Writer<'w> {
    format: Format,
    out: &'w mut dyn Write,
    rows: u64,
}

fn io(err: std::io::Error) -> AppError {
    AppError::Internal(format!("cannot write the export: {err}"))
}

impl<'w> Writer<'w> {
    fn start(format: Format, out: &'w mut dyn Write) -> Result<Self, AppError> {
        if format == Format::Json {
            out.write_all(b"[").map_err(io)?;
        }
        Ok(Self {
            format,
            out,
            rows: 0,
        })
    }

    fn write(&mut self, record: &Record) -> Result<(), AppError> {
        match self.format {
            Format::Csv => {
                if self.rows == 0 {
                    let header: Vec<&str> = record.iter().map(|(name, _)| *name).collect();
                    writeln!(self.out, "{}", header.join(",")).map_err(io)?;
                }
                let cells: Vec<String> = record.iter().map(|(_, value)| csv_cell(value)).collect();
                writeln!(self.out, "{}", cells.join(",")).map_err(io)?;
            }
            Format::Json => {
                let object: serde_json::Map<String, Value> = record
                    .iter()
                    .map(|(name, value)| ((*name).to_owned(), value.clone()))
                    .collect();
                let separator = if self.rows == 0 { "\n" } else { ",\n" };
                write!(self.out, "{separator}{}", Value::Object(object)).map_err(io)?;
            }
            Format::Markdown => {}
        }
        self.rows += 1;
        Ok(())
    }

    fn write_markdown(&mut self, document: &str) -> Result<(), AppError> {
        if self.rows > 0 {
            self.out.write_all(b"\n---\n\n").map_err(io)?;
        }
        self.out.write_all(document.as_bytes()).map_err(io)?;
        self.rows += 1;
        Ok(())
    }

    fn finish(self) -> Result<(), AppError> {
        if self.format == Format::Json {
            let close = if self.rows == 0 { "]\n" } else { "\n]\n" };
            self.out.write_all(close.as_bytes()).map_err(io)?;
        }
        self.out.flush().map_err(io)
    }
}

/// One CSV cell (RFC 4180): quoted when it holds a comma, quote or line break. Text a
/// spreadsheet would run as a formula (`=`, `+`, `-`, `@`, a tab or carriage return
/// first) is prefixed with `'`.
fn csv_cell(value: &Value) -> String {
    let text = match value {
        Value::Null => return String::new(),
        Value::String(text) => {
            if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                format!("'{text}")
            } else {
                text.clone()
            }
        }
        other => other.to_string(),
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// Typed text that Markdown shows literally: its markup characters escaped, and on one
/// line (a line break would end a list item).
fn markdown_text(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '~' | '!' => {
                escaped.push('\\');
                escaped.push(c);
            }
            '\n' | '\r' => escaped.push(' '),
            other => escaped.push(other),
        }
    }
    escaped
}

fn day(at: Timestamp) -> String {
    at.to_utc().format("%Y-%m-%d").to_string()
}

/// The "lessons learned" document of one debrief.
fn lessons_learned(debrief: &ExportedDebrief, lessons: &[ExportedLesson]) -> String {
    let held = match debrief.closed_at {
        Some(closed) => format!("{} to {}", day(debrief.created_at), day(closed)),
        None => format!("since {} (still open)", day(debrief.created_at)),
    };
    let names = if debrief.anonymous != 0 {
        " (anonymous: names were not kept)"
    } else {
        ""
    };
    let mut document = format!(
        "# Lessons learned: {}\n\n- Channel: {}\n- Held: {held}\n- Template: {}\n- Reflections: {}{names}\n",
        markdown_text(&debrief.title),
        markdown_text(&debrief.channel),
        markdown_text(&debrief.template),
        debrief.reflections,
    );
    let section = |kind: &'static str| lessons.iter().filter(move |l| l.kind == kind);
    document.push_str("\n## Lessons\n\n");
    let mut any = false;
    for lesson in section("lesson") {
        any = true;
        let tags = if lesson.tags.is_empty() {
            String::new()
        } else {
            format!(" (tags: {})", markdown_text(&lesson.tags))
        };
        let private = if lesson.visibility == "private" {
            " (said in a private conversation)"
        } else {
            ""
        };
        document.push_str(&format!(
            "- {}{tags}{private}\n",
            markdown_text(&lesson.text)
        ));
    }
    if !any {
        document.push_str("None.\n");
    }
    document.push_str("\n## Action items\n\n");
    let mut any = false;
    for action in section("action") {
        any = true;
        let owner = action
            .owner_name
            .as_deref()
            .or(action.owner.as_deref())
            .map_or_else(|| "nobody yet".to_owned(), markdown_text);
        document.push_str(&format!(
            "- {} (owner: {owner}; {})\n",
            markdown_text(&action.text),
            action.status.replace('_', " ")
        ));
    }
    if !any {
        document.push_str("None.\n");
    }
    document
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_when_they_must_be_and_never_run_as_formulas() {
        assert_eq!(csv_cell(&json!("plain")), "plain");
        assert_eq!(csv_cell(&json!("a, b")), "\"a, b\"");
        assert_eq!(csv_cell(&json!("say \"hi\"")), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell(&json!("two\nlines")), "\"two\nlines\"");
        assert_eq!(
            csv_cell(&json!("=HYPERLINK(\"x\")")),
            "\"'=HYPERLINK(\"\"x\"\")\""
        );
        assert_eq!(csv_cell(&json!("-1")), "'-1");
        assert_eq!(csv_cell(&json!("@here")), "'@here");
        assert_eq!(csv_cell(&json!(42)), "42");
        assert_eq!(csv_cell(&Value::Null), "");
    }

    #[test]
    fn markdown_text_is_shown_literally_on_one_line() {
        assert_eq!(
            markdown_text("*bold* [link](x) <b> #1 `code`\nnext"),
            "\\*bold\\* \\[link\\](x) \\<b\\> \\#1 \\`code\\` next"
        );
    }

    #[test]
    fn times_are_iso_8601_in_utc_and_never_is_null() {
        assert_eq!(
            time(Some(Timestamp::from_unix_seconds(1_764_000_000))),
            json!("2025-11-24T16:00:00Z")
        );
        assert_eq!(time(None), Value::Null);
        assert_eq!(time(Some(Timestamp::NEVER)), Value::Null);
    }
}
