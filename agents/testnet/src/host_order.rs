//! Netlink's headers and most of its attributes are in the host's byte
//! order. Message-layout tests state the expected bytes with these, written
//! out per byte order rather than with `to_ne_bytes`, so that they are
//! independent of the code under test; under a big-endian target (.ci/cross)
//! they state the big-endian layout.

/// A 16-bit field as the target lays it out.
#[cfg(target_endian = "big")]
pub fn u16_bytes(v: u16) -> Vec<u8> {
    vec![(v >> 8) as u8, v as u8]
}

/// A 16-bit field as the target lays it out.
#[cfg(target_endian = "little")]
pub fn u16_bytes(v: u16) -> Vec<u8> {
    vec![v as u8, (v >> 8) as u8]
}

/// A 32-bit field as the target lays it out.
pub fn u32_bytes(v: u32) -> Vec<u8> {
    let (high, low) = (u16_bytes((v >> 16) as u16), u16_bytes(v as u16));
    if cfg!(target_endian = "big") {
        [high, low].concat()
    } else {
        [low, high].concat()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_in_the_targets_byte_order() {
        assert_eq!(u16_bytes(0x0102), 0x0102u16.to_ne_bytes());
        assert_eq!(u32_bytes(0x0102_0304), 0x0102_0304u32.to_ne_bytes());
        let big = cfg!(target_endian = "big");
        assert_eq!(u32_bytes(1)[if big { 3 } else { 0 }], 1);
    }
}
