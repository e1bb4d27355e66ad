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

    pub(crate) fn client(&self) -> redis::RedisResult<redis::Client> {
        redis::Client::open(redis::ConnectionAddr::Tcp(self.host.clone(), self.port))
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
}
