//! Identifiers as the reference generates them: 12 characters from a 60-character
//! nanoid alphabet (digits and ASCII letters without `w` and `W`).

use rand::Rng;

/// The reference alphabet (`transport/id.ts`).
pub const ALPHABET: &[u8; 60] = b"1234567890abcdefghijklmnopqrstuvxyzABCDEFGHIJKLMNOPQRSTUVXYZ";

/// Length of generated ids.
pub const ID_LEN: usize = 12;

/// A fresh 12-character id (message ids, stream ids).
pub fn generate_id() -> String {
    let mut rng = rand::rng();
    let mut s = String::with_capacity(ID_LEN);
    for _ in 0..ID_LEN {
        let i = rng.random_range(0..ALPHABET.len());
        s.push(ALPHABET[i] as char);
    }
    s
}

/// A fresh session id: `session-` followed by 12 id characters.
pub fn generate_session_id() -> String {
    format!("session-{}", generate_id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_use_the_reference_alphabet_and_length() {
        for _ in 0..200 {
            let id = generate_id();
            assert_eq!(id.len(), ID_LEN);
            assert!(id.bytes().all(|b| ALPHABET.contains(&b)), "{id}");
            assert!(!id.contains('w') && !id.contains('W'));
        }
        let s = generate_session_id();
        assert!(s.starts_with("session-") && s.len() == 20);
    }
}
