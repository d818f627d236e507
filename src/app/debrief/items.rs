//! Turning an answer into lessons or action items: one per line (bullets welcome), with
//! its `#hashtags` and, for actions, the person named with an @mention.

/// A lesson or action item read from an answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub text: String,
    /// Lowercase, without `#`, in order of appearance, no repeats.
    pub tags: Vec<String>,
    /// The first person mentioned (`<@U123>` as Slack sends mentions).
    pub owner: Option<String>,
}

/// Longest item kept; longer lines are cut (the full answer stays in the summary).
pub const MAX_ITEM_CHARS: usize = 1000;

/// One item per non-empty line of `answer`, without list markers.
pub fn items(answer: &str) -> Vec<Item> {
    answer
        .lines()
        .map(strip_marker)
        .filter(|line| !line.is_empty())
        .map(|line| Item {
            text: line.chars().take(MAX_ITEM_CHARS).collect(),
            tags: tags(line),
            owner: first_mention(line),
        })
        .collect()
}

fn strip_marker(line: &str) -> &str {
    let line = line.trim();
    let without_bullet = line
        .strip_prefix(['-', '*', '•', '–'])
        .map(str::trim_start)
        .unwrap_or(line);
    // "1." or "2)" numbering.
    let digits = without_bullet
        .chars()
        .take_while(char::is_ascii_digit)
        .count();
    if digits > 0
        && let Some(rest) = without_bullet[digits..].strip_prefix(['.', ')'])
    {
        return rest.trim_start();
    }
    without_bullet
}

/// `#hashtags` of a line: letters, digits, `-` and `_` after a `#` at a word start.
pub fn tags(line: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for word in line.split_whitespace() {
        let Some(tag) = word.strip_prefix('#') else {
            continue;
        };
        let tag: String = tag
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '-' || *c == '_')
            .collect::<String>()
            .to_lowercase();
        if !tag.is_empty() && !found.contains(&tag) {
            found.push(tag);
        }
    }
    found
}

/// The user id of the first `<@U…>` or `<@U…|name>` mention.
pub fn first_mention(line: &str) -> Option<String> {
    let start = line.find("<@")? + 2;
    let rest = &line[start..];
    let end = rest.find(['>', '|'])?;
    let id = &rest[..end];
    (!id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric())).then(|| id.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_item_per_line_with_tags_and_owner() {
        let found = items(
            "- Add a canary stage #deploy #Deploy\n\n2) <@U2|bob> writes the runbook #ops\n• plain",
        );
        assert_eq!(
            found,
            vec![
                Item {
                    text: "Add a canary stage #deploy #Deploy".into(),
                    tags: vec!["deploy".into()],
                    owner: None,
                },
                Item {
                    text: "<@U2|bob> writes the runbook #ops".into(),
                    tags: vec!["ops".into()],
                    owner: Some("U2".into()),
                },
                Item {
                    text: "plain".into(),
                    tags: vec![],
                    owner: None,
                },
            ]
        );
    }

    #[test]
    fn mentions_must_look_like_ids() {
        assert_eq!(
            first_mention("ask <@U0ALICE> please"),
            Some("U0ALICE".into())
        );
        assert_eq!(first_mention("a <@ weird> one"), None);
        assert_eq!(first_mention("no mention"), None);
        assert_eq!(tags("issue#12 and # and #a-b_c!"), vec!["a-b_c".to_owned()]);
    }
}
