//! Per-provider rate limiting: a token bucket, and a lock around it for the threads that share
//! one validator.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// A token bucket: `capacity` tokens, refilled at `per_second`. Time is passed in so the
/// arithmetic is testable without sleeping.
#[derive(Debug, Clone)]
pub(super) struct TokenBucket {
    per_second: f64,
    capacity: f64,
    tokens: f64,
    last: Option<Instant>,
}

impl TokenBucket {
    pub(super) fn new(per_second: u32) -> TokenBucket {
        let per_second = f64::from(per_second.max(1));
        TokenBucket {
            per_second,
            capacity: per_second,
            tokens: per_second,
            last: None,
        }
    }

    /// Takes one token at `now`, or says how long until one is available.
    fn take(&mut self, now: Instant) -> Result<(), Duration> {
        if let Some(last) = self.last {
            let elapsed = now.saturating_duration_since(last).as_secs_f64();
            self.tokens = (self.tokens + elapsed * self.per_second).min(self.capacity);
        }
        self.last = Some(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - self.tokens) / self.per_second,
            ))
        }
    }
}

/// A [`TokenBucket`] shared by the threads using one validator.
#[derive(Debug)]
pub(super) struct RateLimiter(Mutex<TokenBucket>);

impl RateLimiter {
    pub(super) fn new(per_second: u32) -> RateLimiter {
        RateLimiter(Mutex::new(TokenBucket::new(per_second)))
    }

    /// Blocks until a request may go out.
    pub(super) fn acquire(&self) {
        loop {
            // The lock is released before sleeping so other threads can queue up.
            let wait = self
                .0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(Instant::now());
            match wait {
                Ok(()) => return,
                Err(wait) => std::thread::sleep(wait),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_a_burst_then_spaces_requests() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(2);
        assert_eq!(bucket.take(t0), Ok(()));
        assert_eq!(bucket.take(t0), Ok(()));
        let wait = bucket.take(t0).unwrap_err();
        assert!(
            (wait.as_secs_f64() - 0.5).abs() < 1e-6,
            "waited {wait:?} for one token at 2/s"
        );
        // Not yet refilled a quarter second later, refilled half a second later.
        assert!(bucket.take(t0 + Duration::from_millis(250)).is_err());
        assert_eq!(bucket.take(t0 + Duration::from_millis(500)), Ok(()));
        assert!(bucket.take(t0 + Duration::from_millis(500)).is_err());
    }

    #[test]
    fn bucket_never_holds_more_than_its_capacity() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(3);
        let later = t0 + Duration::from_secs(3600);
        for _ in 0..3 {
            assert_eq!(bucket.take(later), Ok(()));
        }
        assert!(bucket.take(later).is_err());
    }

    #[test]
    fn zero_rate_is_one_per_second_not_a_division_by_zero() {
        let mut bucket = TokenBucket::new(0);
        let t0 = Instant::now();
        assert_eq!(bucket.take(t0), Ok(()));
        assert_eq!(bucket.take(t0), Err(Duration::from_secs(1)));
    }
}
