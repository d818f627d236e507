//! Everything platform-specific on the way out: the neutral message model, its
//! renderers, and the API clients.

pub mod form;
pub mod message;
pub mod outgoing;
pub mod slack;
pub mod teams;

pub use form::{Choice, Field, Form, Heading, Input};
pub use message::{
    Block, Button, Message, plain, plain_keeping_mentions, strip_marks, typed_parts, unescape_typed,
};
