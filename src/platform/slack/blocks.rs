//! Renders the neutral [`Message`] as Slack Block Kit, within Slack's size limits.
//! <https://api.slack.com/reference/block-kit/blocks>

use serde_json::{Value, json};

use crate::platform::{Block, Button, Message, strip_marks};

/// Slack rejects a section whose text is longer than this.
const MAX_SECTION_CHARS: usize = 3000;
/// Slack rejects a header longer than this.
const MAX_HEADER_CHARS: usize = 150;
/// Slack rejects a message with more blocks than this.
pub const MAX_BLOCKS_PER_MESSAGE: usize = 50;
/// Slack allows at most this many elements in one actions block.
const MAX_ACTION_ELEMENTS: usize = 25;
/// Slack rejects a button label longer than this.
const MAX_BUTTON_LABEL_CHARS: usize = 75;
/// Top-level `text` is shown in notifications; Slack truncates past 40,000.
const MAX_FALLBACK_CHARS: usize = 4000;

/// Cuts `text` to at most `max` characters, marking the cut with an ellipsis.
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut clipped: String = text.chars().take(max - 1).collect();
    clipped.push('…');
    clipped
}

/// A `plain_text` object holding at most `max` characters (header, button, modal labels).
pub(crate) fn plain_text(text: &str, max: usize) -> Value {
    json!({"type": "plain_text", "text": clip(&strip_marks(text), max), "emoji": true})
}

/// Whether `inner` (between `<` and `>`) is a mention the app writes on purpose: a
/// person (`@U…`/`@W…`) or a channel (`#C…`/`#G…`).
fn is_app_mention(inner: &str) -> bool {
    let id = match inner.strip_prefix('@') {
        Some(user) => user.starts_with(['U', 'W']).then_some(user),
        None => inner
            .strip_prefix('#')
            .filter(|channel| channel.starts_with(['C', 'G'])),
    };
    id.is_some_and(|id| id.len() > 1 && id.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// Slack markup as sent: the marks around typed text dropped (typed text is already
/// escaped), and any `<…>` control sequence other than a person's or a channel's
/// mention escaped. learnloop never writes `<!channel>`, `<!subteam^…>`, `<!date…>`
/// or links itself, so none can reach Slack, whatever a code path forgot to escape.
pub fn neutralised(text: &str) -> String {
    let text = strip_marks(text);
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('>') {
            Some(close) if is_app_mention(&after[..close]) => {
                out.push('<');
                out.push_str(&after[..=close]);
                rest = &after[close + 1..];
            }
            _ => {
                out.push_str("&lt;");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A `mrkdwn` text object of at most `max` characters. `verbatim` keeps Slack from
/// turning bare URLs and channel names in people's words into links.
pub(crate) fn mrkdwn(text: &str, max: usize) -> Value {
    json!({"type": "mrkdwn", "text": clip(&neutralised(text), max), "verbatim": true})
}

fn render_block(block: &Block) -> Value {
    match block {
        Block::Header(text) => json!({
            "type": "header",
            "text": plain_text(text, MAX_HEADER_CHARS)
        }),
        Block::Text(text) => json!({
            "type": "section",
            "text": mrkdwn(text, MAX_SECTION_CHARS)
        }),
        Block::Context(text) => json!({
            "type": "context",
            "elements": [mrkdwn(text, MAX_SECTION_CHARS)]
        }),
        Block::Divider => json!({"type": "divider"}),
        Block::Actions(buttons) => json!({
            "type": "actions",
            "elements": buttons
                .iter()
                .take(MAX_ACTION_ELEMENTS)
                .map(render_button)
                .collect::<Vec<_>>(),
        }),
    }
}

fn render_button(button: &Button) -> Value {
    let mut rendered = json!({
        "type": "button",
        "text": plain_text(&button.label, MAX_BUTTON_LABEL_CHARS),
        "action_id": button.action,
        "value": button.value,
    });
    if button.primary {
        rendered["style"] = Value::String("primary".into());
    }
    rendered
}

/// The `blocks` array of a message. Callers that may exceed [`MAX_BLOCKS_PER_MESSAGE`]
/// split their content first; anything past the limit is dropped here rather than
/// having Slack reject the whole message.
pub fn render_blocks(message: &Message) -> Vec<Value> {
    message
        .blocks
        .iter()
        .take(MAX_BLOCKS_PER_MESSAGE)
        .map(render_block)
        .collect()
}

/// The top-level `text`, which Slack shows in notifications: escaped exactly as the
/// blocks are, so it can ping nobody either.
fn fallback_text(message: &Message) -> String {
    clip(&neutralised(&message.fallback), MAX_FALLBACK_CHARS)
}

/// The body of `views.publish` for a person's Home tab.
pub fn home_view_body(user: &str, message: &Message) -> Value {
    json!({
        "user_id": user,
        "view": {"type": "home", "blocks": render_blocks(message)},
    })
}

/// The reply body of a slash command: visible only to the caller.
pub fn ephemeral_response(message: &Message) -> Value {
    json!({
        "response_type": "ephemeral",
        "text": fallback_text(message),
        "blocks": render_blocks(message),
    })
}

/// The body of `chat.postMessage`, optionally as a reply in a thread.
pub fn post_message_body(channel: &str, thread_ts: Option<&str>, message: &Message) -> Value {
    let mut body = json!({
        "channel": channel,
        "text": fallback_text(message),
        "blocks": render_blocks(message),
    });
    if let Some(ts) = thread_ts {
        body["thread_ts"] = Value::String(ts.to_owned());
    }
    body
}

/// The body of `chat.postEphemeral`: shown to `user` alone, in a thread when asked.
pub fn ephemeral_message_body(
    channel: &str,
    user: &str,
    thread_ts: Option<&str>,
    message: &Message,
) -> Value {
    let mut body = post_message_body(channel, thread_ts, message);
    body["user"] = Value::String(user.to_owned());
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_each_block_kind() {
        let message = Message {
            fallback: "Hello".into(),
            blocks: vec![
                Block::Header("Title".into()),
                Block::Text("*bold* text".into()),
                Block::Divider,
                Block::Context("small".into()),
            ],
        };
        assert_eq!(
            ephemeral_response(&message),
            json!({
                "response_type": "ephemeral",
                "text": "Hello",
                "blocks": [
                    {"type": "header", "text": {"type": "plain_text", "text": "Title", "emoji": true}},
                    {"type": "section", "text": {"type": "mrkdwn", "text": "*bold* text", "verbatim": true}},
                    {"type": "divider"},
                    {"type": "context", "elements": [{"type": "mrkdwn", "text": "small", "verbatim": true}]}
                ]
            })
        );
    }

    #[test]
    fn respects_slack_limits() {
        let message = Message {
            fallback: "f".into(),
            blocks: std::iter::once(Block::Header("h".repeat(200)))
                .chain(std::iter::repeat_n(Block::Text("é".repeat(3500)), 60))
                .collect(),
        };
        let blocks = render_blocks(&message);
        assert_eq!(blocks.len(), MAX_BLOCKS_PER_MESSAGE);
        let header = blocks[0]["text"]["text"].as_str().unwrap();
        assert_eq!(header.chars().count(), 150);
        assert!(header.ends_with('…'));
        let section = blocks[1]["text"]["text"].as_str().unwrap();
        assert_eq!(section.chars().count(), 3000);
    }

    #[test]
    fn only_mentions_of_people_and_channels_reach_slack() {
        assert_eq!(
            neutralised(
                "<@U1> <#C2> <!channel> <!subteam^S1|@a> <!date^1^{date}|x> <https://e.x|y> <@C3> a > b"
            ),
            "<@U1> <#C2> &lt;!channel> &lt;!subteam^S1|@a> &lt;!date^1^{date}|x> &lt;https://e.x|y> &lt;@C3> a > b"
        );
        let typed = crate::platform::plain("<!here> *x*");
        let body = post_message_body("C1", None, &Message::text(format!("Goal: {typed}")));
        assert_eq!(body["text"], "Goal: &lt;!here&gt; *x*");
        assert_eq!(body["blocks"][0]["text"]["text"], "Goal: &lt;!here&gt; *x*");
    }

    #[test]
    fn post_message_threads_when_asked() {
        let body = post_message_body("C1", Some("1.2"), &Message::text("hi"));
        assert_eq!(body["channel"], "C1");
        assert_eq!(body["thread_ts"], "1.2");
        assert!(
            post_message_body("C1", None, &Message::text("hi"))
                .get("thread_ts")
                .is_none()
        );
    }
}
