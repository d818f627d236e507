use super::*;

fn learn(text: &str) -> Command {
    parse_learn(text).unwrap_or_else(|e| panic!("`{text}` should parse: {e:?}"))
}

fn learn_err(text: &str) -> UsageError {
    match parse_learn(text) {
        Ok(command) => panic!("`{text}` should fail, parsed as {command:?}"),
        Err(e) => e,
    }
}

fn start(title: &str, template: Option<&str>, anonymous: bool) -> Command {
    Command::Debrief(DebriefCommand::Start {
        title: title.into(),
        template: template.map(|t| TemplateName::parse(t).unwrap()),
        anonymous,
        closes_in: None,
    })
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

#[test]
fn help_and_empty_text_show_help() {
    assert_eq!(learn(""), Command::Help { topic: None });
    assert_eq!(learn("   "), Command::Help { topic: None });
    assert_eq!(learn("help"), Command::Help { topic: None });
    assert_eq!(learn("HELP"), Command::Help { topic: None });
    assert_eq!(
        learn("help goals"),
        Command::Help {
            topic: usage::topic("goal")
        }
    );
    assert!(
        learn_err("help nonsense")
            .problem
            .contains("no help topic `nonsense`")
    );
}

#[test]
fn debrief_slash_command_and_learn_debrief_are_the_same() {
    let expected = start("Release 2.3 rollout", None, false);
    assert_eq!(
        parse_slash(SlashCommand::Debrief, "Release 2.3 rollout").unwrap(),
        expected
    );
    assert_eq!(learn("debrief Release 2.3 rollout"), expected);
    assert_eq!(
        learn("  debrief   Release   2.3\trollout  "),
        expected,
        "extra spaces collapse"
    );
}

#[test]
fn debrief_options_anywhere_and_in_any_spelling() {
    assert_eq!(
        learn("debrief --template retro --anonymous Sprint 42"),
        start("Sprint 42", Some("retro"), true)
    );
    assert_eq!(
        learn("debrief Sprint 42 --anonymous --template=AAR"),
        start("Sprint 42", Some("aar"), true)
    );
    assert_eq!(
        learn("debrief —template retro —anonymous Sprint 42"),
        start("Sprint 42", Some("retro"), true),
        "phones turn -- into an em dash"
    );
    assert_eq!(
        learn(r#"debrief "--anonymous" is a word here"#),
        start("--anonymous is a word here", None, false),
        "a quoted option is title text"
    );
    assert_eq!(
        learn("debrief -- --anonymous"),
        start("--anonymous", None, false),
        "`--` ends options"
    );
}

#[test]
fn debrief_titles_keep_quotes_apostrophes_and_unicode() {
    assert_eq!(
        learn(r#"debrief "Bob's deploy: öh no 🚀""#),
        start("Bob's deploy: öh no 🚀", None, false)
    );
    assert_eq!(
        learn("debrief Bob's deploy"),
        start("Bob's deploy", None, false)
    );
    assert_eq!(
        learn("debrief “Q3 launch” review"),
        start("Q3 launch review", None, false)
    );
}

#[test]
fn a_debrief_may_close_by_itself() {
    let closes = |text: &str| match learn(text) {
        Command::Debrief(DebriefCommand::Start {
            closes_in, title, ..
        }) => (closes_in, title),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        closes("debrief --closes-in 2d Release 2.3"),
        (Some(PauseDuration::Days(2)), "Release 2.3".into())
    );
    assert_eq!(
        closes("debrief --closes-in 2 days Release"),
        (Some(PauseDuration::Days(2)), "Release".into())
    );
    assert_eq!(
        closes("debrief --closes-in=12h --anonymous Outage"),
        (Some(PauseDuration::Hours(12)), "Outage".into())
    );
    assert_eq!(
        closes("debrief --closes-in 2026-12-03 Q4"),
        (Some(PauseDuration::Until(date("2026-12-03"))), "Q4".into())
    );
    assert_eq!(
        closes("debrief --closes-in 1w 3 things"),
        (Some(PauseDuration::Days(7)), "3 things".into()),
        "a title that starts with a number is not read as the duration's unit"
    );
    assert_eq!(
        learn("debrief nudge"),
        Command::Debrief(DebriefCommand::Nudge)
    );
}

#[test]
fn debrief_mistakes_say_what_was_wrong() {
    assert_eq!(
        parse_slash(SlashCommand::Debrief, "  "),
        Ok(Command::Debrief(DebriefCommand::StartForm)),
        "`/debrief` alone opens the start form"
    );
    let e = parse_slash(SlashCommand::Debrief, "--anonymous").unwrap_err();
    assert!(e.problem.contains("needs a title"), "{e:?}");
    assert_eq!(e.usages, vec![usage::DEBRIEF]);

    let e = learn_err("debrief --closes-in soon Sprint");
    assert!(e.problem.contains("not a duration"), "{e:?}");
    assert!(e.hint.unwrap_or("").contains("--closes-in 2d"), "{e:?}");
    let e = learn_err("debrief --closes-in 40d Sprint");
    assert!(e.problem.contains("within 31 days"), "{e:?}");
    let e = learn_err("debrief --closes-in 1d --closes-in 2d Sprint");
    assert!(e.problem.contains("twice"), "{e:?}");

    let e = learn_err("debrief --anonymous");
    assert!(e.problem.contains("needs a title"), "{e:?}");

    let e = learn_err("debrief --template");
    assert!(e.problem.contains("needs a template name"), "{e:?}");

    let e = learn_err("debrief --template Retro! Sprint");
    assert!(e.problem.contains("not a template name"), "{e:?}");

    let e = learn_err("debrief --template a --template b x");
    assert!(e.problem.contains("twice"), "{e:?}");

    let e = learn_err("debrief --secret Sprint");
    assert!(e.problem.contains("`--secret` is not an option"), "{e:?}");

    let e = learn_err(&format!("debrief {}", "x".repeat(151)));
    assert!(e.problem.contains("151 characters"), "{e:?}");

    let e = learn_err(r#"debrief "Release 2.3"#);
    assert!(e.problem.contains("never closed"), "{e:?}");
}

#[test]
fn debrief_reflect_and_close() {
    assert_eq!(
        learn("debrief reflect"),
        Command::Debrief(DebriefCommand::Reflect)
    );
    assert_eq!(
        parse_slash(SlashCommand::Debrief, "close").unwrap(),
        Command::Debrief(DebriefCommand::Close)
    );
    assert_eq!(learn(r#"debrief "close""#), start("close", None, false));
    assert_eq!(
        learn("debrief close call"),
        start("close call", None, false)
    );
}

#[test]
fn lessons_keep_the_query_as_typed() {
    assert_eq!(learn("lessons"), Command::Lessons { query: None });
    assert_eq!(
        learn(r#"lessons  "feature flags" rollback*  "#),
        Command::Lessons {
            query: Some(r#""feature flags" rollback*"#.into())
        }
    );
    assert_eq!(
        learn("search café"),
        Command::Lessons {
            query: Some("café".into())
        }
    );
    assert_eq!(
        learn(r#"lessons "feature flags"#),
        Command::Lessons {
            query: Some(r#""feature flags"#.into())
        },
        "an unclosed quote in a search is searched, not refused"
    );
    assert_eq!(
        learn(r#"lessons ""#),
        Command::Lessons {
            query: Some("\"".into())
        }
    );
    assert!(
        parse_learn(r#"goal add "learn"#).is_err(),
        "elsewhere it is still a mistake"
    );
}

#[test]
fn goals() {
    assert_eq!(
        learn("goal add Learn Rust async by 2026-12-31"),
        Command::Goal(GoalCommand::Add {
            text: "Learn Rust async".into(),
            by: Some(date("2026-12-31"))
        })
    );
    assert_eq!(
        learn("goal add learn by doing"),
        Command::Goal(GoalCommand::Add {
            text: "learn by doing".into(),
            by: None
        }),
        "`by` without a date is just a word"
    );
    assert_eq!(
        learn(r#"goals add "write a runbook""#),
        Command::Goal(GoalCommand::Add {
            text: "write a runbook".into(),
            by: None
        })
    );
    assert_eq!(learn("goal list"), Command::Goal(GoalCommand::List));
    assert_eq!(
        learn("goal done 3"),
        Command::Goal(GoalCommand::Done { number: 3 })
    );
    assert_eq!(
        learn("goal share #2"),
        Command::Goal(GoalCommand::Share { number: 2 })
    );

    assert!(
        learn_err("goal add by 2026-12-31")
            .problem
            .contains("what is the goal")
    );
    assert!(
        learn_err("goal add x by 2026-13-45")
            .problem
            .contains("`2026-13-45` is not a date")
    );
    assert!(learn_err("goal done").problem.contains("which goal"));
    assert!(
        learn_err("goal done 0")
            .problem
            .contains("not a goal number")
    );
    assert!(
        learn_err("goal done two")
            .problem
            .contains("`two` is not a goal number")
    );
    assert!(learn_err("goal done 2 3").problem.contains("got `3`"));
    assert!(learn_err("goal list extra").problem.contains("got `extra`"));
    assert!(learn_err("goal").problem.contains("what should I do"));
    assert!(
        learn_err("goal remove 1")
            .problem
            .contains("`goal remove` is not")
    );
    let long = learn_err(&format!("goal add {}", "y".repeat(501)));
    assert!(long.problem.contains("501 characters"), "{long:?}");
}

#[test]
fn schedules_are_kept_as_typed_for_the_scheduler() {
    assert_eq!(
        learn("checkin   weekdays  9:30"),
        Command::Checkin(CheckinCommand::Set {
            schedule: ScheduleText("weekdays 9:30".into())
        })
    );
    assert_eq!(learn("check-in off"), Command::Checkin(CheckinCommand::Off));
    assert_eq!(learn("digest now"), Command::Digest(DigestCommand::Now));
    assert_eq!(
        learn("digest 0 9 * * MON"),
        Command::Digest(DigestCommand::Set {
            schedule: ScheduleText("0 9 * * MON".into())
        })
    );
    assert_eq!(
        learn("retro every 2 weeks on thursday 15:00 --template retro"),
        Command::Retro {
            schedule: ScheduleText("every 2 weeks on thursday 15:00".into()),
            template: Some(TemplateName::parse("retro").unwrap()),
            zone: None,
        }
    );
    assert_eq!(
        learn("retro fridays 16:00 --tz europe/berlin"),
        Command::Retro {
            schedule: ScheduleText("fridays 16:00".into()),
            template: None,
            zone: Some(chrono_tz::Europe::Berlin),
        }
    );
    assert!(
        learn_err("retro fridays 16:00 --tz Mars/Olympus")
            .problem
            .contains("not a time zone")
    );
    assert!(
        learn_err("retro fridays 16:00 --tz")
            .problem
            .contains("needs a time zone")
    );
    let e = learn_err("checkin");
    assert!(e.problem.contains("Give a schedule"), "{e:?}");
    assert_eq!(e.hint, Some(usage::SCHEDULE_FORMS));
    assert!(
        learn_err("retro --template retro")
            .problem
            .contains("Give a schedule")
    );
    assert!(
        learn_err("retro fridays 16:00 --colour red")
            .problem
            .contains("`--colour` is not an option")
    );
    assert!(
        learn_err(&format!("digest {}", "1 ".repeat(60)))
            .problem
            .contains("too long")
    );
}

#[test]
fn schedules_list_and_unschedule() {
    assert_eq!(learn("schedules"), Command::Schedules);
    assert_eq!(learn("unschedule 12"), Command::Unschedule { id: 12 });
    assert_eq!(learn("unschedule #12"), Command::Unschedule { id: 12 });
    assert!(learn_err("unschedule").problem.contains("which schedule"));
    assert!(
        learn_err("unschedule abc")
            .problem
            .contains("`abc` is not a schedule number")
    );
    assert!(learn_err("schedules all").problem.contains("takes nothing"));
}

#[test]
fn pause_and_resume() {
    assert_eq!(learn("pause 2w"), Command::Pause(PauseDuration::Days(14)));
    assert_eq!(
        learn("pause 3 days"),
        Command::Pause(PauseDuration::Days(3))
    );
    assert_eq!(
        learn("pause 1 week"),
        Command::Pause(PauseDuration::Days(7))
    );
    assert_eq!(learn("pause 12h"), Command::Pause(PauseDuration::Hours(12)));
    assert_eq!(
        learn("pause until 2026-12-28"),
        Command::Pause(PauseDuration::Until(date("2026-12-28")))
    );
    assert_eq!(learn("resume"), Command::Resume);
    assert!(learn_err("pause").problem.contains("how long"));
    assert!(
        learn_err("pause forever")
            .problem
            .contains("not a duration")
    );
    assert!(learn_err("pause 0d").problem.contains("not a duration"));
    assert!(
        learn_err("pause 2 fortnights")
            .problem
            .contains("not a duration")
    );
    assert!(learn_err("pause 60w").problem.contains("at most 365 days"));
    assert!(
        learn_err("pause until tomorrow")
            .problem
            .contains("not a date")
    );
    assert!(learn_err("resume now").problem.contains("takes nothing"));
}

#[test]
fn unknown_words_get_a_suggestion() {
    let e = learn_err("lesons deploys");
    assert!(e.problem.contains("Did you mean `lessons`?"), "{e:?}");
    let e = learn_err("chekin off");
    assert!(e.problem.contains("Did you mean `checkin`?"), "{e:?}");
    let e = learn_err("xyzzy");
    assert_eq!(e.problem, "I don't know the command `xyzzy`.");
    assert_eq!(e.usages, vec![usage::HELP]);
}

#[test]
fn slash_command_names() {
    assert_eq!(SlashCommand::from_name("/learn"), Some(SlashCommand::Learn));
    assert_eq!(
        SlashCommand::from_name("/debrief"),
        Some(SlashCommand::Debrief)
    );
    assert_eq!(SlashCommand::from_name("/webhook-collect"), None);
}

#[test]
fn followups() {
    assert_eq!(learn("followups"), Command::Followups);
    assert_eq!(learn("follow-ups"), Command::Followups);
}

#[test]
fn edit_distance_counts_single_edits() {
    assert_eq!(edit_distance("goal", "goal"), 0);
    assert_eq!(edit_distance("gaol", "goal"), 2);
    assert_eq!(edit_distance("lesons", "lessons"), 1);
    assert_eq!(edit_distance("", "abc"), 3);
}

#[test]
fn goal_buddies_are_mentions_handles_or_off() {
    let buddy = |text: &str| match learn(text) {
        Command::Goal(GoalCommand::Buddy { number, buddy }) => (number, buddy),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        buddy("goal buddy 2 <@U0BOB|bob>"),
        (2, BuddyTarget::Id("U0BOB".into()))
    );
    assert_eq!(
        buddy("goal buddy #3 <@29:1abc-X_y>"),
        (3, BuddyTarget::Id("29:1abc-X_y".into()))
    );
    assert_eq!(
        buddy("goal buddy 1 @Dana.Lee"),
        (1, BuddyTarget::Handle("dana.lee".into()))
    );
    assert_eq!(buddy("goal buddy 1 OFF"), (1, BuddyTarget::Nobody));
    for (text, problem) in [
        ("goal buddy", "which goal?"),
        ("goal buddy 1", "who?"),
        ("goal buddy 1 bob", "is not a person"),
        ("goal buddy 1 <!channel>", "is not a person"),
        ("goal buddy 1 @bob @carol", "takes nothing after it"),
    ] {
        let error = learn_err(text);
        assert!(error.problem.contains(problem), "{text}: {error:?}");
        assert_eq!(error.usages, [usage::GOAL_BUDDY], "{text}");
    }
}

#[test]
fn mentor_and_credit_commands() {
    assert_eq!(
        learn("mentor on #Deploy testing #deploy"),
        Command::Mentor(MentorCommand::On {
            topics: vec!["deploy".into(), "testing".into()]
        })
    );
    assert_eq!(learn("mentor off"), Command::Mentor(MentorCommand::Off));
    assert_eq!(
        learn("mentors #ops"),
        Command::Mentors {
            topic: Some("ops".into())
        }
    );
    assert_eq!(learn("credit on"), Command::Credit { named: true });
    assert!(
        learn_err("mentor maybe")
            .problem
            .contains("not a mentor command")
    );
    assert!(learn_err("credit").problem.contains("`on` or `off`"));
    assert!(learn("mentor on").is_personal());
}
