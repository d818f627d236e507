//! The frame every dashboard page shares: the head, the navigation (settings for
//! admins only), the sign-out form, and the one stylesheet, compiled into the binary.

use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use super::Signed;
use crate::http::html::{document, page_response};

const STYLESHEET: &str = include_str!("style.css");

/// The parts of the dashboard, as the navigation names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Library,
    Outcomes,
    Debriefs,
    Me,
    Settings,
}

impl Section {
    const ALL: [Section; 5] = [
        Self::Library,
        Self::Outcomes,
        Self::Debriefs,
        Self::Me,
        Self::Settings,
    ];

    fn href(self) -> &'static str {
        match self {
            Self::Library => "/app/lessons",
            Self::Outcomes => "/app/outcomes",
            Self::Debriefs => "/app/debriefs",
            Self::Me => "/app/me",
            Self::Settings => "/app/settings",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Library => "Lessons",
            Self::Outcomes => "Outcomes",
            Self::Debriefs => "Debriefs",
            Self::Me => "Me",
            Self::Settings => "Settings",
        }
    }
}

/// A page for a signed-in person, with the navigation (`current` marked).
pub fn shell(
    status: StatusCode,
    title: &str,
    signed: &Signed,
    current: Option<Section>,
    body: Markup,
) -> Response {
    let team = signed
        .workspace
        .name
        .as_deref()
        .unwrap_or(&signed.workspace.external_id);
    let header = html! {
        header {
            a.skip href="#main" { "Skip to content" }
            nav aria-label="Dashboard" {
                a.brand href="/app" { "learnloop" }
                @for section in Section::ALL {
                    @if section != Section::Settings || signed.session.admin {
                        @if Some(section) == current {
                            a href=(section.href()) aria-current="page" { (section.label()) }
                        } @else {
                            a href=(section.href()) { (section.label()) }
                        }
                    }
                }
            }
            form.signout method="post" action="/auth/logout" {
                span { (signed.session.name) " · " (team) }
                input type="hidden" name="csrf" value=(signed.session.csrf);
                button type="submit" { "Sign out" }
            }
        }
    };
    page_response(status, document(title, header, body))
}

/// A page for someone not signed in.
pub fn bare(status: StatusCode, title: &str, body: Markup) -> Response {
    let header = html! { header { nav { a.brand href="/app" { "learnloop" } } } };
    page_response(status, document(title, header, body))
}

/// `/app/style.css`.
pub async fn stylesheet() -> Response {
    (
        [
            (CONTENT_TYPE, "text/css; charset=utf-8"),
            (CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
        .into_response()
}
