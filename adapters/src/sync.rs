//! Locking that survives a panic of another holder.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks `m`, using the data as it is when another thread panicked while
/// holding the lock. Every caller keeps its state consistent across a panic
/// (the state is replaced whole, a dropped SQLite transaction rolls back, or
/// the panicking test has already failed), so the poison says nothing.
pub fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_poisoned_lock_still_answers_its_data() {
        let m = std::sync::Arc::new(Mutex::new(1));
        let m2 = std::sync::Arc::clone(&m);
        let _ = std::thread::spawn(move || {
            let _g = m2.lock().unwrap();
            panic!("poisons the lock");
        })
        .join();
        assert!(m.is_poisoned());
        *lock(&m) += 1;
        assert_eq!(*lock(&m), 2);
    }
}
