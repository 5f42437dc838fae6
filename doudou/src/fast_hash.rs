//! A multiplicative hasher for maps whose keys the process chose itself and fills once or
//! boundedly (metric series, static route paths): a few instructions per word where the
//! standard SipHash costs about a hundred per lookup. Looking up a client's value only hashes
//! it, never inserts it, so such maps cannot be flooded with colliding keys.

use std::hash::{BuildHasher, Hasher};

/// Builds [`FastHasher`]s.
#[derive(Default, Clone, Copy)]
pub(crate) struct BuildFastHasher;

/// The hasher: rotate, xor, multiply, one 64-bit word at a time.
#[derive(Default)]
pub(crate) struct FastHasher(u64);

impl BuildHasher for BuildFastHasher {
    type Hasher = FastHasher;
    fn build_hasher(&self) -> FastHasher {
        FastHasher(0)
    }
}

impl Hasher for FastHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.write_u64(u64::from_le_bytes(word));
        }
    }
    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }
    fn write_u16(&mut self, n: u16) {
        self.write_u64(u64::from(n));
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(s: &str) -> u64 {
        BuildFastHasher.hash_one(s)
    }

    #[test]
    fn every_byte_counts() {
        assert_ne!(hash("/user"), hash("/usex"));
        assert_ne!(hash("/page/users"), hash("/page/userz"));
        assert_ne!(hash("/abcdefgh"), hash("/abcdefg"), "the length separates a shorter key");
        assert_eq!(hash("/page/users"), hash("/page/users"));
    }
}
