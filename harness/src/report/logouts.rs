//! The logout check of a run, from its history: how many logouts the app acknowledged, how many
//! replays of a logged-out cookie were made and how many the app answered with the session, or
//! why the check was not made (an app without a logout route answers 404 or 405). The
//! resurrected-session checker judges the replays; this only tells whether the check ran.

use serde::{Deserialize, Serialize};

use crate::history::{OkValue, OpKind, Operation, Outcome};

/// The logout check of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Logouts {
    /// Logouts the users asked for.
    pub asked: u64,
    /// Those the app acknowledged 2xx.
    pub acknowledged: u64,
    /// Replays of a logged-out cookie made (at once and in the final reads).
    pub replays: u64,
    /// Those the app answered with the user's session.
    pub reopened: u64,
    /// The status an app without a logout route answered (404 or 405): the check was not made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_route: Option<u16>,
}

impl Logouts {
    /// Takes one operation.
    pub fn observe(&mut self, op: &Operation) {
        match (&op.kind, &op.outcome) {
            (OpKind::Logout, outcome) => {
                self.asked += 1;
                if matches!(outcome, Outcome::Ok(OkValue::LoggedOut)) {
                    self.acknowledged += 1;
                }
                if let Some(status) = op.logout_without_route() {
                    self.no_route.get_or_insert(status);
                }
            }
            (OpKind::Replay { .. }, outcome) => {
                self.replays += 1;
                if matches!(outcome, Outcome::Ok(OkValue::Read { user, .. }) if !user.is_empty()) {
                    self.reopened += 1;
                }
            }
            _ => {}
        }
    }

    /// One line for the summary.
    pub fn line(&self) -> String {
        if let Some(status) = self.no_route {
            return format!(
                "not checked: the app answered {status} to its logout route (app.contract.logout)"
            );
        }
        if self.asked == 0 {
            return "not checked: no user logged out (workload.logout_every)".to_owned();
        }
        format!(
            "{} of {} acknowledged; {} replays of a logged-out cookie, {} answered with the session",
            self.acknowledged, self.asked, self.replays, self.reopened
        )
    }
}
