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

#[cfg(test)]
mod tests {
    use super::plain;

    #[test]
    fn plain_text_cannot_ping_or_link() {
        assert_eq!(
            plain("<!channel> & <@U1> <https://x|y>"),
            "&lt;!channel&gt; &amp; &lt;@U1&gt; &lt;https://x|y&gt;"
        );
        assert_eq!(plain("née — ok"), "née — ok");
    }
}
