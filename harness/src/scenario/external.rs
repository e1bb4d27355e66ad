//! The scenario's `[topology.external]` section: a Sentinel deployment the harness did not start,
//! the name that guards it, and the operator's own commands that put each fault kind in force and
//! take it back. It owns the section and its validation; it must not reach the deployment.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{FaultKind, Problem};
use sample_app::store::NodeAddr;

/// Longest a command template may run when the section does not say.
const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// The placeholders a command template may hold.
pub const PLACEHOLDERS: [&str; 7] = [
    "name",
    "container",
    "pod",
    "host",
    "hostname",
    "port",
    "addr",
];

/// A deployment the harness did not start: it discovers the nodes from `sentinels`, never creates
/// or removes anything there, and acts on it only through Redis commands and `faults`' commands.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ExternalTopology {
    /// What the deployment is called (`staging-sessions`): printed before the run, and what an
    /// interactive confirmation asks the user to type back.
    pub name: String,
    /// Sentinel addresses as `host:port`; the others are found through them.
    pub sentinels: Vec<String>,
    /// Names for nodes by `host:port` as the sentinels announce them (a container's or pod's
    /// name), used in records and in the `{name}` of command templates. A node not named here is
    /// called `redis-N` or `sentinel-N`.
    #[serde(default)]
    pub names: BTreeMap<String, String>,
    /// Per fault kind (`kill`, `stop`, ...), the commands that apply and heal it on one node.
    #[serde(default)]
    pub faults: BTreeMap<String, CommandTemplate>,
    /// Longest one command may run before it is stopped and the run fails.
    #[serde(default = "default_command_timeout", with = "humantime_serde")]
    pub command_timeout: Duration,
}

fn default_command_timeout() -> Duration {
    DEFAULT_COMMAND_TIMEOUT
}

/// Shell commands that put a fault in force on one node and take it back. `{name}` (or
/// `{container}`, `{pod}`), `{host}`, `{port}` and `{addr}` are replaced by the node's;
/// `{hostname}` by its host up to the first dot (the pod's name, when a chart announces pods by
/// their DNS names). Each value goes in quoted for `sh` where it needs quoting, and the same
/// values are in the command's environment (`FAILOVER_DRILL_NODE_NAME`, ...), for a script.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CommandTemplate {
    /// Run when the fault starts: `docker kill {container}`.
    pub apply: String,
    /// Run when the fault's duration is over: `docker start {container}`. None for a fault that
    /// ends by itself.
    #[serde(default)]
    pub heal: Option<String>,
}

/// Who a template is filled in for.
#[derive(Debug, Clone, Copy)]
pub struct TemplateNode<'a> {
    /// The node's name.
    pub name: &'a str,
    /// Its address.
    pub addr: &'a NodeAddr,
}

impl TemplateNode<'_> {
    /// What each placeholder stands for, unquoted.
    fn value_of(&self, placeholder: &str) -> Option<String> {
        let host = self.addr.host.as_str();
        Some(match placeholder {
            "name" | "container" | "pod" => self.name.to_owned(),
            "host" => host.to_owned(),
            "hostname" if host.parse::<std::net::IpAddr>().is_ok() => host.to_owned(),
            "hostname" => host.split('.').next().unwrap_or(host).to_owned(),
            "port" => self.addr.port.to_string(),
            "addr" => self.addr.to_string(),
            _ => return None,
        })
    }

    /// The node's values as environment variables for the command: `FAILOVER_DRILL_NODE_NAME`,
    /// `_HOST`, `_HOSTNAME`, `_PORT` and `_ADDR`.
    pub fn env(&self) -> Vec<(String, String)> {
        ["name", "host", "hostname", "port", "addr"]
            .into_iter()
            .filter_map(|placeholder| {
                let value = self.value_of(placeholder)?;
                Some((
                    format!("{NODE_ENV_PREFIX}{}", placeholder.to_ascii_uppercase()),
                    value,
                ))
            })
            .collect()
    }
}

/// What the node's environment variables start with.
const NODE_ENV_PREFIX: &str = "FAILOVER_DRILL_NODE_";

/// `value` as one word for `sh`: as it is when nothing in it is special to a shell, else in
/// single quotes. Names and hosts were validated at discovery, so quoting is the second guard.
fn sh_word(value: &str) -> String {
    // A NUL cannot reach a process's arguments at all; without one, quoting cannot fail.
    let value = value.replace('\0', "");
    shlex::try_quote(&value)
        .map(|quoted| quoted.into_owned())
        .unwrap_or_default()
}

impl CommandTemplate {
    /// `command` with every placeholder replaced by `node`'s value, quoted for `sh`.
    pub fn fill(command: &str, node: TemplateNode<'_>) -> String {
        // One pass: a value put in is never read again for placeholders.
        let mut filled = String::with_capacity(command.len());
        let mut rest = command;
        while let Some(open) = rest.find('{') {
            filled.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            match after
                .find('}')
                .and_then(|close| Some((close, node.value_of(&after[..close])?)))
            {
                Some((close, value)) => {
                    filled.push_str(&sh_word(&value));
                    rest = &after[close + 1..];
                }
                None => {
                    filled.push('{');
                    rest = after;
                }
            }
        }
        filled.push_str(rest);
        filled
    }
}

/// The first `{...}` in `command` that is not a placeholder.
fn unknown_placeholder(command: &str) -> Option<String> {
    let mut rest = command;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after.find('}')?;
        let inner = &after[..close];
        let is_word = !inner.is_empty()
            && inner
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if is_word && !PLACEHOLDERS.contains(&inner) {
            return Some(inner.to_owned());
        }
        rest = &after[close + 1..];
    }
    None
}

/// The fault kind a `faults` key names, when a command template can do it.
fn kind_named(key: &str) -> Option<FaultKind> {
    FaultKind::ALL
        .iter()
        .copied()
        .find(|k| k.name() == key && k.takes_command_template())
}

/// The names `kind_named` knows, for the message that refuses another.
fn template_kinds() -> String {
    let names: Vec<&str> = FaultKind::ALL
        .iter()
        .filter(|k| k.takes_command_template())
        .map(|k| k.name())
        .collect();
    names.join(", ")
}

impl ExternalTopology {
    /// The command template for `kind`, if the section gives one.
    pub fn template(&self, kind: FaultKind) -> Option<&CommandTemplate> {
        self.faults.get(kind.name())
    }

    /// The sentinel addresses, parsed (validation has checked them).
    pub fn sentinel_addrs(&self) -> Vec<NodeAddr> {
        self.sentinels
            .iter()
            .filter_map(|s| s.parse().ok())
            .collect()
    }

    /// Checks the section; the field named is within `external`.
    pub(super) fn check(&self) -> Result<(), Problem> {
        let problem = |field: String, message: String| Err((field, message));
        if self.name.trim().is_empty() {
            return problem(
                "name".into(),
                "must name the deployment (`staging-sessions`): it is printed before the run and \
                 typed back to confirm it"
                    .into(),
            );
        }
        if self.sentinels.is_empty() {
            return problem(
                "sentinels".into(),
                "must list at least one sentinel as \"host:port\"".into(),
            );
        }
        for (i, sentinel) in self.sentinels.iter().enumerate() {
            sentinel
                .parse::<NodeAddr>()
                .map_err(|e| (format!("sentinels[{i}]"), e.to_string()))?;
        }
        for (addr, name) in &self.names {
            addr.parse::<NodeAddr>()
                .map_err(|e| (format!("names.\"{addr}\""), e.to_string()))?;
            if name.trim().is_empty() {
                return problem(format!("names.\"{addr}\""), "must not be empty".into());
            }
        }
        // A name goes into the operator's shell commands as it is: nothing a shell reads.
        if let Some((addr, name)) = self
            .names
            .iter()
            .find(|(_, name)| !super::is_plain_name(name))
        {
            return problem(
                format!("names.\"{addr}\""),
                format!(
                    "{name:?} is not a name: use letters, digits, '-', '_' and '.', as container \
                     and pod names do"
                ),
            );
        }
        let mut names: Vec<&String> = self.names.values().collect();
        names.sort();
        if let Some(pair) = names.windows(2).find(|pair| pair[0] == pair[1]) {
            return problem(
                "names".into(),
                format!("'{}' names two nodes: give each its own name", pair[0]),
            );
        }
        for (key, template) in &self.faults {
            let field = |part: &str| format!("faults.{key}{part}");
            let Some(kind) = kind_named(key) else {
                return problem(
                    field(""),
                    format!(
                        "'{key}' is not a fault kind a command can do; use one of {}",
                        template_kinds()
                    ),
                );
            };
            if template.apply.trim().is_empty() {
                return problem(field(".apply"), "must not be empty".into());
            }
            match (&template.heal, kind.lasts()) {
                (None, true) => {
                    return problem(
                        field(".heal"),
                        format!("a {kind} fault lasts: give the command that takes it back"),
                    )
                }
                (Some(_), false) => {
                    return problem(
                        field(".heal"),
                        format!("a {kind} fault ends by itself: it has no heal command"),
                    )
                }
                _ => {}
            }
            let commands = std::iter::once((".apply", &template.apply))
                .chain(template.heal.as_ref().map(|h| (".heal", h)));
            for (part, command) in commands {
                if let Some(unknown) = unknown_placeholder(command) {
                    return problem(
                        field(part),
                        format!(
                            "{{{unknown}}} is not a placeholder; use {}",
                            PLACEHOLDERS.map(|p| format!("{{{p}}}")).join(", ")
                        ),
                    );
                }
            }
        }
        if self.command_timeout.is_zero() || self.command_timeout > Duration::from_secs(600) {
            return problem(
                "command_timeout".into(),
                "must be above 0s and at most 10m".into(),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(text: &str) -> ExternalTopology {
        toml::from_str(text).expect("a section")
    }

    #[test]
    fn a_template_is_filled_in_one_pass() {
        let addr = NodeAddr::new("10.0.0.7", 6379);
        let node = TemplateNode {
            name: "x{port}",
            addr: &addr,
        };
        assert_eq!(
            CommandTemplate::fill("kill {name} {port} {unknown} {", node),
            "kill 'x{port}' 6379 {unknown} {"
        );
        for placeholder in PLACEHOLDERS {
            let filled = CommandTemplate::fill(&format!("{{{placeholder}}}"), node);
            assert!(
                !filled.starts_with('{'),
                "{placeholder} is filled: {filled}"
            );
        }
    }

    #[test]
    fn a_value_a_shell_would_read_goes_in_as_one_quoted_word() {
        let addr = NodeAddr::new("a;b", 6379);
        for name in ["$(touch /tmp/x)", "a'b", "a b\nc", "`id`"] {
            let node = TemplateNode { name, addr: &addr };
            let filled = CommandTemplate::fill("printf %s {name} {host}", node);
            let out = std::process::Command::new("sh")
                .args(["-c", &filled])
                .output()
                .expect("sh runs");
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                format!("{name}a;b"),
                "{filled}"
            );
        }
        let node = TemplateNode {
            name: "redis-1",
            addr: &addr,
        };
        let env = node.env();
        assert!(env.contains(&("FAILOVER_DRILL_NODE_NAME".into(), "redis-1".into())));
        assert!(env.contains(&("FAILOVER_DRILL_NODE_ADDR".into(), "a;b:6379".into())));
    }

    #[test]
    fn a_name_that_a_shell_would_read_is_refused() {
        let bad = section(
            "name = \"d\"\nsentinels = [\"10.0.0.1:26379\"]\n[names]\n\"10.0.0.2:6379\" = \"r; rm -rf /\"\n",
        );
        let (field, message) = bad.check().expect_err("refused");
        assert!(field.starts_with("names."), "{field}");
        assert!(message.contains("is not a name"), "{message}");
    }

    #[test]
    fn templates_are_filled_with_the_nodes_name_and_address() {
        let addr = NodeAddr::new("10.0.0.7", 6379);
        let node = TemplateNode {
            name: "redis-node-1",
            addr: &addr,
        };
        assert_eq!(
            CommandTemplate::fill("kubectl delete pod {pod} # {addr} {host}:{port}", node),
            "kubectl delete pod redis-node-1 # 10.0.0.7:6379 10.0.0.7:6379"
        );
        let announced = NodeAddr::new(
            "sessions-redis-node-2.sessions-redis-headless.prod.svc.cluster.local",
            6379,
        );
        let by_dns = TemplateNode {
            name: "redis-3",
            addr: &announced,
        };
        assert_eq!(
            CommandTemplate::fill("kubectl delete pod {hostname}", by_dns),
            "kubectl delete pod sessions-redis-node-2"
        );
        assert_eq!(
            CommandTemplate::fill("{hostname}", node),
            "10.0.0.7",
            "an address has no host name to cut"
        );
        assert_eq!(
            CommandTemplate::fill("awk '{print $1}' {container}", node),
            "awk '{print $1}' redis-node-1",
            "braces that are no placeholder stay"
        );
    }

    #[test]
    fn mistakes_name_their_field() {
        let base = "name = \"staging\"\nsentinels = [\"10.0.0.1:26379\"]\n";
        assert!(section(base).check().is_ok());
        let cases = [
            ("name = \" \"\nsentinels = [\"h:1\"]", "name"),
            ("name = \"s\"\nsentinels = []", "sentinels"),
            ("name = \"s\"\nsentinels = [\"nohost\"]", "sentinels[0]"),
            (
                &format!("{base}[faults.kill]\napply = \"docker kill {{container}}\""),
                "faults.kill.heal",
            ),
            (
                &format!("{base}[faults.manual-failover]\napply = \"x\"\nheal = \"y\""),
                "faults.manual-failover.heal",
            ),
            (
                &format!("{base}[faults.explode]\napply = \"x\""),
                "faults.explode",
            ),
            (
                &format!("{base}[faults.stop]\napply = \"docker stop {{node}}\"\nheal = \"y\""),
                "faults.stop.apply",
            ),
            (
                &format!("{base}[names]\n\"10.0.0.2:6379\" = \"\""),
                "names.\"10.0.0.2:6379\"",
            ),
        ];
        for (text, field) in cases {
            let (named, message) = section(text).check().expect_err(text);
            assert_eq!(named, field, "{message}");
        }
    }
}
