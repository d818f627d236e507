//! Retry delays: exponential backoff with jitter, and the platform's own `Retry-After`.

use std::time::Duration;

/// Delay before attempt `attempts + 1`: `initial × 2^(attempts-1)`, capped at `max`,
/// then jittered down by up to half so that many retries do not arrive together.
pub fn backoff(attempts: i64, initial: Duration, max: Duration) -> Duration {
    let exponent = attempts.clamp(1, 32) as u32 - 1;
    let full = initial
        .checked_mul(2u32.saturating_pow(exponent))
        .unwrap_or(max)
        .min(max);
    full.mul_f64(0.5 + fastrand::f64() * 0.5)
}

/// The longest `Retry-After` obeyed: a platform (or anything posing as one) asking for
/// days must not park a workspace's messages that long.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// What the platform asked for (at most [`MAX_RETRY_AFTER`]), plus up to half a second
/// of jitter.
pub fn after_retry_after(retry_after: Duration) -> Duration {
    retry_after.min(MAX_RETRY_AFTER) + Duration::from_millis(fastrand::u64(0..500))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_with_jitter_and_stays_under_the_cap() {
        let initial = Duration::from_secs(1);
        let max = Duration::from_secs(300);
        for _ in 0..100 {
            let first = backoff(1, initial, max);
            assert!(
                first >= Duration::from_millis(500) && first <= initial,
                "{first:?}"
            );
            let third = backoff(3, initial, max);
            assert!(
                third >= Duration::from_secs(2) && third <= Duration::from_secs(4),
                "{third:?}"
            );
            let late = backoff(40, initial, max);
            assert!(late >= Duration::from_secs(150) && late <= max, "{late:?}");
        }
    }

    #[test]
    fn retry_after_is_honoured_with_a_little_jitter() {
        for _ in 0..100 {
            let wait = after_retry_after(Duration::from_secs(7));
            assert!(wait >= Duration::from_secs(7) && wait < Duration::from_millis(7500));
        }
    }

    #[test]
    fn retry_after_is_capped_at_an_hour() {
        let wait = after_retry_after(Duration::from_secs(30 * 86_400));
        assert!(wait >= MAX_RETRY_AFTER && wait < MAX_RETRY_AFTER + Duration::from_secs(1));
    }
}
