//! The neutral message model as an Adaptive Card (schema 1.5) in a Bot Framework
//! message activity. Buttons become `Action.Submit` whose `data` carries the same
//! `action` and `value` a Slack button does, so a click comes back as the same
//! interaction.
//! <https://adaptivecards.io/explorer/>

use serde_json::{Value, json};

use super::markdown::to_markdown;
use crate::platform::{Block, Message};

pub const CARD_CONTENT_TYPE: &str = "application/vnd.microsoft.card.adaptive";

/// Card text: Teams markdown with the text's escapes undone (a card shows no HTML) and
/// each line its own paragraph (a card joins single line breaks).
fn card_text(text: &str, name_of: &dyn Fn(&str) -> Option<String>) -> String {
    to_markdown(text, name_of)
        .lines()
        .map(|line| {
            // A card has no block quotes: a quoted line (a lesson, say) is set in italics.
            let line = match line.strip_prefix('>') {
                Some(quoted) if !quoted.trim().is_empty() => format!("_{}_", quoted.trim()),
                _ => line.to_owned(),
            };
            line.replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&")
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The card elements of a message.
fn card_body(message: &Message, name_of: &dyn Fn(&str) -> Option<String>) -> Vec<Value> {
    let mut body: Vec<Value> = Vec::new();
    let mut separate_next = false;
    for block in &message.blocks {
        let mut element = match block {
            Block::Header(text) => json!({
                "type": "TextBlock", "text": card_text(text, name_of), "wrap": true,
                "size": "Medium", "weight": "Bolder",
            }),
            Block::Text(text) => json!({
                "type": "TextBlock", "text": card_text(text, name_of), "wrap": true,
            }),
            Block::Context(text) => json!({
                "type": "TextBlock", "text": card_text(text, name_of), "wrap": true,
                "size": "Small", "isSubtle": true,
            }),
            Block::Divider => {
                separate_next = true;
                continue;
            }
            Block::Actions(buttons) => json!({
                "type": "ActionSet",
                "actions": buttons.iter().map(|button| {
                    let mut action = json!({
                        "type": "Action.Submit",
                        "title": button.label,
                        "data": {"action": button.action, "value": button.value},
                    });
                    if button.primary {
                        action["style"] = json!("positive");
                    }
                    action
                }).collect::<Vec<_>>(),
            }),
        };
        if std::mem::take(&mut separate_next) {
            element["separator"] = json!(true);
        }
        body.push(element);
    }
    if body.is_empty() {
        body.push(json!({"type": "TextBlock", "text": card_text(&message.fallback, name_of), "wrap": true}));
    }
    body
}

/// The card of a message.
pub fn adaptive_card(message: &Message, name_of: &dyn Fn(&str) -> Option<String>) -> Value {
    card_of(card_body(message, name_of))
}

/// An Adaptive Card (schema 1.5) of these elements.
fn card_of(body: Vec<Value>) -> Value {
    json!({
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.5",
        "body": body,
    })
}

/// A message activity carrying a card of `body`; `summary` is what notifications show.
pub fn card_message(summary: &str, body: Vec<Value>) -> Value {
    json!({
        "type": "message",
        "summary": summary,
        "attachments": [{"contentType": CARD_CONTENT_TYPE, "content": card_of(body)}],
    })
}

/// A message activity carrying the message's card.
pub fn card_activity(message: &Message, name_of: &dyn Fn(&str) -> Option<String>) -> Value {
    card_message(&message.fallback, card_body(message, name_of))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::Button;

    fn nobody(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn every_block_kind_has_its_card_element() {
        let message = Message {
            fallback: "Debrief: Outage".into(),
            blocks: vec![
                Block::Header("Debrief: *Outage*".into()),
                Block::Text("What went well?\n>Paging &lt;fast&gt; &amp; early".into()),
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
                "summary": "Debrief: Outage",
                "attachments": [{
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "content": {
                        "type": "AdaptiveCard",
                        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                        "version": "1.5",
                        "body": [
                            {"type": "TextBlock", "text": "Debrief: **Outage**", "wrap": true,
                             "size": "Medium", "weight": "Bolder"},
                            {"type": "TextBlock", "text": "What went well?\n\n_Paging <fast> & early_",
                             "wrap": true},
                            {"type": "TextBlock", "text": "Started by someone", "wrap": true,
                             "size": "Small", "isSubtle": true, "separator": true},
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
    fn a_message_without_blocks_shows_its_fallback() {
        let message = Message {
            fallback: "Saved".into(),
            blocks: Vec::new(),
        };
        assert_eq!(adaptive_card(&message, &nobody)["body"][0]["text"], "Saved");
    }
}
