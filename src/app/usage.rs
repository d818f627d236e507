//! The right form of every command, in one place, for help and for error messages.

/// A command's usage line and what it does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Usage {
    pub form: &'static str,
    pub summary: &'static str,
}

macro_rules! usage {
    ($name:ident, $form:literal, $summary:literal) => {
        pub const $name: Usage = Usage {
            form: $form,
            summary: $summary,
        };
    };
}

usage!(
    HELP,
    "/learn help [TOPIC]",
    "show this help, or the help of one command"
);
usage!(
    DEBRIEF,
    "/debrief [--template NAME] [--anonymous] [--closes-in DURATION] TITLE",
    "start a debrief in this channel (`/debrief` alone opens a form)"
);
usage!(
    DEBRIEF_NUDGE,
    "/learn debrief nudge",
    "remind, by DM, this channel's members who have not reflected yet"
);
usage!(
    DEBRIEF_REFLECT,
    "/learn debrief reflect",
    "add my reflection to an open debrief by DM"
);
usage!(
    DEBRIEF_CLOSE,
    "/learn debrief close",
    "close this channel's open debrief and post its summary"
);
usage!(
    LESSONS,
    "/learn lessons [QUERY]",
    "search the lessons this conversation may see (public channels' and its own)"
);
usage!(FOLLOWUPS, "/learn followups", "my open lesson follow-ups");
usage!(
    GOAL_ADD,
    "/learn goal add TEXT [by YYYY-MM-DD]",
    "add a personal learning goal"
);
usage!(
    GOAL_LIST,
    "/learn goal list",
    "list my goals with their numbers"
);
usage!(
    GOAL_DONE,
    "/learn goal done N",
    "mark my goal number N as reached"
);
usage!(
    GOAL_SHARE,
    "/learn goal share N",
    "share my goal number N with the team digest"
);
usage!(
    MENTOR_ON,
    "/learn mentor on [#TOPIC …]",
    "offer to be asked about topics (default: those of the lessons I applied)"
);
usage!(MENTOR_OFF, "/learn mentor off", "stop offering to be asked");
usage!(
    MENTORS,
    "/learn mentors [#TOPIC]",
    "who offers to be asked, with how many lessons on the topic they applied"
);
usage!(
    CREDIT,
    "/learn credit on|off",
    "whether the quarterly recap may name me among the most active contributors"
);
usage!(
    GOAL_BUDDY,
    "/learn goal buddy N @person",
    "share my goal N with a colleague: they see its check-in ratings and hear when I reach it (`off` stops)"
);
usage!(
    CHECKIN,
    "/learn checkin SCHEDULE",
    "set my personal check-in, in my time zone"
);
usage!(CHECKIN_OFF, "/learn checkin off", "stop my check-ins");
usage!(
    RETRO,
    "/learn retro SCHEDULE [--template NAME] [--tz ZONE]",
    "remind this channel to hold a retrospective"
);
usage!(
    DIGEST,
    "/learn digest SCHEDULE",
    "post the digest in this channel (alone: mondays 09:00)"
);
usage!(
    DIGEST_NOW,
    "/learn digest now",
    "preview the digest, only to me"
);
usage!(
    SCHEDULES,
    "/learn schedules",
    "list this channel's schedules"
);
usage!(
    UNSCHEDULE,
    "/learn unschedule ID",
    "remove one of this channel's schedules"
);
usage!(
    PAUSE,
    "/learn pause DURATION",
    "pause my prompts, e.g. `pause 2w`, `pause 3 days`, `pause until 2026-12-28`"
);
usage!(RESUME, "/learn resume", "resume my prompts");

/// The usages of one help topic (a command word).
pub fn topic(word: &str) -> Option<&'static [Usage]> {
    Some(match word {
        "help" => &[HELP],
        "debrief" => &[DEBRIEF, DEBRIEF_REFLECT, DEBRIEF_NUDGE, DEBRIEF_CLOSE],
        "lessons" => &[LESSONS],
        "followups" => &[FOLLOWUPS],
        "goal" => &[GOAL_ADD, GOAL_LIST, GOAL_DONE, GOAL_SHARE, GOAL_BUDDY],
        "checkin" => &[CHECKIN, CHECKIN_OFF],
        "retro" => &[RETRO],
        "digest" => &[DIGEST, DIGEST_NOW],
        "schedules" | "unschedule" => &[SCHEDULES, UNSCHEDULE],
        "pause" | "resume" => &[PAUSE, RESUME],
        "mentor" | "mentors" => &[MENTOR_ON, MENTOR_OFF, MENTORS],
        "credit" => &[CREDIT],
        _ => return None,
    })
}

/// Sections of the full help, in the order people need them.
pub const SECTIONS: &[(&str, &[Usage])] = &[
    (
        "Debriefs",
        &[DEBRIEF, DEBRIEF_REFLECT, DEBRIEF_NUDGE, DEBRIEF_CLOSE],
    ),
    ("Lessons", &[LESSONS, FOLLOWUPS]),
    (
        "Goals",
        &[GOAL_ADD, GOAL_LIST, GOAL_DONE, GOAL_SHARE, GOAL_BUDDY],
    ),
    ("Check-ins", &[CHECKIN, CHECKIN_OFF, PAUSE, RESUME]),
    ("Peers", &[MENTOR_ON, MENTOR_OFF, MENTORS, CREDIT]),
    (
        "This channel",
        &[RETRO, DIGEST, DIGEST_NOW, SCHEDULES, UNSCHEDULE],
    ),
];

/// How SCHEDULE may be written; shown under the help and schedule errors.
pub const SCHEDULE_FORMS: &str = "SCHEDULE is a time like `fridays 16:00`, `weekdays 9:30`, \
`every 2 weeks on thursday 15:00`, `monthly on the 1st 10:00`, or cron `0 16 * * FRI`.";
