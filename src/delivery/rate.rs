//! A workspace-wide send rate: a token bucket per workspace, on the injected clock.

use std::collections::HashMap;
use std::sync::Mutex;

struct Bucket {
    tokens: f64,
    refilled_at: i64,
    /// Slack answered 429 with Retry-After: nothing is sent before this (ms).
    held_until: i64,
}

/// Token buckets keyed by workspace id.
pub struct WorkspaceRate {
    per_sec: f64,
    buckets: Mutex<HashMap<i64, Bucket>>,
}

impl WorkspaceRate {
    pub fn new(per_sec: u32) -> Self {
        Self {
            per_sec: f64::from(per_sec.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one send for `workspace` at `now` (ms), or says how many ms until one is free.
    pub fn try_take(&self, workspace: i64, now: i64) -> Result<(), i64> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        // A full second's worth of burst: a quiet workspace may send that many at once.
        let capacity = self.per_sec;
        let bucket = buckets.entry(workspace).or_insert(Bucket {
            tokens: capacity,
            refilled_at: now,
            held_until: 0,
        });
        if now < bucket.held_until {
            return Err(bucket.held_until - now);
        }
        let elapsed = (now - bucket.refilled_at).max(0) as f64 / 1000.0;
        bucket.tokens = (bucket.tokens + elapsed * self.per_sec).min(capacity);
        bucket.refilled_at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let missing = 1.0 - bucket.tokens;
            Err(((missing / self.per_sec) * 1000.0).ceil() as i64)
        }
    }

    /// Sends nothing for `workspace` before `until` (ms): Slack's rate limits are per
    /// workspace, so its Retry-After holds every channel, not only the refused message.
    pub fn hold(&self, workspace: i64, until: i64) {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let bucket = buckets.entry(workspace).or_insert(Bucket {
            tokens: self.per_sec,
            refilled_at: until,
            held_until: 0,
        });
        bucket.held_until = bucket.held_until.max(until);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_a_burst_then_the_rate() {
        let rate = WorkspaceRate::new(2);
        assert_eq!(rate.try_take(1, 0), Ok(()));
        assert_eq!(rate.try_take(1, 0), Ok(()));
        assert_eq!(rate.try_take(1, 0), Err(500));
        assert_eq!(
            rate.try_take(2, 0),
            Ok(()),
            "workspaces have their own buckets"
        );
        assert_eq!(rate.try_take(1, 250), Err(250), "half a token has refilled");
        assert_eq!(rate.try_take(1, 500), Ok(()));
        assert!(rate.try_take(1, 500).is_err());
    }

    #[test]
    fn a_hold_stops_the_workspace_until_it_ends() {
        let rate = WorkspaceRate::new(10);
        rate.hold(1, 3000);
        assert_eq!(rate.try_take(1, 1000), Err(2000));
        assert_eq!(rate.try_take(2, 1000), Ok(()), "other workspaces go on");
        assert_eq!(rate.try_take(1, 3000), Ok(()));
    }
}
