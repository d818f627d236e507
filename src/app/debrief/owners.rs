//! Who may own a debrief's lessons and action items: only a person. A line that names
//! `<@C0GENERAL>`, a bot, a deactivated account, or (in a private conversation)
//! someone outside it does not make them an owner, since the owner is the one who is
//! later sent the item in a DM. Each named id is checked once, before the debrief
//! closes, so no platform call happens while the close holds the write lock.

use std::collections::BTreeSet;
use std::time::Duration;

use super::Debrief;
use super::answers::owner_key;
use super::items;
use super::summary::Reflected;
use crate::app::directory::{Directory, MemberKind};
use crate::store::{ConversationKind, Platform, Workspace};

/// Each lookup runs while the facilitator waits for the close to be acknowledged.
const LOOKUP_TIMEOUT: Duration = Duration::from_millis(1000);
/// Most distinct people checked per debrief; anyone past this is not confirmed.
const MAX_CHECKED: usize = 50;

/// The named owners a debrief's items may have.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Owners {
    confirmed: BTreeSet<String>,
    /// Named but not confirmed: not a person, not in the private conversation, or not
    /// answered for.
    pub refused: BTreeSet<String>,
}

impl Owners {
    /// Whether `id` may own an item.
    pub fn allows(&self, id: &str) -> bool {
        self.confirmed.contains(id)
    }
}

/// Whether `id` has the shape of a Slack user id (`U…`, or `W…` under Enterprise Grid):
/// channel ids (`C…`, `G…`), user groups (`S…`) and anything else are never people.
pub fn looks_like_person(id: &str) -> bool {
    id.len() > 1
        && id.starts_with(['U', 'W'])
        && id
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// The ids the answers name as owners: each item's first mention and each owner picked
/// in the form.
pub fn named(debrief: &Debrief, reflections: &[Reflected]) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for reflection in reflections {
        for question in debrief.questions.iter().filter(|q| q.becomes.is_some()) {
            if let Some(answer) = reflection.answers.get(&question.id) {
                found.extend(items::items(answer).into_iter().filter_map(|i| i.owner));
            }
            if let Some(picked) = reflection.answers.get(&owner_key(&question.id)) {
                found.insert(picked.clone());
            }
        }
    }
    found
}

/// Checks the named ids with the platform: a person with an active account, and in a
/// conversation that is not known to be public, one of its members.
pub async fn confirm(
    directory: &dyn Directory,
    workspace: &Workspace,
    conversation: &str,
    scope: ConversationKind,
    named: BTreeSet<String>,
) -> Owners {
    let mut owners = Owners::default();
    if workspace.platform != Platform::Slack {
        // Teams answers carry no mentions learnloop reads: items are their author's.
        owners.refused = named;
        return owners;
    }
    let mut members: Option<Option<Vec<String>>> = None;
    for (checked, id) in named.into_iter().enumerate() {
        if checked >= MAX_CHECKED || !looks_like_person(&id) {
            owners.refused.insert(id);
            continue;
        }
        let kind = tokio::time::timeout(LOOKUP_TIMEOUT, directory.member_kind(workspace, &id))
            .await
            .ok()
            .flatten();
        if kind != Some(MemberKind::Person) {
            owners.refused.insert(id);
            continue;
        }
        if !scope.is_public() {
            // Looked up once, for the first person who needs it.
            if members.is_none() {
                members = Some(
                    tokio::time::timeout(
                        LOOKUP_TIMEOUT * 2,
                        directory.members(workspace, conversation),
                    )
                    .await
                    .ok()
                    .flatten(),
                );
            }
            let inside = members
                .as_ref()
                .and_then(Option::as_ref)
                .is_some_and(|all| all.contains(&id));
            if !inside {
                owners.refused.insert(id);
                continue;
            }
        }
        owners.confirmed.insert(id);
    }
    owners
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::directory::FakeDirectory;
    use crate::config::Secret;
    use crate::store::WorkspaceId;

    /// Alice and Bob are people, a bot, a deactivated account, one nobody answers
    /// for; only Alice is in the private channel.
    fn people() -> FakeDirectory {
        FakeDirectory {
            people: vec![
                ("U0ALICE", MemberKind::Person),
                ("U0BOB", MemberKind::Person),
                ("U0BOT", MemberKind::Bot),
                ("U0GONE", MemberKind::Deleted),
            ],
            members: Some(vec!["U0ALICE".to_owned()]),
            ..FakeDirectory::default()
        }
    }

    fn slack() -> Workspace {
        Workspace {
            id: WorkspaceId(1),
            platform: Platform::Slack,
            external_id: "T1".into(),
            name: None,
            bot_token: Some(Secret::new("xoxb")),
            default_time_zone: "UTC".into(),
        }
    }

    fn ids(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[tokio::test]
    async fn only_active_people_and_in_private_only_members_may_own() {
        let named = ids(&[
            "U0ALICE",
            "U0BOB",
            "C0GENERAL",
            "S0GROUP",
            "U0BOT",
            "U0GONE",
            "U0SILENT",
        ]);
        let public = confirm(
            &people(),
            &slack(),
            "C1",
            ConversationKind::PublicChannel,
            named.clone(),
        )
        .await;
        assert!(public.allows("U0ALICE") && public.allows("U0BOB"));
        for refused in ["C0GENERAL", "S0GROUP", "U0BOT", "U0GONE", "U0SILENT"] {
            assert!(!public.allows(refused), "{refused}");
            assert!(public.refused.contains(refused), "{refused}");
        }
        let private = confirm(
            &people(),
            &slack(),
            "G1",
            ConversationKind::PrivateChannel,
            named,
        )
        .await;
        assert!(private.allows("U0ALICE"));
        assert!(
            !private.allows("U0BOB"),
            "Bob is not in the private channel"
        );
    }

    #[test]
    fn only_user_ids_look_like_people() {
        for id in ["U0ALICE", "W012A3CDE"] {
            assert!(looks_like_person(id), "{id}");
        }
        for id in ["C0GENERAL", "G1", "S1", "U", "u1", "U1-2", ""] {
            assert!(!looks_like_person(id), "{id}");
        }
    }
}
