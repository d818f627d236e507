use super::*;

fn questions() -> Vec<Question> {
    crate::app::templates::sample_questions()
}

fn say(progress: &mut Progress, input: &str) -> (Outcome, String) {
    let (outcome, reply) = advance(&questions(), progress, input);
    (outcome, reply.all_text())
}

#[test]
fn answers_skip_back_and_finish() {
    let mut progress = Progress::default();
    let (outcome, reply) = say(&mut progress, "skip");
    assert_eq!(outcome, Outcome::Continue);
    assert!(reply.contains("required"), "{reply}");
    assert_eq!(progress.step, 0);

    let (_, reply) = say(&mut progress, "The canary caught the bad build early");
    assert!(reply.contains("Question 2 of 3"), "{reply}");
    let (_, reply) = say(&mut progress, "back");
    assert!(reply.contains("Question 1 of 3"), "{reply}");
    assert!(
        reply.contains("The canary caught"),
        "shows the earlier answer: {reply}"
    );
    say(
        &mut progress,
        "The canary caught the bad build within minutes",
    );
    let (_, reply) = say(&mut progress, "pretty");
    assert!(reply.contains("Pick a rating from 1 to 5"), "{reply}");
    let (_, reply) = say(&mut progress, "good");
    assert!(reply.contains("Question 3 of 3"), "{reply}");
    let (outcome, _) = say(&mut progress, "skip");
    assert_eq!(outcome, Outcome::Finished);
    assert_eq!(
        progress.answers["went_well"],
        "The canary caught the bad build within minutes"
    );
    assert_eq!(progress.answers["mood"], "4");
    assert!(!progress.answers.contains_key("try_next"));
}

#[test]
fn a_short_text_answer_gets_one_nudge() {
    let mut progress = Progress::default();
    let (outcome, reply) = say(&mut progress, "deploys");
    assert_eq!(outcome, Outcome::Continue);
    assert!(reply.contains("say a bit more"), "{reply}");
    assert_eq!(progress.step, 0);
    let (_, reply) = say(&mut progress, "were fast and boring");
    assert!(reply.contains("Question 2 of 3"), "{reply}");
    assert_eq!(
        progress.answers["went_well"],
        "deploys were fast and boring"
    );

    let mut kept = Progress::default();
    say(&mut kept, "deploys");
    let (_, reply) = say(&mut kept, "no");
    assert!(reply.contains("Question 2 of 3"), "{reply}");
    assert_eq!(
        kept.answers["went_well"], "deploys",
        "a plain no keeps the answer"
    );
}

#[test]
fn help_and_cancel_work_at_any_step() {
    let mut progress = Progress {
        step: 1,
        ..Progress::default()
    };
    let (outcome, reply) = say(&mut progress, "help");
    assert_eq!(outcome, Outcome::Continue);
    assert!(
        reply.contains("`skip` passes") && reply.contains("Question 2 of 3"),
        "{reply}"
    );
    let (outcome, reply) = say(&mut progress, "Cancel");
    assert_eq!(outcome, Outcome::Cancelled);
    assert!(reply.contains("nothing was saved"), "{reply}");
    let mut first = Progress::default();
    let (_, reply) = say(&mut first, "back");
    assert!(reply.contains("first question"), "{reply}");
}
