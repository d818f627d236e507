//! The dashboard under `/app`: server-rendered pages (maud, checked at compile time) for
//! a person signed in with Slack or (Teams workspaces) with Microsoft. Every page is built for a [`Signed`] session and reads
//! the store through a [`Viewer`], so it shows only that workspace, its public lessons
//! and the private conversations the person is in; an id from another workspace or out
//! of sight is a 404, an admin page refused to others a 403, and every form carries the
//! session's CSRF token.

mod auth;
mod charts;
mod debriefs;
mod export;
mod layout;
mod library;
mod me;
mod outcomes;
mod settings;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::html;

use crate::app::access::{self, ACCESS_TTL_SECS, Recheck, private_conversations, recheck};
use crate::app::signin::{SESSION_IDLE_SECS, SESSION_MAX_AGE_SECS, SignIn};
use crate::http::AppState;
use crate::http::error::HttpError;
use crate::http::html::digest;
use crate::store::{Viewer, WebSession, Workspace};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/app", get(library::home))
        .route("/app/style.css", get(layout::stylesheet))
        .route("/app/lessons", get(library::lessons))
        .route("/app/lessons/{id}", get(library::lesson))
        .route("/app/outcomes", get(outcomes::page))
        .route("/app/debriefs", get(debriefs::list))
        .route("/app/debriefs/{id}", get(debriefs::one))
        .route("/app/me", get(me::page))
        .route("/app/me/followups/{id}", post(me::answer))
        .route("/app/me/stale/{id}", post(me::keep_or_retire))
        .route("/app/settings", get(settings::page))
        .route("/app/export/{file}", get(export::download))
        .route("/auth/slack/login", get(auth::login_slack))
        .route("/auth/slack/callback", get(auth::callback_slack))
        .route("/auth/microsoft/login", get(auth::login_microsoft))
        .route("/auth/microsoft/callback", get(auth::callback_microsoft))
        .route("/auth/logout", post(auth::logout))
}

/// A signed-in person: their session (and its hash), and their workspace.
pub struct Signed {
    pub hash: String,
    pub session: WebSession,
    pub workspace: Workspace,
}

impl Signed {
    /// Whom the store reads for.
    pub fn viewer(&self) -> Viewer<'_> {
        Viewer {
            workspace: self.workspace.id,
            session: &self.hash,
            // In an org-wide install "public" spans organisations: only the
            // conversations the person is in.
            sees_public: !self.workspace.org_wide,
        }
    }

    /// Whether `token` (from a form) is this session's CSRF token; compared as
    /// digests, so the time taken says nothing about the token.
    pub fn form_is_ours(&self, token: Option<&str>) -> bool {
        token.map(digest) == Some(digest(&self.session.csrf))
    }
}

/// The dashboard is off: why, and what would turn it on.
fn off() -> Response {
    layout::bare(
        StatusCode::NOT_FOUND,
        "The dashboard is off",
        html! {
            p {
                "It needs the service's public address (" code { "LEARNLOOP_PUBLIC_URL" }
                "), so that people can be sent back after they sign in, and a way to sign \
                 in: the Slack app's client id and secret (" code { "LEARNLOOP_SLACK_CLIENT_ID" }
                ", " code { "LEARNLOOP_SLACK_CLIENT_SECRET" } "), or the Teams bot's app id \
                 and password with the tenants it serves (" code { "LEARNLOOP_TEAMS_APP_ID" }
                ", " code { "LEARNLOOP_TEAMS_APP_PASSWORD" } ", " code { "LEARNLOOP_TEAMS_TENANTS" } ")."
            }
        },
    )
}

/// The page for an id that is not there or not the person's to see: the same either
/// way, so a 404 says nothing about another workspace.
pub fn not_found(signed: &Signed) -> Response {
    layout::shell(
        StatusCode::NOT_FOUND,
        "Not found",
        signed,
        None,
        html! { p { "There is nothing here for you. " a href="/app/lessons" { "Back to the library" } } },
    )
}

/// A form that did not come from this session's pages.
pub fn stale_form(signed: &Signed) -> Response {
    tracing::info!("refused a dashboard form without the session's token");
    layout::shell(
        StatusCode::FORBIDDEN,
        "This form is out of date",
        signed,
        None,
        html! { p { "It did not come from your dashboard. " a href="/app" { "Back to the dashboard" } } },
    )
}

/// The signed-in session of this browser, if any. Once what the platform said about
/// the person is a few minutes old it is asked again: a deactivated account or a new
/// guest is signed out, a demoted admin loses the admin pages, and the private
/// conversations are read anew.
async fn signed_in(
    state: &AppState,
    signin: &SignIn,
    headers: &HeaderMap,
) -> Result<Option<Signed>, HttpError> {
    let Some(token) = auth::cookie_of(headers, auth::SESSION_COOKIE, signin) else {
        return Ok(None);
    };
    let hash = digest(token);
    let now = state.clock.now();
    let Some(mut session) = state
        .store
        .use_web_session(&hash, now, (SESSION_IDLE_SECS, SESSION_MAX_AGE_SECS))
        .await?
    else {
        return Ok(None);
    };
    let workspace = state.store.workspace_by_id(session.workspace).await?;
    if now.seconds_since(session.channels_checked_at) >= ACCESS_TTL_SECS {
        let installer = state.store.workspace_installer(workspace.id).await?;
        let who = access::Person {
            user: &session.user_id,
            installer: installer.as_deref(),
            admins: &state.settings.http.admins,
        };
        match recheck(state.directory.as_ref(), &workspace, who).await {
            Recheck::Ends => {
                tracing::info!("ended a dashboard session: the account is gone or a guest");
                state.store.end_web_session(&hash).await?;
                return Ok(None);
            }
            Recheck::Stays { admin } => {
                session.admin = admin;
                refresh_access(state, &hash, &workspace, &session.user_id, admin).await?;
            }
        }
    }
    Ok(Some(Signed {
        hash,
        session,
        workspace,
    }))
}

/// Whether the person may sign in to `workspace`, and as an admin (`Err` says why not).
pub async fn admission(
    state: &AppState,
    workspace: &Workspace,
    user: &str,
) -> Result<Result<bool, &'static str>, HttpError> {
    let installer = state.store.workspace_installer(workspace.id).await?;
    let who = access::Person {
        user,
        installer: installer.as_deref(),
        admins: &state.settings.http.admins,
    };
    Ok(access::admission(state.directory.as_ref(), workspace, who).await)
}

/// Records whether the person is an admin, and the private conversations the
/// platform says they are in.
pub async fn refresh_access(
    state: &AppState,
    hash: &str,
    workspace: &Workspace,
    user: &str,
    admin: bool,
) -> Result<(), HttpError> {
    let theirs =
        private_conversations(&state.store, state.directory.as_ref(), workspace, user).await?;
    state
        .store
        .refresh_web_session(hash, admin, &theirs, state.clock.now())
        .await?;
    Ok(())
}

/// A page's way in: the dashboard must be on and the browser signed in (else it is
/// sent to `/app` to sign in).
impl FromRequestParts<AppState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(signin) = state.signin.clone() else {
            return Err(off());
        };
        match signed_in(state, &signin, &parts.headers).await {
            Ok(Some(signed)) => Ok(signed),
            Ok(None) => Err(auth::see_other("/app", vec![]).into_response()),
            Err(err) => Err(err.into_response()),
        }
    }
}

/// A signed-in workspace admin: the settings and the exports.
pub struct Admin(pub Signed);

impl FromRequestParts<AppState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let signed = Signed::from_request_parts(parts, state).await?;
        if signed.session.admin {
            Ok(Self(signed))
        } else {
            Err(layout::shell(
                StatusCode::FORBIDDEN,
                "For workspace admins",
                &signed,
                None,
                html! { p { "The settings and the exports are for the workspace's admins and owners." } },
            ))
        }
    }
}
