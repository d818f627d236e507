//! The neutral message model as an Adaptive Card (schema 1.5) in a Bot Framework
//! message activity. Buttons become `Action.Submit` whose `data` carries the same
//! `action` and `value` a Slack button does, so a click comes back as the same
//! interaction.
//! <https://adaptivecards.io/explorer/>

use serde_json::{Value, json};

use super::inline::{Style, lines, plain_words, with_emoji};
use crate::platform::{Block, Message, strip_marks};

pub const CARD_CONTENT_TYPE: &str = "application/vnd.microsoft.card.adaptive";

/// One `RichTextBlock` per line of `text` (each its own paragraph, as Slack shows
/// them), its runs styled by the app's markup and typed text kept literal.
fn paragraphs(text: &str, base: Style, name_of: &dyn Fn(&str) -> Option<String>) -> Vec<Value> {
    lines(text, base, name_of)
        .into_iter()
        .map(|runs| {
            json!({
                "type": "RichTextBlock",
                "inlines": runs.iter().map(|run| run.to_json()).collect::<Vec<_>>(),
            })
        })
        .collect()
}

/// A header: plain text by the neutral model's rule (Slack shows it as `plain_text`),
/// so nothing in it is markup, apart from the app's emoji.
fn header(text: &str) -> Value {
    let shown = with_emoji(&strip_marks(text));
    json!({
        "type": "RichTextBlock",
        "inlines": [{"type": "TextRun", "text": shown, "size": "Medium", "weight": "Bolder"}],
    })
}

/// The card elements of a message.
fn card_body(message: &Message, name_of: &dyn Fn(&str) -> Option<String>) -> Vec<Value> {
    let mut body: Vec<Value> = Vec::new();
    let mut separate_next = false;
    for block in &message.blocks {
        let elements = match block {
            Block::Header(text) => vec![header(text)],
            Block::Text(text) => paragraphs(text, Style::default(), name_of),
            Block::Context(text) => paragraphs(
                text,
                Style {
                    small: true,
                    ..Style::default()
                },
                name_of,
            ),
            Block::Divider => {
                separate_next = true;
                continue;
            }
            Block::Actions(buttons) => vec![json!({
                "type": "ActionSet",
                // As many as Slack shows in a row; a card has room for no more.
                "actions": buttons.iter().take(25).map(|button| {
                    let title: String = strip_marks(&button.label).chars().take(75).collect();
                    let mut action = json!({
                        "type": "Action.Submit",
                        "title": title,
                        "data": {"action": button.action, "value": button.value},
                    });
                    if button.primary {
                        action["style"] = json!("positive");
                    }
                    action
                }).collect::<Vec<_>>(),
            })],
        };
        for mut element in elements {
            if std::mem::take(&mut separate_next) {
                element["separator"] = json!(true);
            }
            body.push(element);
        }
    }
    if body.is_empty() {
        body = paragraphs(&message.fallback, Style::default(), name_of);
    }
    body
}

/// The card of a message.
pub fn adaptive_card(message: &Message, name_of: &dyn Fn(&str) -> Option<String>) -> Value {
    card_of(card_body(message, name_of))
}

/// Teams refuses a message bigger than about 28 KB: a card's elements stay under this.
pub const MAX_CARD_BYTES: usize = 24_000;
/// A notification's summary is a line, not the message.
const MAX_SUMMARY_CHARS: usize = 250;

/// An Adaptive Card (schema 1.5) of these elements.
fn card_of(body: Vec<Value>) -> Value {
    json!({
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.5",
        "body": fit(body),
    })
}

/// The elements that fit in a card Teams accepts: the last ones give way (the buttons
/// stay, they are what the message is for), with a line saying something was cut.
fn fit(mut body: Vec<Value>) -> Vec<Value> {
    let size = |body: &[Value]| body.iter().map(|e| e.to_string().len()).sum::<usize>();
    if size(&body) <= MAX_CARD_BYTES {
        return body;
    }
    // Buttons first, up to half the room.
    let mut actions: Vec<Value> = Vec::new();
    for set in body.iter().filter(|e| e["type"] == "ActionSet") {
        if size(&actions) + set.to_string().len() <= MAX_CARD_BYTES / 2 {
            actions.push(set.clone());
        }
    }
    body.retain(|e| e["type"] != "ActionSet");
    let cut = json!({"type": "RichTextBlock", "inlines": [
        {"type": "TextRun", "text": "… (too long for one Teams message; the rest was cut)",
         "isSubtle": true}]});
    let budget = MAX_CARD_BYTES
        .saturating_sub(size(&actions))
        .saturating_sub(cut.to_string().len());
    let mut used = 0;
    body.retain(|element| {
        used += element.to_string().len();
        used <= budget
    });
    body.push(cut);
    body.extend(actions);
    body
}

/// A message activity carrying a card of `body`; `summary` is what notifications show
/// (plain words: markup and marks taken out).
pub fn card_message(summary: &str, body: Vec<Value>) -> Value {
    let summary: String = summary.chars().take(MAX_SUMMARY_CHARS).collect();
    json!({
        "type": "message",
        "summary": summary,
        "attachments": [{"contentType": CARD_CONTENT_TYPE, "content": card_of(body)}],
    })
}

/// A message activity carrying the message's card.
pub fn card_activity(message: &Message, name_of: &dyn Fn(&str) -> Option<String>) -> Value {
    card_message(
        &plain_words(&message.fallback, name_of),
        card_body(message, name_of),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::{Button, plain};

    fn nobody(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn every_block_kind_has_its_card_element() {
        let message = Message {
            fallback: format!("Debrief: {}", plain("Outage *1*")),
            blocks: vec![
                Block::Header(":mag: Debrief: *Outage*".into()),
                Block::Text(format!(
                    "What went well?\n>{}",
                    plain("Paging <fast> & early")
                )),
                Block::Divider,
                Block::Context("Started by <@29:ada>".into()),
                Block::Actions(vec![
                    Button::new("Add my reflection", "debrief.reflect", 42).primary(),
                    Button::new("Close", "debrief.close", 42),
                ]),
            ],
        };
        assert_eq!(
            card_activity(&message, &nobody),
            json!({
                "type": "message",
                "summary": "Debrief: Outage *1*",
                "attachments": [{
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "content": {
                        "type": "AdaptiveCard",
                        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                        "version": "1.5",
                        "body": [
                            {"type": "RichTextBlock", "inlines": [{"type": "TextRun",
                              "text": "🔍 Debrief: *Outage*", "size": "Medium", "weight": "Bolder"}]},
                            {"type": "RichTextBlock", "inlines": [
                                {"type": "TextRun", "text": "What went well?"}]},
                            {"type": "RichTextBlock", "inlines": [
                                {"type": "TextRun", "text": "Paging <fast> & early", "italic": true}]},
                            {"type": "RichTextBlock", "separator": true, "inlines": [
                                {"type": "TextRun", "text": "Started by someone", "size": "Small",
                                 "isSubtle": true}]},
                            {"type": "ActionSet", "actions": [
                                {"type": "Action.Submit", "title": "Add my reflection",
                                 "data": {"action": "debrief.reflect", "value": "42"},
                                 "style": "positive"},
                                {"type": "Action.Submit", "title": "Close",
                                 "data": {"action": "debrief.close", "value": "42"}},
                            ]},
                        ],
                    },
                }],
            })
        );
    }

    #[test]
    fn typed_text_never_becomes_a_link_or_formatting() {
        let message = Message::text(format!(
            "*Lesson:* {}",
            plain("**[click](https://evil.example)** <at>Boss</at> https://evil.example")
        ));
        let card = card_activity(&message, &nobody);
        let runs = &card["attachments"][0]["content"]["body"][0]["inlines"];
        assert_eq!(
            runs[0],
            json!({"type": "TextRun", "text": "Lesson:", "weight": "Bolder"})
        );
        assert_eq!(
            runs[1],
            json!({"type": "TextRun",
                   "text": " **[click](https://evil.example)** <at>Boss</at> https://evil.example"})
        );
        assert!(
            !card.to_string().contains("\"type\":\"TextBlock\""),
            "no element that reads markdown carries typed text"
        );
    }

    #[test]
    fn a_message_without_blocks_shows_its_fallback() {
        let message = Message {
            fallback: "Saved".into(),
            blocks: Vec::new(),
        };
        assert_eq!(
            adaptive_card(&message, &nobody)["body"][0]["inlines"][0]["text"],
            "Saved"
        );
    }
}
