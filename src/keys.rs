//! fastd keys and WireGuard keys: parsing, translating, and keeping secrets
//! secret.
//!
//! # What a fastd key is
//!
//! fastd (method `ec25519-fhmqvc`) works on Curve25519 through libuecc. Its
//! secret is the 32-byte scalar written as 64 hex digits in byte order, the
//! same little-endian scalar that WireGuard writes in base64; `fastd
//! --generate-key` clamps it exactly as X25519 does (libuecc's
//! `ecc_25519_gf_sanitize_secret`: bits 0–2 and 255 cleared, bit 254 set).
//! So a fastd secret *is* a WireGuard private key, only spelled in hex.
//! Gluon relies on this: its WireGuard package turns a node's fastd secret
//! into the node's WireGuard private key by a plain hex → base64 conversion.
//!
//! The fastd public key is *not* an Ed25519-style compressed point. fastd
//! stores it with `ecc_25519_store_packed_legacy`: the x coordinate of the
//! point on libuecc's original twisted Edwards curve `a·x² + y² = 1 + d·x²·y²`
//! with `a = 486664`, `d = 486660` (little endian, 255 bits), with the parity
//! of y in the top bit. That curve and Ed25519's differ only by a scaling
//! of x, so y is shared, and the WireGuard (Montgomery) public key is
//! `u = (1 + y) / (1 − y)`. Translating therefore means recovering y from the
//! legacy x (`y² = (1 − a·x²) / (1 − d·x²)`; no square root means the bytes
//! are no point at all, and fastd rejects them too), then taking the point to
//! the Montgomery form.
//!
//! The field arithmetic for that first step (a square root modulo
//! 2²⁵⁵ − 19) is done with `num-bigint`, since curve25519-dalek keeps its
//! field elements private; it only touches public keys, so it need not be
//! constant-time. curve25519-dalek then decompresses the point (checking it
//! once more), rejects points of small order, and maps it to Montgomery form.

use base64::Engine as _;
use curve25519_dalek::edwards::CompressedEdwardsY;
use curve25519_dalek::montgomery::MontgomeryPoint;
use num_bigint::BigUint;
use std::fmt;
use std::str::FromStr;
use zeroize::{Zeroize, Zeroizing};

/// The length of every key here, in bytes.
pub const KEY_BYTES: usize = 32;

/// Which kind of key a text was meant to be, for error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    FastdPublic,
    FastdSecret,
    WireGuardPublic,
    WireGuardPrivate,
}

impl fmt::Display for KeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyKind::FastdPublic => "fastd public key",
            KeyKind::FastdSecret => "fastd secret",
            KeyKind::WireGuardPublic => "WireGuard public key",
            KeyKind::WireGuardPrivate => "WireGuard private key",
        })
    }
}

impl KeyKind {
    fn is_secret(self) -> bool {
        matches!(self, KeyKind::FastdSecret | KeyKind::WireGuardPrivate)
    }
}

/// Why a text is not a usable key. No variant carries any part of a secret:
/// for secrets, only lengths and positions are reported.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the {kind} is {len} characters long; it must be 64 hex digits (32 bytes)")]
    HexLength { kind: KeyKind, len: usize },
    /// `found` is `None` for secrets, which are never echoed.
    #[error("the {kind} has {} at position {position}; it must be 64 hex digits (0-9, a-f)", describe_char(*.found))]
    InvalidHex {
        kind: KeyKind,
        position: usize,
        found: Option<char>,
    },
    #[error("the {kind} is not base64 of 32 bytes (it must be 44 characters ending in '=', as `wg` prints it)")]
    InvalidBase64 { kind: KeyKind },
    #[error("the fastd public key is not a point on the curve; fastd rejects it too (\"invalid peer definition\")")]
    NotOnCurve,
    #[error("the fastd public key is a point of small order, which no fastd key pair produces; WireGuard cannot use it")]
    SmallOrder,
    #[error("the fastd secret is not clamped as `fastd --generate-key` makes secrets (lowest 3 bits and top bit clear, bit 254 set); WireGuard would clamp it to a different key, so the node's identity would change")]
    SecretNotClamped,
}

fn describe_char(found: Option<char>) -> String {
    match found {
        Some(c) => format!("{c:?}"),
        None => "a character that is not a hex digit".to_string(),
    }
}

/// Decodes exactly 64 hex digits (either case, as fastd accepts) into
/// `out`. For secrets, errors never say which character was wrong.
fn decode_hex(text: &str, kind: KeyKind, out: &mut [u8; KEY_BYTES]) -> Result<(), KeyError> {
    let digits = text.as_bytes();
    if digits.len() != 2 * KEY_BYTES {
        return Err(KeyError::HexLength {
            kind,
            len: text.chars().count(),
        });
    }
    for (i, pair) in digits.chunks_exact(2).enumerate() {
        let mut byte = 0u8;
        for (j, &c) in pair.iter().enumerate() {
            let nibble = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => {
                    let position = 2 * i + j + 1;
                    // A multi-byte character makes `position` a byte offset
                    // in the middle of it; report the character it starts.
                    let found = (!kind.is_secret())
                        .then(|| text.get(2 * i + j..).and_then(|s| s.chars().next()))
                        .flatten();
                    return Err(KeyError::InvalidHex {
                        kind,
                        position,
                        found,
                    });
                }
            };
            byte = (byte << 4) | nibble;
        }
        out[i] = byte;
    }
    Ok(())
}

fn encode_hex(bytes: &[u8; KEY_BYTES]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(2 * KEY_BYTES);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Decodes WireGuard's base64 (standard alphabet, padded, canonical).
fn decode_base64(text: &str, kind: KeyKind, out: &mut [u8; KEY_BYTES]) -> Result<(), KeyError> {
    if text.len() != 44 {
        return Err(KeyError::InvalidBase64 { kind });
    }
    let mut buf = Zeroizing::new([0u8; 33]);
    match base64::engine::general_purpose::STANDARD.decode_slice(text, &mut buf[..]) {
        Ok(KEY_BYTES) => {
            out.copy_from_slice(&buf[..KEY_BYTES]);
            Ok(())
        }
        _ => Err(KeyError::InvalidBase64 { kind }),
    }
}

/// A fastd public key: 32 bytes in libuecc's legacy packed form. Only
/// points fastd accepts (and that are not of small order) can be made, so
/// translating one cannot fail.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct FastdPublicKey {
    packed: [u8; KEY_BYTES],
    montgomery: [u8; KEY_BYTES],
}

impl FastdPublicKey {
    /// Parses 64 hex digits (either case) and checks the point.
    pub fn from_hex(text: &str) -> Result<FastdPublicKey, KeyError> {
        let mut packed = [0u8; KEY_BYTES];
        decode_hex(text, KeyKind::FastdPublic, &mut packed)?;
        FastdPublicKey::from_bytes(packed)
    }

    /// Checks 32 bytes of legacy packed form.
    pub fn from_bytes(packed: [u8; KEY_BYTES]) -> Result<FastdPublicKey, KeyError> {
        let montgomery = legacy_packed_to_montgomery(&packed)?;
        Ok(FastdPublicKey { packed, montgomery })
    }

    pub fn as_bytes(&self) -> &[u8; KEY_BYTES] {
        &self.packed
    }

    /// The key as fastd writes it: 64 lower-case hex digits.
    pub fn to_hex(&self) -> String {
        encode_hex(&self.packed)
    }

    /// The same key as WireGuard knows it.
    pub fn to_wireguard(&self) -> WgPublicKey {
        WgPublicKey(self.montgomery)
    }
}

impl fmt::Display for FastdPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for FastdPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FastdPublicKey({})", self.to_hex())
    }
}

impl FromStr for FastdPublicKey {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FastdPublicKey::from_hex(s)
    }
}

/// A WireGuard public key: the Montgomery u coordinate, 32 bytes, written
/// in base64. WireGuard accepts any 32 bytes here.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WgPublicKey([u8; KEY_BYTES]);

impl WgPublicKey {
    pub fn from_bytes(bytes: [u8; KEY_BYTES]) -> WgPublicKey {
        WgPublicKey(bytes)
    }

    /// Parses the 44-character base64 text `wg pubkey` prints.
    pub fn from_base64(text: &str) -> Result<WgPublicKey, KeyError> {
        let mut bytes = [0u8; KEY_BYTES];
        decode_base64(text, KeyKind::WireGuardPublic, &mut bytes)?;
        Ok(WgPublicKey(bytes))
    }

    pub fn as_bytes(&self) -> &[u8; KEY_BYTES] {
        &self.0
    }

    /// The base64 text, exactly as `wg pubkey` prints it (Gluon derives the
    /// node's link-local address from this text).
    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.0)
    }
}

impl fmt::Display for WgPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_base64())
    }
}

impl fmt::Debug for WgPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WgPublicKey({})", self.to_base64())
    }
}

impl FromStr for WgPublicKey {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        WgPublicKey::from_base64(s)
    }
}

/// A node's secret scalar: a fastd secret and a WireGuard private key at
/// once. Its `Debug` and `Display` print a mask, it is not `Clone`, and its
/// bytes are zeroed when it is dropped. The key text leaves it only through
/// the `expose_*` methods, whose results zero themselves too. The bytes
/// live on the heap, so that moving a `Secret` leaves no copies on the
/// stack.
pub struct Secret {
    bytes: Box<[u8; KEY_BYTES]>,
}

impl Secret {
    /// What `Debug` and `Display` print instead of the key.
    pub const MASK: &'static str = "********";

    /// Parses a fastd secret: 64 hex digits (either case), clamped as
    /// `fastd --generate-key` makes them.
    pub fn from_fastd_hex(text: &str) -> Result<Secret, KeyError> {
        let mut secret = Secret {
            bytes: Box::new([0u8; KEY_BYTES]),
        };
        decode_hex(text, KeyKind::FastdSecret, &mut secret.bytes)?;
        if !secret.is_clamped() {
            return Err(KeyError::SecretNotClamped);
        }
        Ok(secret)
    }

    /// Parses a WireGuard private key (base64 of 32 bytes). WireGuard clamps
    /// any 32 bytes itself, so an unclamped key is accepted here.
    pub fn from_wireguard_base64(text: &str) -> Result<Secret, KeyError> {
        let mut secret = Secret {
            bytes: Box::new([0u8; KEY_BYTES]),
        };
        decode_base64(text, KeyKind::WireGuardPrivate, &mut secret.bytes)?;
        Ok(secret)
    }

    /// Clamped as X25519 clamps (and libuecc's `ecc_25519_gf_sanitize_secret`).
    fn is_clamped(&self) -> bool {
        self.bytes[0] & 0x07 == 0 && self.bytes[31] & 0x80 == 0 && self.bytes[31] & 0x40 != 0
    }

    /// The WireGuard private key text (base64), as `wg genkey` prints keys.
    /// It has room for a newline to be added without reallocating (which
    /// would leave a copy behind).
    pub fn expose_wireguard_base64(&self) -> Zeroizing<String> {
        let mut text = Zeroizing::new(String::with_capacity(64));
        base64::engine::general_purpose::STANDARD.encode_string(&self.bytes[..], &mut text);
        text
    }

    /// The fastd secret text (64 lower-case hex digits).
    pub fn expose_fastd_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(encode_hex(&self.bytes))
    }

    /// The WireGuard public key of this secret (what `wg pubkey` prints).
    pub fn wireguard_public_key(&self) -> WgPublicKey {
        WgPublicKey(MontgomeryPoint::mul_base_clamped(*self.bytes).to_bytes())
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", Secret::MASK)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Secret::MASK)
    }
}

/// Parses either spelling of a public key: 64 hex digits are a fastd key
/// (translated), anything else must be WireGuard base64.
pub fn parse_any_public_key(text: &str) -> Result<WgPublicKey, KeyError> {
    if text.len() == 2 * KEY_BYTES {
        Ok(FastdPublicKey::from_hex(text)?.to_wireguard())
    } else {
        WgPublicKey::from_base64(text)
    }
}

/// 2²⁵⁵ − 19.
fn field_prime() -> BigUint {
    (BigUint::from(1u8) << 255u32) - BigUint::from(19u8)
}

/// A square root modulo p = 2²⁵⁵ − 19 (p ≡ 5 mod 8), if there is one: the
/// candidate a^((p+3)/8) is a root of a or of −a; in the second case it is
/// multiplied by √−1 = 2^((p−1)/4).
fn sqrt_mod_p(a: &BigUint, p: &BigUint) -> Option<BigUint> {
    let candidate = a.modpow(&((p + 3u8) >> 3u32), p);
    let square = &candidate * &candidate % p;
    if &square == a {
        return Some(candidate);
    }
    if (&square + a) % p == BigUint::ZERO {
        let sqrt_minus_one = BigUint::from(2u8).modpow(&((p - 1u8) >> 2u32), p);
        return Some(candidate * sqrt_minus_one % p);
    }
    None
}

/// libuecc's legacy packed point → the Montgomery u coordinate (WireGuard's
/// public key). See the module documentation for the curve.
fn legacy_packed_to_montgomery(packed: &[u8; KEY_BYTES]) -> Result<[u8; KEY_BYTES], KeyError> {
    const A: u32 = 486664;
    const D: u32 = 486660;
    let p = field_prime();
    let mut x_bytes = *packed;
    let y_is_odd = x_bytes[31] >> 7 == 1;
    x_bytes[31] &= 0x7f;
    // Like fastd, take x modulo p (a value ≥ p is not rejected there).
    let x = BigUint::from_bytes_le(&x_bytes) % &p;
    let x2 = &x * &x % &p;
    let one_minus = |c: u32| (&p + 1u8 - (BigUint::from(c) * &x2 % &p)) % &p;
    // 1 − d·x² is never zero: d is not a square modulo p.
    let numerator = one_minus(A);
    let denominator = one_minus(D);
    let y2 = numerator * denominator.modpow(&(&p - 2u8), &p) % &p;
    let mut y = sqrt_mod_p(&y2, &p).ok_or(KeyError::NotOnCurve)?;
    if y.bit(0) != y_is_odd {
        y = (&p - y) % &p;
    }
    // The Ed25519 encoding of the same point: y with the sign of x in the
    // top bit. The Montgomery u depends on y alone, so the sign is left 0.
    let mut compressed = [0u8; KEY_BYTES];
    let y_bytes = y.to_bytes_le();
    compressed[..y_bytes.len()].copy_from_slice(&y_bytes);
    let point = CompressedEdwardsY(compressed)
        .decompress()
        .ok_or(KeyError::NotOnCurve)?;
    if point.is_small_order() {
        return Err(KeyError::SmallOrder);
    }
    Ok(point.to_montgomery().to_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    // From `fastd --generate-key` (fastd v22); the WireGuard keys from
    // `wg pubkey` on the base64 of the secret.
    const SECRET: &str = "50500d2f0dae0a4b9fb291c1823762de53230fe2c28a42b17abc264edd97727c";
    const PUBLIC: &str = "d3ac6266452a01a771e3c06b3b285d3dc04fe5be266f70392463497ae283a70b";

    #[test]
    fn a_secret_and_its_public_key_translate_to_a_wireguard_pair() {
        let secret = Secret::from_fastd_hex(SECRET).unwrap();
        let public = FastdPublicKey::from_hex(PUBLIC).unwrap();
        assert_eq!(secret.wireguard_public_key(), public.to_wireguard());
        // same scalar, hex → base64
        let b64 = secret.expose_wireguard_base64();
        let back = Secret::from_wireguard_base64(&b64).unwrap();
        assert_eq!(*back.expose_fastd_hex(), SECRET);
    }

    #[test]
    fn upper_case_hex_is_the_same_key() {
        let lower = FastdPublicKey::from_hex(PUBLIC).unwrap();
        let upper = FastdPublicKey::from_hex(&PUBLIC.to_uppercase()).unwrap();
        assert_eq!(lower, upper);
        assert_eq!(upper.to_hex(), PUBLIC);
    }

    #[test]
    fn secrets_are_masked() {
        let secret = Secret::from_fastd_hex(SECRET).unwrap();
        assert_eq!(format!("{secret:?}"), "Secret(********)");
        assert_eq!(format!("{secret}"), "********");
        assert!(!format!("{secret:#?}").contains("50"));
    }

    #[test]
    fn hex_errors_say_what_and_where() {
        let mut bad = PUBLIC.to_string();
        bad.replace_range(10..11, "g");
        assert_eq!(
            FastdPublicKey::from_hex(&bad).unwrap_err(),
            KeyError::InvalidHex {
                kind: KeyKind::FastdPublic,
                position: 11,
                found: Some('g')
            }
        );
        assert_eq!(
            FastdPublicKey::from_hex(&PUBLIC[..63]).unwrap_err(),
            KeyError::HexLength {
                kind: KeyKind::FastdPublic,
                len: 63
            }
        );
    }

    #[test]
    fn secret_errors_do_not_echo_the_secret() {
        let mut bad = SECRET.to_string();
        bad.replace_range(0..1, "z");
        let err = Secret::from_fastd_hex(&bad).unwrap_err();
        assert_eq!(
            err,
            KeyError::InvalidHex {
                kind: KeyKind::FastdSecret,
                position: 1,
                found: None
            }
        );
        let message = err.to_string();
        assert!(!message.contains('z'), "{message}");
        assert!(!message.contains(&SECRET[1..9]), "{message}");
    }

    #[test]
    fn unclamped_secrets_are_refused() {
        // bit 0 set
        let s = format!("51{}", &SECRET[2..]);
        assert_eq!(
            Secret::from_fastd_hex(&s).unwrap_err(),
            KeyError::SecretNotClamped
        );
        // bit 254 clear
        let s = format!("{}3c", &SECRET[..62]);
        assert_eq!(
            Secret::from_fastd_hex(&s).unwrap_err(),
            KeyError::SecretNotClamped
        );
    }

    #[test]
    fn small_order_points_are_refused() {
        // All zero is x = 0 with even y: the point (0, −1), of order 2.
        // fastd accepts it (it only refuses the identity), WireGuard cannot
        // use it.
        let zero = "0".repeat(64);
        assert_eq!(
            FastdPublicKey::from_hex(&zero).unwrap_err(),
            KeyError::SmallOrder
        );
        // x = 0 with odd y is the identity (0, 1).
        let identity = format!("{}80", "0".repeat(62));
        assert_eq!(
            FastdPublicKey::from_hex(&identity).unwrap_err(),
            KeyError::SmallOrder
        );
    }

    #[test]
    fn x_equal_two_is_not_on_the_curve() {
        // fastd v22 refuses this key with "invalid peer definition"
        // (checked in tests/keys.rs against fastd itself).
        let key = format!("02{}", "0".repeat(62));
        assert_eq!(
            FastdPublicKey::from_hex(&key).unwrap_err(),
            KeyError::NotOnCurve
        );
    }

    #[test]
    fn wireguard_base64_must_be_canonical_and_32_bytes() {
        let key = FastdPublicKey::from_hex(PUBLIC).unwrap().to_wireguard();
        let text = key.to_base64();
        assert_eq!(WgPublicKey::from_base64(&text).unwrap(), key);
        assert!(WgPublicKey::from_base64(&text[..43]).is_err());
        // the 43rd character carries 4 bits; changing the 2 unused ones
        // makes non-canonical base64
        let mut chars: Vec<char> = text.chars().collect();
        let last = chars[42];
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let index = alphabet.find(last).unwrap();
        chars[42] = alphabet.as_bytes()[index ^ 1] as char;
        let tweaked: String = chars.into_iter().collect();
        assert!(WgPublicKey::from_base64(&tweaked).is_err());
    }
}
