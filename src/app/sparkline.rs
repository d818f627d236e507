//! Eight-level bars (▁ to █) for the small trends in digests and check-ins.

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// The bar for `part` out of `whole` (rounded to the nearest level); `whole` > 0.
pub fn bar(part: i64, whole: i64) -> char {
    let level = (part * 7 + whole / 2) / whole.max(1);
    BARS[level.clamp(0, 7) as usize]
}

/// The bar for a 1-to-5 rating.
pub fn rating_bar(rating: u8) -> char {
    bar(i64::from(rating.clamp(1, 5)) - 1, 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_span_the_range() {
        assert_eq!(bar(0, 10), '▁');
        assert_eq!(bar(10, 10), '█');
        assert_eq!(bar(5, 10), '▅');
        let ratings: String = (1..=5).map(rating_bar).collect();
        assert_eq!(ratings, "▁▃▅▆█");
    }
}
