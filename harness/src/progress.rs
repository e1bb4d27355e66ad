//! What a running drill tells the person watching it, on stderr: a timestamped line for each step,
//! and while the workload runs, a progress bar with the operations done when stderr is a terminal,
//! or a line every 5 s when it is not (so CI logs stay readable).

use std::io::{IsTerminal, Write as _};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// How often a log without a terminal says how far the workload is.
const LOG_EVERY: Duration = Duration::from_secs(5);

/// The progress of one run.
#[derive(Debug)]
pub struct Progress {
    began: Instant,
    enabled: bool,
    bar: Mutex<Option<ProgressBar>>,
    last_logged: Mutex<Option<Instant>>,
}

impl Progress {
    /// Progress for a run starting now; `enabled = false` prints nothing.
    pub fn new(enabled: bool) -> Self {
        Self {
            began: Instant::now(),
            enabled,
            bar: Mutex::new(None),
            last_logged: Mutex::new(None),
        }
    }

    /// Something the person must know even with progress off, like a changed choice.
    pub fn notice(&self, msg: &str) {
        self.print(msg);
    }

    /// One step of the run, timestamped from its start.
    pub fn line(&self, msg: &str) {
        if self.enabled {
            self.print(msg);
        }
    }

    fn print(&self, msg: &str) {
        let line = format!("[{:6.1}s] {msg}", self.began.elapsed().as_secs_f64());
        match self.bar.lock().ok().as_deref().and_then(Option::as_ref) {
            Some(bar) => bar.println(line),
            // A closed stderr must not end the run: it still has to tear down what it started.
            None => {
                let _ = writeln!(std::io::stderr().lock(), "{line}");
            }
        }
    }

    /// The workload starts and will last `duration`.
    pub fn start_workload(&self, duration: Duration) {
        if !(self.enabled && std::io::stderr().is_terminal()) {
            return;
        }
        let bar = ProgressBar::new(duration.as_secs().max(1));
        if let Ok(style) =
            ProgressStyle::with_template("{spinner} workload [{bar:40}] {pos}/{len} s  {msg}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        if let Ok(mut slot) = self.bar.lock() {
            *slot = Some(bar);
        }
    }

    /// The workload has run for `elapsed` of `duration` and done `operations`.
    pub fn workload_tick(&self, elapsed: Duration, duration: Duration, operations: u64) {
        if !self.enabled {
            return;
        }
        let elapsed = elapsed.min(duration);
        if let Some(bar) = self.bar.lock().ok().as_deref().and_then(Option::as_ref) {
            bar.set_position(elapsed.as_secs());
            bar.set_message(format!("{operations} operations"));
            return;
        }
        let due = self.last_logged.lock().ok().is_some_and(|mut last| {
            let due = last.is_none_or(|at| at.elapsed() >= LOG_EVERY);
            if due {
                *last = Some(Instant::now());
            }
            due
        });
        if due && !elapsed.is_zero() {
            self.line(&format!(
                "workload {:.0}s of {}s: {operations} operations",
                elapsed.as_secs_f64(),
                duration.as_secs()
            ));
        }
    }

    /// The workload is over; the bar goes away.
    pub fn finish_workload(&self) {
        if let Some(bar) = self.bar.lock().ok().and_then(|mut slot| slot.take()) {
            bar.finish_and_clear();
        }
    }
}
