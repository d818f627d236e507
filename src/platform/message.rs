//! A platform-neutral message: what the domain wants to say, before it becomes Slack
//! Block Kit or a Teams Adaptive Card. Text uses light markup (`*bold*`, `` `code` ``)
//! that both renderers understand or translate.

/// One message, with a plain-text fallback for notifications and screen readers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Message {
    pub fallback: String,
    pub blocks: Vec<Block>,
}

/// A visual part of a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Block {
    /// A short title line.
    Header(String),
    /// A paragraph of text with light markup.
    Text(String),
    /// Small print under the main content.
    Context(String),
    /// A horizontal rule.
    Divider,
    /// A row of buttons.
    Actions(Vec<Button>),
}

/// A button; a click comes back with its `action` and `value`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Button {
    pub label: String,
    /// What the click means, e.g. `debrief.close`.
    pub action: String,
    /// Which thing it is about, e.g. a debrief id.
    pub value: String,
    pub primary: bool,
}

impl Button {
    pub fn new(label: &str, action: &str, value: impl ToString) -> Self {
        Self {
            label: label.to_owned(),
            action: action.to_owned(),
            value: value.to_string(),
            primary: false,
        }
    }

    pub fn primary(mut self) -> Self {
        self.primary = true;
        self
    }
}

impl Message {
    /// Every text of the message, a block per line (buttons by label); for tests and logs.
    pub fn all_text(&self) -> String {
        self.blocks
            .iter()
            .map(|block| match block {
                Block::Header(t) | Block::Text(t) | Block::Context(t) => t.clone(),
                Block::Divider => String::new(),
                Block::Actions(buttons) => buttons
                    .iter()
                    .map(|b| format!("[{}]", b.label))
                    .collect::<Vec<_>>()
                    .join(" "),
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// A message of one paragraph.
    pub fn text(text: impl Into<String>) -> Self {
        let text = text.into();
        Self {
            fallback: text.clone(),
            blocks: vec![Block::Text(text)],
        }
    }
}

/// Text a person typed, made safe to place inside markup: `&`, `<` and `>` are escaped,
/// so a goal called `<!channel>` shows those characters instead of pinging everyone.
/// (Slack's only three control characters; the Teams renderer undoes the same three.)
pub fn plain(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// Like [`plain`], but a person's mention (`<@U123>`) stays a mention: answers name
/// owners and colleagues on purpose, and `<!channel>` or links still cannot get through.
pub fn plain_keeping_mentions(text: &str) -> String {
    let escaped = plain(text);
    let mut kept = String::with_capacity(escaped.len());
    let mut rest = escaped.as_str();
    while let Some(start) = rest.find("&lt;@") {
        kept.push_str(&rest[..start]);
        let after = &rest[start + "&lt;@".len()..];
        let id_len = after
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(after.len());
        if id_len > 0 && after[id_len..].starts_with("&gt;") {
            kept.push_str("<@");
            kept.push_str(&after[..id_len]);
            kept.push('>');
            rest = &after[id_len + "&gt;".len()..];
        } else {
            kept.push_str("&lt;@");
            rest = after;
        }
    }
    kept.push_str(rest);
    kept
}

/// Slack escapes `&`, `<` and `>` in what people type (slash command text, messages);
/// this reads them back as typed, so stored text is what the person wrote.
pub fn unescape_typed(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::{plain, plain_keeping_mentions, unescape_typed};

    #[test]
    fn mentions_of_people_survive_and_nothing_else_does() {
        assert_eq!(
            plain_keeping_mentions("ask <@U2> & <!channel> <@U3|bob> <@>"),
            "ask <@U2> &amp; &lt;!channel&gt; &lt;@U3|bob&gt; &lt;@&gt;"
        );
        assert_eq!(plain_keeping_mentions("a <@U1"), "a &lt;@U1");
    }

    #[test]
    fn typed_text_is_read_back_as_typed() {
        assert_eq!(unescape_typed("R&amp;D &lt;3 &amp;lt;"), "R&D <3 &lt;");
    }

    #[test]
    fn plain_text_cannot_ping_or_link() {
        assert_eq!(
            plain("<!channel> & <@U1> <https://x|y>"),
            "&lt;!channel&gt; &amp; &lt;@U1&gt; &lt;https://x|y&gt;"
        );
        assert_eq!(plain("née — ok"), "née — ok");
    }
}
