//! Counted nouns, said the way people say them: "1 lesson", "2 lessons".

/// `n` with its noun: `one` for exactly one, `many` otherwise (0 included: "0 lessons").
pub fn count(n: impl Into<i64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

/// [`count`] of a collection's length.
pub fn count_of<T>(items: &[T], one: &str, many: &str) -> String {
    count(i64::try_from(items.len()).unwrap_or(i64::MAX), one, many)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_singular_and_everything_else_plural() {
        assert_eq!(count(1, "lesson", "lessons"), "1 lesson");
        assert_eq!(count(0, "lesson", "lessons"), "0 lessons");
        assert_eq!(count(2, "person", "people"), "2 people");
        assert_eq!(count_of(&[()], "debrief", "debriefs"), "1 debrief");
    }
}
