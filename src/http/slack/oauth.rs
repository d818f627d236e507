//! `GET /slack/install` and `GET /slack/oauth_redirect`: installing the app in another
//! workspace. The `state` is random, stored (hashed) server side for ten minutes, used
//! once, and bound to the browser that started the install with an HttpOnly cookie.
//! Every failure gets a page a person can read.

use crate::store::OutboxMethod;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use crate::app::installs;
use crate::http::AppState;
use crate::http::error::HttpError;
use crate::http::html::{cookie, digest, escape, page, random_hex};
use crate::platform::slack::blocks::post_message_body;

const COOKIE_NAME: &str = "learnloop_oauth";
/// How long an install may take from the button to Slack's redirect.
const STATE_TTL_SECS: i64 = 600;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/slack/install", get(install))
        .route("/slack/oauth_redirect", get(redirect))
}

fn not_offered() -> Response {
    page(
        StatusCode::NOT_FOUND,
        "Installing is not offered here",
        "<p>This learnloop serves a single workspace. Its operator can offer installs by \
         setting the Slack app's client id and secret.</p>",
    )
}

/// The "Add to Slack" page: a fresh state, remembered server side and in the browser.
async fn install(State(state): State<AppState>) -> Result<Response, HttpError> {
    let Some(oauth) = &state.oauth else {
        return Ok(not_offered());
    };
    let (oauth_state, browser) = (random_hex()?, random_hex()?);
    let now = state.clock.now();
    state
        .store
        .save_oauth_state(
            &digest(&oauth_state),
            &digest(&browser),
            now.plus_seconds(STATE_TTL_SECS),
            now,
        )
        .await?;
    let link = escape(&oauth.authorize_url(&oauth_state));
    let mut response = page(
        StatusCode::OK,
        "Add learnloop to Slack",
        &format!(
            "<p>learnloop runs short debriefs after releases and incidents, and follows up \
             on whether each lesson was applied.</p>\
             <p><a class=\"button\" href=\"{link}\">Add to Slack</a></p>\
             <p><small>You will choose the workspace on Slack's page. This link works for \
             ten minutes, in this browser.</small></p>"
        ),
    );
    let secure = if oauth.secure_cookie { "; Secure" } else { "" };
    let cookie = format!(
        "{COOKIE_NAME}={browser}; HttpOnly; SameSite=Lax; Path=/slack; Max-Age={STATE_TTL_SECS}{secure}"
    );
    response.headers_mut().insert(
        SET_COOKIE,
        cookie
            .parse()
            .map_err(|e| HttpError::Internal(anyhow::anyhow!("cookie header: {e}")))?,
    );
    Ok(response)
}

#[derive(Deserialize)]
struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

fn browser_cookie(headers: &HeaderMap) -> Option<&str> {
    cookie(headers, COOKIE_NAME)
}

fn start_again(status: StatusCode, title: &str, why: &str) -> Response {
    page(
        status,
        title,
        &format!(
            "<p>{}</p><p><a class=\"button\" href=\"/slack/install\">Start again</a></p>",
            escape(why)
        ),
    )
}

/// Where Slack sends the installer back: with a code to exchange, or an error.
async fn redirect(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(callback): Query<Callback>,
) -> Result<Response, HttpError> {
    let Some(oauth) = &state.oauth else {
        return Ok(not_offered());
    };
    if let Some(error) = callback.error.as_deref() {
        if let (Some(oauth_state), Some(browser)) = (&callback.state, browser_cookie(&headers)) {
            // A cancelled install uses its state up.
            let now = state.clock.now();
            state
                .store
                .take_oauth_state(&digest(oauth_state), &digest(browser), now)
                .await?;
        }
        return Ok(if error == "access_denied" {
            start_again(
                StatusCode::OK,
                "Nothing was installed",
                "You cancelled on Slack's page, so learnloop was not added to any workspace.",
            )
        } else {
            start_again(
                StatusCode::BAD_REQUEST,
                "The installation did not finish",
                &format!("Slack reported `{error}`."),
            )
        });
    }
    let (Some(code), Some(oauth_state), Some(browser)) = (
        callback.code.as_deref(),
        callback.state.as_deref(),
        browser_cookie(&headers),
    ) else {
        return Ok(start_again(
            StatusCode::BAD_REQUEST,
            "This install link cannot be used",
            "It lacks what Slack adds to it, or was opened in a browser that did not start \
             the install.",
        ));
    };
    let now = state.clock.now();
    if !state
        .store
        .take_oauth_state(&digest(oauth_state), &digest(browser), now)
        .await?
    {
        tracing::info!("refused an OAuth redirect with an unknown, used, expired or foreign state");
        return Ok(start_again(
            StatusCode::BAD_REQUEST,
            "This install link cannot be used",
            "It expired (links last ten minutes), was used already, or was started in \
             another browser.",
        ));
    }
    let installed = match installs::complete(
        &state.store,
        &state.slack,
        oauth,
        state.clock.as_ref(),
        &state.default_time_zone,
        code,
    )
    .await
    {
        Ok(installed) => installed,
        Err(why) => {
            tracing::warn!(reason = %why, "an OAuth install failed");
            return Ok(start_again(
                StatusCode::BAD_GATEWAY,
                "The installation did not finish",
                &why,
            ));
        }
    };
    let workspace = &installed.workspace;
    state.workspaces.forget_all_slack();
    if let Some(installer) = &installed.installer {
        let body = post_message_body(installer, None, &installs::installer_welcome());
        state
            .queue(workspace.id, OutboxMethod::SlackPost, installer, &body)
            .await?;
    }
    tracing::info!(workspace = %workspace.id, "installed in a workspace through OAuth");
    let mut response = page(
        StatusCode::OK,
        "learnloop is installed",
        &format!(
            "<p>learnloop is now part of <strong>{}</strong>. Open Slack and type \
             <code>/learn help</code>, or <code>/debrief TITLE</code> in a channel after \
             your next release.</p>",
            escape(&installed.team_name)
        ),
    );
    response.headers_mut().insert(
        SET_COOKIE,
        format!("{COOKIE_NAME}=; HttpOnly; SameSite=Lax; Path=/slack; Max-Age=0")
            .parse()
            .map_err(|e| HttpError::Internal(anyhow::anyhow!("cookie header: {e}")))?,
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header::COOKIE;

    #[test]
    fn the_browser_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, "a=1; learnloop_oauth=abc; b=2".parse().unwrap());
        assert_eq!(browser_cookie(&headers), Some("abc"));
        assert_eq!(browser_cookie(&HeaderMap::new()), None);
    }

    #[test]
    fn pages_escape_what_they_show() {
        assert_eq!(
            escape("<b>\"Acme\" & 'co'</b>"),
            "&lt;b&gt;&quot;Acme&quot; &amp; &#39;co&#39;&lt;/b&gt;"
        );
    }
}
