//! Reconnect backoff and retry budget, exactly as the reference's `rateLimit.ts`
//! (reference §9.4): the first attempt waits 0 ms; later ones wait
//! `min(base × 2^(consumed−1), max) + floor(random × jitter)`; at most `capacity`
//! attempts; after a successful handshake one attempt is restored per interval, but the
//! count never drops from 1 to 0.

use std::time::Duration;

use tokio::time::Instant;

use crate::options::BackoffOptions;

/// The retry budget of one client.
#[derive(Debug)]
pub(crate) struct RetryBudget {
    opts: BackoffOptions,
    consumed: u32,
    restore_at: Option<Instant>,
}

impl RetryBudget {
    pub(crate) fn new(opts: BackoffOptions) -> Self {
        RetryBudget {
            opts,
            consumed: 0,
            restore_at: None,
        }
    }

    /// How many attempts are consumed.
    #[cfg(test)]
    pub(crate) fn consumed(&self) -> u32 {
        self.consumed
    }

    /// Whether another attempt is allowed.
    pub(crate) fn has_budget(&self) -> bool {
        self.consumed < self.opts.attempt_budget_capacity
    }

    /// The wait before the next attempt; `jitter01` is a random number in `[0, 1)`.
    pub(crate) fn backoff(&self, jitter01: f64) -> Duration {
        backoff_delay(&self.opts, self.consumed, jitter01)
    }

    /// Consumes one attempt; stops any budget restoration.
    pub(crate) fn consume(&mut self) {
        self.consumed = self.consumed.saturating_add(1);
        self.restore_at = None;
    }

    /// Starts restoring the budget (after a successful handshake).
    pub(crate) fn start_restore(&mut self, now: Instant) {
        self.restore_at = Some(now + self.opts.budget_restore_interval);
    }

    /// When the next restoration tick is due, if restoring.
    pub(crate) fn restore_at(&self) -> Option<Instant> {
        self.restore_at
    }

    /// One restoration tick: gives back one attempt, never going from 1 to 0.
    pub(crate) fn restore_tick(&mut self, now: Instant) {
        if self.consumed > 1 {
            self.consumed -= 1;
        }
        self.restore_at = if self.consumed > 1 {
            Some(now + self.opts.budget_restore_interval)
        } else {
            None
        };
    }
}

/// `rateLimit.ts:59-72`: 0 when nothing is consumed, else
/// `min(base × 2^(consumed−1), max) + floor(jitter01 × max_jitter)` (whole milliseconds).
pub(crate) fn backoff_delay(opts: &BackoffOptions, consumed: u32, jitter01: f64) -> Duration {
    if consumed == 0 {
        return Duration::ZERO;
    }
    let base = opts.base_interval.as_millis() as f64;
    let exp = 2f64.powi(consumed.saturating_sub(1).min(1000) as i32);
    let max = opts.max_backoff.as_millis() as f64;
    let jitter = (jitter01.clamp(0.0, 1.0) * opts.max_jitter.as_millis() as f64).floor();
    Duration::from_millis(((base * exp).min(max) + jitter) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_sequence_matches_the_reference() {
        let o = BackoffOptions::default();
        assert_eq!(backoff_delay(&o, 0, 0.99), Duration::ZERO);
        assert_eq!(backoff_delay(&o, 1, 0.0), Duration::from_millis(150));
        assert_eq!(backoff_delay(&o, 2, 0.0), Duration::from_millis(300));
        assert_eq!(backoff_delay(&o, 3, 0.0), Duration::from_millis(600));
        assert_eq!(backoff_delay(&o, 4, 0.0), Duration::from_millis(1200));
        assert_eq!(backoff_delay(&o, 4, 0.5), Duration::from_millis(1300));
        assert_eq!(backoff_delay(&o, 1, 0.9999), Duration::from_millis(349));
        assert_eq!(backoff_delay(&o, 9, 0.0), Duration::from_millis(32000));
        assert_eq!(backoff_delay(&o, 40, 0.0), Duration::from_millis(32000));
        assert_eq!(
            backoff_delay(&o, u32::MAX, 0.0),
            Duration::from_millis(32000)
        );
    }

    #[test]
    fn budget_is_five_attempts_and_restores_down_to_one() {
        let mut b = RetryBudget::new(BackoffOptions::default());
        let now = Instant::now();
        let mut n = 0;
        while b.has_budget() {
            b.consume();
            n += 1;
        }
        assert_eq!(n, 5);
        b.start_restore(now);
        let interval = Duration::from_millis(200);
        assert_eq!(b.restore_at(), Some(now + interval));
        for i in 1..=3 {
            b.restore_tick(now + interval * i);
        }
        assert_eq!(b.consumed(), 2);
        b.restore_tick(now);
        assert_eq!(b.consumed(), 1);
        assert_eq!(b.restore_at(), None, "restoring stops at 1");
        b.restore_tick(now);
        assert_eq!(b.consumed(), 1, "never from 1 to 0");
        // A new attempt after a success therefore waits 150 ms + jitter.
        assert_eq!(b.backoff(0.0), Duration::from_millis(150));
        b.start_restore(now);
        b.consume();
        assert_eq!(b.restore_at(), None, "consuming stops the restore timer");
    }
}
