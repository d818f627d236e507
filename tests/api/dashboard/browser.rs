//! The dashboard in a real browser (headless Chromium): sign in through the fake
//! OpenID provider, search the library, open a lesson, answer a follow-up, read the
//! outcomes chart, download the CSV. A screenshot of each page is kept under
//! `target/browser-screenshots/` for people to look at.

use std::path::PathBuf;

use learnloop::store::LessonKind;

use super::{KID, dashboard, query_param};
use crate::support::seed::{self, Said};
use crate::support::webdriver::Browser;

/// The largest page the dashboard may send, stylesheet included.
const PAGE_WEIGHT: usize = 100 * 1024;

fn screenshots() -> PathBuf {
    let backend = std::env::var("LEARNLOOP_TEST_BACKEND").unwrap_or_else(|_| "sqlite".into());
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target/browser-screenshots")
        .join(backend)
}

#[tokio::test]
async fn a_team_lead_signs_in_finds_a_lesson_answers_a_follow_up_reads_the_outcomes_and_exports() {
    let dash = dashboard().await;
    let store = dash.app.store().await;
    let review = seed::debrief(&store, dash.ours, "C0PUB", "Incident review", 30).await;
    for text in ["Write the runbook first", "Page the owner"] {
        let said = Said {
            kind: LessonKind::Lesson,
            text,
            owner: Some("U0CAROL"),
            shared: true,
        };
        seed::lesson(&store, (dash.ours, review, "Incident review"), said, 40).await;
    }
    // A long link, as people paste them: it must not widen a phone's page.
    let link = Said {
        kind: LessonKind::Lesson,
        text: "Read https://wiki.example.com/runbooks?page=IncidentResponsePagingAndEscalationPolicyForThePlatformTeam first",
        owner: None,
        shared: true,
    };
    seed::lesson(&store, (dash.ours, review, "Incident review"), link, 41).await;
    let shots = screenshots();
    let browser = Browser::start().await;
    let app = dash.app.url("");
    let stylesheet = dash.page("/app/style.css", "").await.1.len();

    // Signing in: the button, the provider's page, back with a code.
    browser.goto(&format!("{app}/app")).await;
    browser.screenshot(&shots, "1-sign-in").await;
    browser.find("a.button").await.click().await;
    let at_provider = browser.wait_for_url("/openid/connect/authorize?").await;
    assert!(
        at_provider.starts_with(&format!(
            "{}/openid/connect/authorize?",
            dash.slack_oidc.server.uri()
        )),
        "{at_provider}"
    );
    let nonce = query_param(&at_provider, "nonce");
    *dash.tokens.0.lock().unwrap() = Some(
        dash.slack_oidc
            .token(KID, &dash.claims_of("U0CAROL", &nonce)),
    );
    let state = query_param(&at_provider, "state");
    browser
        .goto(&format!(
            "{app}/auth/slack/callback?code=c0de&state={state}"
        ))
        .await;
    assert_eq!(browser.wait_for_url("/app").await, format!("{app}/app"));
    assert!(
        browser
            .find("form.signout")
            .await
            .text()
            .await
            .contains("U0CAROL")
    );

    // The library: a search, then a lesson.
    browser
        .find("input[name=q]")
        .await
        .type_text("rollout")
        .await;
    browser.find("form.filters button").await.click().await;
    browser.wait_for_url("q=rollout").await;
    assert_eq!(
        browser.count("ol.lessons > li").await,
        1,
        "our public lesson only"
    );
    let hit = browser.find("ol.lessons > li a").await;
    assert_eq!(hit.text().await, "Rollout needs a <b>canary</b>");
    browser.screenshot(&shots, "2-library").await;
    assert!(browser.source().await.len() + stylesheet < PAGE_WEIGHT);
    hit.click().await;
    let lesson_page = browser.wait_for_url("/app/lessons/").await;
    assert_eq!(browser.find("h1").await.text().await, "Lesson");
    assert!(
        browser
            .find("blockquote")
            .await
            .text()
            .await
            .contains("canary")
    );
    browser.screenshot(&shots, "3-lesson").await;

    // Me: answering a follow-up.
    browser.find("nav a[href='/app/me']").await.click().await;
    browser.wait_for_url("/app/me").await;
    assert_eq!(browser.count("form.answer").await, 2);
    browser.screenshot(&shots, "4-me").await;
    browser
        .find("form.answer button[value=applied]")
        .await
        .click()
        .await;
    browser.wait_for_url("/app/me?recorded=true").await;
    assert!(
        browser
            .find("p.notice")
            .await
            .text()
            .await
            .contains("Recorded")
    );
    assert_eq!(browser.count("form.answer").await, 1, "one still open");

    // Outcomes: the one answer, applied, this week.
    browser
        .find("nav a[href='/app/outcomes']")
        .await
        .click()
        .await;
    let lead = browser.find("p.lead").await.text().await;
    assert!(
        lead.contains("the outcome of 1 lesson became known; 1 of them (100%) was applied"),
        "{lead}"
    );
    assert!(browser.count("svg.chart").await >= 2, "charts drawn");
    // This week's bar of the applied rate is the full height of the plot; the others
    // are flat; the table beside it says the same.
    let heights = browser
        .script(
            "return [...document.querySelector('svg.chart').querySelectorAll('rect.bar')]\
             .map(r => Number(r.getAttribute('height')));",
        )
        .await;
    let heights: Vec<f64> = heights
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_f64().unwrap())
        .collect();
    assert_eq!(heights.len(), 26);
    assert!(heights[25] > 150.0, "{heights:?}");
    assert!(heights[..25].iter().all(|h| *h == 0.0), "{heights:?}");
    let last_row = browser
        .find("div.figure table tbody tr:last-child")
        .await
        .text()
        .await;
    assert!(last_row.ends_with("1 1 100%"), "{last_row}");
    browser.screenshot(&shots, "5-outcomes").await;
    assert!(browser.source().await.len() + stylesheet < PAGE_WEIGHT);

    browser
        .find("nav a[href='/app/debriefs']")
        .await
        .click()
        .await;
    assert!(browser.source().await.contains("Incident review"));
    browser.screenshot(&shots, "6-debriefs").await;

    // Settings and the export, for an admin.
    browser
        .find("nav a[href='/app/settings']")
        .await
        .click()
        .await;
    browser.screenshot(&shots, "7-settings").await;
    browser
        .find("a[href='/app/export/lessons.csv']")
        .await
        .click()
        .await;
    let csv = browser.downloaded("learnloop-T0ACME-lessons.csv").await;
    assert!(csv.starts_with("id,"), "{csv}");
    assert!(csv.contains("Write the runbook first") && csv.contains("applied"));
    assert!(!csv.contains("another company"));

    // On a phone: every page fits the screen's width, charts and tables included.
    browser.resize(390, 844).await;
    for (page, name) in [
        (format!("{app}/app/lessons"), "8-phone-library"),
        (
            format!("{app}/app/debriefs/{}", review.0),
            "8-phone-debrief",
        ),
        (lesson_page, "9-phone-lesson"),
        (format!("{app}/app/outcomes"), "10-phone-outcomes"),
        (format!("{app}/app/me"), "11-phone-me"),
        (format!("{app}/app/debriefs"), "12-phone-debriefs"),
        (format!("{app}/app/settings"), "13-phone-settings"),
    ] {
        browser.goto(&page).await;
        // The window's width, the page's (less a scroll bar) and what it lays out.
        let width = browser
            .script(
                "const page = document.documentElement; \
                 return [window.innerWidth, page.clientWidth, page.scrollWidth];",
            )
            .await;
        assert_eq!(width[0], 390, "the window is a phone's: {width}");
        assert!(
            width[2].as_u64().is_some() && width[2].as_u64() <= width[1].as_u64(),
            "{page} scrolls sideways on a phone: {width}"
        );
        browser.screenshot(&shots, name).await;
    }
    browser.quit().await;
}
