//! Cleanups owed by a run cut short that wait on a process or a network round trip: an operator's
//! heal command, a network rule to delete, a paused master to let go. A `Drop` cannot await, and
//! blocking in one holds a tokio worker thread, and every task queued behind it, for as long as
//! the cleanup takes (up to a deployment's `command_timeout`). Each runs on a thread of its own
//! instead, and whoever ends the process waits for them all with [`settle`].
//!
//! It owns those threads and the waiting; what each cleanup does is its caller's.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// How many owed cleanups have not ended yet. Counted rather than kept as join handles: a caller
/// that took the handles to join them would leave a second caller, running at the same time (two
/// drills of a matrix ending together), finding none and returning while the first still waited.
static PENDING: Mutex<usize> = Mutex::new(0);
/// Notified whenever an owed cleanup ends.
static ENDED: Condvar = Condvar::new();

fn pending() -> MutexGuard<'static, usize> {
    PENDING.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Counts its cleanup as ended when dropped, even by a panic.
struct Ends;

impl Drop for Ends {
    fn drop(&mut self) {
        let mut pending = pending();
        *pending = pending.saturating_sub(1);
        ENDED.notify_all();
    }
}

/// Runs `work` on a thread of its own, named after `what`; [`settle`] waits for it.
pub(crate) fn owe(what: &str, work: impl FnOnce() + Send + 'static) {
    *pending() += 1;
    let ends = Ends;
    let spawned = std::thread::Builder::new()
        .name(format!("owed: {what}"))
        .spawn(move || {
            let _ends = ends;
            work();
        });
    if let Err(e) = spawned {
        // The closure, and with it `ends`, was dropped: the count is already back.
        tracing::error!(
            "could not start a thread for {what} ({e}); run `failover-drill clean` after this run"
        );
    }
}

/// Waits until every owed cleanup has ended, those owed while waiting included, whoever else is
/// waiting too. A cleanup that panicked has said so on stderr, and counts as ended.
pub fn settle() {
    let mut pending = pending();
    while *pending > 0 {
        pending = ENDED.wait(pending).unwrap_or_else(PoisonError::into_inner);
    }
}

/// [`settle`] from async code, on a blocking thread.
pub async fn settled() {
    // A waiter that panicked has nothing to return; the process goes on ending.
    let _ = tokio::task::spawn_blocking(settle).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{mpsc, Arc};
    use std::time::Duration;

    #[test]
    fn owed_work_runs_off_the_calling_thread_and_settle_waits_for_it() {
        let opened = Arc::new(AtomicUsize::new(0));
        let (gate, waits) = mpsc::channel::<()>();
        let waits = Arc::new(Mutex::new(waits));
        for _ in 0..3 {
            let (opened, waits) = (opened.clone(), waits.clone());
            // Each waits for the gate, which opens only after every `owe` returned: run on the
            // calling thread, the first would wait out its timeout and find it shut.
            owe("a cleanup", move || {
                let waits = waits.lock().expect("the gate");
                if waits.recv_timeout(Duration::from_secs(5)).is_ok() {
                    opened.fetch_add(1, Ordering::SeqCst);
                }
            });
        }
        for _ in 0..3 {
            gate.send(()).expect("sent");
        }
        settle();
        assert_eq!(
            opened.load(Ordering::SeqCst),
            3,
            "every cleanup ran, none on the caller"
        );
    }

    /// Two callers at once (two drills ending together) both wait for the cleanup: the one that
    /// came second does not return while the first is still waiting for it.
    #[test]
    fn settle_waits_for_a_cleanup_whoever_else_is_waiting_for_it() {
        let ended = Arc::new(AtomicUsize::new(0));
        let (gate, waits) = mpsc::channel::<()>();
        let counted = ended.clone();
        owe("a slow cleanup", move || {
            let _ = waits.recv_timeout(Duration::from_secs(5));
            counted.fetch_add(1, Ordering::SeqCst);
        });
        let first = std::thread::spawn(settle);
        let second = std::thread::spawn({
            let ended = ended.clone();
            move || {
                settle();
                ended.load(Ordering::SeqCst)
            }
        });
        std::thread::sleep(Duration::from_millis(50));
        gate.send(()).expect("sent");
        assert_eq!(second.join().expect("the second waiter"), 1);
        first.join().expect("the first waiter");
    }

    #[test]
    fn a_cleanup_that_panics_still_counts_as_ended() {
        owe("a panicking cleanup", || panic!("on purpose"));
        settle();
    }
}
