//! Session ids kept at login: a login made while the user held session cookies must change the
//! value of at least one of them (the session id is cycled), or whoever knew the id before the
//! login (a planted or stolen cookie) holds the logged-in session: session fixation, which
//! OWASP's session management rules answer by renewing the id at login. Only logins that
//! succeeded while the user held a cookie are checked; the first login of a user, made with no
//! cookie, says nothing. Which cookies count is recorded with the login
//! ([`crate::history::LoginCookies`]).

use super::{check_with, CheckResult, Checker, Class, Finding, Moment, WitnessOp};
use crate::history::{History, Operation};

/// Finds logins that kept the session id; each counts once.
pub fn check(history: &History) -> CheckResult {
    check_with(Class::SessionIdKept, SessionIds, history)
}

/// [`check`] one operation at a time; it keeps no state.
#[derive(Debug, Default)]
pub struct SessionIds;

impl Checker for SessionIds {
    fn observe(&mut self, op: &Operation, found: &mut dyn FnMut(Finding)) {
        let Some(cookies) = op.login_holding_cookies() else {
            return;
        };
        if !cookies.kept_the_id() {
            return;
        }
        let names = cookies
            .kept
            .iter()
            .map(|name| format!("'{name}'"))
            .collect::<Vec<_>>()
            .join(", ");
        let message = format!(
            "login {} left the session cookie{} {names} with the value held before it: the \
             session id was not cycled",
            op.id,
            if cookies.kept.len() == 1 { "" } else { "s" }
        );
        found(Finding {
            class: Class::SessionIdKept,
            at: op.ended_at,
            user: Some(op.user),
            witness: vec![WitnessOp::of(op, Some(format!("kept {names}")))],
            message,
            relied: None,
            answered: Moment::answer_of(op),
            values: 0,
        });
    }

    fn finish(&mut self, _found: &mut dyn FnMut(Finding)) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checker::fixtures::{history_of, UserScript};
    use crate::checker::Verdict;

    #[test]
    fn a_login_that_changes_a_held_cookie_cycles_the_id_and_one_without_cookies_says_nothing() {
        let mut u = UserScript::new(1);
        u.login()
            .write("a", 1)
            .login_holding(&["sid"], &[])
            .login_holding(&["csrf", "sid"], &["csrf"]);
        let result = check(&history_of(&[&u]));
        assert_eq!((result.verdict, result.count), (Verdict::Valid, 0));
    }

    #[test]
    fn a_login_that_leaves_every_held_cookie_as_it_was_names_them() {
        let mut u = UserScript::new(1);
        u.login().write("a", 1).login_holding(&["sid"], &["sid"]);
        let result = check(&history_of(&[&u]));
        assert_eq!((result.verdict, result.count), (Verdict::Invalid, 1));
        let finding = &result.findings[0];
        assert!(finding.message.contains("'sid'"), "{}", finding.message);
        assert_eq!(finding.witness[0].request, "login");
    }
}
