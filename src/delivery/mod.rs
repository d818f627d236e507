//! The outbox worker: sends queued messages in order per channel, within the platform's
//! rate limits, retrying what may work later and giving up visibly on what never will.

pub mod backoff;
mod rate;
mod teams;
mod worker;

pub use worker::{Delivery, DeliveryReport};
