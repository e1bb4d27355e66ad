//! Lost logins: a lost session whose cause shows that its login itself was among the acknowledged
//! writes the cluster discarded (told while its master was cut off in a split brain, by the old
//! of two masters, shortly before a failover it had not replicated to, or before a node that
//! lacked it was promoted) lost what any acknowledged write made then would have lost. It is a [`Class::LostLogin`], bounded as lost
//! writes are unless the scenario says otherwise, and not a session the store dropped. The 401
//! that showed it is counted with it, not again as a user-visible error.
//!
//! It reads the causes [`super::explain`] gave; it must not decide causes itself. A session made
//! before the fault and lost in it keeps its class: its login was long acknowledged and
//! replicated, so no rule here applies to it.

use std::collections::HashSet;

use super::{Cause, CauseKind};
use crate::checker::{Class, Finding};

/// Findings sorted as they stream out of the checkers, in the order of the operations: the lost
/// session of an operation comes before its user-visible error.
#[derive(Debug, Default)]
pub struct LostLogins {
    /// The operations whose 401 showed a lost login.
    answers: HashSet<u64>,
    /// User-visible errors counted with their lost login instead.
    absorbed: u64,
}

/// Whether a cause of this kind says that what the user was told was among the acknowledged
/// writes the cluster discarded, because of when it was told. A master that restarted empty
/// loses every session, whenever it was made, and is not one of them.
pub fn discarded_when_told(kind: CauseKind) -> bool {
    matches!(
        kind,
        CauseKind::SplitBrain
            | CauseKind::TwoMasters
            | CauseKind::Unreplicated
            | CauseKind::StalePromotion
    )
}

impl LostLogins {
    /// The finding as it is to be counted: a lost session whose login was lost becomes a lost
    /// login; the user-visible error of that login's 401 is `None`, counted with it already.
    pub fn sort(&mut self, mut finding: Finding, cause: &Cause) -> Option<Finding> {
        match finding.class {
            Class::LostSession if discarded_when_told(cause.kind) => {
                finding.class = Class::LostLogin;
                finding.message = finding.message.replacen(
                    "session lost",
                    "login lost with the writes the cluster discarded",
                    1,
                );
                // The last operation of a lost session's witness is the answer that showed it.
                if let Some(answer) = finding.witness.last() {
                    self.answers.insert(answer.id);
                }
                Some(finding)
            }
            Class::UserVisibleError
                if finding.answered.status == Some(401)
                    && finding
                        .witness
                        .first()
                        .is_some_and(|op| self.answers.contains(&op.id)) =>
            {
                self.absorbed += 1;
                None
            }
            _ => Some(finding),
        }
    }

    /// How many user-visible errors were counted with a lost login instead.
    pub fn absorbed(&self) -> u64 {
        self.absorbed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checker::{Moment, WitnessOp};

    fn op(id: u64, answer: &str) -> WitnessOp {
        WitnessOp {
            id,
            request: "read".into(),
            intended_at: 0,
            ended_at: 0,
            attempts: 1,
            answer: answer.into(),
            note: None,
        }
    }

    fn found(class: Class, witness: Vec<WitnessOp>, status: u16) -> Finding {
        Finding {
            class,
            at: 10,
            user: Some(1),
            message: "session lost: operation 7 answered 401".into(),
            witness,
            relied: None,
            answered: Moment {
                status: Some(status),
                ..Moment::default()
            },
            values: 0,
        }
    }

    fn because(kind: CauseKind) -> Cause {
        Cause {
            kind,
            summary: String::new(),
            detail: String::new(),
        }
    }

    #[test]
    fn a_session_lost_with_its_logins_master_is_a_lost_login_and_its_401_is_counted_once() {
        let mut sorted = LostLogins::default();
        let lost = found(
            Class::LostSession,
            vec![op(3, "200"), op(7, "HTTP 401")],
            401,
        );
        let login = sorted
            .sort(lost, &because(CauseKind::SplitBrain))
            .expect("kept");
        assert_eq!(login.class, Class::LostLogin);
        assert!(login.message.starts_with("login lost"), "{}", login.message);
        let error = found(Class::UserVisibleError, vec![op(7, "HTTP 401")], 401);
        assert_eq!(sorted.sort(error, &because(CauseKind::SessionGone)), None);
        // Another operation's 401 is an error of its own.
        let other = found(Class::UserVisibleError, vec![op(8, "HTTP 401")], 401);
        assert!(sorted
            .sort(other, &because(CauseKind::SessionGone))
            .is_some());
        assert_eq!(sorted.absorbed(), 1);
    }

    #[test]
    fn a_session_the_store_dropped_stays_a_lost_session_with_its_error() {
        let mut sorted = LostLogins::default();
        for kind in [
            CauseKind::RestartedEmpty,
            CauseKind::OldMaster,
            CauseKind::ErrorAsLogout,
            CauseKind::LostByApp,
            CauseKind::Unknown,
        ] {
            let lost = found(Class::LostSession, vec![op(7, "HTTP 401")], 401);
            let kept = sorted.sort(lost, &because(kind)).expect("kept");
            assert_eq!(kept.class, Class::LostSession, "{kind:?}");
            let error = found(Class::UserVisibleError, vec![op(7, "HTTP 401")], 401);
            assert!(sorted
                .sort(error, &because(CauseKind::SessionGone))
                .is_some());
        }
        assert_eq!(sorted.absorbed(), 0);
    }
}
