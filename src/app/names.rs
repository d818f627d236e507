//! People's display names, for platforms whose messages show names rather than
//! mentions the client resolves (Teams cards): learnt from the people the Teams bot has
//! met. Slack resolves `<@U…>` itself, so it needs none.

use crate::app::AppError;
use std::collections::HashMap;

use crate::store::{Platform, Store, Workspace};

/// Names by platform user id.
#[derive(Clone, Debug, Default)]
pub struct DisplayNames(HashMap<String, String>);

impl DisplayNames {
    /// The names a workspace's messages may show (none for Slack).
    pub async fn of(store: &Store, workspace: &Workspace) -> Result<Self, AppError> {
        if workspace.platform != Platform::Teams {
            return Ok(Self::default());
        }
        Ok(Self(
            store
                .teams_people(workspace.id)
                .await?
                .into_iter()
                .filter_map(|person| Some((person.person, person.name?)))
                .collect(),
        ))
    }

    pub fn name(&self, id: &str) -> Option<String> {
        self.0.get(id).cloned()
    }
}
