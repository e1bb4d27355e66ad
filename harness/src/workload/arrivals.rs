//! When an open model's requests are due: at a constant rate, or at a rate ramping linearly from
//! `rate` to `ramp_to` over the workload's duration. The i-th request is due when the expected
//! number of arrivals so far reaches i, so the schedule never drifts however long it runs.

use std::time::Duration;

/// The due times, as offsets from the workload's start, in order.
#[derive(Debug, Clone)]
pub(super) struct Arrivals {
    /// Requests per second at the start.
    from: f64,
    /// Requests per second at the end.
    to: f64,
    duration_s: f64,
    next: u64,
}

impl Arrivals {
    /// A schedule from `from` to `to` requests per second over `duration`; both rates positive.
    pub(super) fn new(from: f64, to: f64, duration: Duration) -> Self {
        Self {
            from,
            to,
            duration_s: duration.as_secs_f64(),
            next: 0,
        }
    }

    /// When the expected count of arrivals, `from·t + (to − from)·t²/2D`, reaches `i`.
    fn due(&self, i: f64) -> f64 {
        let a = (self.to - self.from) / (2.0 * self.duration_s);
        let b = self.from;
        // The root of a·t² + b·t − i in the form that stays exact as a goes to 0.
        2.0 * i / (b + (b * b + 4.0 * a * i).max(0.0).sqrt())
    }
}

impl Arrivals {
    /// When the next arrival is due, without taking it; `None` once the schedule has run out.
    pub(super) fn peek(&self) -> Option<Duration> {
        let t = self.due(self.next as f64);
        (t.is_finite() && t < self.duration_s).then(|| Duration::from_secs_f64(t))
    }
}

impl Iterator for Arrivals {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let due = self.peek()?;
        self.next += 1;
        Some(due)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_constant_rate_is_evenly_spaced() {
        let due: Vec<Duration> = Arrivals::new(4.0, 4.0, Duration::from_secs(2)).collect();
        assert_eq!(due.len(), 8);
        assert_eq!(due[1], Duration::from_millis(250));
        assert_eq!(due[7], Duration::from_millis(1750));
    }

    #[test]
    fn a_ramp_delivers_the_area_under_it_and_speeds_up() {
        // 100/s to 300/s over 10 s: 2000 requests, gaps shrinking from 10 ms to about 3.3 ms.
        let due: Vec<Duration> = Arrivals::new(100.0, 300.0, Duration::from_secs(10)).collect();
        assert!((1999..=2000).contains(&due.len()), "{}", due.len());
        assert!(due.windows(2).all(|w| w[0] < w[1]));
        let first_gap = (due[1] - due[0]).as_secs_f64();
        let last_gap = (due[due.len() - 1] - due[due.len() - 2]).as_secs_f64();
        assert!((first_gap - 0.010).abs() < 0.000_1, "{first_gap}");
        assert!((last_gap - 1.0 / 300.0).abs() < 0.000_1, "{last_gap}");
    }

    #[test]
    fn a_ramp_down_ends_at_its_last_rate() {
        let due: Vec<Duration> = Arrivals::new(300.0, 100.0, Duration::from_secs(10)).collect();
        assert!((1999..=2000).contains(&due.len()), "{}", due.len());
        let last_gap = (due[due.len() - 1] - due[due.len() - 2]).as_secs_f64();
        assert!((last_gap - 0.010).abs() < 0.000_2, "{last_gap}");
    }
}
