//! One integration binary: the real app over HTTP, a temp SQLite file per test, and a
//! recording fake Slack.

mod abuse;
mod anonymity;
mod app_home;
mod cli;
mod closing_the_loop;
mod converging;
mod dashboard;
mod debriefs;
mod delivery;
mod exactly_once;
mod export;
mod goals;
mod health;
mod mentors;
mod oauth;
mod privacy;
mod recap;
mod scheduler;
mod slack_commands;
mod slack_events;
mod slack_interactions;
mod slack_verification;
mod socket_mode;
mod support;
mod teams_bot;
mod teams_messages;
mod teams_webhook;
