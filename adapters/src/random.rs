//! Randomness good enough for jitter, MIME boundaries and message ids (not
//! for secrets): the process's randomly keyed hasher over the clock, the
//! process id and a counter.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

/// 64 unpredictable bits.
pub fn random_u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = RandomState::new().build_hasher();
    h.write_i64(chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default());
    h.write_u32(std::process::id());
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.finish()
}

/// A uniform fraction in `[0, 1]`.
pub fn random_fraction() -> f64 {
    (random_u64() % 1_000_001) as f64 / 1_000_000.0
}

/// 32 hex digits.
pub fn random_hex() -> String {
    format!("{:016x}{:016x}", random_u64(), random_u64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_32_digits_and_differs_each_call() {
        let (a, b) = (random_hex(), random_hex());
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()), "{a}");
        assert_ne!(a, b);
        assert!((0.0..=1.0).contains(&random_fraction()));
    }
}
