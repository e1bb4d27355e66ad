//! The scenario's HTTP contract turned into requests and answers: the bodies a user sends and the
//! values it reads out of what comes back.

use hyper::Method;
use serde_json::{Map, Value};

use super::agent::Call;
use crate::history::OkValue;
use crate::scenario::{HttpContract, Route};

/// A route with its method parsed.
#[derive(Debug, Clone)]
struct Endpoint {
    method: Method,
    path: String,
}

impl Endpoint {
    fn parse(route: &Route) -> Result<Self, String> {
        let method = Method::from_bytes(route.method.as_bytes())
            .map_err(|_| format!("'{}' is not an HTTP method", route.method))?;
        Ok(Self {
            method,
            path: route.path.clone(),
        })
    }

    fn call(&self, json: Option<Vec<u8>>) -> Call<'_> {
        Call {
            method: self.method.clone(),
            path: &self.path,
            json,
        }
    }
}

/// What one probe operation is.
#[derive(Debug, Clone, Copy)]
pub(super) enum Step<'a> {
    /// Log in as this user.
    Login(&'a str),
    /// Append this value.
    Append(&'a str),
    /// Read the session.
    Read,
    /// Log out.
    Logout,
}

/// The contract, ready to build requests and read answers.
#[derive(Debug, Clone)]
pub(super) struct Probe {
    login: Endpoint,
    append: Endpoint,
    read: Endpoint,
    logout: Endpoint,
    contract: HttpContract,
}

fn body(field: &str, value: &str) -> Option<Vec<u8>> {
    let mut map = Map::new();
    map.insert(field.to_owned(), Value::String(value.to_owned()));
    Some(Value::Object(map).to_string().into_bytes())
}

impl Probe {
    /// Parses the contract's methods.
    pub(super) fn new(contract: &HttpContract) -> Result<Self, String> {
        Ok(Self {
            login: Endpoint::parse(&contract.login)?,
            append: Endpoint::parse(&contract.append)?,
            read: Endpoint::parse(&contract.read)?,
            logout: Endpoint::parse(&contract.logout)?,
            contract: contract.clone(),
        })
    }

    /// The request for `step`.
    pub(super) fn call(&self, step: Step<'_>) -> Call<'_> {
        match step {
            Step::Login(user) => self.login.call(body(&self.contract.user_field, user)),
            Step::Append(value) => self.append.call(body(&self.contract.value_field, value)),
            Step::Read => self.read.call(None),
            Step::Logout => self.logout.call(None),
        }
    }

    /// How long the app keeps an unused session, when the scenario says.
    pub(super) fn session_ttl(&self) -> Option<std::time::Duration> {
        self.contract.session_ttl
    }

    /// Of the cookies a user holds, those that carry its session: the contract's
    /// `session_cookie` when it names one, else all of them.
    pub(super) fn session_cookies(&self, held: Vec<(String, String)>) -> Vec<(String, String)> {
        match &self.contract.session_cookie {
            Some(name) => held.into_iter().filter(|(n, _)| n == name).collect(),
            None => held,
        }
    }

    /// What a 2xx answer to `step` says, or why it cannot be read.
    pub(super) fn answer(&self, step: Step<'_>, body: &[u8]) -> Result<OkValue, String> {
        let c = &self.contract;
        match step {
            Step::Login(_) => Ok(OkValue::LoggedIn),
            Step::Logout => Ok(OkValue::LoggedOut),
            Step::Append(_) => {
                // The append's answer may be empty; a version in it is recorded when there is one.
                let version = serde_json::from_slice::<Value>(body)
                    .ok()
                    .and_then(|v| v.get(&c.version_field).and_then(Value::as_u64))
                    .unwrap_or(0);
                Ok(OkValue::Written { version })
            }
            Step::Read => {
                let value: Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
                let user = value
                    .get(&c.user_field)
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("no string field '{}'", c.user_field))?;
                let items = value
                    .get(&c.items_field)
                    .and_then(Value::as_array)
                    .ok_or_else(|| format!("no array field '{}'", c.items_field))?
                    .iter()
                    .map(|item| {
                        item.as_str().map(str::to_owned).ok_or_else(|| {
                            format!("'{}' holds a non-string: {item}", c.items_field)
                        })
                    })
                    .collect::<Result<Vec<String>, String>>()?;
                let version = value
                    .get(&c.version_field)
                    .and_then(Value::as_u64)
                    .unwrap_or(items.len() as u64);
                Ok(OkValue::Read {
                    user: user.to_owned(),
                    items,
                    version,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn renamed() -> HttpContract {
        HttpContract {
            login: Route {
                method: "PUT".into(),
                path: "/test/login".into(),
            },
            user_field: "name".into(),
            items_field: "cart".into(),
            value_field: "sku".into(),
            version_field: "rev".into(),
            ..HttpContract::default()
        }
    }

    #[test]
    fn requests_follow_the_contract() {
        let probe = Probe::new(&renamed()).expect("valid contract");
        let call = probe.call(Step::Login("user-3"));
        assert_eq!((call.method, call.path), (Method::PUT, "/test/login"));
        assert_eq!(call.json, Some(br#"{"name":"user-3"}"#.to_vec()));
        let call = probe.call(Step::Append("user-3-1"));
        assert_eq!(call.json, Some(br#"{"sku":"user-3-1"}"#.to_vec()));
        assert_eq!(probe.call(Step::Read).json, None);
    }

    #[test]
    fn answers_are_read_by_the_contract_field_names() {
        let probe = Probe::new(&renamed()).expect("valid contract");
        let read = probe.answer(Step::Read, br#"{"name":"u","cart":["a","b"],"rev":7}"#);
        assert_eq!(
            read,
            Ok(OkValue::Read {
                user: "u".into(),
                items: vec!["a".into(), "b".into()],
                version: 7
            })
        );
        // Without a version the number of items stands in.
        let read = probe.answer(Step::Read, br#"{"name":"u","cart":["a"]}"#);
        assert!(matches!(read, Ok(OkValue::Read { version: 1, .. })));
        // The default names do not match this app's answer: the read is unusable, not empty.
        let default = Probe::new(&HttpContract::default()).expect("valid contract");
        let err = default.answer(Step::Read, br#"{"name":"u","cart":["a"]}"#);
        assert_eq!(err, Err("no string field 'user'".into()));
        assert_eq!(
            probe.answer(Step::Append("x"), b""),
            Ok(OkValue::Written { version: 0 })
        );
    }
}
