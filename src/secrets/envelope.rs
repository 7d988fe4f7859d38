//! The `fn::secret` ciphertext envelope: how a `ciphertext:` value in an environment wraps the
//! bytes a key service returned, with a magic, a version and a CRC-32, all base64-encoded.
//!
//! A `ciphertext:` is one of two framings, told apart by their first bytes once decoded:
//! ESC's envelope (`escx`, the service's ciphertext inside), or a bare age file
//! (`age-encryption.org/v1`, escc's secrets at rest, so that `base64 -d | age -d` reads it;
//! see docs/secrets.md). [`open`] returns the envelope's body, or the age file whole; the
//! host's decrypter tells them apart again by [`AGE_MAGIC`]. The reference knows only the
//! envelope and reports an age file as `invalid header`: an escc-only extension that no
//! envelope can be mistaken for (`escx` is not `age-`).

use crate::go::base64;

const MAGIC: [u8; 4] = *b"escx";
/// The first line of every age file.
pub const AGE_MAGIC: &[u8] = b"age-encryption.org/v1\n";
const VERSION: u32 = 1;

/// Seals ciphertext as `base64("escx" ‖ u32be(1) ‖ ciphertext ‖ u32be(CRC-32 of the rest))`.
pub(crate) fn seal(ciphertext: &[u8]) -> String {
    let mut bytes = Vec::with_capacity(ciphertext.len() + 12);
    bytes.extend_from_slice(&MAGIC);
    bytes.extend_from_slice(&VERSION.to_be_bytes());
    bytes.extend_from_slice(ciphertext);
    let checksum = crc32(&bytes);
    bytes.extend_from_slice(&checksum.to_be_bytes());
    base64::encode(&bytes)
}

/// The `ciphertext:` text of an age file: its base64, on one line. Only the command line
/// encrypts today.
#[cfg(feature = "age")]
#[cfg_attr(not(feature = "cli"), allow(dead_code))]
pub(crate) fn seal_age(file: &[u8]) -> String {
    base64::encode(file)
}

/// Opens an envelope, checking in the reference's order: base64, length (`EOF` below 16 bytes),
/// `invalid header`, `invalid checksum`, `unsupported version`. An age file is returned whole.
pub(crate) fn open(text: &str) -> Result<Vec<u8>, String> {
    let bytes = base64::decode(text)?;
    if bytes.starts_with(AGE_MAGIC) {
        return Ok(bytes);
    }
    // The reference reads a 16-byte minimum (header, version, at least 4 bytes, checksum) and
    // reports a short read as `EOF`.
    if bytes.len() < 16 {
        return Err("EOF".to_owned());
    }
    let (Some((body, checksum)), Some((magic, rest))) = (
        bytes.split_last_chunk::<4>(),
        bytes.split_first_chunk::<4>(),
    ) else {
        return Err("EOF".to_owned());
    };
    if *magic != MAGIC {
        return Err("invalid header".to_owned());
    }
    if crc32(body) != u32::from_be_bytes(*checksum) {
        return Err("invalid checksum".to_owned());
    }
    let Some((version, _)) = rest.split_first_chunk::<4>() else {
        return Err("EOF".to_owned());
    };
    if u32::from_be_bytes(*version) != VERSION {
        return Err("unsupported version".to_owned());
    }
    Ok(body.get(8..).unwrap_or_default().to_vec())
}

/// CRC-32/IEEE (reflected polynomial 0xEDB88320), as Go's `crc32.ChecksumIEEE`.
fn crc32(bytes: &[u8]) -> u32 {
    const TABLE: [u32; 256] = crc_table(0xEDB8_8320);
    crc_with(&TABLE, bytes)
}

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78): the checksum Google's APIs send
/// with payloads (`dataCrc32c` of Secret Manager).
#[cfg(any(feature = "providers", test))]
pub(crate) fn crc32c(bytes: &[u8]) -> u32 {
    const TABLE: [u32; 256] = crc_table(0x82F6_3B78);
    crc_with(&TABLE, bytes)
}

/// The byte table of a reflected CRC-32 with polynomial `poly`.
const fn crc_table(poly: u32) -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i: u32 = 0;
    while i < 256 {
        let mut crc = i;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ poly
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[i as usize] = crc;
        i += 1;
    }
    table
}

/// A reflected CRC-32 of `bytes` with `table` (initial value and final XOR all ones).
fn crc_with(table: &[u32; 256], bytes: &[u8]) -> u32 {
    !bytes.iter().fold(!0u32, |crc, &b| {
        table[((crc ^ u32::from(b)) & 0xff) as usize] ^ (crc >> 8)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rot128(bytes: &[u8]) -> Vec<u8> {
        bytes.iter().map(|b| b.wrapping_add(128)).collect()
    }

    #[test]
    fn envelope_matches_spec_vector() {
        let ciphertext = rot128(b"hunter2");
        assert_eq!(seal(&ciphertext), "ZXNjeAAAAAHo9e705fKyKo30VQ==");
        assert_eq!(open("ZXNjeAAAAAHo9e705fKyKo30VQ=="), Ok(ciphertext));
        assert_eq!(
            open("ZXNjeAAAAAHo9e705fKyKo30\nVQ==\n"),
            Ok(rot128(b"hunter2"))
        );
    }

    #[test]
    fn envelope_errors_in_spec_order() {
        assert_eq!(open("hunter23"), Err("EOF".to_owned()));
        assert_eq!(
            open("aGk"),
            Err("illegal base64 data at input byte 0".to_owned())
        );
        assert_eq!(open(""), Err("EOF".to_owned()));
        // Ciphertexts under 4 bytes seal fine but cannot be opened.
        assert_eq!(open(&seal(b"abc")), Err("EOF".to_owned()));
        assert_eq!(open(&seal(b"abcd")), Ok(b"abcd".to_vec()));
        assert_eq!(open(&seal(&[0; 1000])), Ok(vec![0; 1000]));

        let raw = |magic: &[u8], version: u32, body: &[u8], fix_crc: bool| {
            let mut bytes = [magic, &version.to_be_bytes(), body].concat();
            let sum = if fix_crc {
                crc32(&bytes)
            } else {
                crc32(&bytes) ^ 1
            };
            bytes.extend_from_slice(&sum.to_be_bytes());
            base64::encode(&bytes)
        };
        assert_eq!(
            open(&raw(b"escy", 1, b"abcd", true)),
            Err("invalid header".to_owned())
        );
        assert_eq!(
            open(&raw(b"escy", 2, b"abcd", false)),
            Err("invalid header".to_owned())
        );
        assert_eq!(
            open(&raw(b"escx", 1, b"abcd", false)),
            Err("invalid checksum".to_owned())
        );
        assert_eq!(
            open(&raw(b"escx", 2, b"abcd", false)),
            Err("invalid checksum".to_owned())
        );
        assert_eq!(
            open(&raw(b"escx", 2, b"abcd", true)),
            Err("unsupported version".to_owned())
        );
        assert_eq!(
            open(&raw(b"escx", 0, b"abcd", true)),
            Err("unsupported version".to_owned())
        );
        assert_eq!(open(&raw(b"escx", 1, b"abcd", true)), Ok(b"abcd".to_vec()));
    }

    #[test]
    fn an_age_file_is_returned_whole() {
        let file = b"age-encryption.org/v1\n-> X25519 abc\n--- def\n0123456789abcdef";
        assert_eq!(open(&base64::encode(file)), Ok(file.to_vec()));
        // Only the whole first line counts.
        assert_eq!(
            open(&base64::encode(b"age-encryption.org/v2\nxxxxxxxxxx")),
            Err("invalid header".to_owned())
        );
    }

    #[test]
    fn crc32_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
        // The CRC-32C check value (RFC 3720's and every CRC catalogue's).
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(crc32c(b""), 0);
    }
}
