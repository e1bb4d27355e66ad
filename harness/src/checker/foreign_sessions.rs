//! Foreign sessions: a read must show the reader's own session. One that names another user, or
//! holds a value another user appended (values are `<user name>-<n>`), leaked a session.

use super::{check_with, owner, CheckResult, Checker, Class, Finding, Moment, WitnessOp};
use crate::history::{user_name, History, OkValue, Operation, Outcome};

/// Finds reads that showed another user's session or values; each such read counts once.
pub fn check(history: &History) -> CheckResult {
    check_with(Class::ForeignSession, ForeignSessions, history)
}

/// [`check`] one operation at a time; it keeps no state.
#[derive(Debug, Default)]
pub struct ForeignSessions;

impl Checker for ForeignSessions {
    fn observe(&mut self, op: &Operation, found: &mut dyn FnMut(Finding)) {
        let Outcome::Ok(OkValue::Read { user, items, .. }) = &op.outcome else {
            return;
        };
        let own = user_name(op.user);
        // An empty user is a session handed back empty: a lost session, not someone else's.
        let what = if !user.is_empty() && *user != own {
            Some(format!(
                "read {} returned the session of '{user}', not '{own}'",
                op.id
            ))
        } else {
            items
                .iter()
                .find(|v| owner(v).is_some_and(|o| o != own))
                .map(|v| {
                    format!(
                        "read {} of '{own}' holds '{v}', another user's value",
                        op.id
                    )
                })
        };
        if let Some(message) = what {
            found(Finding {
                class: Class::ForeignSession,
                at: op.ended_at,
                user: Some(op.user),
                witness: vec![WitnessOp::of(op, Some(message.clone()))],
                message,
                relied: None,
                answered: Moment::answer_of(op),
                values: 1,
            });
        }
    }

    fn finish(&mut self, _found: &mut dyn FnMut(Finding)) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checker::fixtures::{history_of, UserScript};

    #[test]
    fn another_users_session_or_value_is_reported_once_per_read() {
        let mut u = UserScript::new(1);
        u.login()
            .read_as("user-2", &[], 0)
            .read(&["user-1-1", "user-3-1"], 2)
            .read(&["user-1-1"], 1);
        let result = check(&history_of(&[&u]));
        assert_eq!(result.count, 2);
        assert!(result.findings[0].message.contains("user-2"));
        assert!(result.findings[1].message.contains("user-3-1"));
    }

    #[test]
    fn owners_are_read_from_values() {
        assert_eq!(owner("user-12-7"), Some("user-12"));
        assert_eq!(owner("plain"), None);
    }
}
