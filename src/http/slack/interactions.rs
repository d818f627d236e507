//! `POST /slack/interactions`: button clicks (`block_actions`) and modal submissions
//! (`view_submission`), parsed into typed values and routed by `action_id` /
//! `callback_id`. Anything without a handler is logged and acknowledged, so Slack
//! shows no error to the person who clicked.
//! <https://api.slack.com/interactivity/handling>

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::http::AppState;
use crate::http::error::HttpError;
use crate::store::Platform;

#[derive(Debug, Deserialize)]
struct InteractionForm {
    payload: Option<String>,
}

#[derive(Debug, Deserialize)]
struct IdOnly {
    id: String,
}

/// One clicked element of a `block_actions` payload.
#[derive(Debug, Deserialize)]
pub struct Action {
    pub action_id: String,
    pub block_id: Option<String>,
}

/// A submitted modal.
#[derive(Debug, Deserialize)]
pub struct View {
    pub id: Option<String>,
    #[serde(default)]
    pub callback_id: String,
}

/// The interaction payloads learnloop handles, by their `type`.
#[derive(Debug, Deserialize)]
#[serde(tag = "type")]
enum Interaction {
    #[serde(rename = "block_actions")]
    BlockActions {
        team: Option<IdOnly>,
        user: Option<IdOnly>,
        #[serde(default)]
        actions: Vec<Action>,
    },
    #[serde(rename = "view_submission")]
    ViewSubmission {
        team: Option<IdOnly>,
        user: Option<IdOnly>,
        view: View,
    },
    /// shortcuts, view_closed, … : acknowledged, not used.
    #[serde(other)]
    Other,
}

/// Checks the payload names a team and a user (400 otherwise) and whether that team has
/// an install; an interaction from one without is logged and acknowledged.
async fn installed(
    state: &AppState,
    team: Option<IdOnly>,
    user: Option<IdOnly>,
    kind: &str,
) -> Result<bool, HttpError> {
    let (Some(team), Some(_user)) = (team, user) else {
        return Err(HttpError::bad_request(format!(
            "{kind} payload without `team.id` or `user.id`"
        )));
    };
    tracing::Span::current().record("workspace", team.id.as_str());
    let found = state.workspaces.resolve(Platform::Slack, &team.id).await?;
    if found.is_none() {
        tracing::warn!(
            kind,
            "ignored an interaction from a workspace without an install"
        );
    }
    Ok(found.is_some())
}

pub async fn handle(State(state): State<AppState>, body: Bytes) -> Result<Response, HttpError> {
    let form: InteractionForm =
        serde_urlencoded::from_bytes(&body).map_err(HttpError::bad_request)?;
    let payload = form
        .payload
        .ok_or_else(|| HttpError::bad_request("interaction without a `payload` field"))?;
    let interaction: Interaction =
        serde_json::from_str(&payload).map_err(HttpError::bad_request)?;
    match interaction {
        Interaction::BlockActions {
            team,
            user,
            actions,
        } => {
            if !installed(&state, team, user, "block_actions").await? {
                return Ok(StatusCode::OK.into_response());
            }
            for action in &actions {
                // No button has a handler in this release; each one logs what it was.
                tracing::info!(
                    action_id = %action.action_id,
                    block_id = action.block_id.as_deref().unwrap_or(""),
                    "acknowledged an action without a handler"
                );
            }
            Ok(StatusCode::OK.into_response())
        }
        Interaction::ViewSubmission { team, user, view } => {
            if !installed(&state, team, user, "view_submission").await? {
                return Ok(StatusCode::OK.into_response());
            }
            tracing::info!(
                callback_id = %view.callback_id,
                view_id = view.id.as_deref().unwrap_or(""),
                "acknowledged a modal submission without a handler"
            );
            // An empty 200 closes the modal.
            Ok(StatusCode::OK.into_response())
        }
        Interaction::Other => {
            tracing::info!("acknowledged an interaction type learnloop does not use");
            Ok(StatusCode::OK.into_response())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_minimal_block_actions_shape() {
        let payload = r#"{"type":"block_actions","team":{"id":"T1"},"user":{"id":"U1"},"trigger_id":"1.2.3",
         "container":{"type":"message","message_ts":"1700000000.000100","channel_id":"C1"},
         "channel":{"id":"C1"},"message":{"ts":"1700000000.000100","blocks":[]},
         "response_url":"https://hooks.slack.com/actions/x",
         "actions":[{"type":"button","action_id":"debrief.reflect","block_id":"b1","value":"42"}]}"#;
        let Interaction::BlockActions { team, actions, .. } =
            serde_json::from_str(payload).unwrap()
        else {
            panic!("not block_actions");
        };
        assert_eq!(team.unwrap().id, "T1");
        assert_eq!(actions[0].action_id, "debrief.reflect");
        assert_eq!(actions[0].block_id.as_deref(), Some("b1"));
    }

    #[test]
    fn parses_the_minimal_view_submission_shape() {
        let payload = r#"{"type":"view_submission","team":{"id":"T1"},"user":{"id":"U1"},
        "view":{"id":"V1","callback_id":"debrief.reflection","private_metadata":"{\"debrief\":42}",
         "state":{"values":{"q_went_well":{"answer":{"type":"plain_text_input","value":"ok"}}}}}}"#;
        let Interaction::ViewSubmission { view, .. } = serde_json::from_str(payload).unwrap()
        else {
            panic!("not view_submission");
        };
        assert_eq!(view.callback_id, "debrief.reflection");
        assert_eq!(view.id.as_deref(), Some("V1"));
    }

    #[test]
    fn other_types_are_tolerated() {
        let parsed: Interaction = serde_json::from_str(r#"{"type":"shortcut","x":1}"#).unwrap();
        assert!(matches!(parsed, Interaction::Other));
    }
}
