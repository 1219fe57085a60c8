//! blobmsg, the binary format of ubus messages (libubox's `blob.h` and
//! `blobmsg.h`), written in Rust: the status document goes to ubus as
//! blobmsg ([`status`]), built field by field, so that neither libubox's
//! blob buffer functions nor its JSON conversion (libblobmsg_json, json-c)
//! are needed, and so that this part is tested without libubus.
//!
//! An attribute is a 32-bit big-endian header — bit 31 "extended" (set for
//! blobmsg), bits 24–30 the type, bits 0–23 the length of the attribute
//! including the header but not its trailing padding — then the payload,
//! padded with zeros to 4 bytes. A blobmsg attribute's payload starts with
//! its name: a 16-bit big-endian length, the bytes, a NUL, zeros to 4
//! bytes. A table or array contains its members, each padded, so its length
//! covers the members' padding. The whole message is one attribute (type
//! table, not extended, no name) around the members, as `blobmsg_buf_init`
//! makes it; `ubus_send_reply` sends what is inside.
//!
//! The layout is checked against libubox itself by the opt-in test
//! (tests/ubus.rs: the same document through `blobmsg_add_json_from_string`
//! gives the same bytes).

use crate::selector::Status;

pub const BLOBMSG_TYPE_ARRAY: u32 = 1;
pub const BLOBMSG_TYPE_TABLE: u32 = 2;
pub const BLOBMSG_TYPE_INT64: u32 = 4;
pub const BLOBMSG_TYPE_INT32: u32 = 5;

const BLOB_ATTR_EXTENDED: u32 = 0x8000_0000;
const BLOB_ATTR_ID_SHIFT: u32 = 24;
const BLOB_ATTR_LEN_MASK: u32 = 0x00ff_ffff;

/// A message longer than a blob attribute's 24-bit length allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooLong;

/// Writes one blobmsg message, as libubox's `blob_buf` with the
/// `blobmsg_*` functions does.
#[derive(Debug)]
pub struct BlobBuf {
    buf: Vec<u8>,
    /// Where the tables and arrays still open start.
    open: Vec<usize>,
}

impl Default for BlobBuf {
    fn default() -> Self {
        Self::new()
    }
}

impl BlobBuf {
    /// An empty message (`blobmsg_buf_init`).
    pub fn new() -> Self {
        let mut b = BlobBuf {
            buf: Vec::with_capacity(256),
            open: vec![0],
        };
        b.buf
            .extend_from_slice(&(BLOBMSG_TYPE_TABLE << BLOB_ATTR_ID_SHIFT).to_be_bytes());
        b
    }

    /// Starts a blobmsg attribute: header (length set later) and name.
    fn start(&mut self, kind: u32, name: &str) -> usize {
        let at = self.buf.len();
        let header = BLOB_ATTR_EXTENDED | (kind << BLOB_ATTR_ID_SHIFT);
        self.buf.extend_from_slice(&header.to_be_bytes());
        let name = name.as_bytes();
        // longer names cannot be written; UCI section names are short
        let name = &name[..name.len().min(usize::from(u16::MAX))];
        self.buf
            .extend_from_slice(&(name.len() as u16).to_be_bytes());
        self.buf.extend_from_slice(name);
        self.buf.push(0);
        self.pad();
        at
    }

    /// Sets the length of the attribute at `at` to reach the end of the
    /// buffer (before padding).
    fn set_len(&mut self, at: usize) {
        let len = (self.buf.len() - at) as u32 & BLOB_ATTR_LEN_MASK;
        let word = u32::from_be_bytes(self.buf[at..at + 4].try_into().unwrap());
        let word = (word & !BLOB_ATTR_LEN_MASK) | len;
        self.buf[at..at + 4].copy_from_slice(&word.to_be_bytes());
    }

    fn pad(&mut self) {
        while self.buf.len() % 4 != 0 {
            self.buf.push(0);
        }
    }

    /// `blobmsg_open_table`
    pub fn open_table(&mut self, name: &str) {
        let at = self.start(BLOBMSG_TYPE_TABLE, name);
        self.open.push(at);
    }

    /// `blobmsg_open_array`
    pub fn open_array(&mut self, name: &str) {
        let at = self.start(BLOBMSG_TYPE_ARRAY, name);
        self.open.push(at);
    }

    /// `blobmsg_close_table`, `blobmsg_close_array`
    pub fn close(&mut self) {
        // the outermost attribute is closed by `finish`
        if self.open.len() > 1 {
            let at = self.open.pop().unwrap();
            self.set_len(at);
        }
    }

    /// An integer as `blobmsg_add_json_element` writes a JSON integer (and
    /// libubus-lua a Lua number): 32 bits where it fits, 64 otherwise.
    pub fn add_int(&mut self, name: &str, value: u64) {
        match u32::try_from(value) {
            Ok(v) if v <= i32::MAX as u32 => {
                let at = self.start(BLOBMSG_TYPE_INT32, name);
                self.buf.extend_from_slice(&v.to_be_bytes());
                self.set_len(at);
            }
            _ => {
                let at = self.start(BLOBMSG_TYPE_INT64, name);
                self.buf.extend_from_slice(&value.to_be_bytes());
                self.set_len(at);
            }
        }
        self.pad();
    }

    /// The message (closing what is still open), ready for
    /// `ubus_send_reply`.
    pub fn finish(mut self) -> Result<Vec<u8>, TooLong> {
        while self.open.len() > 1 {
            self.close();
        }
        if self.buf.len() > BLOB_ATTR_LEN_MASK as usize {
            return Err(TooLong);
        }
        self.set_len(0);
        Ok(self.buf)
    }
}

/// The status document as blobmsg: what the original's
/// `conn:reply(req, app:status())` sends.
pub fn status(status: &Status) -> Result<Vec<u8>, TooLong> {
    let mut b = BlobBuf::new();
    b.open_table("peers");
    for (name, established) in &status.peers {
        match established {
            Some(secs) => {
                b.open_table(name);
                b.add_int("established", *secs);
                b.close();
            }
            None => {
                b.open_array(name);
                b.close();
            }
        }
    }
    b.close();
    b.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes
            .chunks(4)
            .map(|w| w.iter().map(|b| format!("{b:02x}")).collect::<String>())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn the_status_document_byte_by_byte() {
        let doc = Status {
            peers: vec![("gw1", None), ("gw2", Some(7))],
        };
        // {"peers":{"gw1":[],"gw2":{"established":7}}}, written out by
        // hand from blob.h and blobmsg.h
        let expected = [
            "02000040", // the message: table, 64 bytes
            "8200003c", // "peers": extended, table, 60 bytes
            "00057065", // name length 5, "pe
            "65727300", // ers", NUL
            "8100000c", // "gw1": array, 12 bytes (header and name only)
            "00036777", // name length 3, "gw
            "31000000", // 1", NUL, padding
            "82000024", // "gw2": table, 36 bytes
            "00036777", "32000000", "85000018", // "established": int32, 24 bytes
            "000b6573", // name length 11, "es
            "7461626c", // tabl
            "69736865", // ishe
            "64000000", // d", NUL, padding
            "00000007", // 7
        ]
        .join(" ");
        assert_eq!(hex(&status(&doc).unwrap()), expected);
    }

    #[test]
    fn no_peers_and_large_numbers() {
        let empty = status(&Status { peers: vec![] }).unwrap();
        assert_eq!(hex(&empty), "02000010 8200000c 00057065 65727300");
        // past i32::MAX: 64 bits, as blobmsg_add_json_element does
        let mut b = BlobBuf::new();
        b.add_int("e", 1 << 31);
        b.add_int("f", i32::MAX as u64);
        assert_eq!(
            hex(&b.finish().unwrap()),
            "02000020 84000010 00016500 00000000 80000000 8500000c 00016600 7fffffff"
        );
    }

    #[test]
    fn odd_name_lengths_are_padded_and_the_lengths_add_up() {
        for n in 0..9 {
            let name = "x".repeat(n);
            let doc = Status {
                peers: vec![(&name, Some(1)), ("y", None)],
            };
            let bytes = status(&doc).unwrap();
            assert_eq!(bytes.len() % 4, 0);
            // walk the attributes: every length lands on the next one
            let word = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
            assert_eq!((word(0) & BLOB_ATTR_LEN_MASK) as usize, bytes.len());
            let peers = 4;
            let peers_len = (word(peers) & BLOB_ATTR_LEN_MASK) as usize;
            assert_eq!(peers + peers_len, bytes.len());
            let first = peers + 4 + 8;
            let first_len = (word(first) & BLOB_ATTR_LEN_MASK) as usize;
            let name_hdr = (2 + n + 1).div_ceil(4) * 4;
            assert_eq!(first_len, 4 + name_hdr + 4 + 16 + 4);
            let second = first + first_len.div_ceil(4) * 4;
            assert_eq!(word(second) >> 24, 0x80 | BLOBMSG_TYPE_ARRAY);
            assert_eq!(second + 8, bytes.len());
        }
    }
}
