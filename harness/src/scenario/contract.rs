//! The HTTP contract of the probe requests: which method and path log a user in, append a value
//! to the session and read it back, and which JSON fields carry the user, the value, the items and
//! the version. The defaults are the sample app's routes; a real app sets its own in
//! `[app.contract]` and adds a few test-only routes.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// One route of the contract.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// HTTP method: GET, POST, PUT, PATCH or DELETE.
    pub method: String,
    /// Path after the app's base URL; starts with `/`.
    pub path: String,
}

impl Route {
    fn new(method: &str, path: &str) -> Self {
        Self {
            method: method.to_owned(),
            path: path.to_owned(),
        }
    }
}

/// Methods a route may use.
const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// Routes and field names of the probe requests. The session itself travels in whatever cookies
/// the app sets; each virtual user keeps its own.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct HttpContract {
    /// Starts a new session. Body: `{"<user_field>": "user-7"}`; any 2xx answer is a login.
    pub login: Route,
    /// Appends a value to the session. Body: `{"<value_field>": "user-7-3"}`; a 2xx answer means
    /// the value is stored. A `version_field` in the answer is recorded when present.
    pub append: Route,
    /// Reads the session back, with no body. Answer: a JSON object with the user, the items in
    /// the order appended, and optionally the version.
    pub read: Route,
    /// Ends the session on the server, with no body; a 2xx answer is an acknowledged logout.
    /// An app that answers 404 or 405 has none: the harness stops logging its users out and the
    /// report says the logout check was not made.
    pub logout: Route,
    /// Field naming the user, in the login body and the read answer.
    pub user_field: String,
    /// Field carrying the appended value.
    pub value_field: String,
    /// Field listing the session's values in the read answer (strings, oldest first).
    pub items_field: String,
    /// Field with a number bumped by each append; when the read answer lacks it, the harness
    /// takes the number of items.
    pub version_field: String,
    /// The cookie that carries the session id, for the check that login cycles it
    /// (`expectations.session_id_cycled`); by default every cookie the user holds counts, and a
    /// login that changes none of them kept the id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_cookie: Option<String>,
    /// How long the app keeps a session nobody uses, in whole seconds; the app is told it in
    /// `FAILOVER_DRILL_SESSION_TTL`. With it, a user back from an idle spell longer than it must
    /// find its session ended: one still there is an immortal session.
    #[serde(
        default,
        with = "humantime_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub session_ttl: Option<Duration>,
}

/// The longest session TTL a drill may ask for: users must outlive it idle within one run.
pub(crate) const MAX_SESSION_TTL: Duration = Duration::from_secs(600);

impl Default for HttpContract {
    fn default() -> Self {
        Self {
            login: Route::new("POST", "/login"),
            append: Route::new("POST", "/session/items"),
            read: Route::new("GET", "/session"),
            logout: Route::new("POST", "/logout"),
            user_field: "user".to_owned(),
            value_field: "value".to_owned(),
            items_field: "items".to_owned(),
            version_field: "version".to_owned(),
            session_cookie: None,
            session_ttl: None,
        }
    }
}

impl HttpContract {
    /// The first field that cannot work, with what is wrong.
    pub fn problem(&self) -> Option<(String, String)> {
        let routes = [
            ("login", &self.login, true),
            ("append", &self.append, true),
            ("read", &self.read, false),
            ("logout", &self.logout, false),
        ];
        for (name, route, has_body) in routes {
            if !METHODS.contains(&route.method.as_str()) {
                return Some((
                    format!("app.contract.{name}.method"),
                    format!("'{}' is not one of {}", route.method, METHODS.join(", ")),
                ));
            }
            if has_body && route.method == "GET" {
                return Some((
                    format!("app.contract.{name}.method"),
                    "GET cannot carry the JSON body this route sends; use POST, PUT or PATCH"
                        .to_owned(),
                ));
            }
            if !route.path.starts_with('/') {
                return Some((
                    format!("app.contract.{name}.path"),
                    format!("'{}' must start with /", route.path),
                ));
            }
        }
        if let Some(name) = &self.session_cookie {
            // RFC 6265's cookie-name is an RFC 7230 token.
            let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
            if name.is_empty() || !name.chars().all(token) {
                return Some((
                    "app.contract.session_cookie".to_owned(),
                    format!("'{}' is not a cookie name", name.escape_debug()),
                ));
            }
        }
        if let Some(ttl) = self.session_ttl {
            if ttl.subsec_nanos() != 0 || ttl < Duration::from_secs(1) || ttl > MAX_SESSION_TTL {
                return Some((
                    "app.contract.session_ttl".to_owned(),
                    format!(
                        "{} is not a whole number of seconds from 1s to {}",
                        humantime::format_duration(ttl),
                        humantime::format_duration(MAX_SESSION_TTL)
                    ),
                ));
            }
        }
        let fields = [
            ("user_field", &self.user_field),
            ("value_field", &self.value_field),
            ("items_field", &self.items_field),
            ("version_field", &self.version_field),
        ];
        fields
            .into_iter()
            .find(|(_, value)| value.trim().is_empty())
            .map(|(name, _)| {
                (
                    format!("app.contract.{name}"),
                    "must not be empty".to_owned(),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_contract_is_valid_and_bad_routes_are_named() {
        assert_eq!(HttpContract::default().problem(), None);
        let mut c = HttpContract::default();
        c.append.method = "GET".into();
        assert_eq!(
            c.problem().map(|p| p.0),
            Some("app.contract.append.method".into())
        );
        let mut c = HttpContract::default();
        c.read.path = "session".into();
        assert_eq!(
            c.problem().map(|p| p.0),
            Some("app.contract.read.path".into())
        );
        let mut c = HttpContract::default();
        c.login.method = "FETCH".into();
        assert_eq!(
            c.problem().map(|p| p.0),
            Some("app.contract.login.method".into())
        );
        let c = HttpContract {
            items_field: " ".into(),
            ..HttpContract::default()
        };
        assert_eq!(
            c.problem().map(|p| p.0),
            Some("app.contract.items_field".into())
        );
        for bad in ["", "a b", "sid;", "s=id"] {
            let c = HttpContract {
                session_cookie: Some(bad.into()),
                ..HttpContract::default()
            };
            assert_eq!(
                c.problem().map(|p| p.0),
                Some("app.contract.session_cookie".into()),
                "{bad:?}"
            );
        }
        let c = HttpContract {
            session_cookie: Some("connect.sid".into()),
            session_ttl: Some(Duration::from_secs(5)),
            ..HttpContract::default()
        };
        assert_eq!(c.problem(), None);
        for bad in [0, 1500, 601_000] {
            let c = HttpContract {
                session_ttl: Some(Duration::from_millis(bad)),
                ..HttpContract::default()
            };
            assert_eq!(
                c.problem().map(|p| p.0),
                Some("app.contract.session_ttl".into()),
                "{bad} ms"
            );
        }
    }
}
