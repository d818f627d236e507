//! Property tests of everything that reads what arrives from outside and of the
//! renderers: for any input, no panic; what is rendered stays within the platforms'
//! limits; typed text stays inert. The cargo-fuzz targets (`fuzz/`) drive the same
//! entry points with coverage guidance; their crashes are kept here as regressions.

use proptest::prelude::*;
use serde_json::Value;

use crate::app::command::{SlashCommand, parse_learn, parse_slash};
use crate::app::messages;
use crate::http::slack::{commands, events, interactions};
use crate::platform::slack::blocks::{ephemeral_response, post_message_body};
use crate::platform::teams::card::MAX_CARD_BYTES;
use crate::platform::teams::card_activity;
use crate::platform::{Block, Button, Message, plain, plain_keeping_mentions, strip_marks};

/// Pieces people (and attackers) type: markup of both platforms, special mentions,
/// the marks of typed text, entities, line breaks.
const PIECES: &[&str] = &[
    "<!channel>",
    "<!here>",
    "<!subteam^S1|@admins>",
    "<!date^1^{date}|x>",
    "<@U1>",
    "<@U0BOB|bob>",
    "<@C0GENERAL>",
    "<#C1>",
    "<https://evil.example|click>",
    "https://evil.example",
    "[click](https://evil.example)",
    "**bold**",
    "*",
    "_",
    "~",
    "`",
    ">",
    "<",
    "&",
    "&lt;",
    "&amp;gt;",
    "\n",
    "\n>",
    ":tada:",
    ":",
    "<at>Boss</at>",
    "\u{FFF9}",
    "\u{FFFA}",
    "\u{FFFB}",
    "#deploy",
    "é",
    "🚀",
    "\r\n",
    "\"",
    "'",
    "\\",
    "--template",
    "--anonymous",
    "by 2026-02-30",
];

/// Text built from interesting pieces and arbitrary strings.
fn typed() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            3 => prop::sample::select(PIECES).prop_map(str::to_owned),
            2 => any::<String>(),
            1 => "[a-z ]{0,12}",
        ],
        0..12,
    )
    .prop_map(|parts| parts.concat())
}

/// Text the app writes: its own markup around typed parts.
fn app_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            typed().prop_map(|t| plain(&t)),
            typed().prop_map(|t| plain_keeping_mentions(&t)),
            prop::sample::select(
                &[
                    "*",
                    "_",
                    "`",
                    "\n",
                    ">",
                    "• ",
                    ":warning: ",
                    "<@U1>",
                    "<#C1>"
                ][..]
            )
            .prop_map(str::to_owned),
            "[a-zA-Z ]{0,30}",
        ],
        0..10,
    )
    .prop_map(|parts| parts.concat())
}

fn block() -> impl Strategy<Value = Block> {
    prop_oneof![
        typed().prop_map(Block::Header),
        app_text().prop_map(Block::Text),
        app_text().prop_map(Block::Context),
        Just(Block::Divider),
        prop::collection::vec((typed(), "[a-z.]{1,20}", "[0-9]{1,6}"), 0..30).prop_map(|buttons| {
            Block::Actions(
                buttons
                    .into_iter()
                    .map(|(label, action, value)| Button::new(&label, &action, value))
                    .collect(),
            )
        }),
    ]
}

fn message() -> impl Strategy<Value = Message> {
    (app_text(), prop::collection::vec(block(), 0..70))
        .prop_map(|(fallback, blocks)| Message { fallback, blocks })
}

/// Any JSON value, nested.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        typed().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(("[a-z_]{1,12}", inner), 0..8)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
}

/// A JSON object with the fields a payload of this kind has, each holding anything.
fn shaped(kind: &'static str, fields: &'static [&'static str]) -> impl Strategy<Value = Value> {
    prop::collection::vec((prop::sample::select(fields), json()), 0..fields.len()).prop_map(
        move |chosen| {
            let mut object = serde_json::Map::new();
            object.insert("type".into(), Value::String(kind.into()));
            for (field, value) in chosen {
                object.insert(field.into(), value);
            }
            Value::Object(object)
        },
    )
}

/// Every string of a rendered JSON body.
fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

/// No special mention, link or mark can reach Slack.
fn inert_for_slack(text: &str) -> bool {
    crate::fuzzing::inert_for_slack(text) && !crate::fuzzing::has_mark(text)
}

/// Every input a fuzzing campaign found a crash with (`tests/fuzz_regressions/TARGET-…`)
/// runs through its target's checks again.
#[test]
fn crashes_found_by_fuzzing_stay_fixed() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions");
    let mut replayed = 0;
    for entry in std::fs::read_dir(&dir).expect("tests/fuzz_regressions") {
        let path = entry.expect("an entry").path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let data = std::fs::read(&path).expect("a crash input");
        let target: fn(&[u8]) = match name.split('-').next().unwrap_or_default() {
            "command_grammar" => crate::fuzzing::command_grammar,
            "schedule_parser" => crate::fuzzing::schedule_parser,
            "slack_payloads" => crate::fuzzing::slack_payloads,
            "teams_activity" => crate::fuzzing::teams_activity,
            "renderers" => crate::fuzzing::renderers,
            other => panic!("{name}: no fuzz target `{other}`"),
        };
        target(&data);
        replayed += 1;
    }
    assert!(replayed > 0, "the regressions are in {}", dir.display());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn the_command_grammar_takes_anything(text in typed()) {
        for command in [SlashCommand::Learn, SlashCommand::Debrief] {
            match parse_slash(command, &text) {
                Ok(parsed) => {
                    let _ = (parsed.is_personal(), parsed.answers_in_public());
                }
                Err(error) => {
                    prop_assert!(!error.usages.is_empty());
                    let shown = ephemeral_response(&messages::usage_error(&error));
                    prop_assert!(shown["text"].as_str().unwrap().chars().count() <= 4000);
                }
            }
        }
        let _ = parse_learn(&text);
    }

    #[test]
    fn the_schedule_parser_takes_anything(moment in any::<[u8; 4]>(), text in typed()) {
        crate::fuzzing::schedule_parser(&[&moment[..], text.as_bytes()].concat());
    }

    #[test]
    fn slack_command_forms_are_read_or_refused(fields in prop::collection::vec(
        (prop::sample::select(&["team_id", "channel_id", "user_id", "command", "text",
                                "ssl_check", "trigger_id"][..]), typed()), 0..8),
        raw in any::<Vec<u8>>(),
    ) {
        let body = serde_urlencoded::to_string(&fields).unwrap();
        let _ = commands::read(body.as_bytes());
        let _ = commands::read(&raw);
    }

    #[test]
    fn slack_events_are_read_or_refused(
        event in shaped("message", &["user", "bot_id", "channel", "channel_type", "text",
                                     "subtype", "ts", "thread_ts"]),
        envelope in shaped("event_callback", &["team_id", "event_id", "authorizations",
                                               "challenge", "api_app_id"]),
        raw in any::<Vec<u8>>(),
    ) {
        let mut envelope = envelope;
        envelope["event"] = event;
        let _ = events::read(envelope.to_string().as_bytes());
        let _ = events::read(&raw);
    }

    #[test]
    fn slack_interactions_are_read_or_refused(
        payload in prop_oneof![
            shaped("block_actions", &["team", "user", "trigger_id", "channel", "container",
                                      "actions", "message"]),
            shaped("view_submission", &["team", "user", "view"]),
            json(),
        ],
    ) {
        let body = serde_urlencoded::to_string([("payload", payload.to_string())]).unwrap();
        if let Ok(interactions::Interaction::ViewSubmission { view, .. }) =
            interactions::read(body.as_bytes())
        {
            let _ = view.values();
        }
    }

    #[test]
    fn teams_activities_are_read_whatever_they_hold(
        activity in shaped("message", &["id", "timestamp", "serviceUrl", "channelId", "from",
                                        "conversation", "recipient", "text", "value",
                                        "replyToId", "channelData", "membersAdded", "entities"]),
        text in typed(),
    ) {
        crate::fuzzing::teams_activity(activity.to_string().as_bytes());
        crate::fuzzing::teams_activity(text.as_bytes());
    }

    #[test]
    fn slack_messages_stay_within_limits_and_inert(message in message()) {
        let body = post_message_body("C1", Some("1.2"), &message);
        let blocks = body["blocks"].as_array().unwrap();
        prop_assert!(blocks.len() <= 50);
        prop_assert!(body["text"].as_str().unwrap().chars().count() <= 4000);
        for block in blocks {
            match block["type"].as_str().unwrap() {
                "header" => prop_assert!(block["text"]["text"].as_str().unwrap().chars().count() <= 150),
                "section" => prop_assert!(block["text"]["text"].as_str().unwrap().chars().count() <= 3000),
                "context" => prop_assert!(block["elements"][0]["text"].as_str().unwrap().chars().count() <= 3000),
                "actions" => {
                    let buttons = block["elements"].as_array().unwrap();
                    prop_assert!(buttons.len() <= 25);
                    for button in buttons {
                        prop_assert!(button["text"]["text"].as_str().unwrap().chars().count() <= 75);
                    }
                }
                _ => {}
            }
        }
        // Every field Slack reads as mrkdwn, the notification text included (headers
        // and button labels are plain_text, which Slack never parses).
        let mut shown = vec![body["text"].as_str().unwrap().to_owned()];
        for block in blocks {
            if block["text"]["type"] == "mrkdwn" {
                shown.extend(block["text"]["text"].as_str().map(str::to_owned));
            }
            if let Some(elements) = block["elements"].as_array() {
                shown.extend(
                    elements
                        .iter()
                        .filter(|e| e["type"] == "mrkdwn")
                        .filter_map(|e| e["text"].as_str())
                        .map(str::to_owned),
                );
            }
        }
        for text in shown {
            prop_assert!(inert_for_slack(&text), "{:?}", text);
        }
        let mut all = Vec::new();
        strings(&body, &mut all);
        for s in &all {
            prop_assert!(!s.contains(['\u{FFF9}', '\u{FFFA}', '\u{FFFB}']), "{:?}", s);
        }
    }

    #[test]
    fn typed_text_reaches_slack_escaped_exactly(text in typed()) {
        let body = post_message_body("C1", None, &Message::text(format!("Goal: {}", plain(&text))));
        let expected = format!("Goal: {}", strip_marks(&plain(&text)));
        let shown: String = expected.chars().take(3000).collect();
        prop_assert_eq!(body["blocks"][0]["text"]["text"].as_str().unwrap().chars().take(2999).collect::<String>(),
                        shown.chars().take(2999).collect::<String>());
    }

    #[test]
    fn teams_cards_stay_within_limits_and_typed_text_stays_literal(message in message(), text in typed()) {
        let card = card_activity(&message, &|_| None);
        let body = &card["attachments"][0]["content"]["body"];
        prop_assert!(body.to_string().len() <= MAX_CARD_BYTES + 2_000);
        prop_assert!(card["summary"].as_str().unwrap().chars().count() <= 250);
        let mut all = Vec::new();
        strings(&card, &mut all);
        for s in &all {
            prop_assert!(!s.contains(['\u{FFF9}', '\u{FFFA}', '\u{FFFB}']), "{:?}", s);
        }
        prop_assert!(!card.to_string().contains(r#""type":"TextBlock""#), "no markdown element");

        // One line of typed text comes out exactly as typed, in plain runs.
        let line = text.replace(['\n', '\r'], " ");
        let card = card_activity(&Message::text(format!("*Lesson:* {}", plain(&line))), &|_| None);
        let runs = card["attachments"][0]["content"]["body"][0]["inlines"].as_array().unwrap();
        let shown: String = runs.iter().map(|r| r["text"].as_str().unwrap()).collect();
        let expected: String = format!("Lesson: {}", line.replace(['\u{FFF9}', '\u{FFFA}', '\u{FFFB}'], ""));
        prop_assert_eq!(shown, expected);
        prop_assert_eq!(&runs[0]["weight"], "Bolder");
        for run in &runs[1..] {
            prop_assert!(run.get("weight").is_none() && run.get("italic").is_none());
        }
    }
}
