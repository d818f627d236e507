//! A workspace-wide send rate: a token bucket per workspace, on the injected clock.
//! The bucket lives in the store (`send_rates`), so every worker of every process
//! spends from the same one; this is the arithmetic, in thousandths of a message.

use crate::domain::Timestamp;
use crate::store::SendRate;

/// Thousandths of a message in one message.
const ONE: i64 = 1000;

/// What a bucket allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grant {
    /// How many of the wanted sends may go now.
    pub granted: usize,
    /// When the rest may be tried, in ms from now (0 when all were granted).
    pub retry_in_ms: i64,
}

/// A full bucket at `now`: a full second's worth of burst, so a quiet workspace may
/// send that many at once.
fn full(per_sec: u32, now: Timestamp) -> SendRate {
    SendRate {
        millitokens: capacity(per_sec),
        refilled_at: now,
        held_until: Timestamp::from_millis(0),
    }
}

fn capacity(per_sec: u32) -> i64 {
    i64::from(per_sec.max(1)) * ONE
}

/// Takes up to `wanted` sends from `before` (`None`: a workspace that never sent) at
/// `now`: the bucket after them, and what was granted.
pub fn take(
    before: Option<SendRate>,
    per_sec: u32,
    wanted: usize,
    now: Timestamp,
) -> (SendRate, Grant) {
    let per_ms = i64::from(per_sec.max(1));
    let mut bucket = before.unwrap_or_else(|| full(per_sec, now));
    if now < bucket.held_until {
        let grant = Grant {
            granted: 0,
            retry_in_ms: bucket.held_until.millis() - now.millis(),
        };
        return (bucket, grant);
    }
    // Thousandths of a message per ms is the rate per second. A clock of another
    // process running behind never refills twice.
    let elapsed = i64::try_from(now.since(bucket.refilled_at).as_millis()).unwrap_or(i64::MAX);
    bucket.millitokens = bucket
        .millitokens
        .saturating_add(elapsed.saturating_mul(per_ms))
        .min(capacity(per_sec));
    bucket.refilled_at = bucket.refilled_at.max(now);
    let available = usize::try_from(bucket.millitokens / ONE).unwrap_or(0);
    let granted = wanted.min(available);
    bucket.millitokens -= granted as i64 * ONE;
    let retry_in_ms = if granted < wanted {
        let missing = ONE - bucket.millitokens;
        (missing + per_ms - 1) / per_ms
    } else {
        0
    };
    (
        bucket,
        Grant {
            granted,
            retry_in_ms,
        },
    )
}

/// `before` holding the whole workspace until `until`: Slack's rate limits are per
/// workspace, so its Retry-After holds every channel, not only the refused message.
pub fn hold(before: Option<SendRate>, per_sec: u32, until: Timestamp) -> SendRate {
    let mut bucket = before.unwrap_or_else(|| full(per_sec, until));
    bucket.held_until = bucket.held_until.max(until);
    bucket
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(millis: i64) -> Timestamp {
        Timestamp::from_millis(millis)
    }

    /// Takes one send at `now` (ms), as a worker would, keeping the bucket in `state`.
    fn one(state: &mut Option<SendRate>, per_sec: u32, now: i64) -> Result<(), i64> {
        let (after, grant) = take(*state, per_sec, 1, ms(now));
        *state = Some(after);
        if grant.granted == 1 {
            Ok(())
        } else {
            Err(grant.retry_in_ms)
        }
    }

    #[test]
    fn allows_a_burst_then_the_rate() {
        let (mut a, mut b) = (None, None);
        assert_eq!(one(&mut a, 2, 0), Ok(()));
        assert_eq!(one(&mut a, 2, 0), Ok(()));
        assert_eq!(one(&mut a, 2, 0), Err(500));
        assert_eq!(
            one(&mut b, 2, 0),
            Ok(()),
            "workspaces have their own buckets"
        );
        assert_eq!(one(&mut a, 2, 250), Err(250), "half a token has refilled");
        assert_eq!(one(&mut a, 2, 500), Ok(()));
        assert!(one(&mut a, 2, 500).is_err());
    }

    #[test]
    fn a_batch_takes_what_the_bucket_holds_and_says_when_the_rest_may_go() {
        let (bucket, grant) = take(None, 5, 8, ms(1_000));
        assert_eq!(
            grant,
            Grant {
                granted: 5,
                retry_in_ms: 200
            }
        );
        let (_, grant) = take(Some(bucket), 5, 3, ms(1_400));
        assert_eq!(grant.granted, 2, "two refilled in 400 ms");
        let (_, grant) = take(Some(bucket), 5, 3, ms(900));
        assert_eq!(grant.granted, 0, "a clock behind refills nothing");
    }

    #[test]
    fn a_hold_stops_the_workspace_until_it_ends() {
        let held = Some(hold(None, 10, ms(3000)));
        let (_, grant) = take(held, 10, 1, ms(1000));
        assert_eq!(
            grant,
            Grant {
                granted: 0,
                retry_in_ms: 2000
            }
        );
        let (_, grant) = take(held, 10, 1, ms(3000));
        assert_eq!(grant.granted, 1);
    }
}
