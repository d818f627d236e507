//! One page of the facilitator's review as a form: per candidate its text (editable),
//! keep / drop / kudos, and who owns it for an action; on every page but the last, a
//! tick to publish the rest as they are. [`super::review::read_decisions`] reads the
//! submitted values back.

use serde_json::json;

use super::MAX_ITEM_CHARS;
use super::review::{
    PUBLISH_REST, REVIEW_CALLBACK, ReviewPage, VERDICTS, owner_field, text_field, verdict_field,
};
use crate::platform::form::context;
use crate::platform::{Field, Form, Heading, Input};
use crate::store::LessonKind;

/// The form of `page`, holding the decisions taken on it so far.
pub fn review_form(page: &ReviewPage) -> Form {
    let verdicts = VERDICTS.map(|(verdict, label)| (verdict.as_str(), label));
    let mut fields = Vec::new();
    for candidate in &page.candidates {
        let text = candidate.shown_text();
        fields.push(
            Field::new(
                text_field(&candidate.key),
                candidate.label(),
                Input::text(MAX_ITEM_CHARS, false),
            )
            .required()
            .holding(Some(&text)),
        );
        fields.push(
            Field::new(
                verdict_field(&candidate.key),
                "Keep it?",
                Input::one_of(verdicts, true),
            )
            .holding(Some(candidate.verdict().as_str())),
        );
        if candidate.kind == LessonKind::Action {
            fields.push(
                Field::new(owner_field(&candidate.key), "Owner", Input::Person)
                    .holding(candidate.shown_owner()),
            );
        }
    }
    if !page.is_last() {
        fields.push(Field::new(
            PUBLISH_REST,
            "Or, instead of the next page:",
            Input::Tick {
                says: "Publish the rest as they are and close now".to_owned(),
            },
        ));
    }
    Form {
        action: REVIEW_CALLBACK.to_owned(),
        context: context([("debrief", json!(page.debrief)), ("page", json!(page.page))]),
        title: "Review and close".to_owned(),
        heading: Some(Heading {
            title: page.title.clone(),
            facts: Vec::new(),
            note: page.intro(),
        }),
        fields,
        submit: page.submit_label(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::debrief::review::{Candidate, Verdict};

    fn page(page: usize, pages: usize) -> ReviewPage {
        let candidate = |key: &str, kind| Candidate {
            key: key.into(),
            kind,
            text: format!("said {key}"),
            count: 1,
            owner: Some("U3".into()),
            decision: None,
        };
        ReviewPage {
            debrief: 42,
            title: "Release 2.3".into(),
            anonymous: false,
            page,
            pages,
            total: 2,
            reflected: 2,
            late: false,
            candidates: vec![
                candidate("a", LessonKind::Lesson),
                candidate("b", LessonKind::Action),
            ],
        }
    }

    #[test]
    fn each_candidate_has_its_text_and_verdict_and_an_action_its_owner() {
        let form = review_form(&page(0, 2));
        let ids: Vec<&str> = form.fields.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "r.a.text",
                "r.a.verdict",
                "r.b.text",
                "r.b.verdict",
                "r.b.owner",
                PUBLISH_REST
            ]
        );
        assert_eq!(form.fields[0].value.as_deref(), Some("said a"));
        assert_eq!(
            form.fields[1].value.as_deref(),
            Some(Verdict::Keep.as_str())
        );
        assert_eq!(form.fields[4].value.as_deref(), Some("U3"));
        assert_eq!(form.context["page"], 0);
        assert_eq!(form.submit, page(0, 2).submit_label());
    }

    #[test]
    fn the_last_page_offers_no_shortcut() {
        let form = review_form(&page(1, 2));
        assert!(form.fields.iter().all(|f| f.id != PUBLISH_REST));
        assert_eq!(form.submit, "Close and publish");
    }
}
