//! Post-login redirect targets: only same-origin relative paths survive (RFC 9700 §4.11, open
//! redirectors; OWASP "Unvalidated Redirects and Forwards").
//!
//! A `returnTo` value is kept when it is an absolute path of this origin, and is otherwise
//! replaced by `/`. Refused: anything not starting with exactly one `/` (absolute URLs,
//! scheme-relative `//host`, `javascript:`), backslashes (browsers read `/\host` as `//host`),
//! percent-encoded slashes or backslashes (`%2F`, `%5C`, which some servers decode before
//! routing), control characters, whitespace, and anything longer than [`MAX_RETURN_TO_LEN`].

use alloc::string::{String, ToString};

/// The longest `returnTo` kept, in bytes; longer values become `/`. It travels inside the
/// sealed transaction cookie, which must stay small.
pub(crate) const MAX_RETURN_TO_LEN: usize = 512;

/// The fallback target.
pub(crate) const DEFAULT_RETURN_TO: &str = "/";

/// `candidate` if it is a safe same-origin relative path, else `/`.
pub(crate) fn safe_return_to(candidate: Option<&str>) -> String {
    match candidate {
        Some(path) if is_safe(path) => path.to_string(),
        _ => DEFAULT_RETURN_TO.to_string(),
    }
}

fn is_safe(path: &str) -> bool {
    let bytes = path.as_bytes();
    if path.len() > MAX_RETURN_TO_LEN || bytes.first() != Some(&b'/') || bytes.get(1) == Some(&b'/')
    {
        return false;
    }
    if bytes
        .iter()
        .any(|&b| b == b'\\' || b.is_ascii_control() || b == b' ' || !b.is_ascii())
    {
        return false;
    }
    let lower = path.to_ascii_lowercase();
    !["%2f", "%5c", "%00", "%09", "%0a", "%0d"]
        .iter()
        .any(|encoded| lower.contains(encoded))
}

#[cfg(test)]
mod tests;
