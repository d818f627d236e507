//! A workspace-wide send rate: a token bucket per workspace, on the injected clock.

use std::collections::HashMap;
use std::sync::Mutex;

struct Bucket {
    tokens: f64,
    refilled_at: i64,
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
        });
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
}
