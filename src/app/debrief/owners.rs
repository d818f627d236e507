//! Who may own a debrief's lessons and action items: only a person. A line that names
//! `<@C0GENERAL>`, a bot, a deactivated account, or (in a private conversation)
//! someone outside it does not make them an owner, since the owner is the one who is
//! later sent the item in a DM. Each named id is checked once, before the debrief
//! closes, so no platform call happens while the close holds the write lock.

use std::collections::BTreeSet;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

use super::answers::owner_key;
use super::items;
use super::summary::Reflected;
use super::{Debrief, MAX_ITEMS_PER_ANSWER};
use crate::domain::directory::{Directory, Lookup, MemberKind};
use crate::store::{ConversationKind, Platform, Workspace};

/// All lookups of a close run while the facilitator waits for it to be acknowledged
/// (Slack waits 3 s, and the channel's scope may be asked first).
const LOOKUPS_DEADLINE: Duration = Duration::from_millis(1200);
/// Lookups in flight at once: quick for a busy debrief, gentle on Slack's rate limits.
const CONCURRENT_LOOKUPS: usize = 8;
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

/// The ids the answers name as owners: each kept item's first mention and each owner
/// picked in the form.
pub fn named(debrief: &Debrief, reflections: &[Reflected]) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for reflection in reflections {
        for question in debrief.questions.iter().filter(|q| {
            q.becomes
                .is_some_and(crate::app::templates::Becomes::is_candidate)
        }) {
            if let Some(answer) = reflection.answers.get(&question.id) {
                // Only lines that can become items: those past the cap are cut.
                let kept = items::items(answer).into_iter().take(MAX_ITEMS_PER_ANSWER);
                found.extend(kept.filter_map(|i| i.owner));
            }
            if let Some(picked) = reflection.answers.get(&owner_key(&question.id)) {
                found.insert(picked.clone());
            }
        }
    }
    found
}

/// Teams answers name nobody, but a review's owner menu does: each picked id is
/// confirmed when the connector lists them among the conversation's members.
pub async fn confirm_picked_on_teams(
    directory: &dyn Directory,
    workspace: &Workspace,
    conversation: &str,
    picked: BTreeSet<String>,
    owners: &mut Owners,
) {
    if picked.is_empty() || workspace.platform != Platform::Teams {
        return;
    }
    let members =
        tokio::time::timeout(LOOKUPS_DEADLINE, directory.members(workspace, conversation))
            .await
            .ok()
            .flatten()
            .unwrap_or_default();
    for id in picked {
        if members.contains(&id) {
            owners.refused.remove(&id);
            owners.confirmed.insert(id);
        } else {
            owners.refused.insert(id);
        }
    }
}

/// Checks the named ids with the platform: a person with an active account, and in a
/// conversation that is not known to be public, one of its members. The lookups run
/// side by side under one deadline (the facilitator is waiting for the close to be
/// acknowledged); an id not answered for by then is refused.
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
    let mut candidates = Vec::new();
    for (checked, id) in named.into_iter().enumerate() {
        if checked < MAX_CHECKED && looks_like_person(&id) {
            candidates.push(id);
        } else {
            owners.refused.insert(id);
        }
    }
    if candidates.is_empty() {
        return owners;
    }
    // Under an org-wide install a public channel is open to its own team only: its
    // members are asked as for a private one.
    let public = scope.is_public() && !workspace.org_wide;
    let deadline = tokio::time::Instant::now() + LOOKUPS_DEADLINE;
    // In a conversation not known to be public, its members, asked once alongside.
    let members = async {
        if public {
            return None;
        }
        tokio::time::timeout_at(deadline, directory.members(workspace, conversation))
            .await
            .ok()
            .flatten()
    };
    let people = async {
        let mut waiting = candidates.iter();
        let mut in_flight = FuturesUnordered::new();
        for id in waiting.by_ref().take(CONCURRENT_LOOKUPS) {
            in_flight.push(member_kind(directory, workspace, id));
        }
        let mut people = BTreeSet::new();
        while let Ok(Some((id, kind))) = tokio::time::timeout_at(deadline, in_flight.next()).await {
            if kind == Some(MemberKind::Person) {
                people.insert(id.to_owned());
            }
            if let Some(next) = waiting.next() {
                in_flight.push(member_kind(directory, workspace, next));
            }
        }
        people
    };
    let (members, people) = tokio::join!(members, people);
    for id in candidates {
        let inside = public || members.as_ref().is_some_and(|all| all.contains(&id));
        if people.contains(&id) && inside {
            owners.confirmed.insert(id);
        } else {
            owners.refused.insert(id);
        }
    }
    owners
}

/// One `users.info` lookup that says whose it is, so lookups of different ids share a
/// type in one set.
fn member_kind<'a>(
    directory: &'a dyn Directory,
    workspace: &'a Workspace,
    id: &'a str,
) -> Lookup<'a, (&'a str, Option<MemberKind>)> {
    Box::pin(async move { (id, directory.member_kind(workspace, id).await) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;
    use crate::domain::directory::FakeDirectory;
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
            uninstalled: false,
            org_wide: false,
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

    #[tokio::test(start_paused = true)]
    async fn lookups_run_side_by_side_under_one_deadline() {
        let slow = |count: usize| {
            let names: Vec<&'static str> =
                (0..count).map(|i| &*format!("U{i:03}").leak()).collect();
            let directory = FakeDirectory {
                people: names.iter().map(|n| (*n, MemberKind::Person)).collect(),
                member_delay: Duration::from_millis(200),
                ..FakeDirectory::default()
            };
            (directory, ids(&names))
        };
        let workspace = slack();
        let in_public = |directory, named: &BTreeSet<String>| {
            confirm(
                directory,
                &workspace,
                "C1",
                ConversationKind::PublicChannel,
                named.clone(),
            )
        };
        // 40 people at 200 ms each: 8 s one after another, 1 s eight at a time.
        let (directory, named) = slow(40);
        let began = tokio::time::Instant::now();
        let owners = in_public(&directory, &named).await;
        assert_eq!(began.elapsed(), Duration::from_millis(1000));
        assert!(named.iter().all(|id| owners.allows(id)));

        // 50 checked (the cap) would take 1.4 s: the deadline answers for those done by
        // 1.2 s, the rest are refused rather than keep the facilitator waiting.
        let (directory, named) = slow(60);
        let began = tokio::time::Instant::now();
        let owners = in_public(&directory, &named).await;
        assert_eq!(began.elapsed(), LOOKUPS_DEADLINE);
        let confirmed = named.iter().filter(|id| owners.allows(id)).count();
        assert_eq!(confirmed, 6 * CONCURRENT_LOOKUPS, "six rounds finished");
        assert_eq!(owners.refused.len(), 60 - confirmed);
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
