//! The `[sweep]` table: dotted field paths into a scenario's TOML (`topology.down_after`,
//! `faults.0.duration`), each with a list of values, and the cartesian product of those lists.
//! It owns the paths and the product; it must not know what any field means: the scenario's own
//! deserialisation and validation judge the values.
//!
//! The line numbers come from `toml`'s spanned document (`toml::de::DeTable`), so an error can
//! name the line of the field a user wrote.

use serde::{Deserialize, Serialize};

/// One swept field with the value it has in a row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Setting {
    /// The dotted path inside a scenario: `topology.min_replicas_to_write`.
    pub field: String,
    /// Its value in this row.
    pub value: toml::Value,
}

impl Setting {
    /// `min_replicas_to_write=1`: the path's last segment and the value as written.
    pub fn short(&self) -> String {
        let name = self.field.rsplit('.').next().unwrap_or(&self.field);
        format!("{name}={}", display(&self.value))
    }
}

/// A value as a person writes it: strings without quotes.
pub(super) fn display(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A swept field's dotted path and its values.
pub(super) type Swept = (String, Vec<toml::Value>);

/// Every leaf list of the sweep table as `(dotted path, values)`, sorted by path. A leaf that is
/// not a non-empty list is an error `(path, message)`.
pub(super) fn flatten(sweep: &toml::Table) -> Result<Vec<Swept>, (String, String)> {
    let mut found = Vec::new();
    walk(sweep, "", &mut found)?;
    Ok(found)
}

fn walk(table: &toml::Table, prefix: &str, found: &mut Vec<Swept>) -> Result<(), (String, String)> {
    for (key, value) in table {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            toml::Value::Table(inner) => walk(inner, &path, found)?,
            toml::Value::Array(values) if values.is_empty() => {
                return Err((
                    path,
                    "an empty list makes the product empty: give at least one value".into(),
                ))
            }
            toml::Value::Array(values) => {
                if path == "name" {
                    return Err((path, "the scenario's name is not a setting".into()));
                }
                found.push((path, values.clone()));
            }
            other => {
                return Err((
                    path,
                    format!(
                        "must be a list of values to sweep, like [{}]",
                        display(other)
                    ),
                ))
            }
        }
    }
    Ok(())
}

/// Every combination of one value per field, the first field changing slowest; one empty
/// combination when nothing is swept.
pub(super) fn product(swept: &[Swept]) -> Vec<Vec<Setting>> {
    let mut combinations: Vec<Vec<Setting>> = vec![Vec::new()];
    for (field, values) in swept {
        combinations = combinations
            .into_iter()
            .flat_map(|before| {
                values.iter().map(move |value| {
                    let mut next = before.clone();
                    next.push(Setting {
                        field: field.clone(),
                        value: value.clone(),
                    });
                    next
                })
            })
            .collect();
    }
    combinations
}

/// Sets the dotted `field` of a scenario table to `value`, creating tables on the way; a numeric
/// segment indexes a list (`faults.0.at`).
pub(super) fn set(table: &mut toml::Table, field: &str, value: toml::Value) -> Result<(), String> {
    let segments: Vec<&str> = field.split('.').collect();
    let Some((last, parents)) = segments.split_last() else {
        return Err("is an empty path".into());
    };
    let mut at = table;
    let mut walked = String::new();
    let mut iter = parents.iter().peekable();
    // `at` is always a table; a list segment steps into one of the list's tables.
    while let Some(segment) = iter.next() {
        if !walked.is_empty() {
            walked.push('.');
        }
        walked.push_str(segment);
        let entry = at
            .entry((*segment).to_owned())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        let next = match entry {
            toml::Value::Table(inner) => inner,
            toml::Value::Array(items) => {
                let Some(index) = iter.next() else {
                    return Err(format!(
                        "{walked} is a list: name an entry, like {walked}.0.{last}"
                    ));
                };
                let len = items.len();
                let item = index
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| items.get_mut(i))
                    .ok_or_else(|| {
                        format!("{walked} has {len} entries; there is no {walked}.{index}")
                    })?;
                walked.push('.');
                walked.push_str(index);
                match item {
                    toml::Value::Table(inner) => inner,
                    _ => return Err(format!("{walked} is not a table")),
                }
            }
            _ => return Err(format!("{walked} is a value, not a table of fields")),
        };
        at = next;
    }
    at.insert((*last).to_owned(), value);
    Ok(())
}

/// The line of the key at `keys` (table names, or list indices as numbers) in `text`, from 1.
pub(super) fn line_of(text: &str, keys: &[&str]) -> Option<usize> {
    use toml::de::{DeTable, DeValue};
    let document = DeTable::parse(text).ok()?;
    let mut table = document.get_ref();
    let mut offset = None;
    let mut rest = keys.iter().peekable();
    while let Some(key) = rest.next() {
        let (name, value) = table.iter().find(|(k, _)| k.get_ref() == key)?;
        offset = Some(name.span().start);
        let mut value = value;
        // A list of tables (`[[apps]]`) is entered by index.
        if let DeValue::Array(items) = value.get_ref() {
            if let Some(index) = rest.peek().and_then(|i| i.parse::<usize>().ok()) {
                rest.next();
                value = items.get(index)?;
                offset = Some(value.span().start);
            }
        }
        match value.get_ref() {
            DeValue::Table(inner) => table = inner,
            _ => break,
        }
    }
    let offset = offset?;
    Some(text.get(..offset)?.matches('\n').count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> toml::Table {
        toml::from_str(text).expect("table")
    }

    #[test]
    fn the_product_varies_the_last_field_fastest() {
        let swept = flatten(&table("a.x = [1, 2]\nb = [\"p\", \"q\", \"r\"]")).expect("flat");
        let combinations = product(&swept);
        assert_eq!(combinations.len(), 6);
        let labels: Vec<String> = combinations
            .iter()
            .map(|c| c.iter().map(Setting::short).collect::<Vec<_>>().join(" "))
            .collect();
        assert_eq!(labels[0], "x=1 b=p");
        assert_eq!(labels[1], "x=1 b=q");
        assert_eq!(labels[5], "x=2 b=r");
    }

    #[test]
    fn nothing_swept_is_one_empty_combination() {
        assert_eq!(product(&[]), vec![Vec::new()]);
    }

    #[test]
    fn leaves_must_be_non_empty_lists() {
        assert_eq!(flatten(&table("a.b = 3")).map(drop).unwrap_err().0, "a.b");
        assert_eq!(flatten(&table("a.b = []")).map(drop).unwrap_err().0, "a.b");
        assert_eq!(
            flatten(&table("name = [\"x\"]")).map(drop).unwrap_err().0,
            "name"
        );
    }

    #[test]
    fn set_creates_tables_and_indexes_lists() {
        let mut t = table("[[faults]]\nat = \"5s\"\n");
        set(
            &mut t,
            "topology.down_after",
            toml::Value::String("3s".into()),
        )
        .expect("set");
        set(&mut t, "faults.0.at", toml::Value::String("6s".into())).expect("set");
        assert_eq!(t["topology"]["down_after"].as_str(), Some("3s"));
        assert_eq!(t["faults"][0]["at"].as_str(), Some("6s"));
        let missing = set(&mut t, "faults.3.at", toml::Value::Integer(1)).unwrap_err();
        assert!(missing.contains("faults has 1 entries"), "{missing}");
        let no_index = set(&mut t, "faults.at", toml::Value::Integer(1)).unwrap_err();
        assert!(no_index.contains("faults.0.at"), "{no_index}");
    }

    #[test]
    fn lines_are_found_for_nested_and_dotted_keys() {
        let text = "name = \"m\"\n\n[[apps]]\nname = \"a\"\n\n[[apps]]\nname = \"b\"\n\n[sweep]\ntopology.down_after = [\"1s\"]\n";
        assert_eq!(line_of(text, &["name"]), Some(1));
        assert_eq!(line_of(text, &["apps", "1", "name"]), Some(7));
        assert_eq!(
            line_of(text, &["sweep", "topology", "down_after"]),
            Some(10)
        );
        assert_eq!(line_of(text, &["sweep", "nothing"]), None);
    }
}
