//! One virtual user's cookies, kept as a browser keeps them: `cookie_store` applies RFC 6265
//! (`Expires` and `Max-Age`, an expiry in the past deletes, `Path` limits where a cookie goes).
//! Every instance of the app is treated as one origin, as a browser sees an app behind its load
//! balancer, so a cookie set by one instance goes to all of them.
//!
//! It owns the cookies; it must not send anything.

use cookie_store::CookieStore;
use hyper::header::HeaderValue;
use url::Url;

/// The one origin every instance stands for.
const ORIGIN: &str = "http://app.failover-drill.invalid";

/// One user's cookies, with the `Cookie` header for each path built once per change.
#[derive(Default, Clone)]
pub(super) struct CookieJar {
    store: CookieStore,
    /// `Cookie` headers by request path since the last change; `None`: no cookie for it.
    headers: Vec<(String, Option<HeaderValue>)>,
}

fn url_of(path: &str) -> Option<Url> {
    Url::parse(ORIGIN).ok()?.join(path).ok()
}

impl CookieJar {
    /// Takes in one `Set-Cookie` answered to a request for `path`: keeps, replaces or deletes a
    /// cookie. One that does not parse is ignored, as a browser ignores it.
    pub(super) fn remember(&mut self, set_cookie: &str, path: &str) {
        let Some(url) = url_of(path) else { return };
        if self.store.parse(set_cookie, &url).is_ok() {
            self.headers.clear();
        }
    }

    /// Every unexpired cookie, as (name, value), sorted by name.
    pub(super) fn values(&self) -> Vec<(String, String)> {
        let mut values: Vec<(String, String)> = self
            .store
            .iter_unexpired()
            .map(|c| (c.name().to_owned(), c.value().to_owned()))
            .collect();
        values.sort();
        values
    }

    /// The `Cookie` header for a request to `path`, if any cookie goes there.
    pub(super) fn header_for(&mut self, path: &str) -> Option<HeaderValue> {
        if let Some((_, header)) = self.headers.iter().find(|(p, _)| p == path) {
            return header.clone();
        }
        let header = url_of(path).and_then(|url| {
            let text = self
                .store
                .get_request_values(&url)
                .map(|(name, value)| format!("{name}={value}"))
                .collect::<Vec<_>>()
                .join("; ");
            // A value the app set that is no valid header is dropped rather than sent mangled.
            (!text.is_empty())
                .then(|| HeaderValue::from_str(&text).ok())
                .flatten()
        });
        self.headers.push((path.to_owned(), header.clone()));
        header
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(jar: &mut CookieJar, path: &str) -> String {
        jar.header_for(path)
            .map(|h| h.to_str().expect("ascii").to_owned())
            .unwrap_or_default()
    }

    #[test]
    fn cookies_are_set_replaced_and_deleted_by_max_age() {
        let mut jar = CookieJar::default();
        jar.remember("id=abc; Path=/; HttpOnly", "/login");
        jar.remember("theme=dark; Path=/", "/login");
        let both = sent(&mut jar, "/session");
        assert!(
            both.contains("id=abc") && both.contains("theme=dark"),
            "{both}"
        );
        jar.remember("id=def; Path=/; Max-Age=3600", "/login");
        assert!(sent(&mut jar, "/session").contains("id=def"));
        jar.remember("theme=; Path=/; Max-Age=0", "/login");
        assert_eq!(sent(&mut jar, "/session"), "id=def");
        jar.remember("garbage without a pair", "/login");
        assert_eq!(sent(&mut jar, "/session"), "id=def");
        assert_eq!(jar.values(), [("id".to_owned(), "def".to_owned())]);
    }

    #[test]
    fn an_expiry_in_the_past_deletes_and_a_path_limits_where_a_cookie_goes() {
        let mut jar = CookieJar::default();
        jar.remember("id=abc; Path=/", "/login");
        jar.remember("cart=1; Path=/cart", "/cart/items");
        assert_eq!(sent(&mut jar, "/session"), "id=abc");
        let in_cart = sent(&mut jar, "/cart/items");
        assert!(
            in_cart.contains("cart=1") && in_cart.contains("id=abc"),
            "{in_cart}"
        );
        jar.remember(
            "id=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
            "/logout",
        );
        assert_eq!(sent(&mut jar, "/session"), "");
        assert_eq!(sent(&mut jar, "/cart/items"), "cart=1");
    }
}
