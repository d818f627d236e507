//! A platform-neutral message: what the domain wants to say, before it becomes Slack
//! Block Kit or a Teams Adaptive Card. Text uses light markup (`*bold*`, `` `code` ``)
//! that both renderers understand or translate.
//!
//! Text a person typed goes through [`plain`], which escapes it for Slack and wraps it
//! in two marks (Unicode interlinear annotation characters that nobody types), so
//! every renderer knows which parts are the app's markup and which are literal: Slack
//! drops the marks (its escapes already make the text inert), Teams renders what is
//! inside as plain text runs that no markdown, link or mention can come out of.

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
    /// Every text of the message, a block per line (buttons by label), without the
    /// marks around typed text; for tests and logs.
    pub fn all_text(&self) -> String {
        self.blocks
            .iter()
            .map(|block| match block {
                Block::Header(t) | Block::Text(t) | Block::Context(t) => strip_marks(t),
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

/// Opens text a person typed (see [`plain`]).
pub const TYPED_START: char = '\u{FFF9}';
/// Closes text a person typed.
pub const TYPED_END: char = '\u{FFFB}';

/// Whether `c` is one of the marks (or the one between them, reserved with them).
fn is_mark(c: char) -> bool {
    matches!(c, '\u{FFF9}'..='\u{FFFB}')
}

/// Text a person typed, made safe to place inside markup: `&`, `<` and `>` are escaped,
/// so a goal called `<!channel>` shows those characters instead of pinging everyone
/// (Slack's only three control characters), and the whole is marked as typed text, so
/// Teams shows `**`, `[a](b)` and the like as they were typed.
pub fn plain(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() + 8);
    escaped.push(TYPED_START);
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            mark if is_mark(mark) => {}
            other => escaped.push(other),
        }
    }
    escaped.push(TYPED_END);
    escaped
}

/// Like [`plain`], but a person's mention (`<@U123>`, a Slack user id) stays a mention:
/// answers name owners and colleagues on purpose, while `<!channel>`, a channel named
/// as `<@C…>`, user groups and links still cannot get through.
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
        let id = &after[..id_len];
        let person = id.len() > 1 && id.starts_with(['U', 'W']);
        if person && after[id_len..].starts_with("&gt;") {
            // The mention is the app's markup: typed text closes before it and opens
            // again after it.
            kept.push(TYPED_END);
            kept.push_str("<@");
            kept.push_str(id);
            kept.push('>');
            kept.push(TYPED_START);
            rest = &after[id_len + "&gt;".len()..];
        } else {
            kept.push_str("&lt;@");
            rest = after;
        }
    }
    kept.push_str(rest);
    kept
}

/// `text` without the marks around typed text (what Slack is sent).
pub fn strip_marks(text: &str) -> String {
    text.chars().filter(|c| !is_mark(*c)).collect()
}

/// The parts of `text`, each with whether a person typed it. A mark left open (text cut
/// to a limit) runs to the end.
pub fn typed_parts(text: &str) -> Vec<(bool, &str)> {
    let mut parts = Vec::new();
    let mut typed = false;
    let mut from = 0;
    for (at, c) in text.char_indices() {
        if !is_mark(c) {
            continue;
        }
        if at > from {
            parts.push((typed, &text[from..at]));
        }
        typed = c == TYPED_START;
        from = at + c.len_utf8();
    }
    if from < text.len() {
        parts.push((typed, &text[from..]));
    }
    parts
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
    use super::{plain, plain_keeping_mentions, strip_marks, typed_parts, unescape_typed};

    #[test]
    fn mentions_of_people_survive_and_nothing_else_does() {
        let kept = plain_keeping_mentions("ask <@U2> & <!channel> <@U3|bob> <@> <@C0GENERAL>");
        assert_eq!(
            strip_marks(&kept),
            "ask <@U2> &amp; &lt;!channel&gt; &lt;@U3|bob&gt; &lt;@&gt; &lt;@C0GENERAL&gt;"
        );
        assert_eq!(
            typed_parts(&kept),
            vec![
                (true, "ask "),
                (false, "<@U2>"),
                (
                    true,
                    " &amp; &lt;!channel&gt; &lt;@U3|bob&gt; &lt;@&gt; &lt;@C0GENERAL&gt;"
                ),
            ]
        );
        assert_eq!(strip_marks(&plain_keeping_mentions("a <@U1")), "a &lt;@U1");
    }

    #[test]
    fn typed_text_is_marked_and_cannot_forge_marks() {
        let marked = plain("a \u{FFFB}*b*\u{FFF9}");
        assert_eq!(typed_parts(&marked), vec![(true, "a *b*")]);
        let around = format!("*{}* said", plain("x"));
        assert_eq!(
            typed_parts(&around),
            vec![(false, "*"), (true, "x"), (false, "* said")]
        );
        let cut: String = plain("long text").chars().take(5).collect();
        assert_eq!(
            typed_parts(&cut),
            vec![(true, "long")],
            "an open mark runs on"
        );
    }

    #[test]
    fn typed_text_is_read_back_as_typed() {
        assert_eq!(unescape_typed("R&amp;D &lt;3 &amp;lt;"), "R&D <3 &lt;");
    }

    #[test]
    fn plain_text_cannot_ping_or_link() {
        assert_eq!(
            strip_marks(&plain("<!channel> & <@U1> <https://x|y>")),
            "&lt;!channel&gt; &amp; &lt;@U1&gt; &lt;https://x|y&gt;"
        );
        assert_eq!(strip_marks(&plain("née — ok")), "née — ok");
    }
}
