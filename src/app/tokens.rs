//! Splits command text into words the way people type it in chat: runs of spaces
//! (including the no-break spaces Slack sometimes sends) separate words, and a word
//! that starts with a straight or curly quote runs to the matching closing quote.
//! Apostrophes inside words (`Bob's`) are just letters.

/// One word of a command, with where it sits in the original text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    /// The word without its surrounding quotes.
    pub text: String,
    /// Whether it was quoted, so `"--anonymous"` stays a word and not an option.
    pub quoted: bool,
    /// Byte offset of the token's first character (its opening quote, if quoted).
    pub start: usize,
}

/// A quote was opened and never closed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnclosedQuote(pub char);

/// The closing quote that ends a quote opened with `open`, if `open` is a quote.
fn closing_quotes(open: char) -> Option<&'static [char]> {
    match open {
        '"' => Some(&['"', '”']),
        '“' | '„' => Some(&['”', '"', '“']),
        '\'' => Some(&['\'', '’']),
        '‘' => Some(&['’', '\'']),
        '«' => Some(&['»']),
        _ => None,
    }
}

/// Splits `input` into tokens.
pub fn tokenize(input: &str) -> Result<Vec<Token>, UnclosedQuote> {
    let mut tokens = Vec::new();
    let mut chars = input.char_indices().peekable();
    while let Some(&(start, first)) = chars.peek() {
        if first.is_whitespace() {
            chars.next();
            continue;
        }
        if let Some(closers) = closing_quotes(first) {
            chars.next();
            let mut text = String::new();
            let mut closed = false;
            while let Some((_, c)) = chars.next() {
                // A closing quote ends the token only at a word boundary, so the
                // apostrophe in 'Bob's deploy' does not end it early.
                let at_boundary = chars.peek().is_none_or(|&(_, next)| next.is_whitespace());
                if closers.contains(&c) && at_boundary {
                    closed = true;
                    break;
                }
                text.push(c);
            }
            if !closed {
                return Err(UnclosedQuote(first));
            }
            tokens.push(Token {
                text,
                quoted: true,
                start,
            });
        } else {
            let mut text = String::new();
            while let Some(&(_, c)) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                text.push(c);
                chars.next();
            }
            tokens.push(Token {
                text,
                quoted: false,
                start,
            });
        }
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(input: &str) -> Vec<String> {
        tokenize(input)
            .unwrap()
            .into_iter()
            .map(|t| t.text)
            .collect()
    }

    #[test]
    fn splits_on_any_run_of_whitespace() {
        assert_eq!(
            words("  goal   add\tship\u{a0}it "),
            ["goal", "add", "ship", "it"]
        );
        assert!(tokenize("   ").unwrap().is_empty());
    }

    #[test]
    fn quotes_group_words_and_are_removed() {
        assert_eq!(
            words(r#"debrief "Release 2.3" now"#),
            ["debrief", "Release 2.3", "now"]
        );
        assert_eq!(words("“Smart quotes” too"), ["Smart quotes", "too"]);
        assert_eq!(words("'single quoted' x"), ["single quoted", "x"]);
        assert_eq!(words("'Bob's deploy'"), ["Bob's deploy"]);
        assert_eq!(words(r#""""#), [""]);
    }

    #[test]
    fn apostrophes_inside_words_are_letters() {
        assert_eq!(words("Bob's deploy didn't"), ["Bob's", "deploy", "didn't"]);
        assert_eq!(words("rock'n'roll"), ["rock'n'roll"]);
    }

    #[test]
    fn records_where_each_token_starts() {
        let tokens = tokenize(r#"a  "b c" d"#).unwrap();
        let starts: Vec<usize> = tokens.iter().map(|t| t.start).collect();
        assert_eq!(starts, [0, 3, 9]);
        assert!(tokens[1].quoted && !tokens[2].quoted);
    }

    #[test]
    fn an_unclosed_quote_is_an_error() {
        assert_eq!(tokenize(r#"debrief "Release"#), Err(UnclosedQuote('"')));
        assert_eq!(tokenize("“open"), Err(UnclosedQuote('“')));
    }
}
