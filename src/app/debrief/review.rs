//! The facilitator's review at close: every candidate lesson and action item (a line of
//! a `lesson` or `action` answer), with near-identical lines merged and counted, and for
//! each a decision: keep (with edited text, and an owner for actions), drop, or kudos.
//! The review goes page by page ([`PAGE_SIZE`] candidates), each page's decisions kept
//! in the database until the last page (or "publish the rest as they are") closes the
//! debrief. A debrief closed without a review (by the scheduler, or when the form could
//! not open) publishes every candidate as it is, merged the same way.

use crate::app::AppError;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::close::{Item, items_of};
use super::items::MAX_ITEM_CHARS;
use super::summary::Reflected;
use super::{Debrief, close};
use crate::app::handle::{CommandContext, Handled};
use crate::app::recurrence::{same_lesson, stems};
use crate::app::words::count;
use crate::platform::{Message, plain};
use crate::store::{LessonKind, StoreError};

/// Candidates per page: three inputs each stays well inside Slack's 100 blocks a modal.
pub const PAGE_SIZE: usize = 20;
/// `callback_id` of the Slack modal and `action` of the Teams card's button.
pub const REVIEW_CALLBACK: &str = "debrief.review";
/// The field that ends the review early, publishing the rest as they are.
pub const PUBLISH_REST: &str = "publish_rest";

/// What becomes of a candidate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    #[default]
    Keep,
    Drop,
    /// A thank-you: listed under kudos, never followed up.
    Kudos,
}

/// The facilitator's decision on one candidate.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub verdict: Verdict,
    /// The text as edited (`None`: as said).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The owner picked for an action (`None`: as named in the answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

/// Decisions by candidate key.
pub type Decisions = HashMap<String, Decision>;

/// Near-identical lines of one kind, merged: the first said is the one shown.
pub(super) struct Group {
    pub key: String,
    pub items: Vec<Item>,
}

impl Group {
    fn first(&self) -> &Item {
        &self.items[0]
    }

    /// The keys of every line in it: a decision made on any of them is the group's,
    /// so it holds when a new near-identical line joins or another becomes the one
    /// shown (an author may still edit their reflection during the review).
    fn member_keys(&self) -> impl Iterator<Item = String> + '_ {
        self.items.iter().map(key_of)
    }

    /// The decision made on it, if any.
    fn decision<'d>(&self, decisions: &'d Decisions) -> Option<&'d Decision> {
        decisions
            .get(&self.key)
            .or_else(|| self.member_keys().find_map(|key| decisions.get(&key)))
    }
}

/// A stable key for a candidate: its kind and its first line, lowercased.
fn key_of(item: &Item) -> String {
    let digest = Sha256::new()
        .chain_update(item.kind.as_str())
        .chain_update(":")
        .chain_update(item.text.trim().to_lowercase())
        .finalize();
    hex::encode(&digest[..6])
}

/// [`group`]s of a debrief's lines. In an anonymous debrief nothing may tell who said
/// what first: each group is shown by its alphabetically first line, and the groups
/// come in that order.
pub(super) fn groups_of(debrief: &Debrief, items: Vec<Item>) -> Vec<Group> {
    let mut groups = group(items);
    if debrief.anonymous {
        for group in &mut groups {
            group
                .items
                .sort_by(|a, b| (&a.text, &a.owner).cmp(&(&b.text, &b.owner)));
            group.key = key_of(group.first());
        }
        groups.sort_by(|a, b| a.first().text.cmp(&b.first().text));
    }
    groups
}

/// Merges lines of the same kind that say the same thing (identical but for case, or
/// sharing most of their words, as recurring lessons are matched), keeping the order in
/// which each was first said.
pub(super) fn group(items: Vec<Item>) -> Vec<Group> {
    let mut groups: Vec<(Group, BTreeSet<String>, String)> = Vec::new();
    for item in items {
        let words = stems(&item.text);
        let lowered = item.text.trim().to_lowercase();
        let same = groups.iter_mut().find(|(group, group_words, group_text)| {
            group.first().kind == item.kind
                && (*group_text == lowered || same_lesson(group_words, &words))
        });
        match same {
            Some((group, _, _)) => group.items.push(item),
            None => {
                let key = key_of(&item);
                groups.push((
                    Group {
                        key,
                        items: vec![item],
                    },
                    words,
                    lowered,
                ));
            }
        }
    }
    groups.into_iter().map(|(group, _, _)| group).collect()
}

/// A candidate as a review page shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub key: String,
    pub kind: LessonKind,
    pub text: String,
    /// How many lines were merged into it.
    pub count: usize,
    /// The owner its line names (or its author), for actions: the picker's first choice.
    pub owner: Option<String>,
    /// What was decided on an earlier visit of this page.
    pub decision: Option<Decision>,
}

impl Candidate {
    /// "Lesson", or "Action (×3)" for three merged lines.
    pub fn label(&self) -> String {
        let kind = match self.kind {
            LessonKind::Lesson => "Lesson",
            LessonKind::Action => "Action",
        };
        if self.count > 1 {
            format!("{kind} (×{})", self.count)
        } else {
            kind.to_owned()
        }
    }

    /// The text as last edited, else as said.
    pub fn shown_text(&self) -> String {
        self.decision
            .as_ref()
            .and_then(|d| d.text.clone())
            .unwrap_or_else(|| self.text.clone())
    }

    /// The verdict as last decided (keep unless said otherwise).
    pub fn verdict(&self) -> Verdict {
        self.decision.as_ref().map_or(Verdict::Keep, |d| d.verdict)
    }

    /// The owner as last picked, else as the answer named (actions).
    pub fn shown_owner(&self) -> Option<&str> {
        self.decision
            .as_ref()
            .and_then(|d| d.owner.as_deref())
            .or(self.owner.as_deref())
    }
}

impl Verdict {
    /// The value a form's choice carries.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Keep => "keep",
            Self::Drop => "drop",
            Self::Kudos => "kudos",
        }
    }
}

/// The choices a candidate offers: value and label.
pub const VERDICTS: [(Verdict, &str); 3] = [
    (Verdict::Keep, "Keep"),
    (Verdict::Drop, "Drop"),
    (Verdict::Kudos, "It's kudos, not a lesson"),
];

/// One page of the review.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReviewPage {
    pub debrief: i64,
    pub title: String,
    pub anonymous: bool,
    /// 0-based.
    pub page: usize,
    pub pages: usize,
    pub total: usize,
    pub reflected: usize,
    pub candidates: Vec<Candidate>,
    /// Candidates that came in while the facilitator reviewed the earlier pages.
    pub late: bool,
}

impl ReviewPage {
    pub fn is_last(&self) -> bool {
        self.page + 1 >= self.pages
    }

    /// What the page is about and how to use it, above the candidates (no markup: the
    /// title is the platform's to mark).
    pub fn intro(&self) -> String {
        if self.late {
            return format!(
                "{} came in while you reviewed. Keep, drop or mark them as kudos too.",
                count(
                    self.candidates.len() as i64,
                    "more candidate",
                    "more candidates"
                )
            );
        }
        format!(
            "{} from {}{}. Keep what the team should act on, drop the rest, and mark \
             thanks as kudos. Near-identical lines are merged (×N). Page {} of {}.",
            count(self.total as i64, "candidate", "candidates"),
            count(self.reflected as i64, "reflection", "reflections"),
            if self.anonymous { " (anonymous)" } else { "" },
            self.page + 1,
            self.pages
        )
    }

    /// The label of the submit button: the next page, or the close.
    pub fn submit_label(&self) -> String {
        if self.is_last() {
            "Close and publish".to_owned()
        } else {
            format!("Next {PAGE_SIZE}")
        }
    }
}

/// The debrief's candidates, merged, as the review shows them (owners as named, not
/// yet confirmed: they are checked when the debrief closes).
fn candidates(debrief: &Debrief, reflections: &[Reflected]) -> Vec<Group> {
    let mut cut = 0;
    groups_of(debrief, items_of(debrief, reflections, &|_| true, &mut cut))
}

/// What a review stands on: the debrief's candidates as they are now, the number of
/// reflections, and the decisions saved so far.
async fn review_state(
    ctx: &CommandContext<'_>,
    debrief: &Debrief,
) -> Result<(Vec<Group>, usize, Decisions), AppError> {
    let reflections = close::reflected(ctx.store.reflections(ctx.workspace.id, debrief.id).await?);
    let groups = candidates(debrief, &reflections);
    Ok((
        groups,
        reflections.len(),
        saved_decisions(ctx, debrief).await?,
    ))
}

/// Page `page` of the debrief's review; `None` when there is nothing to review.
pub async fn review_page(
    ctx: &CommandContext<'_>,
    debrief: &Debrief,
    page: usize,
) -> Result<Option<ReviewPage>, AppError> {
    let (groups, reflected, decided) = review_state(ctx, debrief).await?;
    if groups.is_empty() {
        return Ok(None);
    }
    Ok(Some(page_of(debrief, &groups, reflected, page, &decided)))
}

fn page_of(
    debrief: &Debrief,
    groups: &[Group],
    reflected: usize,
    page: usize,
    decided: &Decisions,
) -> ReviewPage {
    let pages = groups.len().div_ceil(PAGE_SIZE).max(1);
    let page = page.min(pages - 1);
    let candidates = groups
        .iter()
        .skip(page * PAGE_SIZE)
        .take(PAGE_SIZE)
        .map(|group| Candidate {
            key: group.key.clone(),
            kind: group.first().kind,
            text: group.first().text.clone(),
            count: group.items.len(),
            owner: group.first().owner.clone(),
            decision: group.decision(decided).cloned(),
        })
        .collect();
    ReviewPage {
        debrief: debrief.id.0,
        title: debrief.title.clone(),
        anonymous: debrief.anonymous,
        page,
        pages,
        total: groups.len(),
        reflected,
        candidates,
        late: false,
    }
}

/// The facilitator's decisions saved so far, by candidate key.
pub(super) async fn saved_decisions(
    ctx: &CommandContext<'_>,
    debrief: &Debrief,
) -> Result<Decisions, AppError> {
    let rows = ctx
        .store
        .review_decisions(ctx.workspace.id, debrief.id)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(key, json)| Some((key, serde_json::from_str(&json).ok()?)))
        .collect())
}

/// The field names of a candidate's inputs.
pub fn text_field(key: &str) -> String {
    format!("r.{key}.text")
}
pub fn verdict_field(key: &str) -> String {
    format!("r.{key}.verdict")
}
pub fn owner_field(key: &str) -> String {
    format!("r.{key}.owner")
}

/// The decisions a submitted page holds, by candidate key (read from its field names).
pub fn read_decisions(values: &BTreeMap<String, String>) -> Decisions {
    let keys: BTreeSet<&str> = values
        .keys()
        .filter_map(|field| field.strip_prefix("r.")?.split('.').next())
        .collect();
    keys.into_iter()
        .map(|key| {
            let verdict = match values.get(&verdict_field(key)).map(String::as_str) {
                Some("drop") => Verdict::Drop,
                Some("kudos") => Verdict::Kudos,
                _ => Verdict::Keep,
            };
            // One line, as long as an item may be (a form's limits are the client's).
            let text = values
                .get(&text_field(key))
                .map(|t| {
                    t.split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ")
                        .chars()
                        .take(MAX_ITEM_CHARS)
                        .collect::<String>()
                })
                .filter(|t| !t.is_empty());
            // An emptied text is a dropped line.
            let verdict = if text.is_none() && values.contains_key(&text_field(key)) {
                Verdict::Drop
            } else {
                verdict
            };
            let owner = values
                .get(&owner_field(key))
                .filter(|o| {
                    !o.is_empty()
                        && o.chars()
                            .all(|c| c.is_ascii_alphanumeric() || ":-_".contains(c))
                })
                .cloned();
            (
                key.to_owned(),
                Decision {
                    verdict,
                    text,
                    owner,
                },
            )
        })
        .collect()
}

/// What submitting a page led to.
pub enum ReviewStep {
    /// The next page to show.
    Next(ReviewPage),
    /// The debrief closed (or could not be: the reply says why).
    Done(Handled),
}

/// A submitted page: its decisions kept, then the next page, or (on the last page, or
/// when the rest is to be published as it is) the debrief closed with every decision.
pub async fn submit_page(
    ctx: &CommandContext<'_>,
    debrief: &Debrief,
    page: usize,
    values: &BTreeMap<String, String>,
) -> Result<ReviewStep, AppError> {
    if debrief.facilitator != ctx.user || !debrief.is_open() {
        // Said by closing, which knows how to say it.
        return Ok(ReviewStep::Done(close::close(ctx, debrief).await?));
    }
    let (groups, reflected, _) = review_state(ctx, debrief).await?;
    // Each decision is kept under every line of its candidate (see `member_keys`).
    let mut decisions: Vec<(String, String)> = Vec::new();
    for (key, mut decision) in read_decisions(values) {
        let group = groups
            .iter()
            .find(|g| g.key == key || g.member_keys().any(|k| k == key));
        // An owner left as the menu showed it is no choice: the line's own stands, and
        // is checked as any named owner is.
        if let Some(group) = group
            && decision.owner.is_some()
            && decision.owner == group.first().owner
        {
            decision.owner = None;
        }
        let json = serde_json::to_string(&decision).unwrap_or_default();
        let keys: BTreeSet<String> = group.map(|g| g.member_keys().collect()).unwrap_or_default();
        decisions.extend(keys.into_iter().chain([key]).map(|k| (k, json.clone())));
    }
    match ctx
        .store
        .save_review_decisions(ctx.workspace.id, debrief.id, &decisions, ctx.clock.now())
        .await
    {
        Ok(()) => {}
        Err(StoreError::NotFound) => {
            return Ok(ReviewStep::Done(
                Message::text(format!(
                    "*{}* closed before your review was saved.",
                    plain(&debrief.title)
                ))
                .into(),
            ));
        }
        Err(other) => return Err(other.into()),
    }
    if values.get(PUBLISH_REST).is_some_and(|v| !v.is_empty()) {
        return Ok(ReviewStep::Done(close::close(ctx, debrief).await?));
    }
    let decided = saved_decisions(ctx, debrief).await?;
    let pages = groups.len().div_ceil(PAGE_SIZE).max(1);
    if page + 1 < pages {
        return Ok(ReviewStep::Next(page_of(
            debrief,
            &groups,
            reflected,
            page + 1,
            &decided,
        )));
    }
    // Candidates that came in (or changed) while the facilitator reviewed, and were
    // never shown: one more page of them, rather than publishing them unseen.
    let unseen: Vec<Group> = groups
        .into_iter()
        .filter(|g| g.decision(&decided).is_none())
        .collect();
    if !unseen.is_empty() {
        let mut late = page_of(debrief, &unseen, reflected, 0, &decided);
        late.late = true;
        late.page = page;
        late.pages = page + 1;
        return Ok(ReviewStep::Next(late));
    }
    Ok(ReviewStep::Done(close::close(ctx, debrief).await?))
}

/// What the kept candidates become once every decision is applied.
pub(super) struct Curated {
    pub kept: Vec<(Item, usize)>,
    pub kudos: Vec<Item>,
    pub dropped: usize,
}

/// Applies the decisions to the merged candidates: a kept one is one item (its text as
/// edited, its owner as picked if `allows` them), counted; a dropped one is nothing; a
/// kudos one is a thank-you.
pub(super) fn curate(
    groups: Vec<Group>,
    decisions: &Decisions,
    allows: &dyn Fn(&str) -> bool,
) -> Curated {
    let mut curated = Curated {
        kept: Vec::new(),
        kudos: Vec::new(),
        dropped: 0,
    };
    for group in groups {
        let decision = group.decision(decisions).cloned().unwrap_or_default();
        let count = group.items.len();
        let mut item = group.items.into_iter().next().expect("a group has an item");
        if let Some(text) = decision.text {
            item.tags = super::items::tags(&text).join(" ");
            item.text = text;
        }
        match decision.verdict {
            Verdict::Drop => curated.dropped += 1,
            Verdict::Kudos => curated.kudos.push(item),
            Verdict::Keep => {
                if let Some(owner) = decision.owner.filter(|o| allows(o)) {
                    item.owner = Some(owner);
                }
                curated.kept.push((item, count));
            }
        }
    }
    curated
}

/// The owners the decisions pick, to be checked with those the answers name.
pub(super) fn picked_owners(decisions: &Decisions) -> impl Iterator<Item = String> + '_ {
    decisions
        .values()
        .filter(|d| d.verdict == Verdict::Keep)
        .filter_map(|d| d.owner.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(kind: LessonKind, text: &str) -> Item {
        Item {
            kind,
            text: text.into(),
            tags: String::new(),
            author: Some("U1".into()),
            owner: Some("U1".into()),
        }
    }

    #[test]
    fn near_identical_lines_of_a_kind_are_merged_and_counted() {
        let groups = group(vec![
            item(LessonKind::Lesson, "Flaky tests slowed the release"),
            item(LessonKind::Lesson, "flaky tests slowed the release"),
            item(
                LessonKind::Lesson,
                "The flaky tests slowed our release down",
            ),
            item(LessonKind::Action, "Flaky tests slowed the release"),
            item(LessonKind::Lesson, "Pizza"),
        ]);
        let counts: Vec<(LessonKind, usize)> = groups
            .iter()
            .map(|g| (g.first().kind, g.items.len()))
            .collect();
        assert_eq!(
            counts,
            [
                (LessonKind::Lesson, 3),
                (LessonKind::Action, 1),
                (LessonKind::Lesson, 1)
            ]
        );
        assert_ne!(groups[0].key, groups[1].key, "kinds never merge");
    }

    #[test]
    fn decisions_keep_edit_drop_and_turn_lines_into_kudos() {
        let groups = group(vec![
            item(LessonKind::Lesson, "Flaky tests"),
            item(LessonKind::Action, "Fix the pipeline"),
            item(LessonKind::Lesson, "Pizza"),
            item(LessonKind::Lesson, "Thanks Ana for pairing"),
        ]);
        let values: BTreeMap<String, String> = [
            (
                text_field(&groups[0].key),
                "Flaky tests cost a day #ci".to_owned(),
            ),
            (owner_field(&groups[1].key), "U2".to_owned()),
            (verdict_field(&groups[2].key), "drop".to_owned()),
            (verdict_field(&groups[3].key), "kudos".to_owned()),
        ]
        .into_iter()
        .collect();
        let decisions = read_decisions(&values);
        let curated = curate(groups, &decisions, &|id| id == "U2");
        let kept: Vec<(&str, &str, Option<&str>)> = curated
            .kept
            .iter()
            .map(|(i, _)| (i.text.as_str(), i.tags.as_str(), i.owner.as_deref()))
            .collect();
        assert_eq!(
            kept,
            [
                ("Flaky tests cost a day #ci", "ci", Some("U1")),
                ("Fix the pipeline", "", Some("U2")),
            ]
        );
        assert_eq!(curated.dropped, 1);
        assert_eq!(curated.kudos[0].text, "Thanks Ana for pairing");
        // An emptied text is a drop; an owner that is not allowed stays as named.
        let values: BTreeMap<String, String> = [("r.abc.text".to_owned(), "  ".to_owned())]
            .into_iter()
            .collect();
        assert_eq!(read_decisions(&values)["abc"].verdict, Verdict::Drop);
    }
}
