//! Keeping the nodes' password out of what a run writes and prints. A user may write it inline in
//! `app.command`, an app may echo it in an answer or an error, an operator's command may print it:
//! wherever it turns up, the history, the report, `scenario.toml`, `commands.log` and the summary
//! hold `(redacted)` in its place.
//!
//! It owns finding the value and replacing it; it must not choose the password (the cluster does)
//! nor write any file.

use std::borrow::Cow;
use std::sync::Arc;

use sample_app::store::Password;

/// What stands where the password was.
pub const REDACTED: &str = "(redacted)";

/// Replaces one secret wherever it appears; cheap to clone. The default redacts nothing.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// The secret as written, and as it reads inside a JSON string.
    secret: Option<Arc<(String, String)>>,
}

impl Redactor {
    /// A redactor of `password`, when there is one (an empty one hides nothing).
    pub fn of(password: Option<&Password>) -> Self {
        let secret = password
            .map(Password::expose)
            .filter(|p| !p.is_empty())
            .map(|p| {
                let quoted = serde_json::to_string(p).unwrap_or_default();
                let in_json = quoted
                    .strip_prefix('"')
                    .and_then(|q| q.strip_suffix('"'))
                    .unwrap_or(p)
                    .to_owned();
                Arc::new((p.to_owned(), in_json))
            });
        Self { secret }
    }

    /// Whether there is anything to redact.
    pub fn is_active(&self) -> bool {
        self.secret.is_some()
    }

    /// `text` with every occurrence of the secret replaced.
    pub fn text<'a>(&self, text: &'a str) -> Cow<'a, str> {
        match &self.secret {
            Some(secret) if text.contains(secret.0.as_str()) => {
                Cow::Owned(text.replace(secret.0.as_str(), REDACTED))
            }
            _ => Cow::Borrowed(text),
        }
    }

    /// Every string of `value` (keys too) redacted.
    pub fn value(&self, value: &mut serde_json::Value) {
        if self.secret.is_none() {
            return;
        }
        match value {
            serde_json::Value::String(s) => {
                if let Cow::Owned(redacted) = self.text(s) {
                    *s = redacted;
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| self.value(v)),
            serde_json::Value::Object(map) => {
                let entries = std::mem::take(map);
                for (key, mut v) in entries {
                    self.value(&mut v);
                    map.insert(self.text(&key).into_owned(), v);
                }
            }
            _ => {}
        }
    }

    /// `value` serialized as one line of JSON, with the secret redacted in its strings. The
    /// secret is looked for in the line first: only a line that holds it is parsed again.
    pub fn json_line<T: serde::Serialize>(&self, value: &T) -> serde_json::Result<String> {
        let line = serde_json::to_string(value)?;
        match &self.secret {
            Some(secret) if line.contains(secret.1.as_str()) => {
                let mut parsed: serde_json::Value = serde_json::from_str(&line)?;
                self.value(&mut parsed);
                serde_json::to_string(&parsed)
            }
            _ => Ok(line),
        }
    }

    /// `value` with the secret redacted in every string it serializes to; `value` itself when it
    /// holds none, or cannot be read back.
    pub fn redacted<T>(&self, value: T) -> T
    where
        T: serde::Serialize + serde::de::DeserializeOwned,
    {
        let Some(secret) = &self.secret else {
            return value;
        };
        let Ok(mut tree) = serde_json::to_value(&value) else {
            return value;
        };
        let holds = serde_json::to_string(&tree).is_ok_and(|t| t.contains(secret.1.as_str()));
        if !holds {
            return value;
        }
        self.value(&mut tree);
        serde_json::from_value(tree).unwrap_or(value)
    }

    /// Every string value of `table` redacted, nested tables and arrays included.
    pub fn toml(&self, table: &mut toml::Table) {
        for (_, value) in table.iter_mut() {
            self.toml_value(value);
        }
    }

    fn toml_value(&self, value: &mut toml::Value) {
        match value {
            toml::Value::String(s) => {
                if let Cow::Owned(redacted) = self.text(s) {
                    *s = redacted;
                }
            }
            toml::Value::Array(items) => items.iter_mut().for_each(|v| self.toml_value(v)),
            toml::Value::Table(table) => self.toml(table),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_is_replaced_wherever_it_is_and_nothing_else_changes() {
        let redactor = Redactor::of(Some(&Password::new("s3cr\"t")));
        assert_eq!(
            redactor.text("REDIS_PASSWORD=s3cr\"t app --pw s3cr\"t"),
            "REDIS_PASSWORD=(redacted) app --pw (redacted)"
        );
        assert!(matches!(redactor.text("nothing here"), Cow::Borrowed(_)));
        let record = serde_json::json!({"a": ["x s3cr\"t y", 1], "s3cr\"t": {"b": "s3cr\"t"}});
        let line = redactor.json_line(&record).expect("serializes");
        assert!(!line.contains("s3cr"), "{line}");
        let back: serde_json::Value = serde_json::from_str(&line).expect("still JSON");
        assert_eq!(back["a"][0], "x (redacted) y");
        assert_eq!(back["(redacted)"]["b"], "(redacted)");
        let mut table: toml::Table =
            toml::from_str("[app]\ncommand = \"run --pw 's3cr\\\"t'\"\n").expect("toml");
        redactor.toml(&mut table);
        assert_eq!(
            table["app"]["command"].as_str(),
            Some("run --pw '(redacted)'")
        );
        let none = Redactor::of(None);
        assert_eq!(none.text("s3cr\"t"), "s3cr\"t");
        assert!(!Redactor::of(Some(&Password::new(""))).is_active());
    }
}
