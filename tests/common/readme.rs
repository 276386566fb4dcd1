//! The README's printed tables, held to what the code prints: a table there once drifted
//! from the code unnoticed.

/// Panics unless README.md shows `printed` whole, as a `text` block of its own; `what` names
/// the table in the message.
pub fn assert_readme_shows(printed: &str, what: &str) {
    let readme = include_str!("../../README.md");
    assert!(
        readme.contains(&format!("```text\n{}\n```", printed.trim_end())),
        "README.md's {what} differs from what the code prints now:\n{printed}"
    );
}
