//! Valid histories made up for tests, properties and benchmarks.

use super::{
    user_name, Attempt, AttemptResult, History, OkValue, OpKind, Operation, Outcome, Record,
};

/// A valid history: `users` users, each logging in, then alternating an acknowledged append and a
/// read that shows every value so far, one operation per millisecond.
pub fn synthetic_history(users: u32, ops_per_user: u64) -> History {
    let mut records = Vec::new();
    let mut id = 0;
    for user in 1..=users {
        let mut items = Vec::new();
        for step in 0..ops_per_user {
            let at = step * 1_000 + u64::from(user);
            let (kind, value) = match step {
                0 => (OpKind::Login, OkValue::LoggedIn),
                s if s % 2 == 1 => {
                    let value = format!("{}-{s}", user_name(user));
                    items.push(value.clone());
                    let version = items.len() as u64;
                    (OpKind::Write { value }, OkValue::Written { version })
                }
                _ => (
                    OpKind::Read,
                    OkValue::Read {
                        user: user_name(user),
                        items: items.clone(),
                        version: items.len() as u64,
                    },
                ),
            };
            id += 1;
            records.push(Record::Operation(Operation {
                id,
                user,
                kind,
                intended_at: at,
                ended_at: at + 500,
                attempts: vec![Attempt {
                    started_at: at,
                    ended_at: at + 500,
                    result: AttemptResult::Ok { status: 200 },
                    instance: 0,
                }],
                outcome: Outcome::Ok(value),
                final_read: false,
                login_cookies: None,
                back_from_idle: None,
            }));
        }
    }
    History { records }
}
