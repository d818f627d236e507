//! What the fuzz targets (`fuzz/`) run, one function per target: each reads arbitrary
//! bytes the way a route or renderer would meet them and panics only when something
//! it promises breaks. Kept in the library so the crashes a campaign finds replay in
//! the normal test suite (`tests/fuzz_regressions/`, see `property_tests`).

use chrono::{DateTime, NaiveDate};

use crate::app::command::{SlashCommand, parse_learn, parse_slash};
use crate::domain::Schedule;
use crate::http::slack::{commands, events, interactions};
use crate::platform::slack::blocks::post_message_body;
use crate::platform::teams::activity::strip_mentions;
use crate::platform::teams::card::MAX_CARD_BYTES;
use crate::platform::teams::{Activity, card_activity};
use crate::platform::{Block, Button, Message, plain, plain_keeping_mentions};

/// The command grammar: any text is a command, or a usage error naming the right forms.
pub fn command_grammar(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for command in [SlashCommand::Learn, SlashCommand::Debrief] {
        if let Err(error) = parse_slash(command, &text) {
            assert!(
                !error.usages.is_empty(),
                "a usage error names the right forms"
            );
        }
    }
    let _ = parse_learn(&text);
}

/// The schedule parser: a schedule that parses finds its next time after any moment
/// (the first four bytes pick it) and restores itself from what it stored.
pub fn schedule_parser(data: &[u8]) {
    let (when, text) = data.split_at(data.len().min(4));
    let text = String::from_utf8_lossy(text);
    let today = NaiveDate::from_ymd_opt(2026, 11, 29).expect("a date");
    if let Ok(schedule) = Schedule::parse(&text, chrono_tz::America::New_York, today) {
        let mut seconds = [0u8; 4];
        seconds[..when.len()].copy_from_slice(when);
        let offset = i64::from(u32::from_le_bytes(seconds));
        let after = DateTime::from_timestamp(1_700_000_000 + offset, 0).expect("a time");
        if let Some(next) = schedule.next_after(after) {
            assert!(next > after);
        }
        assert!(Schedule::restore(schedule.text(), "America/New_York", today).is_ok());
    }
}

/// Slack's three routes: the first byte picks one, the rest is its (signed) body; for
/// interactions, the JSON payload the form carries.
pub fn slack_payloads(data: &[u8]) {
    let Some((route, body)) = data.split_first() else {
        return;
    };
    match route % 3 {
        0 => {
            let _ = commands::read(body);
        }
        1 => {
            let _ = events::read(body);
        }
        _ => {
            let payload: String = body.iter().map(|b| format!("%{b:02X}")).collect();
            let form = format!("payload={payload}");
            if let Ok(interactions::Interaction::ViewSubmission { view, .. }) =
                interactions::read(form.as_bytes())
            {
                let _ = view.values();
            }
        }
    }
}

/// A Bot Framework activity, and everything the handlers ask of one.
pub fn teams_activity(data: &[u8]) {
    if let Ok(activity) = serde_json::from_slice::<Activity>(data) {
        let _ = (
            activity.command_text(),
            activity.conversation_kind(),
            activity.delivery_key(),
            activity.sent_at(),
            activity.workspace_key(),
            activity.client_time_zone(),
            activity.team_channel_id(),
            activity.tenant_id(),
        );
    }
    let _ = strip_mentions(&String::from_utf8_lossy(data));
}

/// A message built from the bytes: `\0` separates parts, each part's first character
/// says what it becomes, the rest is typed text (or, in two kinds, the app's own).
fn message(data: &[u8]) -> Message {
    let text = String::from_utf8_lossy(data);
    let mut blocks = Vec::new();
    let mut fallback = String::new();
    for part in text.split('\0') {
        let Some(kind) = part.chars().next() else {
            continue;
        };
        let rest = &part[kind.len_utf8()..];
        let typed = plain(rest);
        match u32::from(kind) % 7 {
            0 => blocks.push(Block::Header(rest.to_owned())),
            1 => blocks.push(Block::Text(format!(
                "*Lesson:* {typed}\n>{}",
                plain_keeping_mentions(rest)
            ))),
            2 => blocks.push(Block::Context(format!("_from {typed}_ · `{typed}`"))),
            3 => blocks.push(Block::Divider),
            4 => blocks.push(Block::Actions(vec![Button::new(
                rest,
                "debrief.close",
                rest,
            )])),
            5 => blocks.push(Block::Text(rest.to_owned())),
            _ => fallback.push_str(&typed),
        }
    }
    Message { fallback, blocks }
}

/// Every `<` in Slack mrkdwn opens a person's or a channel's mention.
pub(crate) fn inert_for_slack(text: &str) -> bool {
    text.match_indices('<').all(|(at, _)| {
        let rest = &text[at + 1..];
        let inner = rest.split('>').next().unwrap_or_default();
        rest.contains('>')
            && ["@U", "@W", "#C", "#G"]
                .iter()
                .any(|p| inner.starts_with(p))
            && inner[1..].chars().all(|c| c.is_ascii_alphanumeric())
    })
}

/// Whether a mark of typed text is left in `text`.
pub(crate) fn has_mark(text: &str) -> bool {
    text.contains(['\u{FFF9}', '\u{FFFA}', '\u{FFFB}'])
}

/// The renderers: Block Kit within Slack's limits whose mrkdwn (the notification text
/// included) pings nobody and links nowhere; a Teams card within Teams' size that shows
/// no markdown element and no mark.
pub fn renderers(data: &[u8]) {
    let message = message(data);
    let body = post_message_body("C1", None, &message);
    let blocks = body["blocks"].as_array().expect("blocks");
    assert!(blocks.len() <= 50);
    let text = body["text"].as_str().expect("text");
    assert!(text.chars().count() <= 4000);
    assert!(inert_for_slack(text) && !has_mark(text), "{text:?}");
    for block in blocks {
        if block["text"]["type"] == "mrkdwn" {
            let shown = block["text"]["text"].as_str().expect("text");
            assert!(shown.chars().count() <= 3000);
            assert!(inert_for_slack(shown) && !has_mark(shown), "{shown:?}");
        }
    }
    let mut card = card_activity(&message, &|_| None);
    let elements = card["attachments"][0]["content"]["body"]
        .as_array_mut()
        .expect("a card body");
    assert!(serde_json::to_string(elements).expect("json").len() <= MAX_CARD_BYTES + 2_000);
    // What a card shows: everything but the buttons' data (the app's own ids, sent back
    // on a click, never displayed).
    for element in elements {
        for action in element["actions"].as_array_mut().into_iter().flatten() {
            if let Some(action) = action.as_object_mut() {
                action.remove("data");
            }
        }
    }
    let shown = card.to_string();
    assert!(!shown.contains(r#""type":"TextBlock""#));
    assert!(!has_mark(&shown), "{shown}");
}
