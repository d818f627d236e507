//! The debrief card in the channel: what it is about, who facilitates, how many have
//! reflected, lessons from similar work, and the buttons.

use chrono_tz::Tz;

use super::{Debrief, Shown, since};
use crate::app::schedules::local_time;
use crate::app::words::count_of;
use crate::domain::Timestamp;
use crate::platform::{Block, Button, Message, plain};

/// Button actions, as they come back in `block_actions`.
pub const REFLECT: &str = "debrief.reflect";
pub const REFLECT_IN_DM: &str = "debrief.reflect_dm";
pub const CLOSE: &str = "debrief.close";
/// The facilitator's button: DMs the members who have not reflected yet.
pub const NUDGE: &str = "debrief.nudge";
/// The retro reminder's button: starts a debrief, carrying [`start_value`].
pub const START: &str = "debrief.start";

/// What the start button carries: the template (empty for the configured default) and
/// the title, so the click needs no lookup and survives the schedule's removal.
pub fn start_value(template: Option<&str>, title: &str) -> String {
    format!("{}|{title}", template.unwrap_or_default())
}

/// Reads a start button's value back: template (if named) and title.
pub fn read_start_value(value: &str) -> Option<(Option<&str>, &str)> {
    let (template, title) = value.split_once('|')?;
    let title = title.trim();
    (!title.is_empty()).then_some(((!template.is_empty()).then_some(template), title))
}

/// The card as it should look now; times are shown in `zone` (the workspace's).
pub fn card(debrief: &Debrief, reflected: i64, shown: &Shown, zone: Tz) -> Message {
    let past = &shown.past;
    let closes = match debrief.closes_at.map(Timestamp::to_utc) {
        Some(at) if debrief.is_open() => format!(
            "\n:alarm_clock: Closes {} ({})",
            local_time(at, zone),
            zone.name()
        ),
        _ => String::new(),
    };
    let mut blocks = vec![
        Block::Header(format!(":mag: {}", debrief.title)),
        Block::Text(format!(
            "*{}* · {} · facilitated by <@{}>{}{closes}",
            plain(&debrief.template_title),
            count_of(&debrief.questions, "question", "questions"),
            debrief.facilitator,
            if debrief.anonymous {
                " · *anonymous*: names are never shown or stored"
            } else {
                ""
            }
        )),
        Block::Context(match reflected {
            0 => ":busts_in_silhouette: Nobody has reflected yet.".to_owned(),
            1 => ":busts_in_silhouette: 1 person reflected.".to_owned(),
            n => format!(":busts_in_silhouette: {n} people reflected."),
        }),
    ];
    if !past.is_empty() {
        let lines: Vec<String> = past
            .iter()
            .map(|hit| {
                format!(
                    "• {} _(from {})_",
                    plain(&hit.text),
                    plain(&hit.debrief_title)
                )
            })
            .collect();
        blocks.push(Block::Text(format!(
            "*Learn before doing* — lessons from similar work:\n{}",
            lines.join("\n")
        )));
    }
    if debrief.is_open() {
        blocks.push(Block::Actions(vec![
            Button::new("Add reflection", REFLECT, debrief.id.0).primary(),
            Button::new("Reflect in DM", REFLECT_IN_DM, debrief.id.0),
            Button::new("Nudge", NUDGE, debrief.id.0),
            Button::new("Close", CLOSE, debrief.id.0),
        ]));
        blocks.extend(since::section(&shown.since, Some(debrief.id)));
    } else {
        blocks.push(Block::Context(
            ":lock: Closed. The summary is in the thread.".into(),
        ));
    }
    Message {
        fallback: format!("Debrief: {}", plain(&debrief.title)),
        blocks,
    }
}
