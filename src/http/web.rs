//! The dashboard at `/app`: "Sign in with Slack", a session per browser, and the
//! lessons library (the same search as `/learn lessons`). A signed-in person sees
//! their workspace only, and of it what any public channel sees: its public lessons.
//!
//! The sign-in `state` is random, single-use, kept hashed server side for ten minutes
//! and bound to the browser by an HttpOnly cookie; the `nonce` sent to Slack is derived
//! from it, so the id token that comes back belongs to this sign-in. The session cookie
//! is HttpOnly, SameSite=Lax, `__Host-` and `Secure` on an https public URL, and only
//! its hash is stored; a session ends on sign-out, after eight hours without use, or a
//! week after signing in. Every form carries the session's CSRF token, and no page
//! may be framed.

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::app::scopes::narrowed;
use crate::app::search::user_terms;
use crate::app::signin::{SESSION_IDLE_SECS, SESSION_MAX_AGE_SECS, SlackSignIn};
use crate::http::AppState;
use crate::http::error::HttpError;
use crate::http::html::{cookie, digest, escape, page, random_hex};
use crate::store::{Audience, LessonHit, NewWebSession, WebSession};

const SESSION_COOKIE: &str = "learnloop_session";
const SIGNIN_COOKIE: &str = "learnloop_signin";
/// How long a sign-in may take from the button to Slack's redirect.
const SIGNIN_TTL_SECS: i64 = 600;
/// Most lessons a search shows.
const RESULTS: u32 = 50;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/app", get(dashboard))
        .route("/app/login/slack", get(login))
        .route("/app/auth/slack", get(callback))
        .route("/app/logout", post(logout))
}

fn off() -> Response {
    page(
        StatusCode::NOT_FOUND,
        "The dashboard is off",
        "<p>It needs the service's public address (<code>LEARNLOOP_PUBLIC_URL</code>) and the \
         Slack app's client id and secret (<code>LEARNLOOP_SLACK_CLIENT_ID</code>, \
         <code>LEARNLOOP_SLACK_CLIENT_SECRET</code>), so that Slack can send people back \
         after they sign in.</p>",
    )
}

fn header_value(value: &str) -> Result<HeaderValue, HttpError> {
    value
        .parse()
        .map_err(|e| HttpError::Internal(anyhow::anyhow!("header value: {e}")))
}

/// The name of cookie `base` here. On https it carries the `__Host-` prefix: the
/// browser then takes it only from this very host, over https, for the whole site, so
/// a neighbouring subdomain cannot plant a sign-in or a session of its own.
fn cookie_name(base: &str, signin: &SlackSignIn) -> String {
    if signin.secure_cookie {
        format!("__Host-{base}")
    } else {
        base.to_owned()
    }
}

/// The browser's cookie `base` (see [`cookie_name`]).
fn cookie_of<'h>(headers: &'h HeaderMap, base: &str, signin: &SlackSignIn) -> Option<&'h str> {
    cookie(headers, &cookie_name(base, signin))
}

/// Sets cookie `base`: HttpOnly and SameSite=Lax; on https `Secure` for the whole
/// site (as `__Host-` requires), else for the dashboard's paths.
fn cookie_header(
    base: &str,
    value: &str,
    max_age: i64,
    signin: &SlackSignIn,
) -> Result<HeaderValue, HttpError> {
    let name = cookie_name(base, signin);
    let scope = if signin.secure_cookie {
        "Path=/; Secure"
    } else {
        "Path=/app"
    };
    header_value(&format!(
        "{name}={value}; HttpOnly; SameSite=Lax; {scope}; Max-Age={max_age}"
    ))
}

/// A redirect (303) to `location`, with these cookies set.
fn see_other(location: &str, cookies: Vec<HeaderValue>) -> Result<Response, HttpError> {
    let mut response = StatusCode::SEE_OTHER.into_response();
    response
        .headers_mut()
        .insert(LOCATION, header_value(location)?);
    for cookie in cookies {
        response.headers_mut().append(SET_COOKIE, cookie);
    }
    Ok(response)
}

/// The signed-in session of this browser (its hash and what it holds), if any.
async fn current(
    state: &AppState,
    signin: &SlackSignIn,
    headers: &HeaderMap,
) -> Result<Option<(String, WebSession)>, HttpError> {
    let Some(token) = cookie_of(headers, SESSION_COOKIE, signin) else {
        return Ok(None);
    };
    let hash = digest(token);
    let session = state
        .store
        .use_web_session(
            &hash,
            state.clock.now(),
            (SESSION_IDLE_SECS, SESSION_MAX_AGE_SECS),
        )
        .await?;
    Ok(session.map(|session| (hash, session)))
}

fn sign_in_page() -> Response {
    page(
        StatusCode::OK,
        "learnloop",
        "<p>What your team learned, what it applied, and what keeps coming back.</p>\
         <p><a class=\"button\" href=\"/app/login/slack\">Sign in with Slack</a></p>",
    )
}

#[derive(Deserialize)]
struct Search {
    q: Option<String>,
}

fn lesson_item(hit: &LessonHit) -> String {
    let tags = if hit.tags.is_empty() {
        String::new()
    } else {
        format!(" · {}", escape(&hit.tags))
    };
    format!(
        "<li><p>{}</p><p><small>{} · from <em>{}</em> in {} · {}{tags}</small></p></li>",
        escape(&hit.text),
        escape(&hit.status.replace('_', " ")),
        escape(&hit.debrief_title),
        escape(&hit.channel),
        hit.created_at.to_utc().format("%-d %b %Y"),
    )
}

/// `/app`: the sign-in button, or the library for the signed-in person.
async fn dashboard(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(search): Query<Search>,
) -> Result<Response, HttpError> {
    let Some(signin) = state.signin.clone() else {
        return Ok(off());
    };
    let Some((_, session)) = current(&state, &signin, &headers).await? else {
        return Ok(sign_in_page());
    };
    let workspace = state.store.workspace_by_id(session.workspace).await?;
    let query = search.q.as_deref().map(str::trim).unwrap_or_default();
    let results = match user_terms(query) {
        Some(terms) if !query.is_empty() => {
            let hits = state
                .store
                .search_lessons(
                    workspace.id,
                    &terms,
                    narrowed(workspace.org_wide, Audience::Public),
                    RESULTS,
                )
                .await?;
            if hits.is_empty() {
                format!("<p>No lesson matches <q>{}</q>.</p>", escape(query))
            } else {
                let items: String = hits.iter().map(lesson_item).collect();
                format!("<ol class=\"lessons\">{items}</ol>")
            }
        }
        _ => "<p>Search what the team learned: a word, a <q>phrase</q>, or the start of a \
              word and <code>*</code>.</p>"
            .to_owned(),
    };
    let body = format!(
        "<p>Signed in as {name} in {team}.</p>\
         <form method=\"get\" action=\"/app\" role=\"search\">\
         <label for=\"q\">Lessons</label> <input id=\"q\" name=\"q\" type=\"search\" value=\"{query}\"> \
         <button type=\"submit\">Search</button></form>{results}\
         <form method=\"post\" action=\"/app/logout\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <button type=\"submit\">Sign out</button></form>",
        name = escape(&session.name),
        team = escape(workspace.name.as_deref().unwrap_or(&workspace.external_id)),
        query = escape(query),
        csrf = escape(&session.csrf),
    );
    Ok(page(StatusCode::OK, "Lessons library", &body))
}

/// The nonce sent to Slack with `state`: derived from it, so only this sign-in's id
/// token carries it.
fn nonce_of(state: &str) -> String {
    digest(&format!("nonce:{state}"))
}

/// `/app/login/slack`: to Slack's sign-in page, with a fresh state.
async fn login(State(state): State<AppState>) -> Result<Response, HttpError> {
    let Some(signin) = state.signin.clone() else {
        return Ok(off());
    };
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
    let location = signin.authorize_url(&signin_state, &nonce_of(&signin_state));
    let cookie = cookie_header(SIGNIN_COOKIE, &browser, SIGNIN_TTL_SECS, &signin)?;
    see_other(&location, vec![cookie])
}

#[derive(Deserialize)]
struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

fn try_again(status: StatusCode, title: &str, why: &str) -> Response {
    page(
        status,
        title,
        &format!(
            "<p>{}</p><p><a class=\"button\" href=\"/app/login/slack\">Sign in again</a></p>",
            escape(why)
        ),
    )
}

/// `/app/auth/slack`: where Slack sends the person back, signed in or not.
async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(callback): Query<Callback>,
) -> Result<Response, HttpError> {
    let Some(signin) = state.signin.clone() else {
        return Ok(off());
    };
    let browser = cookie_of(&headers, SIGNIN_COOKIE, &signin);
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
        return Ok(if error == "access_denied" {
            try_again(
                StatusCode::OK,
                "You are not signed in",
                "You cancelled on Slack's page.",
            )
        } else {
            // Not echoed: anyone can put text in this link.
            tracing::info!(error, "Slack sent a sign-in back with an error");
            try_again(
                StatusCode::BAD_REQUEST,
                "Signing in did not finish",
                "Slack did not complete the sign-in.",
            )
        });
    }
    let (Some(code), Some(signin_state), true) = (callback.code.as_deref(), &callback.state, taken)
    else {
        tracing::info!(
            "refused a sign-in redirect with an unknown, used, expired or foreign state"
        );
        return Ok(try_again(
            StatusCode::BAD_REQUEST,
            "This sign-in link cannot be used",
            "It was used already, is more than ten minutes old, or was opened in another \
             browser than the one that started signing in.",
        ));
    };
    let signed_in = match signin
        .complete(
            &state.store,
            &state.slack,
            state.clock.as_ref(),
            code,
            &nonce_of(signin_state),
        )
        .await
    {
        Ok(signed_in) => signed_in,
        Err(why) => {
            tracing::info!(why, "refused a sign-in");
            return Ok(try_again(
                StatusCode::FORBIDDEN,
                "You are not signed in",
                &why,
            ));
        }
    };
    // Whatever session this browser had is over: one browser, one session.
    if let Some(old) = cookie_of(&headers, SESSION_COOKIE, &signin) {
        state.store.end_web_session(&digest(old)).await?;
    }
    let (token, csrf) = (random_hex()?, random_hex()?);
    state
        .store
        .create_web_session(
            NewWebSession {
                token_hash: &digest(&token),
                workspace: signed_in.workspace.id,
                user_id: &signed_in.user_id,
                name: &signed_in.name,
                csrf: &csrf,
            },
            now,
        )
        .await?;
    see_other(
        "/app",
        vec![
            cookie_header(SESSION_COOKIE, &token, SESSION_MAX_AGE_SECS, &signin)?,
            cookie_header(SIGNIN_COOKIE, "", 0, &signin)?,
        ],
    )
}

#[derive(Deserialize)]
struct SignOut {
    csrf: Option<String>,
}

/// `POST /app/logout`: the session ends, when the form is the session's own.
async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<SignOut>,
) -> Result<Response, HttpError> {
    let Some(signin) = state.signin.clone() else {
        return Ok(off());
    };
    let Some((hash, session)) = current(&state, &signin, &headers).await? else {
        return see_other("/app", vec![]);
    };
    // Compared as digests: the time taken says nothing about the token.
    if form.csrf.as_deref().map(digest) != Some(digest(&session.csrf)) {
        tracing::info!("refused a sign-out without the session's form token");
        return Ok(page(
            StatusCode::FORBIDDEN,
            "This form is out of date",
            "<p>It did not come from your dashboard. <a href=\"/app\">Back to the dashboard</a></p>",
        ));
    }
    state.store.end_web_session(&hash).await?;
    see_other("/app", vec![cookie_header(SESSION_COOKIE, "", 0, &signin)?])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn signin(public_url: &str) -> SlackSignIn {
        SlackSignIn {
            client_id: "1.2".into(),
            client_secret: Secret::new("s"),
            redirect_uri: format!("{public_url}/app/auth/slack"),
            oauth_base: "https://slack.com".into(),
            secure_cookie: public_url.starts_with("https://"),
        }
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
            "learnloop_session=t; HttpOnly; SameSite=Lax; Path=/app; Max-Age=60"
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
