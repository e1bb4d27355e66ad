//! One virtual user's HTTP/1.1 client: a kept-alive connection per app instance, opened when first
//! needed and again after it breaks, and the user's own cookies (`cookie_jar`), sent to every
//! instance as a browser sends its cookies to an app behind a load balancer.
//!
//! It is built on hyper's connection API rather than a pooled client so that a request costs the
//! generator little CPU: the harness shares the machine with the app it measures, and every cycle
//! spent here is taken from the app.

use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderValue, CONTENT_TYPE, COOKIE, HOST, SET_COOKIE};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::cookie_jar::CookieJar;

/// How long opening a connection to an instance may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// Most of an answer's body read: a session's JSON is a few kilobytes, and an app that answers
/// megabytes has that request recorded as failed rather than held in memory for every user.
pub(super) const MAX_BODY: usize = 1 << 20;

/// One app instance as the client reaches it.
#[derive(Debug, Clone)]
pub(super) struct Target {
    /// `host:port`, to connect to and to send as `Host`.
    authority: String,
    host_header: HeaderValue,
    /// What comes before the contract's paths, without a trailing slash.
    path_prefix: String,
}

/// A base URL the client cannot use.
#[derive(Debug, thiserror::Error)]
#[error("{reason}")]
pub(super) struct BadUrl {
    reason: String,
}

impl Target {
    /// The instance at `base_url`, like `http://127.0.0.1:8080` or `http://app:80/prefix`.
    pub(super) fn parse(base_url: &str) -> Result<Self, BadUrl> {
        let bad = |reason: String| BadUrl { reason };
        let uri: Uri = base_url
            .parse()
            .map_err(|e| bad(format!("not a URL ({e})")))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some(other) => {
                return Err(bad(format!(
                    "scheme `{other}` is not supported; the probe client speaks plain http://"
                )))
            }
            None => return Err(bad("no scheme; write it as http://host:port".into())),
        }
        let authority = uri
            .authority()
            .ok_or_else(|| bad("no host; write it as http://host:port".into()))?;
        let port = authority.port_u16().unwrap_or(80);
        let authority = format!("{}:{port}", authority.host());
        let host_header = HeaderValue::from_str(&authority)
            .map_err(|e| bad(format!("host not usable in a header ({e})")))?;
        Ok(Self {
            authority,
            host_header,
            path_prefix: uri.path().trim_end_matches('/').to_owned(),
        })
    }
}

/// Why an exchange gave no response.
#[derive(Debug)]
pub(super) enum Failure {
    /// No complete response head within the request timeout.
    Timeout,
    /// The connection could not be opened or broke; the text says how.
    Transport(String),
}

/// A response whose head arrived.
pub(super) struct Reply {
    pub(super) status: StatusCode,
    /// The whole body, or why it could not be read.
    pub(super) body: Result<Bytes, String>,
}

/// A request the user sends.
pub(super) struct Call<'a> {
    pub(super) method: Method,
    /// The contract's path, like `/login`.
    pub(super) path: &'a str,
    /// A JSON body, if any.
    pub(super) json: Option<Vec<u8>>,
}

/// One user's connections and cookies.
pub(super) struct Agent {
    targets: std::sync::Arc<[Target]>,
    connections: Vec<Option<SendRequest<Full<Bytes>>>>,
    /// The cookies the app set.
    cookies: CookieJar,
    /// Cookies sent as they were captured, whatever their expiry, in place of the jar's: a
    /// copied cookie replayed, as whoever copied it would.
    pinned: Option<HeaderValue>,
    request_timeout: Duration,
    in_flight: super::InFlight,
}

impl Agent {
    /// An agent with no connection open yet, counting its requests in `in_flight`.
    pub(super) fn new(
        targets: std::sync::Arc<[Target]>,
        request_timeout: Duration,
        in_flight: super::InFlight,
    ) -> Self {
        let connections = targets.iter().map(|_| None).collect();
        Self {
            targets,
            connections,
            cookies: CookieJar::default(),
            pinned: None,
            request_timeout,
            in_flight,
        }
    }

    /// How many instances there are to choose from.
    pub(super) fn instances(&self) -> usize {
        self.targets.len()
    }

    /// Sends `call` to instance `instance` and reads the whole answer, within the request timeout.
    pub(super) async fn exchange(
        &mut self,
        instance: usize,
        call: Call<'_>,
    ) -> Result<Reply, Failure> {
        let deadline = Instant::now() + self.request_timeout;
        let target = &self.targets[instance];
        let mut request = Request::builder()
            .method(call.method)
            .uri(format!("{}{}", target.path_prefix, call.path))
            .header(HOST, target.host_header.clone());
        let cookies = match &self.pinned {
            Some(pinned) => Some(pinned.clone()),
            None => self.cookies.header_for(call.path),
        };
        if let Some(cookies) = cookies {
            request = request.header(COOKIE, cookies);
        }
        if call.json.is_some() {
            request = request.header(CONTENT_TYPE, "application/json");
        }
        let request = request
            .body(Full::new(Bytes::from(call.json.unwrap_or_default())))
            .map_err(|e| Failure::Transport(format!("cannot build the request: {e}")))?;

        // One deadline over connecting, sending and reading the whole body, as a browser's
        // request timeout; the head is kept aside so a body that is late still leaves its status.
        let mut head = None;
        let counted = self.in_flight.enter();
        let exchanged = tokio::time::timeout_at(deadline.into(), async {
            let sender = self.ready_connection(instance).await?;
            let response = sender
                .send_request(request)
                .await
                .map_err(|e| Failure::Transport(describe(&e)))?;
            let (parts, body) = response.into_parts();
            head = Some((parts.status, parts.headers));
            let read = Limited::new(body, MAX_BODY).collect().await;
            Ok::<_, Failure>(read.map(|c| c.to_bytes()).map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    format!("the answer's body is over {MAX_BODY} bytes")
                } else {
                    describe(&*e)
                }
            }))
        })
        .await;
        drop(counted);
        let body = match (exchanged, head.is_some()) {
            (Ok(Ok(Ok(bytes))), _) => Ok(bytes),
            (Ok(Ok(Err(e))), _) => Err(e),
            (Err(_), true) => Err("request timed out while reading the body".into()),
            (Ok(Err(failure)), _) => return Err(self.broken(instance, failure)),
            (Err(_), false) => return Err(self.broken(instance, Failure::Timeout)),
        };
        let Some((status, headers)) = head else {
            return Err(self.broken(instance, Failure::Transport("no response head".into())));
        };
        if body.is_err() {
            self.connections[instance] = None;
        }
        for set in headers.get_all(SET_COOKIE) {
            if let Ok(text) = set.to_str() {
                self.cookies.remember(text, call.path);
            }
        }
        Ok(Reply { status, body })
    }

    /// The user's cookies as they are now, kept for a replay after a logout.
    pub(super) fn cookies(&self) -> CookieJar {
        self.cookies.clone()
    }

    /// The user's cookies as (name, value), sorted by name.
    pub(super) fn cookie_values(&self) -> Vec<(String, String)> {
        self.cookies.values()
    }

    /// Sends `values` as the `Cookie` header of every request until [`unpin_cookies`]
    /// (Self::unpin_cookies), whatever the jar holds or has let expire; none when empty, or when
    /// they make no valid header.
    pub(super) fn pin_cookies(&mut self, values: &[(String, String)]) {
        let text = values
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ");
        self.pinned = (!text.is_empty())
            .then(|| HeaderValue::from_str(&text).ok())
            .flatten();
    }

    /// Goes back to the jar's cookies.
    pub(super) fn unpin_cookies(&mut self) {
        self.pinned = None;
    }

    /// Puts `jar` in place of the user's cookies; returns those it held.
    pub(super) fn swap_cookies(&mut self, jar: CookieJar) -> CookieJar {
        std::mem::replace(&mut self.cookies, jar)
    }

    /// Forgets the connection to `instance` after `failure`: a connection with a request in an
    /// unknown state cannot carry another one.
    fn broken(&mut self, instance: usize, failure: Failure) -> Failure {
        self.connections[instance] = None;
        failure
    }

    /// The open connection to `instance`, or a new one if there is none or it has closed.
    async fn ready_connection(
        &mut self,
        instance: usize,
    ) -> Result<&mut SendRequest<Full<Bytes>>, Failure> {
        let slot = &mut self.connections[instance];
        if let Some(sender) = slot {
            if sender.ready().await.is_err() {
                *slot = None;
            }
        }
        if slot.is_none() {
            let authority = &self.targets[instance].authority;
            let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(authority))
                .await
                .map_err(|_| {
                    Failure::Transport(format!(
                        "connecting to {authority} took more than {CONNECT_TIMEOUT:?}"
                    ))
                })?
                .map_err(|e| Failure::Transport(format!("cannot connect to {authority}: {e}")))?;
            // Requests are small and the user waits for each answer: nothing gains from Nagle.
            let _ = stream.set_nodelay(true);
            let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|e| Failure::Transport(describe(&e)))?;
            // Drives the connection; it ends when the server closes it or the sender is dropped.
            tokio::spawn(connection);
            *slot = Some(sender);
        }
        slot.as_mut()
            .ok_or_else(|| Failure::Transport("no connection".into()))
    }
}

/// An error with its causes, as one line.
fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cause = e.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_keep_host_port_and_prefix() {
        let t = Target::parse("http://localhost:8080/app/").expect("a URL");
        assert_eq!(t.authority, "localhost:8080");
        assert_eq!(t.path_prefix, "/app");
        let t = Target::parse("http://example.test").expect("a URL");
        assert_eq!(t.authority, "example.test:80");
        assert_eq!(t.path_prefix, "");
    }

    #[test]
    fn unusable_urls_say_why() {
        let https = Target::parse("https://127.0.0.1:1").expect_err("https is refused");
        assert!(https.to_string().contains("plain http://"), "{https}");
        let bare = Target::parse("127.0.0.1:8080").expect_err("no scheme");
        assert!(bare.to_string().contains("http://host:port"), "{bare}");
    }
}
