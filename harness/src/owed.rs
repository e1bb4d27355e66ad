//! Cleanups owed by a run cut short that wait on a process or a network round trip: an operator's
//! heal command, a network rule to delete, a paused master to let go. A `Drop` cannot await, and
//! blocking in one holds a tokio worker thread, and every task queued behind it, for as long as
//! the cleanup takes (up to a deployment's `command_timeout`). Each runs on a thread of its own
//! instead, and whoever ends the process waits for them all with [`settle`].
//!
//! It owns those threads and the waiting; what each cleanup does is its caller's.

use std::sync::Mutex;
use std::thread::JoinHandle;

/// The cleanup threads not yet waited for.
static OWED: Mutex<Vec<JoinHandle<()>>> = Mutex::new(Vec::new());

/// Runs `work` on a thread of its own, named after `what`; [`settle`] waits for it.
pub(crate) fn owe(what: &str, work: impl FnOnce() + Send + 'static) {
    let spawned = std::thread::Builder::new()
        .name(format!("owed: {what}"))
        .spawn(work);
    match spawned {
        Ok(thread) => OWED
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(thread),
        Err(e) => tracing::error!(
            "could not start a thread for {what} ({e}); run `failover-drill clean` after this run"
        ),
    }
}

/// Waits until every owed cleanup has run, those owed while waiting included; how many ran.
pub fn settle() -> usize {
    let mut settled = 0;
    loop {
        let owed = std::mem::take(
            &mut *OWED
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        if owed.is_empty() {
            return settled;
        }
        for thread in owed {
            // A cleanup that panicked has said so on stderr; the others still run.
            let _ = thread.join();
            settled += 1;
        }
    }
}

/// [`settle`] from async code, on a blocking thread.
pub async fn settled() -> usize {
    tokio::task::spawn_blocking(settle).await.unwrap_or(0)
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
        assert!(settle() >= 3);
        assert_eq!(
            opened.load(Ordering::SeqCst),
            3,
            "every cleanup ran, none on the caller"
        );
    }
}
