use super::*;

fn error_of(file: &str, text: &str) -> TemplateError {
    parse(file, text).expect_err("the template should be refused")
}

const GOOD: &str = r#"
name = "mini"
title = "Mini"

[[questions]]
id = "what"
prompt = "What happened?"
kind = "text"
required = true
becomes = "lesson"
"#;

#[test]
fn the_built_in_templates_are_valid() {
    let templates = Templates::built_in().unwrap();
    assert_eq!(
        templates.names(),
        ["aar", "checkin", "failure-story", "project", "retro"]
    );
    let aar = templates.get("aar").unwrap();
    assert_eq!(aar.questions.len(), 5);
    assert_eq!(aar.questions[2].becomes, Some(Becomes::Lesson));
    assert_eq!(aar.questions[3].becomes, Some(Becomes::Action));
    assert_eq!(aar.questions[4].kind, QuestionKind::Rating);
    let project = templates.get("project").unwrap();
    assert!(matches!(&project.questions[1].kind, QuestionKind::Choice(c) if c.len() == 3));
}

#[test]
fn a_good_template_parses() {
    let template = parse("mini.toml", GOOD).unwrap();
    assert_eq!(
        template.questions[0].kind,
        QuestionKind::Text { max_chars: 3000 }
    );
    assert!(template.questions[0].required);
}

#[test]
fn mistakes_name_the_file_the_line_and_the_reason() {
    let e = error_of(
        "mini.toml",
        &GOOD.replace(r#"kind = "text""#, r#"kind = "essay""#),
    );
    assert_eq!(e.line, Some(8));
    assert_eq!(
        e.to_string(),
        "template mini.toml:8: question `what` has kind `essay`; use text, rating or choice"
    );

    let e = error_of("other.toml", GOOD);
    assert!(
        e.reason.contains("must match the file name `other.toml`"),
        "{e}"
    );

    let e = error_of(
        "mini.toml",
        &GOOD.replace("title = \"Mini\"", "title = \"Mini\"\ncolour = \"red\""),
    );
    assert!(e.reason.contains("colour"), "unknown keys are refused: {e}");
    assert_eq!(e.line, Some(4));

    let e = error_of("mini.toml", "name = \"mini\"\ntitle = [");
    assert!(e.line.is_some(), "syntax errors carry a line: {e}");

    let twice =
        format!("{GOOD}\n[[questions]]\nid = \"what\"\nprompt = \"Again?\"\nkind = \"text\"\n");
    assert!(error_of("mini.toml", &twice).reason.contains("used twice"));

    let choice = GOOD.replace(r#"kind = "text""#, r#"kind = "choice""#);
    assert!(
        error_of("mini.toml", &choice)
            .reason
            .contains("has no `choices`")
    );

    let one_choice = GOOD.replace(
        r#"kind = "text""#,
        "kind = \"choice\"\nchoices = [\"only\"]",
    );
    assert!(
        error_of("mini.toml", &one_choice)
            .reason
            .contains("2 to 10 choices")
    );

    let rating_lesson = GOOD.replace(r#"kind = "text""#, r#"kind = "rating""#);
    assert!(
        error_of("mini.toml", &rating_lesson)
            .reason
            .contains("only text answers")
    );

    let bad_becomes = GOOD.replace(r#"becomes = "lesson""#, r#"becomes = "wisdom""#);
    assert!(
        error_of("mini.toml", &bad_becomes)
            .reason
            .contains("use lesson, action, kudos or intention")
    );

    let no_questions = "name = \"mini\"\ntitle = \"Mini\"\nquestions = []\n";
    assert!(
        error_of("mini.toml", no_questions)
            .reason
            .contains("1 to 20 questions")
    );
}

#[test]
fn a_directory_adds_and_replaces_templates() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("mini.toml"), GOOD).unwrap();
    std::fs::write(
        dir.path().join("retro.toml"),
        GOOD.replace("\"mini\"", "\"retro\""),
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a template").unwrap();
    let templates = Templates::load(dir.path()).unwrap();
    assert_eq!(
        templates.names(),
        [
            "aar",
            "checkin",
            "failure-story",
            "mini",
            "project",
            "retro"
        ]
    );
    assert_eq!(
        templates.get("retro").unwrap().questions.len(),
        1,
        "the file replaced the built-in"
    );

    std::fs::write(dir.path().join("broken.toml"), "name = \"broken\"\n").unwrap();
    let e = Templates::load(dir.path()).unwrap_err();
    assert!(e.file.ends_with("broken.toml"), "{e}");

    let missing = Templates::load(&dir.path().join("nope")).unwrap();
    assert_eq!(missing.names().len(), 5, "no directory: the built-ins");
}

#[test]
fn a_role_says_what_a_question_is_and_what_its_answers_become() {
    let templates = Templates::built_in().unwrap();
    let retro = templates.get("retro").unwrap();
    assert!(!Becomes::Kudos.is_candidate() && !Becomes::Intention.is_candidate());
    assert!(Becomes::Lesson.is_candidate() && Becomes::Action.is_candidate());
    let story = templates.get("failure-story").unwrap();
    assert!(
        story.anonymous,
        "a failure story is anonymous unless said otherwise"
    );
    assert!(!retro.anonymous);
    assert!(
        story
            .questions
            .iter()
            .any(|q| q.becomes == Some(Becomes::Lesson))
    );

    let role = |role: &str| {
        GOOD.replace(
            "kind = \"text\"\nrequired = true\nbecomes = \"lesson\"",
            &format!("role = \"{role}\""),
        )
    };
    let kudos = parse("mini.toml", &role("kudos")).unwrap();
    assert_eq!(kudos.questions[0].becomes, Some(Becomes::Kudos));
    let intention = parse("mini.toml", &role("intention")).unwrap();
    assert_eq!(intention.questions[0].becomes, Some(Becomes::Intention));
    assert_eq!(
        intention.questions[0].kind,
        QuestionKind::Text { max_chars: 3000 }
    );
    let rating = parse("mini.toml", &role("rating")).unwrap();
    assert_eq!(rating.questions[0].kind, QuestionKind::Rating);
    assert_eq!(rating.questions[0].becomes, None);
    assert!(error_of("mini.toml", &role("wisdom")).reason.contains(
        "has role `wisdom`; use lesson, action, kudos, intention, text, rating or choice"
    ));
    let both = GOOD.replace("becomes = \"lesson\"", "role = \"lesson\"");
    assert!(
        error_of("mini.toml", &both)
            .reason
            .contains("both `role` and `kind`")
    );
    let neither = GOOD.replace("kind = \"text\"\n", "");
    assert!(
        error_of("mini.toml", &neither)
            .reason
            .contains("needs a `role`")
    );
}

#[test]
fn a_description_is_one_short_line() {
    let described = GOOD.replace(
        "title = \"Mini\"",
        "title = \"Mini\"\ndescription = \"A quick look back.\"",
    );
    assert_eq!(
        parse("mini.toml", &described).unwrap().description,
        "A quick look back."
    );
    let long = GOOD.replace(
        "title = \"Mini\"",
        &format!("title = \"Mini\"\ndescription = \"{}\"", "x".repeat(76)),
    );
    let e = error_of("mini.toml", &long);
    assert_eq!(e.line, Some(4));
    assert!(e.reason.contains("one line of at most 75"), "{e}");
    let two_lines = GOOD.replace(
        "title = \"Mini\"",
        "title = \"Mini\"\ndescription = \"\"\"one\ntwo\"\"\"",
    );
    assert!(
        error_of("mini.toml", &two_lines)
            .reason
            .contains("one line")
    );
}
