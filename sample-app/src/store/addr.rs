//! `host:port` addresses of Redis nodes and sentinels.

use std::fmt;
use std::str::FromStr;

/// The address of one Redis node or sentinel, as Sentinel reports it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NodeAddr {
    /// Host name or IP address.
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl NodeAddr {
    /// An address from its parts.
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        Self {
            host: host.into(),
            port,
        }
    }

    /// A client for this address that authenticates with `password` when there is one.
    ///
    /// Its connections close with a reset (`SO_LINGER` 0), which drops whatever they still hold
    /// unsent or unacknowledged. A normal close would leave the kernel retransmitting a command
    /// the store gave up on when its link went silent; after the link heals that command lands
    /// late, over the writes its retry on a new connection was followed by. Drills with a cut or
    /// lossy link to the master showed exactly that: a session rolled back seconds after the heal.
    pub fn client(&self, password: Option<&Password>) -> redis::RedisResult<redis::Client> {
        use redis::IntoConnectionInfo;
        let mut info =
            redis::ConnectionAddr::Tcp(self.host.clone(), self.port).into_connection_info()?;
        let abort_on_close = info
            .tcp_settings()
            .clone()
            .set_linger_time(std::time::Duration::ZERO);
        info = info.set_tcp_settings(abort_on_close);
        if let Some(password) = password {
            info = info.set_redis_settings(
                redis::RedisConnectionInfo::default().set_password(password.expose()),
            );
        }
        redis::Client::open(info)
    }
}

/// A Redis or Sentinel password. Its `Debug` and `Display` print a placeholder, so a log line or
/// an error that formats a configuration never carries it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Wraps a password.
    pub fn new(password: impl Into<String>) -> Self {
        Self(password.into())
    }

    /// The password itself, for the handshake and the servers' configuration only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

impl fmt::Display for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for NodeAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

/// Why a `host:port` string could not be read.
#[derive(Debug, thiserror::Error)]
#[error("'{0}' is not a host:port address (example: 10.0.0.5:26379)")]
pub struct AddrParseError(String);

impl FromStr for NodeAddr {
    type Err = AddrParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (host, port) = s
            .trim()
            .rsplit_once(':')
            .ok_or_else(|| AddrParseError(s.to_owned()))?;
        let port = port.parse().map_err(|_| AddrParseError(s.to_owned()))?;
        if host.is_empty() {
            return Err(AddrParseError(s.to_owned()));
        }
        Ok(Self::new(host, port))
    }
}

/// Reads a comma-separated list of addresses, as given in `SENTINEL_ADDRS`.
pub fn parse_addr_list(s: &str) -> Result<Vec<NodeAddr>, AddrParseError> {
    s.split(',')
        .filter(|part| !part.trim().is_empty())
        .map(str::parse)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists_and_rejects_missing_ports() {
        let list = parse_addr_list("10.0.0.1:26379, 10.0.0.2:26380").unwrap();
        assert_eq!(list[1], NodeAddr::new("10.0.0.2", 26380));
        assert!("10.0.0.1".parse::<NodeAddr>().is_err());
        assert!(":26379".parse::<NodeAddr>().is_err());
        assert!("h:notaport".parse::<NodeAddr>().is_err());
    }

    #[test]
    fn a_password_never_formats_as_itself() {
        let p = Password::new("s3cret-value");
        assert!(!format!("{p:?} {p}").contains("s3cret"));
        assert_eq!(p.expose(), "s3cret-value");
    }
}
