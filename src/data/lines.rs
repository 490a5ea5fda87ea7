//! Reading text files line by line with 1-based line numbers, so every parser can say where it failed.

use std::path::Path;

use super::error::{DataError, Result};

/// Longest text we quote back to the user in an error message.
const QUOTE_LIMIT: usize = 60;

/// Shortens `s` for an error message and makes control characters visible.
pub(crate) fn quote(s: &str) -> String {
    let mut out: String = s.chars().take(QUOTE_LIMIT).flat_map(char::escape_debug).collect();
    if s.chars().count() > QUOTE_LIMIT {
        out.push('…');
    }
    format!("'{out}'")
}

/// The lines of a text file, without line terminators (`\n` or `\r\n`); a final empty line (the
/// file's trailing newline) is dropped, as the field's Python loaders do with `split('\n')[:-1]`.
/// A line that is not UTF-8 is an error naming the line.
pub(crate) fn read_lines(path: &Path) -> Result<Vec<String>> {
    if path.is_dir() {
        return Err(DataError::file(path, "a text file", "a folder"));
    }
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    lines_of(path, &bytes)
}

pub(crate) fn lines_of(path: &Path, bytes: &[u8]) -> Result<Vec<String>> {
    let mut lines = Vec::new();
    let mut chunks: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    if chunks.last().is_some_and(|c| c.is_empty()) {
        chunks.pop();
    }
    for (i, chunk) in chunks.into_iter().enumerate() {
        let chunk = chunk.strip_suffix(b"\r").unwrap_or(chunk);
        let line = std::str::from_utf8(chunk).map_err(|e| {
            DataError::line(
                path,
                i + 1,
                "UTF-8 text",
                format!("invalid byte at column {}", e.valid_up_to() + 1),
            )
        })?;
        if line.contains('\0') {
            return Err(DataError::line(path, i + 1, "text", "a NUL byte (binary file?)"));
        }
        lines.push(line.to_owned());
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_crlf_and_final_newline_only() {
        let p = Path::new("x.txt");
        assert_eq!(lines_of(p, b"a\r\nb\n\nc\n").unwrap(), vec!["a", "b", "", "c"]);
        assert_eq!(lines_of(p, b"a").unwrap(), vec!["a"]);
        assert!(lines_of(p, b"").unwrap().is_empty());
    }

    #[test]
    fn binary_is_an_error_with_the_line() {
        let err = lines_of(Path::new("bin.txt"), b"ok\n\xff\xfe\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "bin.txt:2: expected UTF-8 text, found invalid byte at column 1"
        );
        let err = lines_of(Path::new("nul.txt"), b"a\0b").unwrap_err();
        assert!(err.to_string().starts_with("nul.txt:1:"), "{err}");
    }

    #[test]
    fn quote_shortens_and_escapes() {
        assert_eq!(quote("a\tb"), "'a\\tb'");
        assert!(quote(&"x".repeat(100)).ends_with("…'"));
    }
}
