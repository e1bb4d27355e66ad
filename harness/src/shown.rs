//! Text from outside the harness (an announced address, an app's answer, a file's value) made
//! safe to show on a terminal or in a log: control characters escaped, so such a value cannot
//! move the cursor, clear the screen or forge a line the user reads.
//!
//! It owns only that escaping; it must not validate or change the value itself.

/// `text` with every control character escaped (`\u{1b}`, `\n`).
pub fn printable(text: &str) -> String {
    escaped(text, char::is_control)
}

/// `text` with control characters but its line breaks escaped: for a message that quotes a line
/// of a file and points at it on the next, as a parser's does.
pub fn printable_lines(text: &str) -> String {
    escaped(text, |c| c.is_control() && c != '\n')
}

fn escaped(text: &str, escape: impl Fn(char) -> bool) -> String {
    text.chars()
        .map(|c| {
            if escape(c) {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_escaped_and_the_rest_as_it_is() {
        assert_eq!(
            printable("evil\u{1b}[2J\nX$(touch y)"),
            "evil\\u{1b}[2J\\nX$(touch y)"
        );
        assert_eq!(printable_lines("a\u{1b}b\nc"), "a\\u{1b}b\nc");
        assert_eq!(
            printable("redis-1 at 10.0.0.7:6379, ünïcode"),
            "redis-1 at 10.0.0.7:6379, ünïcode"
        );
    }
}
