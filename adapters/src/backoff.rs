//! The wait before retrying a call that failed for a transient reason.

use crate::random::random_fraction;
use std::time::Duration;

/// The wait after `retry` earlier retries (0 for the first): exponential from
/// `base` (`base * 2^retry`, capped at `max`), of which half is fixed and the
/// other half random, so that callers refused together do not all retry
/// together.
pub fn backoff(base: Duration, max: Duration, retry: u32) -> Duration {
    let exp = base.saturating_mul(1u32 << retry.min(20)).min(max);
    let half = exp / 2;
    half + half.mul_f64(random_fraction())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_exponentially_with_jitter_up_to_the_cap() {
        let (base, max) = (Duration::from_millis(10), Duration::from_millis(1280));
        for retry in 0..12 {
            let exp = (base * 2u32.pow(retry)).min(max);
            let d = backoff(base, max, retry);
            assert!(d >= exp / 2 && d <= exp, "retry {retry}: {d:?}");
        }
        assert!(backoff(base, max, u32::MAX) <= max);
    }
}
