//! A platform-neutral message: what the domain wants to say, before it becomes Slack
//! Block Kit or a Teams Adaptive Card. Text uses light markup (`*bold*`, `` `code` ``)
//! that both renderers understand or translate.

/// One message, with a plain-text fallback for notifications and screen readers.
#[derive(Clone, Debug, PartialEq, Eq)]
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
}

impl Message {
    /// A message of one paragraph.
    pub fn text(text: impl Into<String>) -> Self {
        let text = text.into();
        Self {
            fallback: text.clone(),
            blocks: vec![Block::Text(text)],
        }
    }
}
