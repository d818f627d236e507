//! `/learn lessons [QUERY]`: the lessons this conversation may see (public conversations'
//! and its own), best matches first, or the latest when no query is given.

use crate::app::AppError;
use chrono_tz::Tz;

use super::handle::CommandContext;
use super::schedules::workspace_zone;
use super::scopes;
use super::search::user_terms;
use super::zones::format_local;
use crate::platform::{Block, Message, plain};
use crate::store::LessonHit;

/// Lessons shown per search.
const SHOWN: u32 = 5;

fn status_label(status: &str) -> &'static str {
    match status {
        "applied" => ":white_check_mark: applied",
        "not_yet" => ":hourglass_flowing_sand: not yet applied",
        "not_relevant" => "not relevant any more",
        "stale" => ":fallen_leaf: stale",
        "unreachable" => "owner unreachable",
        _ => "open",
    }
}

fn listing(title: String, hits: &[LessonHit], zone: Tz) -> Message {
    let mut blocks = vec![Block::Text(title.clone())];
    for hit in hits {
        let date = format_local(hit.created_at, zone, "%-d %b %Y");
        let tags: String = hit
            .tags
            .split_whitespace()
            .map(|t| format!(" #{}", plain(t)))
            .collect();
        blocks.push(Block::Text(format!(
            "• {}{tags}\n_from *{}* in <#{}> · {date} · {}_",
            plain(&hit.text),
            plain(&hit.debrief_title),
            hit.channel,
            status_label(&hit.status)
        )));
    }
    Message {
        fallback: title,
        blocks,
    }
}

/// Searches (or lists the latest of) the lessons this conversation may see.
pub async fn search(ctx: &CommandContext<'_>, query: Option<&str>) -> Result<Message, AppError> {
    let zone = workspace_zone(ctx);
    let workspace = ctx.workspace.id;
    // Who reads the answer: this conversation's lessons, and public ones unless the
    // answer is shown to people of other organisations too.
    let audience = scopes::audience_of_answer(ctx).await?;
    let Some(query) = query else {
        let latest = ctx.store.latest_lessons(workspace, audience, SHOWN).await?;
        if latest.is_empty() {
            return Ok(Message::text(
                "No lessons yet. Close a debrief (`/debrief TITLE`) and its lessons show up here.",
            ));
        }
        return Ok(listing("*The latest lessons*".into(), &latest, zone));
    };
    let shown = plain(query);
    let Some(terms) = user_terms(query) else {
        return Ok(Message::text(format!(
            ":warning: There is nothing to search for in `{shown}`: I search words and numbers. \
             Usage: `/learn lessons [QUERY]`, e.g. `/learn lessons deploy*` or `/learn lessons \"feature flags\"`."
        )));
    };
    let all = ctx
        .store
        .search_lessons(workspace, &terms, audience, SHOWN)
        .await?;
    if !all.is_empty() {
        return Ok(listing(format!("*Lessons matching* `{shown}`"), &all, zone));
    }
    let any = ctx
        .store
        .search_lessons(workspace, &terms.loosened(), audience, SHOWN)
        .await?;
    if any.is_empty() {
        return Ok(Message::text(format!(
            "No lessons I may show here match `{shown}`. Try fewer words, or a prefix such as `deploy*`."
        )));
    }
    Ok(listing(
        format!("*No lesson has every word of* `{shown}`*; the closest:*"),
        &any,
        zone,
    ))
}
