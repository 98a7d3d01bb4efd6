//! Identifiers as the reference generates them: 12 characters from a 60-character
//! nanoid alphabet (digits and ASCII letters without `w` and `W`).
//!
//! **Unstable internals** (public only with the `unstable-internals` feature): no semver
//! guarantees; may change or disappear in any release.
//!
//! Ids need to be unique, not secret. They are still drawn from the thread-local CSPRNG
//! (`rand::rng()`), but with two `u64` draws per id rather than one bounded draw per
//! character: each `u64` gives 6 base-60 digits (about 500 instructions per id including
//! the `String`, against 595 for 12 `random_range` draws). A draw is rejected (and redrawn) when
//! it falls into the top, incomplete multiple of 60^6, so every character is exactly
//! uniform. The rejection probability is 2^64 mod 60^6 / 2^64, below 3 × 10^-9.

use rand::RngCore;

/// The reference alphabet (`transport/id.ts`).
pub const ALPHABET: &[u8; 60] = b"1234567890abcdefghijklmnopqrstuvxyzABCDEFGHIJKLMNOPQRSTUVXYZ";

/// Length of generated ids.
pub const ID_LEN: usize = 12;

/// Characters taken from one `u64` draw.
const DIGITS_PER_DRAW: usize = 6;
/// 60^6: the number of distinct 6-character chunks.
const CHUNK_SPACE: u64 = 60u64.pow(DIGITS_PER_DRAW as u32);
/// The largest multiple of [`CHUNK_SPACE`] that fits in a `u64` draw; draws at or above
/// it are rejected so that `draw % CHUNK_SPACE` is uniform.
const ACCEPT_BELOW: u64 = u64::MAX - u64::MAX % CHUNK_SPACE;
const _: () = assert!(ACCEPT_BELOW % CHUNK_SPACE == 0 && u64::MAX - ACCEPT_BELOW < CHUNK_SPACE);

/// Writes 12 uniform alphabet characters, 6 per accepted `u64` from `next_u64`.
fn fill_id(out: &mut [u8; ID_LEN], mut next_u64: impl FnMut() -> u64) {
    for chunk in out.chunks_exact_mut(DIGITS_PER_DRAW) {
        let mut x = loop {
            let x = next_u64();
            if x < ACCEPT_BELOW {
                break x % CHUNK_SPACE;
            }
        };
        for c in chunk {
            *c = ALPHABET[(x % 60) as usize];
            x /= 60;
        }
    }
}

/// A fresh 12-character id (message ids, stream ids).
pub fn generate_id() -> String {
    IdBuf::new().as_str().to_owned()
}

/// A fresh id on the stack: the message id of every outgoing frame is only encoded,
/// never kept, so it needs no allocation.
pub(crate) struct IdBuf([u8; ID_LEN]);

impl IdBuf {
    pub(crate) fn new() -> Self {
        let mut rng = rand::rng();
        let mut buf = [0u8; ID_LEN];
        fill_id(&mut buf, || rng.next_u64());
        IdBuf(buf)
    }

    pub(crate) fn as_str(&self) -> &str {
        // Alphabet bytes are ASCII, so this never falls back to the empty default.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
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

    #[test]
    fn chunks_are_base_60_digits_least_significant_first() {
        let mut draws = [0u64, 59 + 60 + 3600 * 35].into_iter();
        let mut out = [0u8; ID_LEN];
        fill_id(&mut out, || draws.next().unwrap());
        assert_eq!(&out, b"111111Z2A111");
    }

    #[test]
    fn draws_in_the_incomplete_top_range_are_rejected() {
        let mut draws = [u64::MAX, ACCEPT_BELOW, ACCEPT_BELOW - 1, 7].into_iter();
        let mut out = [0u8; ID_LEN];
        fill_id(&mut out, || draws.next().unwrap());
        // ACCEPT_BELOW - 1 is CHUNK_SPACE - 1 modulo CHUNK_SPACE: six `Z`s.
        assert_eq!(&out, b"ZZZZZZ811111");
        assert!(draws.next().is_none());
    }

    #[test]
    fn characters_are_roughly_uniform() {
        let mut counts = [0u32; 60];
        for _ in 0..5_000 {
            for b in generate_id().bytes() {
                counts[ALPHABET.iter().position(|&a| a == b).unwrap()] += 1;
            }
        }
        // 1,000 expected per character; a 6-sigma band is about ±190.
        for (i, &n) in counts.iter().enumerate() {
            assert!(
                (800..1200).contains(&n),
                "{} drawn {n} times",
                ALPHABET[i] as char
            );
        }
    }
}
