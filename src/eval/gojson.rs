//! Go-compatible JSON and base64, as the reference's builtins behave.
//!
//! The reference evaluator is written in Go, so `fn::toJSON`, `fn::fromJSON`, `fn::toBase64`,
//! `fn::fromBase64`, `fn::split`, string forms (`strconv.Quote`) and the `fn::secret` ciphertext
//! envelope produce Go's exact outputs and error texts. Everything here is hand-written from Go's
//! documented behaviour; the outputs were checked against a Go 1.26 toolchain.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt::Write as _;

/// A JSON value that keeps number text (Go's `json.Number`) and object entries in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Json {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number, as its exact source text.
    Number(String),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Json>),
    /// An object; [`decode_json`] never yields duplicate keys.
    Object(Vec<(String, Json)>),
}

// ---------------------------------------------------------------------------------------------
// JSON decoding
// ---------------------------------------------------------------------------------------------

/// Decodes the first JSON value of `text` like Go's `json.Decoder` with `UseNumber`.
///
/// Text after the first complete value is never looked at (the reference decodes once). Duplicate
/// object keys keep the first key's position and the last value (Go decodes objects into maps).
/// Errors are Go's texts: `EOF` for empty or all-space input, `unexpected EOF` for a truncated
/// value, and `invalid character 'x' <context>` syntax errors.
pub(crate) fn decode_json(text: &str) -> Result<Json, String> {
    let end = scan_first_value(text.as_bytes())?;
    let value_text = text.get(..end).ok_or_else(malformed)?;
    build(value_text)
}

/// Go's scanner refuses to nest deeper than this.
const MAX_DEPTH: usize = 10_000;

/// What an open container expects next.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ctx {
    ObjectKey,
    ObjectValue,
    ArrayValue,
}

/// The scanner's state: which byte classes it accepts next.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    BeginValueOrEmpty,
    BeginValue,
    BeginKeyOrEmpty,
    BeginKey,
    EndValue,
    EndTop,
    InString,
    InStringEsc,
    /// Inside `\u`, with this many hex digits seen.
    InStringEscU(u8),
    Neg,
    Int,
    Zero,
    Dot,
    Frac,
    Exp,
    ExpSign,
    ExpDigits,
    /// Inside `true`/`false`/`null`, expecting `word[next]`.
    Literal(&'static str, usize),
}

/// What one scanned byte meant to the caller.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Step {
    Continue,
    /// A `]` or `}` closed a container.
    EndContainer,
    /// The top-level value ended *before* this byte.
    End,
}

/// A byte-at-a-time JSON syntax checker with Go's state transitions, so that the first offending
/// byte and the wording of the error match Go's `encoding/json` scanner.
struct Scanner {
    state: State,
    stack: Vec<Ctx>,
}

impl Scanner {
    fn new() -> Self {
        Self {
            state: State::BeginValue,
            stack: Vec::new(),
        }
    }

    fn step(&mut self, c: u8) -> Result<Step, String> {
        match self.state {
            State::BeginValueOrEmpty => {
                if is_space(c) {
                    Ok(Step::Continue)
                } else if c == b']' {
                    self.end_value(c)
                } else {
                    self.begin_value(c)
                }
            }
            State::BeginValue => self.begin_value(c),
            State::BeginKeyOrEmpty => {
                if is_space(c) {
                    Ok(Step::Continue)
                } else if c == b'}' {
                    // An empty object closes like one whose last value just ended.
                    if let Some(top) = self.stack.last_mut() {
                        *top = Ctx::ObjectValue;
                    }
                    self.end_value(c)
                } else {
                    self.begin_key(c)
                }
            }
            State::BeginKey => self.begin_key(c),
            State::EndValue => self.end_value(c),
            // Unreachable in practice: the caller stops at `Step::End`.
            State::EndTop => Ok(Step::End),
            State::InString => match c {
                b'"' => self.to(State::EndValue),
                b'\\' => self.to(State::InStringEsc),
                0..0x20 => Err(syntax_error(c, "in string literal")),
                _ => Ok(Step::Continue),
            },
            State::InStringEsc => match c {
                b'b' | b'f' | b'n' | b'r' | b't' | b'\\' | b'/' | b'"' => self.to(State::InString),
                b'u' => self.to(State::InStringEscU(0)),
                _ => Err(syntax_error(c, "in string escape code")),
            },
            State::InStringEscU(seen) => {
                if !c.is_ascii_hexdigit() {
                    return Err(syntax_error(c, "in \\u hexadecimal character escape"));
                }
                self.to(if seen == 3 {
                    State::InString
                } else {
                    State::InStringEscU(seen + 1)
                })
            }
            State::Neg => match c {
                b'0' => self.to(State::Zero),
                b'1'..=b'9' => self.to(State::Int),
                _ => Err(syntax_error(c, "in numeric literal")),
            },
            State::Int => {
                if c.is_ascii_digit() {
                    Ok(Step::Continue)
                } else {
                    self.after_int(c)
                }
            }
            State::Zero => self.after_int(c),
            State::Dot => {
                if c.is_ascii_digit() {
                    self.to(State::Frac)
                } else {
                    Err(syntax_error(c, "after decimal point in numeric literal"))
                }
            }
            State::Frac => match c {
                b'0'..=b'9' => Ok(Step::Continue),
                b'e' | b'E' => self.to(State::Exp),
                _ => self.end_value(c),
            },
            State::Exp => match c {
                b'+' | b'-' => self.to(State::ExpSign),
                _ => self.exp_sign(c),
            },
            State::ExpSign => self.exp_sign(c),
            State::ExpDigits => {
                if c.is_ascii_digit() {
                    Ok(Step::Continue)
                } else {
                    self.end_value(c)
                }
            }
            State::Literal(word, next) => {
                let expected = word.as_bytes().get(next).copied().unwrap_or(b' ');
                if c != expected {
                    let context = format!("in literal {word} (expecting {})", quote_byte(expected));
                    return Err(syntax_error(c, &context));
                }
                self.to(if next + 1 == word.len() {
                    State::EndValue
                } else {
                    State::Literal(word, next + 1)
                })
            }
        }
    }

    #[expect(
        clippy::unnecessary_wraps,
        reason = "a transition, shaped like those that can fail"
    )]
    fn to(&mut self, state: State) -> Result<Step, String> {
        self.state = state;
        Ok(Step::Continue)
    }

    fn begin_value(&mut self, c: u8) -> Result<Step, String> {
        match c {
            b' ' | b'\t' | b'\r' | b'\n' => Ok(Step::Continue),
            b'{' => {
                self.state = State::BeginKeyOrEmpty;
                self.push(c, Ctx::ObjectKey)
            }
            b'[' => {
                self.state = State::BeginValueOrEmpty;
                self.push(c, Ctx::ArrayValue)
            }
            b'"' => self.to(State::InString),
            b'-' => self.to(State::Neg),
            b'0' => self.to(State::Zero),
            b'1'..=b'9' => self.to(State::Int),
            b't' => self.to(State::Literal("true", 1)),
            b'f' => self.to(State::Literal("false", 1)),
            b'n' => self.to(State::Literal("null", 1)),
            _ => Err(syntax_error(c, "looking for beginning of value")),
        }
    }

    fn begin_key(&mut self, c: u8) -> Result<Step, String> {
        match c {
            b' ' | b'\t' | b'\r' | b'\n' => Ok(Step::Continue),
            b'"' => self.to(State::InString),
            _ => Err(syntax_error(
                c,
                "looking for beginning of object key string",
            )),
        }
    }

    /// After the integer part of a number: a fraction, an exponent, or the end of the number.
    fn after_int(&mut self, c: u8) -> Result<Step, String> {
        match c {
            b'.' => self.to(State::Dot),
            b'e' | b'E' => self.to(State::Exp),
            _ => self.end_value(c),
        }
    }

    fn exp_sign(&mut self, c: u8) -> Result<Step, String> {
        if c.is_ascii_digit() {
            self.to(State::ExpDigits)
        } else {
            Err(syntax_error(c, "in exponent of numeric literal"))
        }
    }

    fn push(&mut self, c: u8, ctx: Ctx) -> Result<Step, String> {
        self.stack.push(ctx);
        if self.stack.len() > MAX_DEPTH {
            return Err(syntax_error(c, "exceeded max depth"));
        }
        Ok(Step::Continue)
    }

    /// A value has just ended; `c` is the byte after it.
    fn end_value(&mut self, c: u8) -> Result<Step, String> {
        let Some(top) = self.stack.last_mut() else {
            // Go complains about a non-space byte here only on the *next* step, which a
            // decoder never takes: whatever follows the first value is ignored.
            self.state = State::EndTop;
            return Ok(Step::End);
        };
        if is_space(c) {
            self.state = State::EndValue;
            return Ok(Step::Continue);
        }
        match (*top, c) {
            (Ctx::ObjectKey, b':') => {
                *top = Ctx::ObjectValue;
                self.to(State::BeginValue)
            }
            (Ctx::ObjectKey, _) => Err(syntax_error(c, "after object key")),
            (Ctx::ObjectValue, b',') => {
                *top = Ctx::ObjectKey;
                self.to(State::BeginKey)
            }
            (Ctx::ObjectValue, b'}') | (Ctx::ArrayValue, b']') => {
                self.stack.pop();
                self.state = if self.stack.is_empty() {
                    State::EndTop
                } else {
                    State::EndValue
                };
                Ok(Step::EndContainer)
            }
            (Ctx::ObjectValue, _) => Err(syntax_error(c, "after object key:value pair")),
            (Ctx::ArrayValue, b',') => self.to(State::BeginValue),
            (Ctx::ArrayValue, _) => Err(syntax_error(c, "after array element")),
        }
    }
}

/// JSON whitespace, as Go's scanner defines it.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

/// Go's `SyntaxError` text for byte `c`.
fn syntax_error(c: u8, context: &str) -> String {
    format!("invalid character {} {context}", quote_byte(c))
}

/// How Go's JSON errors show a byte: the byte read as a Latin-1 rune, `strconv.Quote`d, between
/// single quotes (so a UTF-8 BOM's first byte shows as `'ï'`).
fn quote_byte(c: u8) -> String {
    match c {
        b'\'' => r"'\''".to_owned(),
        b'"' => "'\"'".to_owned(),
        _ => {
            let mut out = String::from("'");
            push_quoted_char(&mut out, char::from(c));
            out.push('\'');
            out
        }
    }
}

/// Finds where the first JSON value of `bytes` ends, like Go's `Decoder.readValue`.
fn scan_first_value(bytes: &[u8]) -> Result<usize, String> {
    let mut scanner = Scanner::new();
    for (i, &c) in bytes.iter().enumerate() {
        match scanner.step(c)? {
            Step::End => return Ok(i),
            Step::EndContainer if scanner.stack.is_empty() => return Ok(i + 1),
            Step::Continue | Step::EndContainer => {}
        }
    }
    // At end of input a space completes a top-level number or literal; anything else is a
    // truncated value, or no value at all.
    if scanner.step(b' ') == Ok(Step::End) {
        Ok(bytes.len())
    } else if bytes.iter().all(|&c| is_space(c)) {
        Err("EOF".to_owned())
    } else {
        Err("unexpected EOF".to_owned())
    }
}

/// The builder only sees text the scanner accepted, so this error cannot happen; it exists so
/// that a bug shows up as an error rather than a panic.
fn malformed() -> String {
    "unexpected EOF".to_owned()
}

/// An open container while building.
enum Frame {
    Array(Vec<Json>),
    /// Entries so far and the key of the value being read.
    Object(Vec<(String, Json)>, String),
}

/// Builds the value of scanner-validated JSON text, iteratively so deep nesting cannot overflow
/// the stack.
fn build(text: &str) -> Result<Json, String> {
    let mut reader = Reader { text, pos: 0 };
    let mut stack: Vec<Frame> = Vec::new();
    loop {
        reader.skip_space();
        let mut value = match reader.peek().ok_or_else(malformed)? {
            b'[' => {
                reader.pos += 1;
                reader.skip_space();
                if reader.eat(b']') {
                    Json::Array(Vec::new())
                } else {
                    stack.push(Frame::Array(Vec::new()));
                    continue;
                }
            }
            b'{' => {
                reader.pos += 1;
                reader.skip_space();
                if reader.eat(b'}') {
                    Json::Object(Vec::new())
                } else {
                    let key = reader.key()?;
                    stack.push(Frame::Object(Vec::new(), key));
                    continue;
                }
            }
            b'"' => Json::String(reader.string()?),
            b't' => reader.literal("true", Json::Bool(true)),
            b'f' => reader.literal("false", Json::Bool(false)),
            b'n' => reader.literal("null", Json::Null),
            _ => Json::Number(reader.number()),
        };
        // Attach the finished value to its container, closing every container that ends here.
        loop {
            match stack.last_mut() {
                None => return Ok(value),
                Some(Frame::Array(items)) => items.push(value),
                Some(Frame::Object(entries, key)) => entries.push((std::mem::take(key), value)),
            }
            reader.skip_space();
            match reader.bump() {
                Some(b',') => {
                    if let Some(Frame::Object(_, key)) = stack.last_mut() {
                        reader.skip_space();
                        *key = reader.key()?;
                    }
                    break;
                }
                Some(b']' | b'}') => {
                    value = match stack.pop() {
                        Some(Frame::Array(items)) => Json::Array(items),
                        Some(Frame::Object(entries, _)) => Json::Object(last_value_wins(entries)),
                        None => return Err(malformed()),
                    };
                }
                _ => return Err(malformed()),
            }
        }
    }
}

/// Collapses duplicate keys as decoding into a Go map does: the last value wins. The first
/// occurrence's position is kept (order is irrelevant to a map).
fn last_value_wins(entries: Vec<(String, Json)>) -> Vec<(String, Json)> {
    if entries.len() < 2 {
        return entries;
    }
    let mut index: HashMap<String, usize> = HashMap::with_capacity(entries.len());
    let mut out: Vec<(String, Json)> = Vec::with_capacity(entries.len());
    for (key, value) in entries {
        if let Some(&at) = index.get(&key) {
            if let Some(slot) = out.get_mut(at) {
                slot.1 = value;
            }
        } else {
            index.insert(key.clone(), out.len());
            out.push((key, value));
        }
    }
    out
}

/// A cursor over validated JSON text.
struct Reader<'a> {
    text: &'a str,
    pos: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.pos += 1;
        Some(c)
    }

    fn eat(&mut self, c: u8) -> bool {
        let found = self.peek() == Some(c);
        if found {
            self.pos += 1;
        }
        found
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(is_space) {
            self.pos += 1;
        }
    }

    fn literal(&mut self, word: &str, value: Json) -> Json {
        self.pos += word.len();
        value
    }

    fn number(&mut self) -> String {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| matches!(c, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
        {
            self.pos += 1;
        }
        self.text
            .get(start..self.pos)
            .unwrap_or_default()
            .to_owned()
    }

    /// An object key and the `:` after it.
    fn key(&mut self) -> Result<String, String> {
        let key = self.string()?;
        self.skip_space();
        if self.eat(b':') {
            Ok(key)
        } else {
            Err(malformed())
        }
    }

    /// A string literal (the reader is at its opening quote), unescaped as Go does: a `\u`
    /// surrogate pair becomes one rune, a lone surrogate becomes U+FFFD.
    fn string(&mut self) -> Result<String, String> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let start = self.pos;
            while self.peek().is_some_and(|c| c != b'"' && c != b'\\') {
                self.pos += 1;
            }
            out.push_str(self.text.get(start..self.pos).ok_or_else(malformed)?);
            match self.bump() {
                Some(b'"') => return Ok(out),
                Some(b'\\') => {}
                _ => return Err(malformed()),
            }
            let c = match self.bump().ok_or_else(malformed)? {
                b'b' => '\u{8}',
                b'f' => '\u{c}',
                b'n' => '\n',
                b'r' => '\r',
                b't' => '\t',
                b'u' => self.escaped_rune()?,
                other => char::from(other),
            };
            out.push(c);
        }
    }

    /// The rune of a `\u` escape whose `\u` has been consumed.
    fn escaped_rune(&mut self) -> Result<char, String> {
        let high = self.hex4(self.pos).ok_or_else(malformed)?;
        self.pos += 4;
        if !(0xD800..0xE000).contains(&high) {
            return char::from_u32(high).ok_or_else(malformed);
        }
        // A high surrogate pairs with an immediately following `\u` low surrogate; otherwise
        // the surrogate alone becomes U+FFFD and the next escape is read on its own.
        if (0xD800..0xDC00).contains(&high)
            && self.text.as_bytes().get(self.pos..self.pos + 2) == Some(b"\\u")
            && let Some(low @ 0xDC00..0xE000) = self.hex4(self.pos + 2)
        {
            self.pos += 6;
            let rune = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
            return char::from_u32(rune).ok_or_else(malformed);
        }
        Ok(char::REPLACEMENT_CHARACTER)
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let digits = self.text.get(at..at + 4)?;
        if !digits.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(digits, 16).ok()
    }
}

// ---------------------------------------------------------------------------------------------
// JSON encoding
// ---------------------------------------------------------------------------------------------

/// Encodes like Go's `json.Marshal` of a `map[string]any` / `[]any` tree.
///
/// Compact; object keys byte-sorted (stable for duplicate keys, which a Go map cannot hold);
/// numbers written as their text (empty text as `0`, as Go does for an empty `json.Number`);
/// strings escaped with HTML-safe escaping (see [`push_json_string`]; Go's `\ufffd` for invalid
/// UTF-8 cannot arise from a `str`). Iterative, so deep nesting cannot overflow the stack.
pub(crate) fn encode_json(v: &Json) -> String {
    /// Pending output, innermost last.
    enum Work<'a> {
        Value(&'a Json),
        Key(&'a str),
        Punct(char),
    }
    let mut out = String::new();
    let mut stack = vec![Work::Value(v)];
    while let Some(work) = stack.pop() {
        match work {
            Work::Punct(c) => out.push(c),
            Work::Key(key) => {
                push_json_string(&mut out, key);
                out.push(':');
            }
            Work::Value(Json::Null) => out.push_str("null"),
            Work::Value(Json::Bool(b)) => out.push_str(if *b { "true" } else { "false" }),
            Work::Value(Json::Number(text)) => {
                out.push_str(if text.is_empty() { "0" } else { text });
            }
            Work::Value(Json::String(s)) => push_json_string(&mut out, s),
            Work::Value(Json::Array(items)) => {
                out.push('[');
                stack.push(Work::Punct(']'));
                for (i, item) in items.iter().enumerate().rev() {
                    stack.push(Work::Value(item));
                    if i > 0 {
                        stack.push(Work::Punct(','));
                    }
                }
            }
            Work::Value(Json::Object(entries)) => {
                let mut sorted: Vec<&(String, Json)> = entries.iter().collect();
                sorted.sort_by(|a, b| a.0.cmp(&b.0));
                out.push('{');
                stack.push(Work::Punct('}'));
                for (i, (key, value)) in sorted.into_iter().enumerate().rev() {
                    stack.push(Work::Value(value));
                    stack.push(Work::Key(key));
                    if i > 0 {
                        stack.push(Work::Punct(','));
                    }
                }
            }
        }
    }
    out
}

/// A JSON string as Go (1.22+) writes it: `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`; other control
/// characters, `<`, `>`, `&`, U+2028 and U+2029 as `\u00xx`-style escapes with lower-case hex;
/// everything else (DEL included) verbatim.
fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0'..='\u{1f}' | '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            _ => out.push(c),
        }
    }
    out.push('"');
}

/// Converts bytes to a string the way Go's encoders and `for range` read them: each byte that does
/// not start a valid UTF-8 sequence becomes one U+FFFD (Rust's `from_utf8_lossy` instead replaces
/// a whole truncated sequence with a single U+FFFD).
pub(crate) fn go_lossy_string(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    let mut rest = bytes;
    loop {
        match std::str::from_utf8(rest) {
            Ok(valid) => {
                out.push_str(valid);
                return out;
            }
            Err(err) => {
                let (valid, after) = rest.split_at(err.valid_up_to());
                out.push_str(std::str::from_utf8(valid).unwrap_or_default());
                out.push(char::REPLACEMENT_CHARACTER);
                rest = after.get(1..).unwrap_or_default();
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// base64
// ---------------------------------------------------------------------------------------------

const BASE64_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub(crate) fn encode_base64(bytes: &[u8]) -> String {
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
pub(crate) fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
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

// ---------------------------------------------------------------------------------------------
// strings.Split and strconv.Quote
// ---------------------------------------------------------------------------------------------

/// Go's `strings.Split`: an empty separator splits into characters (`""` gives no elements); a
/// non-empty separator splits at non-overlapping matches from the left (`""` gives `[""]`).
pub(crate) fn split(s: &str, sep: &str) -> Vec<String> {
    if sep.is_empty() {
        s.chars().map(String::from).collect()
    } else {
        s.split(sep).map(str::to_owned).collect()
    }
}

/// Go's `strconv.Quote`: `"` and `\` escaped, printable runes (Go's `unicode.IsPrint`) kept,
/// `\a \b \f \n \r \t \v` as such, other runes below U+0020 and DEL as `\xHH`, other
/// non-printables as `\uHHHH` or `\UHHHHHHHH`, lower-case hex.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        push_quoted_char(&mut out, c);
    }
    out.push('"');
    out
}

fn push_quoted_char(out: &mut String, c: char) {
    match c {
        '"' | '\\' => {
            out.push('\\');
            out.push(c);
        }
        _ if is_print(c) => out.push(c),
        '\u{7}' => out.push_str("\\a"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{b}' => out.push_str("\\v"),
        '\0'..='\u{1f}' | '\u{7f}' => {
            let _ = write!(out, "\\x{:02x}", u32::from(c));
        }
        '\u{80}'..='\u{ffff}' => {
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        }
        _ => {
            let _ = write!(out, "\\U{:08x}", u32::from(c));
        }
    }
}

/// Go's `unicode.IsPrint`: letters, marks, numbers, punctuation, symbols and the ASCII space.
fn is_print(c: char) -> bool {
    let cp = u32::from(c);
    if cp < 0x7f {
        return cp >= 0x20;
    }
    NOT_PRINT
        .binary_search_by(|&(lo, hi)| {
            if hi < cp {
                Ordering::Less
            } else if lo > cp {
                Ordering::Greater
            } else {
                Ordering::Equal
            }
        })
        .is_err()
}

// ---------------------------------------------------------------------------------------------
// The fn::secret ciphertext envelope
// ---------------------------------------------------------------------------------------------

const ENVELOPE_MAGIC: [u8; 4] = *b"escx";
const ENVELOPE_VERSION: u32 = 1;

/// Seals ciphertext as `base64("escx" ‖ u32be(1) ‖ ciphertext ‖ u32be(CRC-32 of the rest))`.
pub(crate) fn seal_envelope(ciphertext: &[u8]) -> String {
    let mut bytes = Vec::with_capacity(ciphertext.len() + 12);
    bytes.extend_from_slice(&ENVELOPE_MAGIC);
    bytes.extend_from_slice(&ENVELOPE_VERSION.to_be_bytes());
    bytes.extend_from_slice(ciphertext);
    let checksum = crc32(&bytes);
    bytes.extend_from_slice(&checksum.to_be_bytes());
    encode_base64(&bytes)
}

/// Opens an envelope, checking in the reference's order: base64, length (`EOF` below 16 bytes),
/// `invalid header`, `invalid checksum`, `unsupported version`.
pub(crate) fn open_envelope(text: &str) -> Result<Vec<u8>, String> {
    let bytes = decode_base64(text)?;
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
    if *magic != ENVELOPE_MAGIC {
        return Err("invalid header".to_owned());
    }
    if crc32(body) != u32::from_be_bytes(*checksum) {
        return Err("invalid checksum".to_owned());
    }
    let Some((version, _)) = rest.split_first_chunk::<4>() else {
        return Err("EOF".to_owned());
    };
    if u32::from_be_bytes(*version) != ENVELOPE_VERSION {
        return Err("unsupported version".to_owned());
    }
    Ok(body.get(8..).unwrap_or_default().to_vec())
}

/// CRC-32/IEEE (reflected polynomial 0xEDB88320), as Go's `crc32.ChecksumIEEE`.
fn crc32(bytes: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut i: u32 = 0;
        while i < 256 {
            let mut crc = i;
            let mut bit = 0;
            while bit < 8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
                bit += 1;
            }
            table[i as usize] = crc;
            i += 1;
        }
        table
    };
    !bytes.iter().fold(!0u32, |crc, &b| {
        TABLE[((crc ^ u32::from(b)) & 0xff) as usize] ^ (crc >> 8)
    })
}

// ---------------------------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------------------------

/// The code points Go's `unicode.IsPrint` rejects (inclusive ranges, sorted): categories C*
/// (control, format, surrogate, private use, unassigned) and Z* other than U+0020. Generated from
/// Go 1.26's `unicode` package, which implements Unicode 15.0.0 like every Go since 1.21, by
/// printing the maximal runs of `!unicode.IsPrint(r)` over 0..=0x10FFFF.
#[rustfmt::skip]
#[expect(clippy::unreadable_literal, reason = "generated table, uniformly formatted")]
const NOT_PRINT: &[(u32, u32)] = &[
    (0x00000, 0x0001F), (0x0007F, 0x000A0), (0x000AD, 0x000AD), (0x00378, 0x00379),
    (0x00380, 0x00383), (0x0038B, 0x0038B), (0x0038D, 0x0038D), (0x003A2, 0x003A2),
    (0x00530, 0x00530), (0x00557, 0x00558), (0x0058B, 0x0058C), (0x00590, 0x00590),
    (0x005C8, 0x005CF), (0x005EB, 0x005EE), (0x005F5, 0x00605), (0x0061C, 0x0061C),
    (0x006DD, 0x006DD), (0x0070E, 0x0070F), (0x0074B, 0x0074C), (0x007B2, 0x007BF),
    (0x007FB, 0x007FC), (0x0082E, 0x0082F), (0x0083F, 0x0083F), (0x0085C, 0x0085D),
    (0x0085F, 0x0085F), (0x0086B, 0x0086F), (0x0088F, 0x00897), (0x008E2, 0x008E2),
    (0x00984, 0x00984), (0x0098D, 0x0098E), (0x00991, 0x00992), (0x009A9, 0x009A9),
    (0x009B1, 0x009B1), (0x009B3, 0x009B5), (0x009BA, 0x009BB), (0x009C5, 0x009C6),
    (0x009C9, 0x009CA), (0x009CF, 0x009D6), (0x009D8, 0x009DB), (0x009DE, 0x009DE),
    (0x009E4, 0x009E5), (0x009FF, 0x00A00), (0x00A04, 0x00A04), (0x00A0B, 0x00A0E),
    (0x00A11, 0x00A12), (0x00A29, 0x00A29), (0x00A31, 0x00A31), (0x00A34, 0x00A34),
    (0x00A37, 0x00A37), (0x00A3A, 0x00A3B), (0x00A3D, 0x00A3D), (0x00A43, 0x00A46),
    (0x00A49, 0x00A4A), (0x00A4E, 0x00A50), (0x00A52, 0x00A58), (0x00A5D, 0x00A5D),
    (0x00A5F, 0x00A65), (0x00A77, 0x00A80), (0x00A84, 0x00A84), (0x00A8E, 0x00A8E),
    (0x00A92, 0x00A92), (0x00AA9, 0x00AA9), (0x00AB1, 0x00AB1), (0x00AB4, 0x00AB4),
    (0x00ABA, 0x00ABB), (0x00AC6, 0x00AC6), (0x00ACA, 0x00ACA), (0x00ACE, 0x00ACF),
    (0x00AD1, 0x00ADF), (0x00AE4, 0x00AE5), (0x00AF2, 0x00AF8), (0x00B00, 0x00B00),
    (0x00B04, 0x00B04), (0x00B0D, 0x00B0E), (0x00B11, 0x00B12), (0x00B29, 0x00B29),
    (0x00B31, 0x00B31), (0x00B34, 0x00B34), (0x00B3A, 0x00B3B), (0x00B45, 0x00B46),
    (0x00B49, 0x00B4A), (0x00B4E, 0x00B54), (0x00B58, 0x00B5B), (0x00B5E, 0x00B5E),
    (0x00B64, 0x00B65), (0x00B78, 0x00B81), (0x00B84, 0x00B84), (0x00B8B, 0x00B8D),
    (0x00B91, 0x00B91), (0x00B96, 0x00B98), (0x00B9B, 0x00B9B), (0x00B9D, 0x00B9D),
    (0x00BA0, 0x00BA2), (0x00BA5, 0x00BA7), (0x00BAB, 0x00BAD), (0x00BBA, 0x00BBD),
    (0x00BC3, 0x00BC5), (0x00BC9, 0x00BC9), (0x00BCE, 0x00BCF), (0x00BD1, 0x00BD6),
    (0x00BD8, 0x00BE5), (0x00BFB, 0x00BFF), (0x00C0D, 0x00C0D), (0x00C11, 0x00C11),
    (0x00C29, 0x00C29), (0x00C3A, 0x00C3B), (0x00C45, 0x00C45), (0x00C49, 0x00C49),
    (0x00C4E, 0x00C54), (0x00C57, 0x00C57), (0x00C5B, 0x00C5C), (0x00C5E, 0x00C5F),
    (0x00C64, 0x00C65), (0x00C70, 0x00C76), (0x00C8D, 0x00C8D), (0x00C91, 0x00C91),
    (0x00CA9, 0x00CA9), (0x00CB4, 0x00CB4), (0x00CBA, 0x00CBB), (0x00CC5, 0x00CC5),
    (0x00CC9, 0x00CC9), (0x00CCE, 0x00CD4), (0x00CD7, 0x00CDC), (0x00CDF, 0x00CDF),
    (0x00CE4, 0x00CE5), (0x00CF0, 0x00CF0), (0x00CF4, 0x00CFF), (0x00D0D, 0x00D0D),
    (0x00D11, 0x00D11), (0x00D45, 0x00D45), (0x00D49, 0x00D49), (0x00D50, 0x00D53),
    (0x00D64, 0x00D65), (0x00D80, 0x00D80), (0x00D84, 0x00D84), (0x00D97, 0x00D99),
    (0x00DB2, 0x00DB2), (0x00DBC, 0x00DBC), (0x00DBE, 0x00DBF), (0x00DC7, 0x00DC9),
    (0x00DCB, 0x00DCE), (0x00DD5, 0x00DD5), (0x00DD7, 0x00DD7), (0x00DE0, 0x00DE5),
    (0x00DF0, 0x00DF1), (0x00DF5, 0x00E00), (0x00E3B, 0x00E3E), (0x00E5C, 0x00E80),
    (0x00E83, 0x00E83), (0x00E85, 0x00E85), (0x00E8B, 0x00E8B), (0x00EA4, 0x00EA4),
    (0x00EA6, 0x00EA6), (0x00EBE, 0x00EBF), (0x00EC5, 0x00EC5), (0x00EC7, 0x00EC7),
    (0x00ECF, 0x00ECF), (0x00EDA, 0x00EDB), (0x00EE0, 0x00EFF), (0x00F48, 0x00F48),
    (0x00F6D, 0x00F70), (0x00F98, 0x00F98), (0x00FBD, 0x00FBD), (0x00FCD, 0x00FCD),
    (0x00FDB, 0x00FFF), (0x010C6, 0x010C6), (0x010C8, 0x010CC), (0x010CE, 0x010CF),
    (0x01249, 0x01249), (0x0124E, 0x0124F), (0x01257, 0x01257), (0x01259, 0x01259),
    (0x0125E, 0x0125F), (0x01289, 0x01289), (0x0128E, 0x0128F), (0x012B1, 0x012B1),
    (0x012B6, 0x012B7), (0x012BF, 0x012BF), (0x012C1, 0x012C1), (0x012C6, 0x012C7),
    (0x012D7, 0x012D7), (0x01311, 0x01311), (0x01316, 0x01317), (0x0135B, 0x0135C),
    (0x0137D, 0x0137F), (0x0139A, 0x0139F), (0x013F6, 0x013F7), (0x013FE, 0x013FF),
    (0x01680, 0x01680), (0x0169D, 0x0169F), (0x016F9, 0x016FF), (0x01716, 0x0171E),
    (0x01737, 0x0173F), (0x01754, 0x0175F), (0x0176D, 0x0176D), (0x01771, 0x01771),
    (0x01774, 0x0177F), (0x017DE, 0x017DF), (0x017EA, 0x017EF), (0x017FA, 0x017FF),
    (0x0180E, 0x0180E), (0x0181A, 0x0181F), (0x01879, 0x0187F), (0x018AB, 0x018AF),
    (0x018F6, 0x018FF), (0x0191F, 0x0191F), (0x0192C, 0x0192F), (0x0193C, 0x0193F),
    (0x01941, 0x01943), (0x0196E, 0x0196F), (0x01975, 0x0197F), (0x019AC, 0x019AF),
    (0x019CA, 0x019CF), (0x019DB, 0x019DD), (0x01A1C, 0x01A1D), (0x01A5F, 0x01A5F),
    (0x01A7D, 0x01A7E), (0x01A8A, 0x01A8F), (0x01A9A, 0x01A9F), (0x01AAE, 0x01AAF),
    (0x01ACF, 0x01AFF), (0x01B4D, 0x01B4F), (0x01B7F, 0x01B7F), (0x01BF4, 0x01BFB),
    (0x01C38, 0x01C3A), (0x01C4A, 0x01C4C), (0x01C89, 0x01C8F), (0x01CBB, 0x01CBC),
    (0x01CC8, 0x01CCF), (0x01CFB, 0x01CFF), (0x01F16, 0x01F17), (0x01F1E, 0x01F1F),
    (0x01F46, 0x01F47), (0x01F4E, 0x01F4F), (0x01F58, 0x01F58), (0x01F5A, 0x01F5A),
    (0x01F5C, 0x01F5C), (0x01F5E, 0x01F5E), (0x01F7E, 0x01F7F), (0x01FB5, 0x01FB5),
    (0x01FC5, 0x01FC5), (0x01FD4, 0x01FD5), (0x01FDC, 0x01FDC), (0x01FF0, 0x01FF1),
    (0x01FF5, 0x01FF5), (0x01FFF, 0x0200F), (0x02028, 0x0202F), (0x0205F, 0x0206F),
    (0x02072, 0x02073), (0x0208F, 0x0208F), (0x0209D, 0x0209F), (0x020C1, 0x020CF),
    (0x020F1, 0x020FF), (0x0218C, 0x0218F), (0x02427, 0x0243F), (0x0244B, 0x0245F),
    (0x02B74, 0x02B75), (0x02B96, 0x02B96), (0x02CF4, 0x02CF8), (0x02D26, 0x02D26),
    (0x02D28, 0x02D2C), (0x02D2E, 0x02D2F), (0x02D68, 0x02D6E), (0x02D71, 0x02D7E),
    (0x02D97, 0x02D9F), (0x02DA7, 0x02DA7), (0x02DAF, 0x02DAF), (0x02DB7, 0x02DB7),
    (0x02DBF, 0x02DBF), (0x02DC7, 0x02DC7), (0x02DCF, 0x02DCF), (0x02DD7, 0x02DD7),
    (0x02DDF, 0x02DDF), (0x02E5E, 0x02E7F), (0x02E9A, 0x02E9A), (0x02EF4, 0x02EFF),
    (0x02FD6, 0x02FEF), (0x02FFC, 0x03000), (0x03040, 0x03040), (0x03097, 0x03098),
    (0x03100, 0x03104), (0x03130, 0x03130), (0x0318F, 0x0318F), (0x031E4, 0x031EF),
    (0x0321F, 0x0321F), (0x0A48D, 0x0A48F), (0x0A4C7, 0x0A4CF), (0x0A62C, 0x0A63F),
    (0x0A6F8, 0x0A6FF), (0x0A7CB, 0x0A7CF), (0x0A7D2, 0x0A7D2), (0x0A7D4, 0x0A7D4),
    (0x0A7DA, 0x0A7F1), (0x0A82D, 0x0A82F), (0x0A83A, 0x0A83F), (0x0A878, 0x0A87F),
    (0x0A8C6, 0x0A8CD), (0x0A8DA, 0x0A8DF), (0x0A954, 0x0A95E), (0x0A97D, 0x0A97F),
    (0x0A9CE, 0x0A9CE), (0x0A9DA, 0x0A9DD), (0x0A9FF, 0x0A9FF), (0x0AA37, 0x0AA3F),
    (0x0AA4E, 0x0AA4F), (0x0AA5A, 0x0AA5B), (0x0AAC3, 0x0AADA), (0x0AAF7, 0x0AB00),
    (0x0AB07, 0x0AB08), (0x0AB0F, 0x0AB10), (0x0AB17, 0x0AB1F), (0x0AB27, 0x0AB27),
    (0x0AB2F, 0x0AB2F), (0x0AB6C, 0x0AB6F), (0x0ABEE, 0x0ABEF), (0x0ABFA, 0x0ABFF),
    (0x0D7A4, 0x0D7AF), (0x0D7C7, 0x0D7CA), (0x0D7FC, 0x0F8FF), (0x0FA6E, 0x0FA6F),
    (0x0FADA, 0x0FAFF), (0x0FB07, 0x0FB12), (0x0FB18, 0x0FB1C), (0x0FB37, 0x0FB37),
    (0x0FB3D, 0x0FB3D), (0x0FB3F, 0x0FB3F), (0x0FB42, 0x0FB42), (0x0FB45, 0x0FB45),
    (0x0FBC3, 0x0FBD2), (0x0FD90, 0x0FD91), (0x0FDC8, 0x0FDCE), (0x0FDD0, 0x0FDEF),
    (0x0FE1A, 0x0FE1F), (0x0FE53, 0x0FE53), (0x0FE67, 0x0FE67), (0x0FE6C, 0x0FE6F),
    (0x0FE75, 0x0FE75), (0x0FEFD, 0x0FF00), (0x0FFBF, 0x0FFC1), (0x0FFC8, 0x0FFC9),
    (0x0FFD0, 0x0FFD1), (0x0FFD8, 0x0FFD9), (0x0FFDD, 0x0FFDF), (0x0FFE7, 0x0FFE7),
    (0x0FFEF, 0x0FFFB), (0x0FFFE, 0x0FFFF), (0x1000C, 0x1000C), (0x10027, 0x10027),
    (0x1003B, 0x1003B), (0x1003E, 0x1003E), (0x1004E, 0x1004F), (0x1005E, 0x1007F),
    (0x100FB, 0x100FF), (0x10103, 0x10106), (0x10134, 0x10136), (0x1018F, 0x1018F),
    (0x1019D, 0x1019F), (0x101A1, 0x101CF), (0x101FE, 0x1027F), (0x1029D, 0x1029F),
    (0x102D1, 0x102DF), (0x102FC, 0x102FF), (0x10324, 0x1032C), (0x1034B, 0x1034F),
    (0x1037B, 0x1037F), (0x1039E, 0x1039E), (0x103C4, 0x103C7), (0x103D6, 0x103FF),
    (0x1049E, 0x1049F), (0x104AA, 0x104AF), (0x104D4, 0x104D7), (0x104FC, 0x104FF),
    (0x10528, 0x1052F), (0x10564, 0x1056E), (0x1057B, 0x1057B), (0x1058B, 0x1058B),
    (0x10593, 0x10593), (0x10596, 0x10596), (0x105A2, 0x105A2), (0x105B2, 0x105B2),
    (0x105BA, 0x105BA), (0x105BD, 0x105FF), (0x10737, 0x1073F), (0x10756, 0x1075F),
    (0x10768, 0x1077F), (0x10786, 0x10786), (0x107B1, 0x107B1), (0x107BB, 0x107FF),
    (0x10806, 0x10807), (0x10809, 0x10809), (0x10836, 0x10836), (0x10839, 0x1083B),
    (0x1083D, 0x1083E), (0x10856, 0x10856), (0x1089F, 0x108A6), (0x108B0, 0x108DF),
    (0x108F3, 0x108F3), (0x108F6, 0x108FA), (0x1091C, 0x1091E), (0x1093A, 0x1093E),
    (0x10940, 0x1097F), (0x109B8, 0x109BB), (0x109D0, 0x109D1), (0x10A04, 0x10A04),
    (0x10A07, 0x10A0B), (0x10A14, 0x10A14), (0x10A18, 0x10A18), (0x10A36, 0x10A37),
    (0x10A3B, 0x10A3E), (0x10A49, 0x10A4F), (0x10A59, 0x10A5F), (0x10AA0, 0x10ABF),
    (0x10AE7, 0x10AEA), (0x10AF7, 0x10AFF), (0x10B36, 0x10B38), (0x10B56, 0x10B57),
    (0x10B73, 0x10B77), (0x10B92, 0x10B98), (0x10B9D, 0x10BA8), (0x10BB0, 0x10BFF),
    (0x10C49, 0x10C7F), (0x10CB3, 0x10CBF), (0x10CF3, 0x10CF9), (0x10D28, 0x10D2F),
    (0x10D3A, 0x10E5F), (0x10E7F, 0x10E7F), (0x10EAA, 0x10EAA), (0x10EAE, 0x10EAF),
    (0x10EB2, 0x10EFC), (0x10F28, 0x10F2F), (0x10F5A, 0x10F6F), (0x10F8A, 0x10FAF),
    (0x10FCC, 0x10FDF), (0x10FF7, 0x10FFF), (0x1104E, 0x11051), (0x11076, 0x1107E),
    (0x110BD, 0x110BD), (0x110C3, 0x110CF), (0x110E9, 0x110EF), (0x110FA, 0x110FF),
    (0x11135, 0x11135), (0x11148, 0x1114F), (0x11177, 0x1117F), (0x111E0, 0x111E0),
    (0x111F5, 0x111FF), (0x11212, 0x11212), (0x11242, 0x1127F), (0x11287, 0x11287),
    (0x11289, 0x11289), (0x1128E, 0x1128E), (0x1129E, 0x1129E), (0x112AA, 0x112AF),
    (0x112EB, 0x112EF), (0x112FA, 0x112FF), (0x11304, 0x11304), (0x1130D, 0x1130E),
    (0x11311, 0x11312), (0x11329, 0x11329), (0x11331, 0x11331), (0x11334, 0x11334),
    (0x1133A, 0x1133A), (0x11345, 0x11346), (0x11349, 0x1134A), (0x1134E, 0x1134F),
    (0x11351, 0x11356), (0x11358, 0x1135C), (0x11364, 0x11365), (0x1136D, 0x1136F),
    (0x11375, 0x113FF), (0x1145C, 0x1145C), (0x11462, 0x1147F), (0x114C8, 0x114CF),
    (0x114DA, 0x1157F), (0x115B6, 0x115B7), (0x115DE, 0x115FF), (0x11645, 0x1164F),
    (0x1165A, 0x1165F), (0x1166D, 0x1167F), (0x116BA, 0x116BF), (0x116CA, 0x116FF),
    (0x1171B, 0x1171C), (0x1172C, 0x1172F), (0x11747, 0x117FF), (0x1183C, 0x1189F),
    (0x118F3, 0x118FE), (0x11907, 0x11908), (0x1190A, 0x1190B), (0x11914, 0x11914),
    (0x11917, 0x11917), (0x11936, 0x11936), (0x11939, 0x1193A), (0x11947, 0x1194F),
    (0x1195A, 0x1199F), (0x119A8, 0x119A9), (0x119D8, 0x119D9), (0x119E5, 0x119FF),
    (0x11A48, 0x11A4F), (0x11AA3, 0x11AAF), (0x11AF9, 0x11AFF), (0x11B0A, 0x11BFF),
    (0x11C09, 0x11C09), (0x11C37, 0x11C37), (0x11C46, 0x11C4F), (0x11C6D, 0x11C6F),
    (0x11C90, 0x11C91), (0x11CA8, 0x11CA8), (0x11CB7, 0x11CFF), (0x11D07, 0x11D07),
    (0x11D0A, 0x11D0A), (0x11D37, 0x11D39), (0x11D3B, 0x11D3B), (0x11D3E, 0x11D3E),
    (0x11D48, 0x11D4F), (0x11D5A, 0x11D5F), (0x11D66, 0x11D66), (0x11D69, 0x11D69),
    (0x11D8F, 0x11D8F), (0x11D92, 0x11D92), (0x11D99, 0x11D9F), (0x11DAA, 0x11EDF),
    (0x11EF9, 0x11EFF), (0x11F11, 0x11F11), (0x11F3B, 0x11F3D), (0x11F5A, 0x11FAF),
    (0x11FB1, 0x11FBF), (0x11FF2, 0x11FFE), (0x1239A, 0x123FF), (0x1246F, 0x1246F),
    (0x12475, 0x1247F), (0x12544, 0x12F8F), (0x12FF3, 0x12FFF), (0x13430, 0x1343F),
    (0x13456, 0x143FF), (0x14647, 0x167FF), (0x16A39, 0x16A3F), (0x16A5F, 0x16A5F),
    (0x16A6A, 0x16A6D), (0x16ABF, 0x16ABF), (0x16ACA, 0x16ACF), (0x16AEE, 0x16AEF),
    (0x16AF6, 0x16AFF), (0x16B46, 0x16B4F), (0x16B5A, 0x16B5A), (0x16B62, 0x16B62),
    (0x16B78, 0x16B7C), (0x16B90, 0x16E3F), (0x16E9B, 0x16EFF), (0x16F4B, 0x16F4E),
    (0x16F88, 0x16F8E), (0x16FA0, 0x16FDF), (0x16FE5, 0x16FEF), (0x16FF2, 0x16FFF),
    (0x187F8, 0x187FF), (0x18CD6, 0x18CFF), (0x18D09, 0x1AFEF), (0x1AFF4, 0x1AFF4),
    (0x1AFFC, 0x1AFFC), (0x1AFFF, 0x1AFFF), (0x1B123, 0x1B131), (0x1B133, 0x1B14F),
    (0x1B153, 0x1B154), (0x1B156, 0x1B163), (0x1B168, 0x1B16F), (0x1B2FC, 0x1BBFF),
    (0x1BC6B, 0x1BC6F), (0x1BC7D, 0x1BC7F), (0x1BC89, 0x1BC8F), (0x1BC9A, 0x1BC9B),
    (0x1BCA0, 0x1CEFF), (0x1CF2E, 0x1CF2F), (0x1CF47, 0x1CF4F), (0x1CFC4, 0x1CFFF),
    (0x1D0F6, 0x1D0FF), (0x1D127, 0x1D128), (0x1D173, 0x1D17A), (0x1D1EB, 0x1D1FF),
    (0x1D246, 0x1D2BF), (0x1D2D4, 0x1D2DF), (0x1D2F4, 0x1D2FF), (0x1D357, 0x1D35F),
    (0x1D379, 0x1D3FF), (0x1D455, 0x1D455), (0x1D49D, 0x1D49D), (0x1D4A0, 0x1D4A1),
    (0x1D4A3, 0x1D4A4), (0x1D4A7, 0x1D4A8), (0x1D4AD, 0x1D4AD), (0x1D4BA, 0x1D4BA),
    (0x1D4BC, 0x1D4BC), (0x1D4C4, 0x1D4C4), (0x1D506, 0x1D506), (0x1D50B, 0x1D50C),
    (0x1D515, 0x1D515), (0x1D51D, 0x1D51D), (0x1D53A, 0x1D53A), (0x1D53F, 0x1D53F),
    (0x1D545, 0x1D545), (0x1D547, 0x1D549), (0x1D551, 0x1D551), (0x1D6A6, 0x1D6A7),
    (0x1D7CC, 0x1D7CD), (0x1DA8C, 0x1DA9A), (0x1DAA0, 0x1DAA0), (0x1DAB0, 0x1DEFF),
    (0x1DF1F, 0x1DF24), (0x1DF2B, 0x1DFFF), (0x1E007, 0x1E007), (0x1E019, 0x1E01A),
    (0x1E022, 0x1E022), (0x1E025, 0x1E025), (0x1E02B, 0x1E02F), (0x1E06E, 0x1E08E),
    (0x1E090, 0x1E0FF), (0x1E12D, 0x1E12F), (0x1E13E, 0x1E13F), (0x1E14A, 0x1E14D),
    (0x1E150, 0x1E28F), (0x1E2AF, 0x1E2BF), (0x1E2FA, 0x1E2FE), (0x1E300, 0x1E4CF),
    (0x1E4FA, 0x1E7DF), (0x1E7E7, 0x1E7E7), (0x1E7EC, 0x1E7EC), (0x1E7EF, 0x1E7EF),
    (0x1E7FF, 0x1E7FF), (0x1E8C5, 0x1E8C6), (0x1E8D7, 0x1E8FF), (0x1E94C, 0x1E94F),
    (0x1E95A, 0x1E95D), (0x1E960, 0x1EC70), (0x1ECB5, 0x1ED00), (0x1ED3E, 0x1EDFF),
    (0x1EE04, 0x1EE04), (0x1EE20, 0x1EE20), (0x1EE23, 0x1EE23), (0x1EE25, 0x1EE26),
    (0x1EE28, 0x1EE28), (0x1EE33, 0x1EE33), (0x1EE38, 0x1EE38), (0x1EE3A, 0x1EE3A),
    (0x1EE3C, 0x1EE41), (0x1EE43, 0x1EE46), (0x1EE48, 0x1EE48), (0x1EE4A, 0x1EE4A),
    (0x1EE4C, 0x1EE4C), (0x1EE50, 0x1EE50), (0x1EE53, 0x1EE53), (0x1EE55, 0x1EE56),
    (0x1EE58, 0x1EE58), (0x1EE5A, 0x1EE5A), (0x1EE5C, 0x1EE5C), (0x1EE5E, 0x1EE5E),
    (0x1EE60, 0x1EE60), (0x1EE63, 0x1EE63), (0x1EE65, 0x1EE66), (0x1EE6B, 0x1EE6B),
    (0x1EE73, 0x1EE73), (0x1EE78, 0x1EE78), (0x1EE7D, 0x1EE7D), (0x1EE7F, 0x1EE7F),
    (0x1EE8A, 0x1EE8A), (0x1EE9C, 0x1EEA0), (0x1EEA4, 0x1EEA4), (0x1EEAA, 0x1EEAA),
    (0x1EEBC, 0x1EEEF), (0x1EEF2, 0x1EFFF), (0x1F02C, 0x1F02F), (0x1F094, 0x1F09F),
    (0x1F0AF, 0x1F0B0), (0x1F0C0, 0x1F0C0), (0x1F0D0, 0x1F0D0), (0x1F0F6, 0x1F0FF),
    (0x1F1AE, 0x1F1E5), (0x1F203, 0x1F20F), (0x1F23C, 0x1F23F), (0x1F249, 0x1F24F),
    (0x1F252, 0x1F25F), (0x1F266, 0x1F2FF), (0x1F6D8, 0x1F6DB), (0x1F6ED, 0x1F6EF),
    (0x1F6FD, 0x1F6FF), (0x1F777, 0x1F77A), (0x1F7DA, 0x1F7DF), (0x1F7EC, 0x1F7EF),
    (0x1F7F1, 0x1F7FF), (0x1F80C, 0x1F80F), (0x1F848, 0x1F84F), (0x1F85A, 0x1F85F),
    (0x1F888, 0x1F88F), (0x1F8AE, 0x1F8AF), (0x1F8B2, 0x1F8FF), (0x1FA54, 0x1FA5F),
    (0x1FA6E, 0x1FA6F), (0x1FA7D, 0x1FA7F), (0x1FA89, 0x1FA8F), (0x1FABE, 0x1FABE),
    (0x1FAC6, 0x1FACD), (0x1FADC, 0x1FADF), (0x1FAE9, 0x1FAEF), (0x1FAF9, 0x1FAFF),
    (0x1FB93, 0x1FB93), (0x1FBCB, 0x1FBEF), (0x1FBFA, 0x1FFFF), (0x2A6E0, 0x2A6FF),
    (0x2B73A, 0x2B73F), (0x2B81E, 0x2B81F), (0x2CEA2, 0x2CEAF), (0x2EBE1, 0x2F7FF),
    (0x2FA1E, 0x2FFFF), (0x3134B, 0x3134F), (0x323B0, 0xE00FF), (0xE01F0, 0x10FFFF),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn num(text: &str) -> Json {
        Json::Number(text.to_owned())
    }

    fn string(text: &str) -> Json {
        Json::String(text.to_owned())
    }

    fn decode_err(text: &str) -> String {
        decode_json(text).expect_err(text)
    }

    // --- decode_json: values ---

    #[test]
    fn decodes_scalars_keeping_number_text() {
        assert_eq!(decode_json("null"), Ok(Json::Null));
        assert_eq!(decode_json("true"), Ok(Json::Bool(true)));
        assert_eq!(decode_json("false"), Ok(Json::Bool(false)));
        for text in [
            "0",
            "-0",
            "1.0",
            "1.50",
            "-12e+3",
            "1E-2",
            "123456789012345678901234567890",
        ] {
            assert_eq!(decode_json(text), Ok(num(text)));
        }
        assert_eq!(decode_json(r#""x""#), Ok(string("x")));
    }

    #[test]
    fn decodes_containers_in_source_order() {
        let value = decode_json(r#" {"b": [1, {"c": null}], "a": "x", "e": {}, "f": []} "#);
        let expected = Json::Object(vec![
            (
                "b".into(),
                Json::Array(vec![num("1"), Json::Object(vec![("c".into(), Json::Null)])]),
            ),
            ("a".into(), string("x")),
            ("e".into(), Json::Object(vec![])),
            ("f".into(), Json::Array(vec![])),
        ]);
        assert_eq!(value, Ok(expected));
        assert_eq!(
            decode_json("\t\r\n[ 1 ,\n2 ]\n"),
            Ok(Json::Array(vec![num("1"), num("2")]))
        );
    }

    #[test]
    fn duplicate_keys_keep_first_position_and_last_value() {
        let value = decode_json(r#"{"a":1,"b":2,"a":{"x":3},"a":4}"#);
        assert_eq!(
            value,
            Ok(Json::Object(vec![
                ("a".into(), num("4")),
                ("b".into(), num("2"))
            ]))
        );
        let nested = decode_json(r#"[{"k":1,"k":2}]"#);
        assert_eq!(
            nested,
            Ok(Json::Array(vec![Json::Object(vec![(
                "k".into(),
                num("2")
            )])]))
        );
    }

    #[test]
    fn ignores_text_after_the_first_value() {
        assert_eq!(
            decode_json(r#"{"a":1} trailing"#),
            Ok(Json::Object(vec![("a".into(), num("1"))]))
        );
        assert_eq!(decode_json("1 2"), Ok(num("1")));
        assert_eq!(decode_json("[1]]"), Ok(Json::Array(vec![num("1")])));
        assert_eq!(decode_json("truex"), Ok(Json::Bool(true)));
        assert_eq!(decode_json("nullnull"), Ok(Json::Null));
        assert_eq!(decode_json(r#""a"b"#), Ok(string("a")));
        assert_eq!(decode_json("123abc"), Ok(num("123")));
        // A leading zero ends the number, so the rest is trailing text.
        assert_eq!(decode_json("01"), Ok(num("0")));
        assert_eq!(decode_json("-0.5e1x"), Ok(num("-0.5e1")));
    }

    #[test]
    fn unescapes_strings_like_go() {
        let value = decode_json(r#""\"\\\/\b\f\n\r\t\u00e9\u4E16\ud83d\ude00""#);
        assert_eq!(value, Ok(string("\"\\/\u{8}\u{c}\n\r\té世😀")));
        assert_eq!(decode_json(r#""é <&> 😀""#), Ok(string("é <&> 😀")));
        assert_eq!(decode_json(r#""\u0000""#), Ok(string("\0")));
        // Lone or mismatched surrogates become U+FFFD; the next escape is read on its own.
        assert_eq!(decode_json(r#""\ud800""#), Ok(string("\u{fffd}")));
        assert_eq!(decode_json(r#""\udc00x""#), Ok(string("\u{fffd}x")));
        assert_eq!(decode_json(r#""\ud800\u0041""#), Ok(string("\u{fffd}A")));
        assert_eq!(
            decode_json(r#""\ud800\ud800\udc00""#),
            Ok(string("\u{fffd}𐀀"))
        );
        assert_eq!(
            decode_json(r#""\udc00\ud800""#),
            Ok(string("\u{fffd}\u{fffd}"))
        );
    }

    // --- decode_json: Go's error texts ---

    #[test]
    fn end_of_input_errors() {
        assert_eq!(decode_err(""), "EOF");
        assert_eq!(decode_err(" \t\r\n"), "EOF");
        for truncated in [
            "[",
            "{",
            r#"{"a""#,
            r#"{"a":"#,
            r#"{"a":1"#,
            "[1,",
            r#""abc"#,
            r#""\u12"#,
            "tru",
            "f",
            "-",
            "1.",
            "1e",
            "1e+",
            " [",
        ] {
            assert_eq!(decode_err(truncated), "unexpected EOF", "{truncated:?}");
        }
    }

    /// Inputs and Go's `json.Decoder` error for each.
    #[rustfmt::skip]
    const SYNTAX_ERRORS: &[(&str, &str)] = &[
        ("x", "invalid character 'x' looking for beginning of value"),
        ("]", "invalid character ']' looking for beginning of value"),
        ("}", "invalid character '}' looking for beginning of value"),
        ("[}", "invalid character '}' looking for beginning of value"),
        ("[1,]", "invalid character ']' looking for beginning of value"),
        ("+1", "invalid character '+' looking for beginning of value"),
        (".5", "invalid character '.' looking for beginning of value"),
        ("NaN", "invalid character 'N' looking for beginning of value"),
        ("'a'", r"invalid character '\'' looking for beginning of value"),
        (r"\", r"invalid character '\\' looking for beginning of value"),
        ("{]", "invalid character ']' looking for beginning of object key string"),
        ("{1:2}", "invalid character '1' looking for beginning of object key string"),
        ("{'a':1}", r"invalid character '\'' looking for beginning of object key string"),
        (r#"{"a":1,}"#, "invalid character '}' looking for beginning of object key string"),
        (r#"{"a" 1}"#, "invalid character '1' after object key"),
        (r#"{"a""b"}"#, "invalid character '\"' after object key"),
        (r#"{"a":1 "b":2}"#, "invalid character '\"' after object key:value pair"),
        (r#"{"a":1]"#, "invalid character ']' after object key:value pair"),
        ("[1 2]", "invalid character '2' after array element"),
        ("[1}", "invalid character '}' after array element"),
        ("[01]", "invalid character '1' after array element"),
        ("tx", "invalid character 'x' in literal true (expecting 'r')"),
        ("trUe", "invalid character 'U' in literal true (expecting 'u')"),
        ("tru ", "invalid character ' ' in literal true (expecting 'e')"),
        ("fals0", "invalid character '0' in literal false (expecting 'e')"),
        ("nuLL", "invalid character 'L' in literal null (expecting 'l')"),
        ("-a", "invalid character 'a' in numeric literal"),
        ("1.e5", "invalid character 'e' after decimal point in numeric literal"),
        ("1e+x", "invalid character 'x' in exponent of numeric literal"),
        ("1ex", "invalid character 'x' in exponent of numeric literal"),
        (r#""\x""#, "invalid character 'x' in string escape code"),
        (r#""\U0041""#, "invalid character 'U' in string escape code"),
        (r#""\u12g4""#, r"invalid character 'g' in \u hexadecimal character escape"),
        ("\"a\tb\"", r"invalid character '\t' in string literal"),
        ("\"a\nb\"", r"invalid character '\n' in string literal"),
        ("\"\u{1f}\"", r"invalid character '\x1f' in string literal"),
        ("\u{1}", r"invalid character '\x01' looking for beginning of value"),
        ("\u{7f}", r"invalid character '\x7f' looking for beginning of value"),
        // Go shows a non-ASCII byte as the Latin-1 character of that byte.
        ("\u{feff}{}", "invalid character 'ï' looking for beginning of value"),
        ("é", "invalid character 'Ã' looking for beginning of value"),
        ("[1, 世]", "invalid character 'ä' looking for beginning of value"),
    ];

    #[test]
    fn syntax_errors() {
        for (text, expected) in SYNTAX_ERRORS {
            assert_eq!(decode_err(text), *expected, "{text:?}");
        }
    }

    #[test]
    fn nesting_limit_matches_go() {
        // MAX_DEPTH itself is accepted: see deep_values_build_and_encode_without_recursion.
        let too_deep = "[".repeat(MAX_DEPTH + 1);
        assert_eq!(
            decode_err(&too_deep),
            "invalid character '[' exceeded max depth"
        );
        let objects = r#"{"a":"#.repeat(MAX_DEPTH + 1);
        assert_eq!(
            decode_err(&objects),
            "invalid character '{' exceeded max depth"
        );
    }

    #[test]
    fn deep_values_build_and_encode_without_recursion() {
        // On a small thread stack: neither decoding nor encoding may recurse per level.
        let text = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        let worker_text = text.clone();
        let encoded = std::thread::Builder::new()
            .stack_size(128 * 1024)
            .spawn(move || {
                let value = decode_json(&worker_text).ok()?;
                let encoded = encode_json(&value);
                // Rust's drop glue recurses per level, so take the tree apart level by level.
                let mut rest = value;
                while let Json::Array(mut items) = rest {
                    rest = items.pop().unwrap_or(Json::Null);
                }
                Some(encoded)
            })
            .ok()
            .and_then(|handle| handle.join().ok())
            .flatten();
        assert_eq!(encoded, Some(text));
    }

    // --- encode_json ---

    #[test]
    fn encodes_strings_html_safe() {
        let enc = |s: &str| encode_json(&string(s));
        assert_eq!(enc("<a&b>"), r#""\u003ca\u0026b\u003e""#);
        assert_eq!(enc("\"\\/"), r#""\"\\/""#);
        assert_eq!(
            enc("\0\u{1}\u{1f}\u{8}\u{c}\n\r\t\u{b}"),
            r#""\u0000\u0001\u001f\b\f\n\r\t\u000b""#
        );
        assert_eq!(
            enc("\u{7f}é世😀\u{ad}\u{fffd}"),
            "\"\u{7f}é世😀\u{ad}\u{fffd}\""
        );
        assert_eq!(enc("a\u{2028}b\u{2029}"), r#""a\u2028b\u2029""#);
        assert_eq!(enc(""), r#""""#);
    }

    #[test]
    fn encodes_trees_compact_with_sorted_keys() {
        let value = Json::Object(vec![
            (
                "b".into(),
                Json::Array(vec![num("1.50"), Json::Null, Json::Bool(true)]),
            ),
            ("é".into(), num("1e+06")),
            (
                "a".into(),
                Json::Object(vec![
                    ("z".into(), Json::Bool(false)),
                    ("<".into(), string("")),
                ]),
            ),
            ("B".into(), Json::Array(vec![])),
            ("aa".into(), Json::Object(vec![])),
            (String::new(), num("-0")),
        ]);
        assert_eq!(
            encode_json(&value),
            r#"{"":-0,"B":[],"a":{"\u003c":"","z":false},"aa":{},"b":[1.50,null,true],"é":1e+06}"#
        );
        assert_eq!(encode_json(&num("")), "0");
        assert_eq!(encode_json(&Json::Array(vec![Json::Array(vec![])])), "[[]]");
    }

    #[test]
    fn decode_then_encode_round_trips() {
        let text = r#"{"z":[1,2.0,"x\u0026"],"a":{"\u00e9":null}}"#;
        let value = decode_json(text).expect("valid");
        assert_eq!(
            encode_json(&value),
            r#"{"a":{"é":null},"z":[1,2.0,"x\u0026"]}"#
        );
    }

    #[test]
    fn go_lossy_string_replaces_each_invalid_byte() {
        assert_eq!(go_lossy_string(b"plain"), "plain");
        assert_eq!(go_lossy_string(b"a\xffb"), "a\u{fffd}b");
        // A truncated sequence is one U+FFFD per byte, unlike `String::from_utf8_lossy`.
        assert_eq!(
            go_lossy_string(b"\xf0\x9f\x98a"),
            "\u{fffd}\u{fffd}\u{fffd}a"
        );
        assert_eq!(go_lossy_string(b"\xed\xa0\x80"), "\u{fffd}\u{fffd}\u{fffd}");
        assert_eq!(go_lossy_string("é😀".as_bytes()), "é😀");
    }

    // --- base64 ---

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
            assert_eq!(encode_base64(plain.as_bytes()), encoded);
            assert_eq!(decode_base64(encoded), Ok(plain.as_bytes().to_vec()));
        }
        assert_eq!(encode_base64(&[0xff, 0xfe, 0xfd, 0x00]), "//79AA==");
    }

    #[test]
    fn base64_decode_is_lenient_where_go_is() {
        assert_eq!(decode_base64("\r\n"), Ok(vec![]));
        assert_eq!(decode_base64("Zm9v\nYmFy\r\n"), Ok(b"foobar".to_vec()));
        assert_eq!(decode_base64("Z\nm\r9vYg=\n="), Ok(b"foob".to_vec()));
        // StdEncoding is not strict: unused trailing bits need not be zero.
        assert_eq!(decode_base64("Zm9="), Ok(b"fo".to_vec()));
        assert_eq!(decode_base64("Zh=="), Ok(b"f".to_vec()));
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
                decode_base64(text),
                Err(format!("illegal base64 data at input byte {at}")),
                "{text:?}"
            );
        }
    }

    // --- split ---

    #[test]
    fn split_follows_go_strings_split() {
        let s = |parts: &[&str]| parts.iter().map(|p| (*p).to_owned()).collect::<Vec<_>>();
        assert_eq!(split("a,b,c", ","), s(&["a", "b", "c"]));
        assert_eq!(split("", ","), s(&[""]));
        assert_eq!(split("abc", "x"), s(&["abc"]));
        assert_eq!(split(",a,", ","), s(&["", "a", ""]));
        assert_eq!(split("a::b", "::"), s(&["a", "b"]));
        assert_eq!(split("aaa", "aa"), s(&["", "a"]));
        assert_eq!(split("", ""), s(&[]));
        assert_eq!(split("héllo😀", ""), s(&["h", "é", "l", "l", "o", "😀"]));
    }

    // --- quote ---

    #[test]
    fn quote_matches_strconv_quote() {
        let cases = [
            ("", r#""""#),
            ("hello world", r#""hello world""#),
            (r#"a"b\c'd"#, r#""a\"b\\c'd""#),
            ("<>&~", r#""<>&~""#),
            ("é世界😀e\u{301}\u{fffd}×", "\"é世界😀e\u{301}\u{fffd}×\""),
            ("\u{7}\u{8}\u{c}\n\r\t\u{b}", r#""\a\b\f\n\r\t\v""#),
            ("\0\u{1b}\u{1f}\u{7f}", r#""\x00\x1b\x1f\x7f""#),
            ("\u{80}\u{85}\u{9f}", r#""\u0080\u0085\u009f""#),
            ("\u{a0}\u{ad}", r#""\u00a0\u00ad""#),
            (
                "\u{200b}\u{200d}\u{2028}\u{2029}\u{3000}\u{feff}",
                r#""\u200b\u200d\u2028\u2029\u3000\ufeff""#,
            ),
            (
                "\u{378}\u{e000}\u{fdd0}\u{ffff}",
                r#""\u0378\ue000\ufdd0\uffff""#,
            ),
            (
                "\u{e0001}\u{f0000}\u{10ffff}",
                r#""\U000e0001\U000f0000\U0010ffff""#,
            ),
            ("\u{1d400}\u{e0100}", "\"\u{1d400}\u{e0100}\""),
        ];
        for (text, expected) in cases {
            assert_eq!(quote(text), expected, "{text:?}");
        }
    }

    #[test]
    fn not_print_table_is_sorted_and_disjoint() {
        assert!(NOT_PRINT.iter().all(|(lo, hi)| lo <= hi));
        assert!(NOT_PRINT.windows(2).all(|w| w[0].1 + 1 < w[1].0));
    }

    // --- envelope ---

    fn rot128(bytes: &[u8]) -> Vec<u8> {
        bytes.iter().map(|b| b.wrapping_add(128)).collect()
    }

    #[test]
    fn envelope_matches_spec_vector() {
        let ciphertext = rot128(b"hunter2");
        assert_eq!(seal_envelope(&ciphertext), "ZXNjeAAAAAHo9e705fKyKo30VQ==");
        assert_eq!(
            open_envelope("ZXNjeAAAAAHo9e705fKyKo30VQ=="),
            Ok(ciphertext)
        );
        assert_eq!(
            open_envelope("ZXNjeAAAAAHo9e705fKyKo30\nVQ==\n"),
            Ok(rot128(b"hunter2"))
        );
    }

    #[test]
    fn envelope_errors_in_spec_order() {
        assert_eq!(open_envelope("hunter23"), Err("EOF".to_owned()));
        assert_eq!(
            open_envelope("aGk"),
            Err("illegal base64 data at input byte 0".to_owned())
        );
        assert_eq!(open_envelope(""), Err("EOF".to_owned()));
        // Ciphertexts under 4 bytes seal fine but cannot be opened.
        assert_eq!(open_envelope(&seal_envelope(b"abc")), Err("EOF".to_owned()));
        assert_eq!(open_envelope(&seal_envelope(b"abcd")), Ok(b"abcd".to_vec()));
        assert_eq!(open_envelope(&seal_envelope(&[0; 1000])), Ok(vec![0; 1000]));

        let raw = |magic: &[u8], version: u32, body: &[u8], fix_crc: bool| {
            let mut bytes = [magic, &version.to_be_bytes(), body].concat();
            let sum = if fix_crc {
                crc32(&bytes)
            } else {
                crc32(&bytes) ^ 1
            };
            bytes.extend_from_slice(&sum.to_be_bytes());
            encode_base64(&bytes)
        };
        assert_eq!(
            open_envelope(&raw(b"escy", 1, b"abcd", true)),
            Err("invalid header".to_owned())
        );
        assert_eq!(
            open_envelope(&raw(b"escy", 2, b"abcd", false)),
            Err("invalid header".to_owned())
        );
        assert_eq!(
            open_envelope(&raw(b"escx", 1, b"abcd", false)),
            Err("invalid checksum".to_owned())
        );
        assert_eq!(
            open_envelope(&raw(b"escx", 2, b"abcd", false)),
            Err("invalid checksum".to_owned())
        );
        assert_eq!(
            open_envelope(&raw(b"escx", 2, b"abcd", true)),
            Err("unsupported version".to_owned())
        );
        assert_eq!(
            open_envelope(&raw(b"escx", 0, b"abcd", true)),
            Err("unsupported version".to_owned())
        );
        assert_eq!(
            open_envelope(&raw(b"escx", 1, b"abcd", true)),
            Ok(b"abcd".to_vec())
        );
    }

    #[test]
    fn crc32_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }
}
