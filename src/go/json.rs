//! Go's `encoding/json`, as the reference's builtins use it: `fn::fromJSON` decodes with a
//! `json.Decoder` (`UseNumber`), `fn::toJSON` and schema messages encode with `json.Marshal`.
//! The outputs and error texts are Go's; they were checked against a Go 1.26 toolchain.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::strconv::push_quoted;

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
    /// An object; [`decode`] never yields duplicate keys.
    Object(Vec<(String, Json)>),
}

impl From<&serde_json::Value> for Json {
    /// A serde value as Go would hold it after decoding (numbers as their text).
    fn from(value: &serde_json::Value) -> Self {
        match value {
            serde_json::Value::Null => Json::Null,
            serde_json::Value::Bool(b) => Json::Bool(*b),
            serde_json::Value::Number(n) => Json::Number(n.to_string()),
            serde_json::Value::String(s) => Json::String(s.clone()),
            serde_json::Value::Array(items) => Json::Array(items.iter().map(Json::from).collect()),
            serde_json::Value::Object(map) => Json::Object(
                map.iter()
                    .map(|(key, item)| (key.clone(), Json::from(item)))
                    .collect(),
            ),
        }
    }
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
pub(crate) fn decode(text: &str) -> Result<Json, String> {
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
            push_quoted(&mut out, char::from(c));
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
pub(crate) fn encode(v: &Json) -> String {
    encode_checked(v, &mut |_| {})
}

/// [`encode`], failing as Go's `json.Marshal` does on a number whose text is not a JSON
/// number (`+Inf`, `-Inf` and `NaN`, the texts of YAML's `.inf` and `.nan`), with Go's
/// message: `json: invalid number literal "+Inf"`. The first such number in output order
/// is reported. Out-of-range numbers such as `1e400` are valid literals and encode as
/// they are.
pub(crate) fn marshal(v: &Json) -> Result<String, String> {
    let mut invalid: Option<String> = None;
    let out = encode_checked(v, &mut |text| {
        if invalid.is_none() && !text.is_empty() && !is_number(text) {
            invalid = Some(text.to_owned());
        }
    });
    match invalid {
        Some(text) => Err(format!(
            "json: invalid number literal {}",
            super::strconv::quote(&text)
        )),
        None => Ok(out),
    }
}

/// Whether `text` is a JSON number literal (Go's `isValidNumber`): the grammar only, with
/// no range limit, so `1e400` is one.
pub(crate) fn is_number(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > start
    };
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            digits(&mut i);
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return false;
        }
    }
    i == b.len()
}

/// [`encode`], calling `number` with the text of every number in output order.
fn encode_checked(v: &Json, number: &mut dyn FnMut(&str)) -> String {
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
                number(text);
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

/// [`encode`] of a serde value (numbers as serde prints them).
pub(crate) fn encode_value(value: &serde_json::Value) -> String {
    encode(&Json::from(value))
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
        decode(text).expect_err(text)
    }

    // --- decode: values ---

    #[test]
    fn number_literals_follow_go_grammar_without_range() {
        for ok in [
            "0",
            "-0",
            "1e400",
            "-1e400",
            "1e-400",
            "1.5E+3",
            "123456789012345678901234567890",
        ] {
            assert!(is_number(ok), "{ok}");
        }
        for bad in [
            "", "+Inf", "-Inf", "NaN", "+1", "01", "1.", ".5", "1e", "1e+", "0x10", "-",
        ] {
            assert!(!is_number(bad), "{bad}");
        }
    }

    #[test]
    fn marshal_fails_like_go_on_an_invalid_number_literal() {
        let v = Json::Object(vec![
            ("b".to_owned(), num("NaN")),
            ("a".to_owned(), Json::Array(vec![num("1e400"), num("+Inf")])),
        ]);
        // Keys are sorted, so `a` (and its +Inf) comes first, as in Go's output.
        assert_eq!(
            marshal(&v),
            Err("json: invalid number literal \"+Inf\"".to_owned())
        );
        assert_eq!(marshal(&num("1e400")), Ok("1e400".to_owned()));
        assert_eq!(encode(&num("NaN")), "NaN");
    }

    #[test]
    fn decodes_scalars_keeping_number_text() {
        assert_eq!(decode("null"), Ok(Json::Null));
        assert_eq!(decode("true"), Ok(Json::Bool(true)));
        assert_eq!(decode("false"), Ok(Json::Bool(false)));
        for text in [
            "0",
            "-0",
            "1.0",
            "1.50",
            "-12e+3",
            "1E-2",
            "123456789012345678901234567890",
        ] {
            assert_eq!(decode(text), Ok(num(text)));
        }
        assert_eq!(decode(r#""x""#), Ok(string("x")));
    }

    #[test]
    fn decodes_containers_in_source_order() {
        let value = decode(r#" {"b": [1, {"c": null}], "a": "x", "e": {}, "f": []} "#);
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
            decode("\t\r\n[ 1 ,\n2 ]\n"),
            Ok(Json::Array(vec![num("1"), num("2")]))
        );
    }

    #[test]
    fn duplicate_keys_keep_first_position_and_last_value() {
        let value = decode(r#"{"a":1,"b":2,"a":{"x":3},"a":4}"#);
        assert_eq!(
            value,
            Ok(Json::Object(vec![
                ("a".into(), num("4")),
                ("b".into(), num("2"))
            ]))
        );
        let nested = decode(r#"[{"k":1,"k":2}]"#);
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
            decode(r#"{"a":1} trailing"#),
            Ok(Json::Object(vec![("a".into(), num("1"))]))
        );
        assert_eq!(decode("1 2"), Ok(num("1")));
        assert_eq!(decode("[1]]"), Ok(Json::Array(vec![num("1")])));
        assert_eq!(decode("truex"), Ok(Json::Bool(true)));
        assert_eq!(decode("nullnull"), Ok(Json::Null));
        assert_eq!(decode(r#""a"b"#), Ok(string("a")));
        assert_eq!(decode("123abc"), Ok(num("123")));
        // A leading zero ends the number, so the rest is trailing text.
        assert_eq!(decode("01"), Ok(num("0")));
        assert_eq!(decode("-0.5e1x"), Ok(num("-0.5e1")));
    }

    #[test]
    fn unescapes_strings_like_go() {
        let value = decode(r#""\"\\\/\b\f\n\r\t\u00e9\u4E16\ud83d\ude00""#);
        assert_eq!(value, Ok(string("\"\\/\u{8}\u{c}\n\r\té世😀")));
        assert_eq!(decode(r#""é <&> 😀""#), Ok(string("é <&> 😀")));
        assert_eq!(decode(r#""\u0000""#), Ok(string("\0")));
        // Lone or mismatched surrogates become U+FFFD; the next escape is read on its own.
        assert_eq!(decode(r#""\ud800""#), Ok(string("\u{fffd}")));
        assert_eq!(decode(r#""\udc00x""#), Ok(string("\u{fffd}x")));
        assert_eq!(decode(r#""\ud800\u0041""#), Ok(string("\u{fffd}A")));
        assert_eq!(decode(r#""\ud800\ud800\udc00""#), Ok(string("\u{fffd}𐀀")));
        assert_eq!(decode(r#""\udc00\ud800""#), Ok(string("\u{fffd}\u{fffd}")));
    }

    // --- decode: Go's error texts ---

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
                let value = decode(&worker_text).ok()?;
                let encoded = encode(&value);
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

    // --- encode ---

    #[test]
    fn encodes_strings_html_safe() {
        let enc = |s: &str| encode(&string(s));
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
            encode(&value),
            r#"{"":-0,"B":[],"a":{"\u003c":"","z":false},"aa":{},"b":[1.50,null,true],"é":1e+06}"#
        );
        assert_eq!(encode(&num("")), "0");
        assert_eq!(encode(&Json::Array(vec![Json::Array(vec![])])), "[[]]");
    }

    #[test]
    fn decode_then_encode_round_trips() {
        let text = r#"{"z":[1,2.0,"x\u0026"],"a":{"\u00e9":null}}"#;
        let value = decode(text).expect("valid");
        assert_eq!(encode(&value), r#"{"a":{"é":null},"z":[1,2.0,"x\u0026"]}"#);
    }

    #[test]
    fn encodes_serde_values() {
        use serde_json::json;
        assert_eq!(
            encode_value(&json!({"b": [true, null], "a": 1.5})),
            r#"{"a":1.5,"b":[true,null]}"#
        );
        assert_eq!(
            encode_value(&json!("\u{8}\u{c}\u{1f}\u{7f}\"\\/")),
            "\"\\b\\f\\u001f\u{7f}\\\"\\\\/\""
        );
        assert_eq!(
            encode_value(&json!("<&>\u{2029}é")),
            r#""\u003c\u0026\u003e\u2029é""#
        );
    }
}
