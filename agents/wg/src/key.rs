//! WireGuard keys: 32 bytes, written as base64 by `wg` and in configs, as hex
//! on the UAPI socket.

use std::fmt;
use std::str::FromStr;

/// Length of every WireGuard key (Curve25519 points and scalars, preshared
/// keys).
pub const KEY_LEN: usize = 32;

/// A public key (or any other key whose value is not secret).
///
/// `Display` and `FromStr` use the 44-character base64 form that `wg`
/// prints and accepts; parsing is as strict as `wg`'s: exactly 43 base64
/// characters and one `=`, with the unused low bits of the last character
/// zero, so every key has one text form (which matters: Gluon derives a
/// node's addresses from the MD5 of that text).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key(pub [u8; KEY_LEN]);

/// A private key or a preshared key: never printed, zeroed when dropped.
///
/// `Debug` prints a mask; there is deliberately no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey([u8; KEY_LEN]);

/// Why a key did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError(&'static str);

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for KeyError {}

impl From<KeyError> for std::io::Error {
    fn from(e: KeyError) -> Self {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, e)
    }
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn b64_value(c: u8) -> Option<u32> {
    Some(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    } as u32)
}

fn encode_base64(key: &[u8; KEY_LEN], out: &mut [u8; 44]) {
    let mut o = 0;
    for chunk in key.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            out[o + i] = ALPHABET[((n >> (18 - 6 * i)) & 63) as usize];
        }
        o += 4;
    }
    // 32 bytes = 10 groups of 3 and 2 left over: one padding character
    out[43] = b'=';
}

fn decode_base64(text: &str) -> Result<[u8; KEY_LEN], KeyError> {
    let t = text.as_bytes();
    if t.len() != 44 || t[43] != b'=' {
        return Err(KeyError("a key is 44 base64 characters ending in '='"));
    }
    let mut key = [0u8; KEY_LEN];
    let mut o = 0;
    for group in t[..43].chunks(4) {
        let mut n = 0u32;
        for (i, &c) in group.iter().enumerate() {
            let v = b64_value(c).ok_or(KeyError("a key has only base64 characters"))?;
            n |= v << (18 - 6 * i);
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        let take = (KEY_LEN - o).min(3);
        key[o..o + take].copy_from_slice(&bytes[..take]);
        o += take;
        if group.len() < 4 && n & 0xff != 0 {
            // the last character carries 2 bits beyond the 32 bytes
            return Err(KeyError("a key's last base64 character is not canonical"));
        }
    }
    Ok(key)
}

fn encode_hex(key: &[u8; KEY_LEN]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(2 * KEY_LEN);
    for b in key {
        s.push(HEX[usize::from(b >> 4)] as char);
        s.push(HEX[usize::from(b & 15)] as char);
    }
    s
}

fn decode_hex(text: &str) -> Result<[u8; KEY_LEN], KeyError> {
    let t = text.as_bytes();
    if t.len() != 2 * KEY_LEN {
        return Err(KeyError("a hex key is 64 hex digits"));
    }
    let digit = |c: u8| -> Result<u8, KeyError> {
        match c {
            b'0'..=b'9' => Ok(c - b'0'),
            b'a'..=b'f' => Ok(c - b'a' + 10),
            b'A'..=b'F' => Ok(c - b'A' + 10),
            _ => Err(KeyError("a hex key has only hex digits")),
        }
    };
    let mut key = [0u8; KEY_LEN];
    for (i, pair) in t.chunks(2).enumerate() {
        key[i] = (digit(pair[0])? << 4) | digit(pair[1])?;
    }
    Ok(key)
}

impl Key {
    /// The key from its 64 hex digits (the UAPI form).
    pub fn from_hex(text: &str) -> Result<Self, KeyError> {
        decode_hex(text).map(Key)
    }

    /// The 64 lower-case hex digits of the key (the UAPI form).
    pub fn to_hex(&self) -> String {
        encode_hex(&self.0)
    }

    /// The key's bytes.
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// Whether all bytes are zero (what the UAPI reports for "no preshared
    /// key").
    pub fn is_zero(&self) -> bool {
        self.0 == [0; KEY_LEN]
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = [0u8; 44];
        encode_base64(&self.0, &mut out);
        f.write_str(std::str::from_utf8(&out).expect("base64 is ASCII"))
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({self})")
    }
}

impl FromStr for Key {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<Self, KeyError> {
        decode_base64(s).map(Key)
    }
}

impl SecretKey {
    /// A secret key from its bytes.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        SecretKey(bytes)
    }

    /// The key from its base64 text, as `wg genkey` prints it (surrounding
    /// white space, such as the newline of a key file, is ignored).
    pub fn from_base64(text: &str) -> Result<Self, KeyError> {
        decode_base64(text.trim()).map(SecretKey)
    }

    /// The key from its 64 hex digits (the UAPI form).
    pub fn from_hex(text: &str) -> Result<Self, KeyError> {
        decode_hex(text).map(SecretKey)
    }

    /// The secret bytes.
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// The key in hex, for the UAPI.
    #[cfg_attr(not(feature = "userspace"), allow(dead_code))]
    pub(crate) fn to_hex(&self) -> String {
        encode_hex(&self.0)
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<hidden>)")
    }
}

impl Drop for SecretKey {
    fn drop(&mut self) {
        for b in self.0.iter_mut() {
            // SAFETY: `b` is a valid, aligned, exclusive reference. A
            // volatile write is not optimised away although the value is
            // never read again.
            unsafe { std::ptr::write_volatile(b, 0) };
        }
        std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trip() {
        // a key from `wg genkey | wg pubkey`
        let text = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=";
        let key: Key = text.parse().unwrap();
        assert_eq!(key.to_string(), text);
        // python3 -c "import base64; print(base64.b64decode('…').hex())"
        assert_eq!(
            key.to_hex(),
            "c53201039adba14be71f886da1d8dbe9eebded08cb111b75340078999aa9f038"
        );
        assert_eq!(Key::from_hex(&key.to_hex()).unwrap(), key);
        assert_eq!(Key::from_hex(&key.to_hex().to_uppercase()).unwrap(), key);
    }

    #[test]
    fn all_byte_values_round_trip() {
        for start in 0..=255u8 {
            let mut bytes = [0u8; KEY_LEN];
            for (i, b) in bytes.iter_mut().enumerate() {
                *b = start.wrapping_add((i * 37) as u8);
            }
            let key = Key(bytes);
            assert_eq!(key.to_string().parse::<Key>().unwrap(), key);
        }
    }

    #[test]
    fn rejects_what_wg_rejects() {
        let good = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=";
        assert!(good[..43].parse::<Key>().is_err());
        assert!(format!("{good}=").parse::<Key>().is_err());
        assert!(good.replace('=', "A").parse::<Key>().is_err());
        assert!(good.replacen('x', "-", 1).parse::<Key>().is_err());
        // the last character's two low bits are beyond the 32 bytes
        assert!("xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dh="
            .parse::<Key>()
            .is_err());
        assert!(Key::from_hex("abc").is_err());
        assert!(Key::from_hex(&"g".repeat(64)).is_err());
    }

    #[test]
    fn secrets_are_masked() {
        let k = SecretKey::from_base64("yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\n").unwrap();
        assert_eq!(format!("{k:?}"), "SecretKey(<hidden>)");
        assert_eq!(SecretKey::from_hex(&k.to_hex()).unwrap(), k);
    }
}
