use super::*;
use crate::store::ConversationKind;

fn debrief(anonymous: bool) -> Debrief {
    Debrief::sample(anonymous, true)
}

fn reflected(author: Option<&str>, went_well: &str, mood: &str) -> Reflected {
    Reflected {
        author: author.map(Into::into),
        answers: Answers::from([
            ("went_well".to_owned(), went_well.to_owned()),
            ("mood".to_owned(), mood.to_owned()),
        ]),
    }
}

#[test]
fn groups_answers_with_names_and_rating_statistics() {
    let reflections = [
        reflected(Some("U1"), "Fast <deploys>", "4"),
        reflected(Some("U2"), "Good pairing", "5"),
        reflected(Some("U3"), "Calm on-call", "3"),
    ];
    let listed = |text: &str, author: &str| Listed {
        text: text.into(),
        author: Some(author.into()),
        owner: Some(author.into()),
        follow_up: "Mon 7 Dec".into(),
        count: 1,
    };
    let made = Made {
        lessons: vec![
            listed("Fast <deploys>", "U1"),
            listed("Good pairing", "U2"),
            listed("Calm on-call", "U3"),
        ],
        actions: vec![Listed {
            text: "Write the runbook".into(),
            author: Some("U1".into()),
            owner: Some("U2".into()),
            follow_up: "Mon 7 Dec".into(),
            count: 1,
        }],
        kudos: vec![Listed {
            owner: None,
            ..listed("<@U3> for the calm on-call", "U1")
        }],
        ..Made::default()
    };
    let parts = summary(
        &debrief(false),
        &reflections,
        &made,
        crate::app::scopes::who_sees(ConversationKind::PublicChannel),
    );
    assert_eq!(parts.len(), 1);
    let text = parts[0].all_text();
    assert!(text.contains("• Fast &lt;deploys&gt; — <@U1>"), "{text}");
    assert!(text.contains("Average *4.0* of 5 from 3 answers"), "{text}");
    assert!(text.contains("`5` ▇ 1"), "{text}");
    assert!(
        text.contains("• Write the runbook — owner <@U2> · follow-up Mon 7 Dec"),
        "{text}"
    );
    assert!(text.contains("3 people reflected"), "{text}");
    assert_eq!(
        text.matches("Fast &lt;deploys&gt;").count(),
        1,
        "a lesson is listed once, not also under its question: {text}"
    );
    assert!(!text.contains("What went well?"), "{text}");
    assert!(
        text.contains(":tada: *Kudos*\n• <@U3> for the calm on-call — <@U1>"),
        "{text}"
    );
}

#[test]
fn anonymous_summaries_name_nobody() {
    let reflections = [reflected(None, "Something", "2")];
    let made = Made {
        lessons: vec![Listed {
            text: "Something".into(),
            author: None,
            owner: None,
            follow_up: "Mon 7 Dec".into(),
            count: 1,
        }],
        ..Made::default()
    };
    let text = summary(
        &debrief(true),
        &reflections,
        &made,
        crate::app::scopes::who_sees(ConversationKind::PrivateChannel),
    )[0]
    .all_text();
    assert!(!text.contains("<@"), "{text}");
    assert!(text.contains("anonymous"), "{text}");
}

#[test]
fn long_summaries_split_within_slack_limits() {
    let long = "x".repeat(1400);
    let reflections: Vec<Reflected> = (0..200)
        .map(|i| reflected(Some(&format!("U{i}")), &long, "3"))
        .collect();
    let made = Made {
        lessons: (0..200)
            .map(|i| Listed {
                text: long.clone(),
                author: Some(format!("U{i}")),
                owner: None,
                follow_up: String::new(),
                count: 1,
            })
            .collect(),
        ..Made::default()
    };
    let parts = summary(
        &debrief(false),
        &reflections,
        &made,
        crate::app::scopes::who_sees(ConversationKind::PublicChannel),
    );
    assert!(parts.len() > 1, "{} parts", parts.len());
    for part in &parts {
        assert!(part.blocks.len() <= MAX_BLOCKS);
        for block in &part.blocks {
            if let Block::Text(text) = block {
                assert!(text.chars().count() <= 3000, "{}", text.chars().count());
            }
        }
    }
    let all: String = parts.iter().map(Message::all_text).collect();
    assert_eq!(
        all.matches("— <@U").count(),
        200,
        "every answer is somewhere"
    );
}
