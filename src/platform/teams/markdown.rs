//! The neutral model's light markup (Slack-flavoured: `*bold*`, `<@U1>`, `:tada:`) as
//! the markdown Teams shows in a message's `text`.
//! <https://learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/cards/cards-format>

use crate::platform::{Block, Message};

/// The emoji the app's messages use, by their Slack short names.
const EMOJI: &[(&str, &str)] = &[
    (":warning:", "⚠️"),
    (":white_check_mark:", "✅"),
    (":busts_in_silhouette:", "👥"),
    (":wave:", "👋"),
    (":tada:", "🎉"),
    (":lock:", "🔒"),
    (":hourglass_flowing_sand:", "⏳"),
    (":fallen_leaf:", "🍂"),
    (":dart:", "🎯"),
    (":wastebasket:", "🗑️"),
    (":bulb:", "💡"),
    (":sunrise:", "🌅"),
    (":speech_balloon:", "💬"),
    (":seedling:", "🌱"),
    (":repeat:", "🔁"),
    (":palm_tree:", "🌴"),
    (":ok_hand:", "👌"),
    (":mag:", "🔍"),
    (":loudspeaker:", "📢"),
    (":chart_with_upwards_trend:", "📈"),
];

/// One of the `<…>` forms: a mention, a channel, a link or a special mention.
fn angle(inner: &str, name_of: &dyn Fn(&str) -> Option<String>) -> String {
    if let Some(id) = inner.strip_prefix('@') {
        return name_of(id).unwrap_or_else(|| "someone".to_owned());
    }
    if inner.starts_with('#') {
        return "the channel".to_owned();
    }
    if inner.starts_with('!') {
        return String::new();
    }
    match inner.split_once('|') {
        Some((url, label)) => format!("[{label}]({url})"),
        None => inner.to_owned(),
    }
}

/// Converts one piece of text. `name_of` turns a user id into a display name where
/// known. Code spans are left as they are; line breaks and the `&lt;`-style escapes of
/// [`crate::platform::plain`] are left to the caller (message text keeps the escapes and
/// needs `<br>`; card text needs neither).
pub fn to_markdown(text: &str, name_of: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut in_code = false;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '`' {
            in_code = !in_code;
            out.push(c);
            rest = &rest[1..];
            continue;
        }
        if !in_code {
            if c == '*' {
                out.push_str("**");
                rest = &rest[1..];
                continue;
            }
            if c == '<'
                && let Some(end) = rest.find('>')
            {
                out.push_str(&angle(&rest[1..end], name_of));
                rest = &rest[end + 1..];
                continue;
            }
            if c == ':'
                && let Some((code, emoji)) = EMOJI.iter().find(|(code, _)| rest.starts_with(code))
            {
                out.push_str(emoji);
                rest = &rest[code.len()..];
                continue;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// A whole message as one Teams markdown text: blocks as paragraphs. Buttons are left
/// out: the caller decides whether they can be offered at all.
pub fn message_text(message: &Message, name_of: &dyn Fn(&str) -> Option<String>) -> String {
    let paragraphs: Vec<String> = message
        .blocks
        .iter()
        .filter_map(|block| match block {
            Block::Header(text) => Some(format!("**{}**", to_markdown(text, name_of))),
            Block::Text(text) | Block::Context(text) => {
                Some(to_markdown(text, name_of).replace('\n', "<br>"))
            }
            Block::Divider | Block::Actions(_) => None,
        })
        .filter(|p| !p.is_empty())
        .collect();
    if paragraphs.is_empty() {
        return to_markdown(&message.fallback, name_of);
    }
    paragraphs.join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::Button;

    fn names(id: &str) -> Option<String> {
        (id == "29:alice").then(|| "Alice".to_owned())
    }

    #[test]
    fn slack_markup_becomes_teams_markdown() {
        assert_eq!(
            to_markdown(
                ":tada: *Done* by <@29:alice> and <@29:bob> in <#C1>: see <https://x.example/a|the doc>",
                &names
            ),
            "🎉 **Done** by Alice and someone in the channel: see [the doc](https://x.example/a)"
        );
        assert_eq!(
            to_markdown("`lessons deploy*` finds\n*prefixes* <!here>", &names),
            "`lessons deploy*` finds\n**prefixes** "
        );
        assert_eq!(
            to_markdown("a &lt;b&gt; :unknown: 3 < 4", &names),
            "a &lt;b&gt; :unknown: 3 < 4"
        );
    }

    #[test]
    fn a_message_is_paragraphs_without_buttons() {
        let message = Message {
            fallback: "f".into(),
            blocks: vec![
                Block::Header("Goals".into()),
                Block::Text("1. Learn *Rust*".into()),
                Block::Divider,
                Block::Actions(vec![Button::new("Done", "goal.done", 1)]),
                Block::Context("by <@29:alice>".into()),
            ],
        };
        assert_eq!(
            message_text(&message, &names),
            "**Goals**\n\n1. Learn **Rust**\n\nby Alice"
        );
        assert_eq!(message_text(&Message::default(), &names), "");
    }
}
