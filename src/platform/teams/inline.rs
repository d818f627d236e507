//! The neutral model's light markup (Slack-flavoured: `*bold*`, `_italic_`,
//! `` `code` ``, `~strike~`, `<@U1>`, `:tada:`, a leading `>` quote) as Adaptive Card
//! text runs. Text a person typed (inside the marks of [`crate::platform::plain`]) is
//! never read as markup: it becomes runs of literal text, so no `**`, `[a](b)`, `<at>`
//! or URL a person typed turns into formatting, a link or a mention. Runs are the only
//! Adaptive Card text that no client reads as markdown.
//! <https://adaptivecards.io/explorer/TextRun.html>

use serde_json::{Value, json};

use crate::platform::{typed_parts, unescape_typed};

/// The emoji the app's messages use, by their Slack short names.
const EMOJI: &[(&str, &str)] = &[
    (":warning:", "⚠️"),
    (":white_check_mark:", "✅"),
    (":busts_in_silhouette:", "👥"),
    (":wave:", "👋"),
    (":tada:", "🎉"),
    (":calendar:", "📅"),
    (":page_facing_up:", "📄"),
    (":raised_hands:", "🙌"),
    (":raised_hand:", "✋"),
    (":handshake:", "🤝"),
    (":bar_chart:", "📊"),
    (":lock:", "🔒"),
    (":hourglass_flowing_sand:", "⏳"),
    (":fallen_leaf:", "🍂"),
    (":dart:", "🎯"),
    (":wastebasket:", "🗑️"),
    (":bulb:", "💡"),
    (":sunrise:", "🌅"),
    (":speech_balloon:", "💬"),
    (":seedling:", "🌱"),
    (":repeat:", "🔁"),
    (":palm_tree:", "🌴"),
    (":ok_hand:", "👌"),
    (":mag:", "🔍"),
    (":loudspeaker:", "📢"),
    (":chart_with_upwards_trend:", "📈"),
    (":earth_africa:", "🌍"),
    (":memo:", "📝"),
    (":alarm_clock:", "⏰"),
    (":clap:", "👏"),
    (":mega:", "📣"),
    (":book:", "📖"),
];

/// How a run looks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Style {
    pub bold: bool,
    pub italic: bool,
    pub code: bool,
    pub strike: bool,
    /// Small print (a message's context lines).
    pub small: bool,
}

/// A piece of text in one style.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    pub text: String,
    pub style: Style,
}

impl Run {
    /// The run as an Adaptive Card `TextRun`.
    pub fn to_json(&self) -> Value {
        let mut run = json!({"type": "TextRun", "text": self.text});
        let style = self.style;
        if style.bold {
            run["weight"] = json!("Bolder");
        }
        if style.italic {
            run["italic"] = json!(true);
        }
        if style.code {
            run["fontType"] = json!("Monospace");
        }
        if style.strike {
            run["strikethrough"] = json!(true);
        }
        if style.small {
            run["size"] = json!("Small");
            run["isSubtle"] = json!(true);
        }
        run
    }
}

/// Builds runs, merging neighbours of one style.
#[derive(Default)]
struct Runs {
    runs: Vec<Run>,
    text: String,
    style: Style,
}

impl Runs {
    /// Adds a character in `style`.
    fn push(&mut self, c: char, style: Style) {
        if style != self.style {
            self.flush();
            self.style = style;
        }
        self.text.push(c);
    }

    fn push_str(&mut self, text: &str, style: Style) {
        for c in text.chars() {
            self.push(c, style);
        }
    }

    fn flush(&mut self) {
        if self.text.is_empty() {
            return;
        }
        // The escapes of `plain` undone: a card shows no HTML.
        let text = unescape_typed(&std::mem::take(&mut self.text));
        match self.runs.last_mut() {
            Some(last) if last.style == self.style => last.text.push_str(&text),
            _ => self.runs.push(Run {
                text,
                style: self.style,
            }),
        }
    }

    fn finish(mut self) -> Vec<Run> {
        self.flush();
        self.runs
    }
}

/// Whether a style marker at `at` opens (`opening`) or closes there: Slack's rule,
/// roughly — a marker touches a word on one side and a boundary on the other.
fn toggles(line: &[(char, bool)], at: usize, opening: bool) -> bool {
    let before = at.checked_sub(1).map(|i| line[i].0);
    let after = line.get(at + 1).map(|(c, _)| *c);
    let boundary =
        |c: Option<char>| c.is_none_or(|c| c.is_whitespace() || c.is_ascii_punctuation());
    if opening {
        boundary(before) && after.is_some_and(|c| !c.is_whitespace())
    } else {
        before.is_some_and(|c| !c.is_whitespace()) && boundary(after)
    }
}

/// One of the `<…>` forms the app writes: a person's mention or a channel.
fn angle(inner: &str, name_of: &dyn Fn(&str) -> Option<String>) -> String {
    if let Some(id) = inner.strip_prefix('@') {
        return name_of(id).unwrap_or_else(|| "someone".to_owned());
    }
    if inner.starts_with('#') {
        return "the channel".to_owned();
    }
    // A special mention or link: learnloop never writes one, so it is dropped.
    String::new()
}

/// The runs of one line, each character with whether a person typed it.
fn line_runs(
    line: &[(char, bool)],
    base: Style,
    name_of: &dyn Fn(&str) -> Option<String>,
) -> Vec<Run> {
    let mut runs = Runs::default();
    let mut style = base;
    let mut i = 0;
    // A raw `>` can only be the app's (typed ones arrive escaped): a quote.
    if let Some(('>', _)) = line.first() {
        style.italic = true;
        i = 1;
    }
    while i < line.len() {
        let (c, typed) = line[i];
        if typed {
            runs.push(c, style);
            i += 1;
            continue;
        }
        if c == '`' {
            style.code = !style.code;
            i += 1;
            continue;
        }
        if !style.code {
            let flag = match c {
                '*' => Some(&mut style.bold),
                '_' => Some(&mut style.italic),
                '~' => Some(&mut style.strike),
                _ => None,
            };
            if let Some(flag) = flag {
                let opening = !*flag;
                if toggles(line, i, opening) {
                    *flag = opening;
                    i += 1;
                    continue;
                }
            }
            if c == '<'
                && let Some(end) = line[i..]
                    .iter()
                    .take_while(|(_, typed)| !typed)
                    .position(|(c, _)| *c == '>')
            {
                let inner: String = line[i + 1..i + end].iter().map(|(c, _)| c).collect();
                runs.push_str(&angle(&inner, name_of), style);
                i += end + 1;
                continue;
            }
            if c == ':' {
                let ahead: String = line[i..]
                    .iter()
                    .take_while(|(_, typed)| !typed)
                    .take(40)
                    .map(|(c, _)| c)
                    .collect();
                if let Some((code, emoji)) = EMOJI.iter().find(|(code, _)| ahead.starts_with(code))
                {
                    runs.push_str(emoji, style);
                    i += code.chars().count();
                    continue;
                }
            }
        }
        runs.push(c, style);
        i += 1;
    }
    runs.finish()
}

/// The runs of each line of `text` (blank lines left out). Styles end with their
/// line, as in Slack; a line that begins with the app's `>` is a quote, set in
/// italics, as cards have no block quotes.
pub fn lines(text: &str, base: Style, name_of: &dyn Fn(&str) -> Option<String>) -> Vec<Vec<Run>> {
    let marked: Vec<(char, bool)> = typed_parts(text)
        .into_iter()
        .flat_map(|(typed, part)| {
            let part = if typed {
                part.to_owned()
            } else {
                as_mentions(part)
            };
            part.chars().map(move |c| (c, typed)).collect::<Vec<_>>()
        })
        .collect();
    marked
        .split(|(c, _)| *c == '\n')
        .map(|line| line_runs(line, base, name_of))
        .filter(|runs| runs.iter().any(|r| !r.text.trim().is_empty()))
        .collect()
}

/// The app's words for its Slack commands, as a Teams user types them: `/learn X` is
/// `@learnloop X` and `/debrief X` is `@learnloop debrief X` (Teams has no slash
/// commands). Only a whole command word is rewritten (`/learned` or a path is not).
fn as_mentions(app_text: &str) -> String {
    const FORMS: &[(&str, &str)] = &[("/learn", "@learnloop"), ("/debrief", "@learnloop debrief")];
    let mut out = String::with_capacity(app_text.len());
    let mut previous: Option<char> = None;
    let mut rest = app_text;
    'scan: while let Some(c) = rest.chars().next() {
        let starts_word = previous.is_none_or(|p| p.is_whitespace() || "`(\"'".contains(p));
        if c == '/' && starts_word {
            for (slash, mention) in FORMS {
                if let Some(after) = rest.strip_prefix(slash)
                    && after
                        .chars()
                        .next()
                        .is_none_or(|n| !(n.is_alphanumeric() || "-_/".contains(n)))
                {
                    out.push_str(mention);
                    previous = slash.chars().last();
                    rest = after;
                    continue 'scan;
                }
            }
        }
        out.push(c);
        previous = Some(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// `text` with the app's emoji codes as emoji, and nothing else read as markup.
pub fn with_emoji(text: &str) -> String {
    let mut out = text.to_owned();
    for (code, emoji) in EMOJI {
        if out.contains(code) {
            out = out.replace(code, emoji);
        }
    }
    out
}

/// `text` as plain words, without markup: a notification's summary.
pub fn plain_words(text: &str, name_of: &dyn Fn(&str) -> Option<String>) -> String {
    lines(text, Style::default(), name_of)
        .iter()
        .map(|runs| runs.iter().map(|r| r.text.as_str()).collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::plain;

    fn names(id: &str) -> Option<String> {
        (id == "29:alice").then(|| "Alice".to_owned())
    }

    fn shown(text: &str) -> Vec<Vec<(String, Style)>> {
        lines(text, Style::default(), &names)
            .into_iter()
            .map(|runs| runs.into_iter().map(|r| (r.text, r.style)).collect())
            .collect()
    }

    const BOLD: Style = Style {
        bold: true,
        italic: false,
        code: false,
        strike: false,
        small: false,
    };

    #[test]
    fn the_apps_markup_becomes_styled_runs() {
        assert_eq!(
            shown(":tada: *Done* by <@29:alice> and <@29:bob> in <#C1> `x*y` <!here>"),
            vec![vec![
                ("🎉 ".to_owned(), Style::default()),
                ("Done".to_owned(), BOLD),
                (
                    " by Alice and someone in the channel ".to_owned(),
                    Style::default()
                ),
                (
                    "x*y".to_owned(),
                    Style {
                        code: true,
                        ..Style::default()
                    }
                ),
                (" ".to_owned(), Style::default()),
            ]]
        );
        assert_eq!(
            shown("a_b_c give_up_after_hours 3 * 4"),
            vec![vec![(
                "a_b_c give_up_after_hours 3 * 4".to_owned(),
                Style::default()
            )]],
            "markers inside words or alone are text"
        );
    }

    #[test]
    fn typed_text_stays_literal_whatever_it_holds() {
        let typed = plain("**[click](https://evil.example)** <at>Bob</at> _x_ & <!channel>");
        let text = format!(
            "*Goal:* {typed}\n>{}",
            plain("quoted *line*").replace('\n', "\n>")
        );
        assert_eq!(
            shown(&text),
            vec![
                vec![
                    ("Goal:".to_owned(), BOLD),
                    (
                        " **[click](https://evil.example)** <at>Bob</at> _x_ & <!channel>"
                            .to_owned(),
                        Style::default()
                    ),
                ],
                vec![(
                    "quoted *line*".to_owned(),
                    Style {
                        italic: true,
                        ..Style::default()
                    }
                )],
            ]
        );
        assert_eq!(
            plain_words(&format!("Follow-up: {}", plain("<!channel> *now*")), &names),
            "Follow-up: <!channel> *now*"
        );
    }

    #[test]
    fn styles_stop_at_the_end_of_a_line() {
        let lines = shown("*open\nnext");
        assert_eq!(lines[1], vec![("next".to_owned(), Style::default())]);
    }

    #[test]
    fn slash_commands_read_as_mentions_and_typed_text_is_left_as_typed() {
        let text = format!(
            "Try `/learn lessons deploy*` or /debrief TITLE (/learn help); {}",
            plain("I typed /learn and /debrief")
        );
        let said: String = lines(&text, Style::default(), &names)
            .concat()
            .iter()
            .map(|r| r.text.as_str())
            .collect();
        assert_eq!(
            said,
            "Try @learnloop lessons deploy* or @learnloop debrief TITLE (@learnloop help); \
             I typed /learn and /debrief"
        );
        assert_eq!(
            as_mentions("/learned a/learn /invite @learnloop"),
            "/learned a/learn /invite @learnloop"
        );
        assert_eq!(as_mentions("`/learn`"), "`@learnloop`");
    }
}
