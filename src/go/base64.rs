//! Go's `encoding/base64` with `StdEncoding` (standard alphabet, padded), as `fn::toBase64`,
//! `fn::fromBase64` and the ciphertext envelope use it.

const BASE64_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub(crate) fn encode(bytes: &[u8]) -> String {
    let sextet = |n: u32| char::from(BASE64_ALPHABET[(n & 0x3f) as usize]);
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (b(0) << 16) | (b(1) << 8) | b(2);
        out.push(sextet(n >> 18));
        out.push(sextet(n >> 12));
        out.push(if chunk.len() > 1 { sextet(n >> 6) } else { '=' });
        out.push(if chunk.len() > 2 { sextet(n) } else { '=' });
    }
    out
}

/// Decodes like Go's `base64.StdEncoding.DecodeString`: padding required, `\r` and `\n` skipped
/// anywhere, unused trailing bits ignored (the encoding is not strict), and errors reported as
/// `illegal base64 data at input byte N` with Go's offset.
pub(crate) fn decode(text: &str) -> Result<Vec<u8>, String> {
    let src = text.as_bytes();
    let mut out = Vec::with_capacity(src.len() / 4 * 3);
    let mut si = 0;
    while si < src.len() {
        si = decode_quantum(src, si, &mut out)
            .map_err(|at| format!("illegal base64 data at input byte {at}"))?;
    }
    Ok(out)
}

fn base64_value(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Decodes one four-character quantum starting at `si` (skipping newlines), appending its bytes.
/// Returns where the next quantum starts, or the offset Go reports for the first error. The
/// offsets are Go's, including its quirks: a short final quantum blames its first character
/// (counting back by characters *decoded*, not newlines skipped), and padding that is not followed
/// by a second `=` blames the byte before the offending one.
fn decode_quantum(src: &[u8], mut si: usize, out: &mut Vec<u8>) -> Result<usize, usize> {
    let skip_newlines = |mut at: usize| {
        while matches!(src.get(at), Some(b'\n' | b'\r')) {
            at += 1;
        }
        at
    };
    let mut sextets = [0u8; 4];
    let mut len = 0;
    let mut trailing_garbage = None;
    while len < 4 {
        let Some(&c) = src.get(si) else {
            // Input ends inside the quantum: fine only if nothing was read.
            return if len == 0 { Ok(si) } else { Err(si - len) };
        };
        si += 1;
        if let Some(v) = base64_value(c) {
            sextets[len] = v;
            len += 1;
            continue;
        }
        if c == b'\n' || c == b'\r' {
            continue;
        }
        if c != b'=' || len < 2 {
            return Err(si - 1);
        }
        if len == 2 {
            // `xx=` needs a second `=`.
            si = skip_newlines(si);
            match src.get(si) {
                None => return Err(src.len()),
                Some(b'=') => si += 1,
                Some(_) => return Err(si - 1),
            }
        }
        // Padding ends the input; only newlines may follow.
        si = skip_newlines(si);
        if si < src.len() {
            trailing_garbage = Some(si);
        }
        break;
    }
    let n = sextets.iter().fold(0u32, |n, &s| (n << 6) | u32::from(s));
    let bytes = n.to_be_bytes();
    out.extend_from_slice(bytes.get(1..len).unwrap_or_default());
    match trailing_garbage {
        Some(at) => Err(at),
        None => Ok(si),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_encodes_rfc4648_vectors() {
        let vectors = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in vectors {
            assert_eq!(encode(plain.as_bytes()), encoded);
            assert_eq!(decode(encoded), Ok(plain.as_bytes().to_vec()));
        }
        assert_eq!(encode(&[0xff, 0xfe, 0xfd, 0x00]), "//79AA==");
    }

    #[test]
    fn base64_decode_is_lenient_where_go_is() {
        assert_eq!(decode("\r\n"), Ok(vec![]));
        assert_eq!(decode("Zm9v\nYmFy\r\n"), Ok(b"foobar".to_vec()));
        assert_eq!(decode("Z\nm\r9vYg=\n="), Ok(b"foob".to_vec()));
        // StdEncoding is not strict: unused trailing bits need not be zero.
        assert_eq!(decode("Zm9="), Ok(b"fo".to_vec()));
        assert_eq!(decode("Zh=="), Ok(b"f".to_vec()));
    }

    #[test]
    fn base64_errors_report_gos_offsets() {
        let cases = [
            ("aGk", 0), // short final quantum: blames its first character
            ("a", 0),
            ("aGVsbG8", 4),
            ("aG\n", 1), // counts back by characters decoded, not bytes read
            ("aGVs\nbG8", 5),
            ("aGk!", 3),     // not in the alphabet
            ("aGVs-A==", 4), // URL alphabet is rejected
            ("aGVs aGVs", 4),
            ("é", 0),    // byte offsets
            ("====", 0), // padding too early
            ("a===", 1),
            ("aG=", 3),  // missing second `=`: blames the end of input
            ("aG=x", 2), // wrong second padding byte: blames the byte before it
            ("aG=\nx", 3),
            ("aGk=aGk=", 4), // anything but newlines after padding
            ("aGk= ", 4),
            ("aGk=\n\nx", 6),
            ("Zg==Zg==", 4),
        ];
        for (text, at) in cases {
            assert_eq!(
                decode(text),
                Err(format!("illegal base64 data at input byte {at}")),
                "{text:?}"
            );
        }
    }
}
