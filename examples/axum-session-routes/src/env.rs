//! What the harness tells an app it starts, through environment variables: the sentinels, the
//! master name, the password and the address to listen on.

use std::net::SocketAddr;

/// Sentinel addresses, comma-separated `host:port`.
const SENTINELS: &str = "FAILOVER_DRILL_SENTINELS";
/// The master name the sentinels monitor.
const MASTER_NAME: &str = "FAILOVER_DRILL_MASTER_NAME";
/// The password of the sentinels and data nodes, when they have one.
const PASSWORD: &str = "FAILOVER_DRILL_REDIS_PASSWORD";
/// The address to listen on.
const LISTEN: &str = "FAILOVER_DRILL_LISTEN";

/// A setting the environment lacks or gives in a shape the app cannot use.
#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    /// A variable the app needs is not set.
    #[error("{0} is not set: run the app through failover-drill, or set it by hand")]
    Missing(&'static str),
    /// A variable is set but cannot be read.
    #[error("{var}={value:?}: {reason}")]
    Invalid {
        /// The variable's name.
        var: &'static str,
        /// What it was set to.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// The settings the harness hands an app it starts.
#[derive(Debug, Clone)]
pub struct DrillEnv {
    /// Sentinels, as `(host, port)`, in the order given.
    pub sentinels: Vec<(String, u16)>,
    /// The master name the sentinels monitor.
    pub master_name: String,
    /// The password of the sentinels and data nodes, if any.
    pub password: Option<String>,
    /// Where the app listens.
    pub listen: SocketAddr,
}

impl DrillEnv {
    /// Reads the settings from this process's environment.
    pub fn from_env() -> Result<Self, EnvError> {
        Self::from_lookup(|var| std::env::var(var).ok())
    }

    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, EnvError> {
        let required = |var: &'static str| {
            lookup(var)
                .filter(|v| !v.is_empty())
                .ok_or(EnvError::Missing(var))
        };
        let sentinels_text = required(SENTINELS)?;
        let sentinels = sentinels_text
            .split(',')
            .map(|addr| host_port(addr.trim()))
            .collect::<Result<Vec<_>, String>>()
            .map_err(|reason| EnvError::Invalid {
                var: SENTINELS,
                value: sentinels_text.clone(),
                reason,
            })?;
        let listen_text = required(LISTEN)?;
        let listen = listen_text.parse().map_err(|e| EnvError::Invalid {
            var: LISTEN,
            value: listen_text.clone(),
            reason: format!("{e}; give an address such as 127.0.0.1:8080"),
        })?;
        Ok(Self {
            sentinels,
            master_name: required(MASTER_NAME)?,
            password: lookup(PASSWORD).filter(|p| !p.is_empty()),
            listen,
        })
    }
}

fn host_port(addr: &str) -> Result<(String, u16), String> {
    let (host, port) = addr
        .rsplit_once(':')
        .ok_or_else(|| format!("'{addr}' is not host:port"))?;
    let port = port
        .parse()
        .map_err(|e| format!("'{addr}': the port is not a number from 1 to 65535 ({e})"))?;
    Ok((host.to_owned(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Result<DrillEnv, EnvError> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        DrillEnv::from_lookup(|var| pairs.iter().find(|(k, _)| k == var).map(|(_, v)| v.clone()))
    }

    #[test]
    fn reads_every_setting() {
        let read = env(&[
            (SENTINELS, "10.0.0.5:26379, 10.0.0.6:26380"),
            (MASTER_NAME, "mymaster"),
            (LISTEN, "127.0.0.1:9000"),
        ])
        .expect("valid");
        assert_eq!(
            read.sentinels,
            [("10.0.0.5".into(), 26379), ("10.0.0.6".into(), 26380)]
        );
        assert_eq!(read.master_name, "mymaster");
        assert_eq!(read.password, None);
        assert_eq!(read.listen.port(), 9000);
    }

    #[test]
    fn names_the_variable_that_is_missing_or_wrong() {
        let missing = env(&[(SENTINELS, "a:1"), (LISTEN, "127.0.0.1:1")]).unwrap_err();
        assert!(missing.to_string().contains(MASTER_NAME), "{missing}");
        let bad = env(&[
            (SENTINELS, "a:1,b"),
            (MASTER_NAME, "m"),
            (LISTEN, "127.0.0.1:1"),
        ])
        .unwrap_err();
        assert!(
            bad.to_string().contains(SENTINELS) && bad.to_string().contains("'b'"),
            "{bad}"
        );
    }
}
