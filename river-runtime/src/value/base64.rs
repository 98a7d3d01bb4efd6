//! Base64 as the reference's JSON codec uses it: padded standard base64 out, and the
//! WHATWG "forgiving-base64 decode" (`atob`) in.

use std::fmt;

/// Displays bytes as padded standard base64 (what `btoa` produces), without an
/// intermediate `String` when the serializer supports `collect_str`.
pub(crate) struct Base64Display<'a>(pub(crate) &'a [u8]);

impl fmt::Display for Base64Display<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        base64::display::Base64Display::new(self.0, &base64::engine::general_purpose::STANDARD)
            .fmt(f)
    }
}

impl serde::Serialize for Base64Display<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Why `atob` failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InvalidBase64;

impl fmt::Display for InvalidBase64 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid base64 in a {\"$t\": ...} Uint8Array (atob would throw)")
    }
}

fn is_ascii_whitespace(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0c | b'\r' | b' ')
}

fn sextet(c: u8) -> Result<u32, InvalidBase64> {
    Ok(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return Err(InvalidBase64),
    } as u32)
}

/// `atob`: ASCII whitespace is removed; when the length is a multiple of 4, one or two
/// trailing `=` are removed; a remaining length of 4n+1 fails; any character outside the
/// standard alphabet (including `-`, `_` and misplaced `=`) fails; leftover bits of the
/// last character are discarded.
pub(crate) fn atob(input: &str) -> Result<Vec<u8>, InvalidBase64> {
    let raw = input.as_bytes();
    let stripped: Vec<u8>;
    let mut data: &[u8] = if raw.iter().copied().any(is_ascii_whitespace) {
        stripped = raw
            .iter()
            .copied()
            .filter(|b| !is_ascii_whitespace(*b))
            .collect();
        &stripped
    } else {
        raw
    };
    if data.len() % 4 == 0 {
        if let Some(rest) = data.strip_suffix(b"==") {
            data = rest;
        } else if let Some(rest) = data.strip_suffix(b"=") {
            data = rest;
        }
    }
    if data.len() % 4 == 1 {
        return Err(InvalidBase64);
    }
    let mut out = Vec::with_capacity(data.len() / 4 * 3 + 2);
    let mut chunks = data.chunks_exact(4);
    for chunk in &mut chunks {
        let mut n = 0u32;
        for &c in chunk {
            n = (n << 6) | sextet(c)?;
        }
        out.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
    }
    let rest = chunks.remainder();
    let mut n = 0u32;
    for &c in rest {
        n = (n << 6) | sextet(c)?;
    }
    match rest.len() {
        2 => out.push((n >> 4) as u8),
        3 => out.extend_from_slice(&[(n >> 10) as u8, (n >> 2) as u8]),
        _ => {}
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atob_matches_the_web_platform() {
        assert_eq!(atob("AQID").unwrap(), vec![1, 2, 3]);
        assert_eq!(atob("AQI=").unwrap(), vec![1, 2]);
        assert_eq!(atob("AQI").unwrap(), vec![1, 2]);
        assert_eq!(atob("AQ==").unwrap(), vec![1]);
        assert_eq!(atob("AQ").unwrap(), vec![1]);
        assert_eq!(atob("").unwrap(), Vec::<u8>::new());
        assert_eq!(atob(" A Q\nI D ").unwrap(), vec![1, 2, 3]);
        // Non-canonical trailing bits are discarded.
        assert_eq!(atob("AR").unwrap(), vec![1]);
        // `atob(null)` stringifies first: "null" is valid base64.
        assert_eq!(atob("null").unwrap(), vec![0x9e, 0xe9, 0x65]);
        assert!(atob("A").is_err());
        assert!(atob("AQ=").is_err());
        assert!(atob("AQ===").is_err());
        assert!(atob("A=QI").is_err());
        assert!(atob("-_8=").is_err());
        assert!(atob("AQID====").is_err());
        assert!(atob("é").is_err());
    }

    #[test]
    fn display_is_padded_standard() {
        assert_eq!(Base64Display(&[1, 2, 3]).to_string(), "AQID");
        assert_eq!(Base64Display(&[1]).to_string(), "AQ==");
        assert_eq!(Base64Display(&[0xfb, 0xff]).to_string(), "+/8=");
    }
}
