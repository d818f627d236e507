//! Signing in and out: "Sign in with Slack" (`/auth/slack/login` → Slack →
//! `/auth/slack/callback`), "Sign in with Microsoft" for Teams workspaces
//! (`/auth/microsoft/login` → Microsoft → `/auth/microsoft/callback`) and
//! `POST /auth/logout`.
//!
//! The sign-in `state` is random, single-use, kept hashed server side for ten minutes
//! and bound to the browser by an HttpOnly cookie; the `nonce` sent to Slack is derived
//! from it, so the id token that comes back belongs to this sign-in. Before a session
//! starts, the platform is asked where the person stands: guests are turned away, and
//! admins and owners (or anyone in `LEARNLOOP_ADMINS`) get the settings and exports.
//! The session cookie is HttpOnly, SameSite=Lax, `__Host-` and `Secure` on an https
//! public URL, and only its hash is stored; a session ends on sign-out, after eight
//! hours without use, or a week after signing in.

use axum::extract::{Form, Query, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;

use super::{admission, layout, off, refresh_access, signed_in};
use crate::app::signin::{SESSION_MAX_AGE_SECS, SignIn};
use crate::http::AppState;
use crate::http::error::HttpError;
use crate::http::html::{cookie, digest, random_hex};
use crate::store::NewWebSession;

pub(super) const SESSION_COOKIE: &str = "learnloop_session";
const SIGNIN_COOKIE: &str = "learnloop_signin";
/// How long a sign-in may take from the button to Slack's redirect.
const SIGNIN_TTL_SECS: i64 = 600;

fn header_value(value: &str) -> Result<HeaderValue, HttpError> {
    value
        .parse()
        .map_err(|e| HttpError::Internal(anyhow::anyhow!("header value: {e}")))
}

/// The name of cookie `base` here. On https it carries the `__Host-` prefix: the
/// browser then takes it only from this very host, over https, for the whole site, so
/// a neighbouring subdomain cannot plant a sign-in or a session of its own.
fn cookie_name(base: &str, signin: &SignIn) -> String {
    if signin.secure_cookie {
        format!("__Host-{base}")
    } else {
        base.to_owned()
    }
}

/// The browser's cookie `base` (see [`cookie_name`]).
pub(super) fn cookie_of<'h>(
    headers: &'h HeaderMap,
    base: &str,
    signin: &SignIn,
) -> Option<&'h str> {
    cookie(headers, &cookie_name(base, signin))
}

/// Sets cookie `base` for the whole site (the dashboard and its sign-in routes):
/// HttpOnly and SameSite=Lax, and on https `Secure` (as `__Host-` requires).
fn cookie_header(
    base: &str,
    value: &str,
    max_age: i64,
    signin: &SignIn,
) -> Result<HeaderValue, HttpError> {
    let name = cookie_name(base, signin);
    let scope = if signin.secure_cookie {
        "Path=/; Secure"
    } else {
        "Path=/"
    };
    header_value(&format!(
        "{name}={value}; HttpOnly; SameSite=Lax; {scope}; Max-Age={max_age}"
    ))
}

/// A redirect (303) to `location` (a path of ours), with these cookies set.
pub(super) fn see_other(location: &str, cookies: Vec<HeaderValue>) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(location) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, location);
    }
    for cookie in cookies {
        response.headers_mut().append(SET_COOKIE, cookie);
    }
    response
}

/// Where people sign in, and how it is offered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Provider {
    Slack,
    Microsoft,
}

impl Provider {
    fn login(self) -> &'static str {
        match self {
            Self::Slack => "/auth/slack/login",
            Self::Microsoft => "/auth/microsoft/login",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Slack => "Slack",
            Self::Microsoft => "Microsoft",
        }
    }

    fn offered(self, signin: &SignIn) -> bool {
        match self {
            Self::Slack => signin.slack.is_some(),
            Self::Microsoft => signin.microsoft.is_some(),
        }
    }

    /// Its sign-in page for this state and nonce, when it is offered.
    fn authorize_url(self, signin: &SignIn, state: &str, nonce: &str) -> Option<String> {
        match self {
            Self::Slack => Some(signin.slack.as_ref()?.authorize_url(state, nonce)),
            Self::Microsoft => Some(signin.microsoft.as_ref()?.authorize_url(state, nonce)),
        }
    }
}

/// The sign-in buttons, one per way offered.
pub(super) fn sign_in_page(signin: &SignIn) -> Response {
    layout::bare(
        StatusCode::OK,
        "learnloop",
        html! {
            p { "What your team learned, what it applied, and what keeps coming back." }
            @for provider in [Provider::Slack, Provider::Microsoft] {
                @if provider.offered(signin) {
                    p { a.button href=(provider.login()) { "Sign in with " (provider.name()) } }
                }
            }
        },
    )
}

/// The nonce sent with `state`: derived from it and the provider, so only this
/// sign-in's id token carries it, and a sign-in started with one provider cannot be
/// finished at the other's callback.
fn nonce_of(provider: Provider, state: &str) -> String {
    digest(&format!("nonce:{}:{state}", provider.name()))
}

/// `/auth/slack/login`.
pub(super) async fn login_slack(State(state): State<AppState>) -> Result<Response, HttpError> {
    login(&state, Provider::Slack).await
}

/// `/auth/microsoft/login`.
pub(super) async fn login_microsoft(State(state): State<AppState>) -> Result<Response, HttpError> {
    login(&state, Provider::Microsoft).await
}

/// To the provider's sign-in page, with a fresh state.
async fn login(state: &AppState, provider: Provider) -> Result<Response, HttpError> {
    let Some(signin) = state.signin.clone() else {
        return Ok(off());
    };
    if !provider.offered(&signin) {
        return Ok(off());
    }
    let (signin_state, browser) = (random_hex()?, random_hex()?);
    let now = state.clock.now();
    state
        .store
        .save_oauth_state(
            &digest(&signin_state),
            &digest(&browser),
            now.plus_seconds(SIGNIN_TTL_SECS),
            now,
        )
        .await?;
    let location = provider
        .authorize_url(&signin, &signin_state, &nonce_of(provider, &signin_state))
        .unwrap_or_default();
    let cookie = cookie_header(SIGNIN_COOKIE, &browser, SIGNIN_TTL_SECS, &signin)?;
    Ok(see_other(&location, vec![cookie]))
}

#[derive(Deserialize)]
pub(super) struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

fn try_again(provider: Provider, status: StatusCode, title: &str, why: &str) -> Response {
    layout::bare(
        status,
        title,
        html! {
            p { (why) }
            p { a.button href=(provider.login()) { "Sign in again" } }
        },
    )
}

/// `/auth/slack/callback`: where Slack sends the person back, signed in or not.
pub(super) async fn callback_slack(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(back): Query<Callback>,
) -> Result<Response, HttpError> {
    callback(&state, &headers, back, Provider::Slack).await
}

/// `/auth/microsoft/callback`: where Microsoft sends the person back.
pub(super) async fn callback_microsoft(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(back): Query<Callback>,
) -> Result<Response, HttpError> {
    callback(&state, &headers, back, Provider::Microsoft).await
}

/// Checks what the provider sent back and, when it is a sign-in of this browser that
/// the provider confirms and the workspace admits, starts a session.
async fn callback(
    state: &AppState,
    headers: &HeaderMap,
    callback: Callback,
    provider: Provider,
) -> Result<Response, HttpError> {
    let Some(signin) = state.signin.clone() else {
        return Ok(off());
    };
    let refused = |status, title: &str, why: &str| Ok(try_again(provider, status, title, why));
    let browser = cookie_of(headers, SIGNIN_COOKIE, &signin);
    let now = state.clock.now();
    let taken = match (&callback.state, browser) {
        (Some(signin_state), Some(browser)) => {
            state
                .store
                .take_oauth_state(&digest(signin_state), &digest(browser), now)
                .await?
        }
        _ => false,
    };
    if let Some(error) = callback.error.as_deref() {
        return if error == "access_denied" {
            refused(
                StatusCode::OK,
                "You are not signed in",
                "You cancelled on the sign-in page.",
            )
        } else {
            // Not echoed: anyone can put text in this link.
            tracing::info!(
                error,
                provider = provider.name(),
                "a sign-in came back with an error"
            );
            refused(
                StatusCode::BAD_REQUEST,
                "Signing in did not finish",
                "The sign-in was not completed.",
            )
        };
    }
    let (Some(code), Some(signin_state), true) = (callback.code.as_deref(), &callback.state, taken)
    else {
        tracing::info!(
            "refused a sign-in redirect with an unknown, used, expired or foreign state"
        );
        return refused(
            StatusCode::BAD_REQUEST,
            "This sign-in link cannot be used",
            "It was used already, is more than ten minutes old, or was opened in another \
             browser than the one that started signing in.",
        );
    };
    let nonce = nonce_of(provider, signin_state);
    let (clock, store) = (state.clock.as_ref(), &state.store);
    let completed = match (provider, &signin.slack, &signin.microsoft) {
        (Provider::Slack, Some(slack), _) => {
            slack
                .complete(store, &state.slack, clock, code, &nonce)
                .await
        }
        (Provider::Microsoft, _, Some(microsoft)) => {
            microsoft.complete(store, clock, code, &nonce).await
        }
        _ => return Ok(off()),
    };
    let signed_in = match completed {
        Ok(signed_in) => signed_in,
        Err(why) => {
            tracing::info!(why, "refused a sign-in");
            return refused(StatusCode::FORBIDDEN, "You are not signed in", &why);
        }
    };
    let workspace = &signed_in.workspace;
    let admin = match admission(state, workspace, &signed_in.user_id).await? {
        Ok(admin) => admin,
        Err(why) => {
            tracing::info!(why, "refused a sign-in");
            return refused(StatusCode::FORBIDDEN, "You are not signed in", why);
        }
    };
    // Whatever session this browser had is over: one browser, one session.
    if let Some(old) = cookie_of(headers, SESSION_COOKIE, &signin) {
        state.store.end_web_session(&digest(old)).await?;
    }
    let (token, csrf) = (random_hex()?, random_hex()?);
    let hash = digest(&token);
    state
        .store
        .create_web_session(
            NewWebSession {
                token_hash: &hash,
                workspace: workspace.id,
                user_id: &signed_in.user_id,
                name: &signed_in.name,
                csrf: &csrf,
                admin,
            },
            now,
        )
        .await?;
    refresh_access(state, &hash, workspace, &signed_in.user_id, admin).await?;
    Ok(see_other(
        "/app",
        vec![
            cookie_header(SESSION_COOKIE, &token, SESSION_MAX_AGE_SECS, &signin)?,
            cookie_header(SIGNIN_COOKIE, "", 0, &signin)?,
        ],
    ))
}

#[derive(Deserialize)]
pub(super) struct SignOut {
    csrf: Option<String>,
}

/// `POST /auth/logout`: the session ends, when the form is the session's own.
pub(super) async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<SignOut>,
) -> Result<Response, HttpError> {
    let Some(signin) = state.signin.clone() else {
        return Ok(off());
    };
    let Some(signed) = signed_in(&state, &signin, &headers).await? else {
        return Ok(see_other("/app", vec![]));
    };
    if !signed.form_is_ours(form.csrf.as_deref()) {
        return Ok(super::stale_form(&signed));
    }
    state.store.end_web_session(&signed.hash).await?;
    Ok(see_other(
        "/app",
        vec![cookie_header(SESSION_COOKIE, "", 0, &signin)?],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signin(public_url: &str) -> SignIn {
        SignIn {
            slack: None,
            microsoft: None,
            secure_cookie: public_url.starts_with("https://"),
        }
    }

    #[test]
    fn a_sign_in_started_with_one_provider_cannot_finish_at_the_other() {
        let state = "s1";
        assert_ne!(
            nonce_of(Provider::Slack, state),
            nonce_of(Provider::Microsoft, state)
        );
    }

    #[test]
    fn on_https_cookies_are_host_only_secure_and_for_the_whole_site() {
        let https = cookie_header(SESSION_COOKIE, "t", 60, &signin("https://l.example")).unwrap();
        assert_eq!(
            https,
            "__Host-learnloop_session=t; HttpOnly; SameSite=Lax; Path=/; Secure; Max-Age=60"
        );
        let http = cookie_header(SESSION_COOKIE, "t", 60, &signin("http://localhost")).unwrap();
        assert_eq!(
            http,
            "learnloop_session=t; HttpOnly; SameSite=Lax; Path=/; Max-Age=60"
        );
        let mut headers = HeaderMap::new();
        headers.insert(
            axum::http::header::COOKIE,
            "learnloop_session=planted; __Host-learnloop_session=real"
                .parse()
                .unwrap(),
        );
        let secure = signin("https://l.example");
        assert_eq!(cookie_of(&headers, SESSION_COOKIE, &secure), Some("real"));
    }
}
