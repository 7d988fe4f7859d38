//! Scalar typing as the reference's YAML library does it (go-yaml v3 rules, see spec §1.4).
//!
//! Plain scalars are typed by their text; quoted and block scalars are strings unless an explicit
//! core tag asks for a coercion. Numbers are carried as the decimal text the reference renders, so
//! that JSON output matches it byte for byte.

use std::borrow::Cow;

use crate::go::strconv::format_float_g;

/// A resolved YAML scalar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Scalar {
    Null,
    Bool(bool),
    /// The number's canonical decimal text as the reference renders it (`0x1F` → `31`,
    /// `1e3` → `1000`, `1000000.0` → `1e+06`, `18446744073709551615` stays). NaN/Inf render as `NaN`, `+Inf`, `-Inf`.
    Number(String),
    String(String),
}

/// Resolves an untagged plain scalar's text.
pub(crate) fn resolve_plain(text: &str) -> Scalar {
    Core::resolve(text).into_scalar(text)
}

/// [`resolve_plain`] for text the caller owns: a string keeps its allocation, as most
/// plain scalars are strings and copying them was a measurable part of parsing.
pub(crate) fn resolve_plain_owned(text: String) -> Scalar {
    match Core::resolve(&text) {
        Core::Str => Scalar::String(text),
        core => core.into_scalar(&text),
    }
}

/// Resolves a scalar that carries an explicit tag. `tag` is the short spelling as written
/// (`!!int`, `!!str`, `!tag`, `!`), `text` the decoded scalar text, `plain` whether the
/// scalar is an unquoted, non-block scalar. Returns the error message (full text, e.g.
/// "yaml: cannot decode !!str `yes` as a !!bool") when a core-tag coercion fails.
pub(crate) fn resolve_tagged(tag: &str, text: &str, plain: bool) -> Result<Scalar, String> {
    // `!<…>` is the verbatim spelling of the same tag.
    let tag = tag
        .strip_prefix("!<")
        .and_then(|t| t.strip_suffix('>'))
        .unwrap_or(tag);
    // The non-specific tag `!` only says "not a plain scalar's implicit type"; it types nothing.
    // An empty tag is treated the same way (the least surprising reading of "no tag").
    if tag.is_empty() || tag == "!" {
        return Ok(if plain {
            resolve_plain(text)
        } else {
            Scalar::String(text.to_owned())
        });
    }
    let Some(name) = tag
        .strip_prefix("!!")
        .or_else(|| tag.strip_prefix("tag:yaml.org,2002:"))
    else {
        // Custom (local or global) tags are left unresolved: the raw text is a string.
        return Ok(Scalar::String(text.to_owned()));
    };

    let string = || Scalar::String(text.to_owned());
    let resolved = Core::resolve(text);
    let mismatch = || {
        Err(format!(
            "yaml: cannot decode !!{} `{text}` as a !!{name}",
            resolved.tag_name()
        ))
    };
    match name {
        // go-yaml decodes `!!binary` with Go's `base64.StdEncoding`.
        "binary" if crate::go::base64::decode(text).is_ok() => Ok(string()),
        "binary" => Err("yaml: !!binary value contains invalid base64 data".to_owned()),
        "timestamp" if is_timestamp(text) => Ok(string()),
        "null" | "bool" | "int" | "timestamp" if resolved.tag_name() != name => mismatch(),
        "null" | "bool" | "int" => Ok(resolved.into_scalar(text)),
        "float" => {
            // The spec only shows `!!float 1` → `1`; widening every integer (uint64 too) to
            // float64 is our choice for the unspecified cases.
            #[allow(
                clippy::cast_precision_loss,
                reason = "!!float asks for float64 rounding"
            )]
            let float = match resolved {
                Core::Float(v) => v,
                Core::Int(v) => v as f64,
                Core::Uint(v) => v as f64,
                _ => return mismatch(),
            };
            Ok(Scalar::Number(format_float_g(float)))
        }
        // `!!str`, and also other `!!` names (`!!seq`, `!!map`, `!!merge`, unknown ones), which
        // cannot type a scalar: the spec is silent, so those are treated like custom tags.
        _ => Ok(string()),
    }
}

/// What a scalar's text resolves to with no tag, before rendering. Timestamps are not a variant:
/// untagged they stay strings, and the reference reports them as `!!str` in coercion errors.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Core {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str,
}

impl Core {
    fn resolve(text: &str) -> Self {
        match text {
            "" | "~" | "null" | "Null" | "NULL" => return Self::Null,
            "true" | "True" | "TRUE" => return Self::Bool(true),
            "false" | "False" | "FALSE" => return Self::Bool(false),
            ".nan" | ".NaN" | ".NAN" => return Self::Float(f64::NAN),
            ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
                return Self::Float(f64::INFINITY);
            }
            "-.inf" | "-.Inf" | "-.INF" => return Self::Float(f64::NEG_INFINITY),
            _ => {}
        }
        match text.as_bytes().first() {
            // A leading `.` goes straight to float parsing, underscores and all (so `.5_0` fails).
            Some(b'.') => parse_yaml_float(text).map_or(Self::Str, Self::Float),
            Some(b'0'..=b'9' | b'+' | b'-') => {
                // Only copied when there is an underscore to delete.
                let plain = if text.contains('_') {
                    Cow::Owned(text.replace('_', ""))
                } else {
                    Cow::Borrowed(text)
                };
                if let Some(v) = parse_go_int(&plain) {
                    Self::Int(v)
                } else if let Some(v) = parse_go_uint(&plain) {
                    Self::Uint(v)
                } else {
                    // The spec's float rule continues the int rule, so it sees the text with `_`
                    // deleted too (`1_000.5` → 1000.5); this is our reading of it.
                    parse_yaml_float(&plain).map_or(Self::Str, Self::Float)
                }
            }
            _ => Self::Str,
        }
    }

    /// The short core tag name (without `!!`) used in coercion error messages.
    fn tag_name(self) -> &'static str {
        match self {
            Self::Null => "null",
            Self::Bool(_) => "bool",
            Self::Int(_) | Self::Uint(_) => "int",
            Self::Float(_) => "float",
            Self::Str => "str",
        }
    }

    fn into_scalar(self, text: &str) -> Scalar {
        match self {
            Self::Null => Scalar::Null,
            Self::Bool(b) => Scalar::Bool(b),
            Self::Int(v) => Scalar::Number(v.to_string()),
            Self::Uint(v) => Scalar::Number(v.to_string()),
            Self::Float(v) => Scalar::Number(format_float_g(v)),
            Self::Str => Scalar::String(text.to_owned()),
        }
    }
}

/// Go's `strconv.ParseUint(s, 0, 64)`: base from the prefix (`0x`, `0o`, `0b`, a bare leading
/// `0` means octal), no sign, no overflow.
fn parse_go_uint(s: &str) -> Option<u64> {
    let bytes = s.as_bytes();
    let (radix, digits) = match bytes {
        [] => return None,
        [b'0', p, _, ..] if p.eq_ignore_ascii_case(&b'x') => (16, &s[2..]),
        [b'0', p, _, ..] if p.eq_ignore_ascii_case(&b'o') => (8, &s[2..]),
        [b'0', p, _, ..] if p.eq_ignore_ascii_case(&b'b') => (2, &s[2..]),
        // Legacy octal; the digits may be empty, which makes `0` itself.
        [b'0', ..] => (8, &s[1..]),
        _ => (10, s),
    };
    digits.chars().try_fold(0u64, |n, c| {
        n.checked_mul(u64::from(radix))?
            .checked_add(u64::from(c.to_digit(radix)?))
    })
}

/// Go's `strconv.ParseInt(s, 0, 64)`: one optional sign, then [`parse_go_uint`] rules.
fn parse_go_int(s: &str) -> Option<i64> {
    if let Some(rest) = s.strip_prefix('-') {
        0i64.checked_sub_unsigned(parse_go_uint(rest)?)
    } else {
        let rest = s.strip_prefix('+').unwrap_or(s);
        i64::try_from(parse_go_uint(rest)?).ok()
    }
}

/// Parses text matching `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$` as float64.
/// Overflow to ±Inf is a failure, as it is for Go's `ParseFloat`, so `1e400` stays a string.
fn parse_yaml_float(s: &str) -> Option<f64> {
    let bytes = s.as_bytes();
    let digits_from = |i: usize| {
        bytes
            .get(i..)
            .map_or(0, |b| b.iter().take_while(|c| c.is_ascii_digit()).count())
    };
    let mut i = usize::from(matches!(bytes.first(), Some(b'+' | b'-')));
    let int_digits = digits_from(i);
    i += int_digits;
    if bytes.get(i) == Some(&b'.') {
        let frac_digits = digits_from(i + 1);
        if int_digits == 0 && frac_digits == 0 {
            return None;
        }
        i += 1 + frac_digits;
    } else if int_digits == 0 {
        return None;
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(bytes.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp_digits = digits_from(i);
        if exp_digits == 0 {
            return None;
        }
        i += exp_digits;
    }
    if i != bytes.len() {
        return None;
    }
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Whether `text` is a timestamp in one of the forms go-yaml accepts, with Go `time.Parse`
/// semantics: `Y-M-D`, `Y-M-DTh:m:s[.f]Z|±hh:mm` (`T` or `t`), or `Y-M-D h:m:s[.f]` (one or more
/// spaces). Year is four digits; month, day, hour, minute and second one or two; ranges checked.
fn is_timestamp(text: &str) -> bool {
    let mut c = Cursor {
        bytes: text.as_bytes(),
        pos: 0,
    };
    timestamp(&mut c).is_some()
}

fn timestamp(c: &mut Cursor<'_>) -> Option<()> {
    let year = c.fixed(4)?;
    c.lit(b'-')?;
    let month = c.one_or_two()?;
    c.lit(b'-')?;
    let day = c.one_or_two()?;
    if !(1..=12).contains(&month) || !(1..=days_in(month, year)).contains(&day) {
        return None;
    }
    if c.at_end() {
        return Some(());
    }
    let zoned = match c.next()? {
        b'T' | b't' => true,
        b' ' => {
            c.skip_spaces();
            false
        }
        _ => return None,
    };
    let hour = c.one_or_two()?;
    c.lit(b':')?;
    let minute = c.one_or_two()?;
    c.lit(b':')?;
    let second = c.one_or_two()?;
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    if matches!(c.peek(0), Some(b'.' | b',')) && c.peek(1).is_some_and(|b| b.is_ascii_digit()) {
        c.pos += 1;
        c.skip_digits();
    }
    if zoned && c.lit(b'Z').is_none() {
        let sign = c.next()?;
        let zone_hour = c.fixed(2)?;
        c.lit(b':')?;
        let zone_minute = c.fixed(2)?;
        // Go tolerates offsets up to 24:60.
        if !matches!(sign, b'+' | b'-') || zone_hour > 24 || zone_minute > 60 {
            return None;
        }
    }
    c.at_end().then_some(())
}

fn days_in(month: u32, year: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A byte cursor for the timestamp grammar.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.pos + ahead).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek(0)?;
        self.pos += 1;
        Some(b)
    }

    fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    fn lit(&mut self, expected: u8) -> Option<()> {
        (self.peek(0)? == expected).then(|| self.pos += 1)
    }

    fn digit(&mut self) -> Option<u32> {
        let b = self.peek(0).filter(u8::is_ascii_digit)?;
        self.pos += 1;
        Some(u32::from(b - b'0'))
    }

    fn fixed(&mut self, count: usize) -> Option<u32> {
        (0..count).try_fold(0, |n, _| Some(n * 10 + self.digit()?))
    }

    fn one_or_two(&mut self) -> Option<u32> {
        let first = self.digit()?;
        Some(self.digit().map_or(first, |second| first * 10 + second))
    }

    fn skip_digits(&mut self) {
        while self.digit().is_some() {}
    }

    fn skip_spaces(&mut self) {
        while self.lit(b' ').is_some() {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(s: &str) -> Scalar {
        Scalar::Number(s.to_owned())
    }

    fn string(s: &str) -> Scalar {
        Scalar::String(s.to_owned())
    }

    #[track_caller]
    fn plain_is(text: &str, expected: &Scalar) {
        assert_eq!(&resolve_plain(text), expected, "plain {text:?}");
        assert_eq!(
            &resolve_plain_owned(text.to_owned()),
            expected,
            "owned {text:?}"
        );
    }

    #[test]
    fn nulls() {
        for text in ["", "~", "null", "Null", "NULL"] {
            plain_is(text, &Scalar::Null);
        }
        for text in ["nULL", "nil", "None", "~~"] {
            plain_is(text, &string(text));
        }
    }

    #[test]
    fn booleans() {
        for text in ["true", "True", "TRUE"] {
            plain_is(text, &Scalar::Bool(true));
        }
        for text in ["false", "False", "FALSE"] {
            plain_is(text, &Scalar::Bool(false));
        }
    }

    #[test]
    fn yaml_1_1_booleans_are_strings() {
        for text in [
            "yes", "no", "on", "off", "y", "n", "Yes", "NO", "On", "OFF", "Y", "N", "tRUE",
        ] {
            plain_is(text, &string(text));
        }
    }

    #[test]
    fn integers_with_go_base_prefixes() {
        for (text, expected) in [
            ("0", "0"),
            ("-0", "0"),
            ("42", "42"),
            ("0x1F", "31"),
            ("0X1f", "31"),
            ("017", "15"),
            ("0o17", "15"),
            ("0O17", "15"),
            ("0b101", "5"),
            ("0B101", "5"),
            ("-0b11", "-3"),
            ("+12", "12"),
            ("-0x1F", "-31"),
            ("00", "0"),
        ] {
            plain_is(text, &num(expected));
        }
    }

    #[test]
    fn underscores_are_deleted_before_integer_parsing() {
        for (text, expected) in [
            ("1_000", "1000"),
            ("1__000_", "1000"),
            ("0x_1F", "31"),
            ("-_1", "-1"),
        ] {
            plain_is(text, &num(expected));
        }
        // Must start with a digit or sign.
        plain_is("_1", &string("_1"));
    }

    #[test]
    fn int64_then_uint64_limits() {
        for text in [
            "9223372036854775807",
            "-9223372036854775808",
            "9223372036854775808",
            "18446744073709551615",
            "9007199254740993",
        ] {
            plain_is(text, &num(text));
        }
        plain_is("0xFFFFFFFFFFFFFFFF", &num("18446744073709551615"));
        plain_is("-0x8000000000000000", &num("-9223372036854775808"));
    }

    #[test]
    fn integers_too_wide_become_floats_or_strings() {
        plain_is("18446744073709551616", &num("1.8446744073709552e+19"));
        plain_is("-9223372036854775809", &num("-9.223372036854776e+18"));
        // ParseUint takes no sign, so a signed uint64 falls through to float.
        plain_is("+18446744073709551615", &num("1.8446744073709552e+19"));
        plain_is(
            "123456789012345678901234567890",
            &num("1.2345678901234568e+29"),
        );
        // No float spelling for hex: too wide stays a string.
        plain_is("0x1FFFFFFFFFFFFFFFF", &string("0x1FFFFFFFFFFFFFFFF"));
    }

    #[test]
    fn floats() {
        for (text, expected) in [
            ("08", "8"),
            ("09.5", "9.5"),
            ("1e3", "1000"),
            ("1E3", "1000"),
            ("1.5", "1.5"),
            ("-1.5", "-1.5"),
            ("+1.5", "1.5"),
            ("1.", "1"),
            ("1.e2", "100"),
            ("-0.0", "-0"),
            ("0.0", "0"),
            ("1e-400", "0"),
            ("1_000.5", "1000.5"),
            ("-.5", "-0.5"),
        ] {
            plain_is(text, &num(expected));
        }
    }

    #[test]
    fn floats_starting_with_a_dot() {
        plain_is(".5", &num("0.5"));
        plain_is(".5e3", &num("500"));
        plain_is(".5E-1", &num("0.05"));
        // A leading `.` is parsed without deleting underscores.
        plain_is(".5_0", &string(".5_0"));
        plain_is(".", &string("."));
        plain_is(".e3", &string(".e3"));
    }

    #[test]
    fn infinities_and_nan() {
        for text in [".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"] {
            plain_is(text, &num("+Inf"));
        }
        for text in ["-.inf", "-.Inf", "-.INF"] {
            plain_is(text, &num("-Inf"));
        }
        for text in [".nan", ".NaN", ".NAN"] {
            plain_is(text, &num("NaN"));
        }
        for text in [
            ".iNF", "+.nan", "-.nan", "inf", "nan", "NaN", "Infinity", "-inf",
        ] {
            plain_is(text, &string(text));
        }
    }

    #[test]
    fn float_overflow_is_a_string() {
        plain_is("1e400", &string("1e400"));
        plain_is("-1e400", &string("-1e400"));
    }

    #[test]
    fn everything_else_is_the_original_text() {
        for text in [
            "2001-12-14",
            "2001-12-14T21:59:43.10-05:00",
            "1:20",
            "12e",
            "1e",
            "1.2.3",
            "0x",
            "0b2",
            "08x",
            "1 000",
            "hello",
            "<<",
            "=",
            "1e+",
            "0x1.8p1",
            "1,000",
        ] {
            plain_is(text, &string(text));
        }
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        for text in [
            "", "-", "+", "0x", ".", "1e", "_", "0b2", "+-1", "--1", "-+", "0o", "0b", "0X", "+.",
            "-.", ".-", "e", "E5", "é", "0é", "1é", ".é", "-é", "\u{0}", " ", "0x_",
        ] {
            let _ = resolve_plain(text);
            for tag in [
                "!!int",
                "!!float",
                "!!bool",
                "!!null",
                "!!timestamp",
                "!!binary",
                "!",
            ] {
                let _ = resolve_tagged(tag, text, true);
            }
        }
        plain_is("-", &string("-"));
        plain_is("+", &string("+"));
        plain_is("_", &string("_"));
    }

    #[test]
    fn spec_float_examples_through_resolution() {
        for (text, expected) in [
            ("123456789.5", "1.234567895e+08"),
            ("999999.0", "999999"),
            ("0.0001", "0.0001"),
            ("-1e-7", "-1e-07"),
            ("1000000.0", "1e+06"),
            ("100000.0", "100000"),
            ("1.0", "1"),
            ("0.00001", "1e-05"),
            ("3.0e-5", "3e-05"),
            ("1e21", "1e+21"),
            ("-0.0", "-0"),
        ] {
            plain_is(text, &num(expected));
        }
    }

    #[test]
    fn custom_tags_keep_raw_text() {
        for tag in [
            "!tag",
            "!custom",
            "!<tag:example.com,2000:x>",
            "!!seq",
            "!!map",
            "!!foo",
        ] {
            for text in ["42", "null", "true", "", "x"] {
                assert_eq!(
                    resolve_tagged(tag, text, true),
                    Ok(string(text)),
                    "{tag} {text}"
                );
                assert_eq!(
                    resolve_tagged(tag, text, false),
                    Ok(string(text)),
                    "{tag} {text}"
                );
            }
        }
    }

    #[test]
    fn non_specific_tag_is_not_a_tag() {
        assert_eq!(resolve_tagged("!", "42", true), Ok(num("42")));
        assert_eq!(resolve_tagged("!", "null", true), Ok(Scalar::Null));
        assert_eq!(resolve_tagged("!", "true", true), Ok(Scalar::Bool(true)));
        assert_eq!(resolve_tagged("!", "42", false), Ok(string("42")));
        assert_eq!(resolve_tagged("!", "", false), Ok(string("")));
    }

    #[test]
    fn str_tag() {
        assert_eq!(resolve_tagged("!!str", "x", true), Ok(string("x")));
        assert_eq!(resolve_tagged("!!str", "null", true), Ok(string("null")));
        assert_eq!(resolve_tagged("!!str", "42", true), Ok(string("42")));
        assert_eq!(resolve_tagged("!!str", "", true), Ok(string("")));
    }

    #[test]
    fn int_tag() {
        assert_eq!(resolve_tagged("!!int", "42", false), Ok(num("42")));
        assert_eq!(resolve_tagged("!!int", "0x1F", true), Ok(num("31")));
        assert_eq!(
            resolve_tagged("!!int", "18446744073709551615", true),
            Ok(num("18446744073709551615"))
        );
        assert_eq!(
            resolve_tagged("!!int", "1e3", true),
            Err("yaml: cannot decode !!float `1e3` as a !!int".to_owned())
        );
        assert_eq!(
            resolve_tagged("!!int", "foo", false),
            Err("yaml: cannot decode !!str `foo` as a !!int".to_owned())
        );
        assert_eq!(
            resolve_tagged("!!int", "", false),
            Err("yaml: cannot decode !!null `` as a !!int".to_owned())
        );
        assert_eq!(
            resolve_tagged("!!int", "2001-12-14", true),
            Err("yaml: cannot decode !!str `2001-12-14` as a !!int".to_owned())
        );
    }

    #[test]
    fn float_tag() {
        assert_eq!(resolve_tagged("!!float", "1", true), Ok(num("1")));
        assert_eq!(resolve_tagged("!!float", "1.5", false), Ok(num("1.5")));
        assert_eq!(resolve_tagged("!!float", "1e3", true), Ok(num("1000")));
        assert_eq!(resolve_tagged("!!float", "0x10", true), Ok(num("16")));
        assert_eq!(resolve_tagged("!!float", "-0", true), Ok(num("0")));
        assert_eq!(resolve_tagged("!!float", ".inf", true), Ok(num("+Inf")));
        assert_eq!(
            resolve_tagged("!!float", "9007199254740993", true),
            Ok(num("9.007199254740992e+15"))
        );
        assert_eq!(
            resolve_tagged("!!float", "18446744073709551615", true),
            Ok(num("1.8446744073709552e+19"))
        );
        assert_eq!(
            resolve_tagged("!!float", "true", true),
            Err("yaml: cannot decode !!bool `true` as a !!float".to_owned())
        );
        assert_eq!(
            resolve_tagged("!!float", "1e400", true),
            Err("yaml: cannot decode !!str `1e400` as a !!float".to_owned())
        );
    }

    #[test]
    fn bool_tag() {
        assert_eq!(
            resolve_tagged("!!bool", "true", true),
            Ok(Scalar::Bool(true))
        );
        assert_eq!(
            resolve_tagged("!!bool", "FALSE", false),
            Ok(Scalar::Bool(false))
        );
        assert_eq!(
            resolve_tagged("!!bool", "yes", true),
            Err("yaml: cannot decode !!str `yes` as a !!bool".to_owned())
        );
        assert_eq!(
            resolve_tagged("!!bool", "1", true),
            Err("yaml: cannot decode !!int `1` as a !!bool".to_owned())
        );
    }

    #[test]
    fn null_tag() {
        for text in ["", "~", "null", "Null", "NULL"] {
            assert_eq!(resolve_tagged("!!null", text, true), Ok(Scalar::Null));
        }
        assert_eq!(
            resolve_tagged("!!null", "foo", true),
            Err("yaml: cannot decode !!str `foo` as a !!null".to_owned())
        );
        assert_eq!(
            resolve_tagged("!!null", "false", true),
            Err("yaml: cannot decode !!bool `false` as a !!null".to_owned())
        );
    }

    #[test]
    fn timestamp_tag() {
        for text in [
            "2001-12-14",
            "2001-1-2",
            "2000-02-29",
            "2001-12-14t21:59:43.10-05:00",
            "2001-12-14T21:59:43Z",
            "2001-12-14T21:59:43,5+01:00",
            "2001-12-14 21:59:43.10",
            "2001-12-14  1:2:3",
        ] {
            assert_eq!(
                resolve_tagged("!!timestamp", text, true),
                Ok(string(text)),
                "{text}"
            );
        }
        for (text, untagged) in [
            ("2001-13-14", "str"),
            ("2001-02-29", "str"),
            ("2001-12-14T21:59:43", "str"),
            ("2001-12-14 21:59:43 Z", "str"),
            ("2001-12-14T24:00:00Z", "str"),
            ("2001-12-14T21:59:43.10-5", "str"),
            ("2001-12-14x", "str"),
            ("42", "int"),
            ("", "null"),
        ] {
            assert_eq!(
                resolve_tagged("!!timestamp", text, true),
                Err(format!(
                    "yaml: cannot decode !!{untagged} `{text}` as a !!timestamp"
                )),
                "{text}"
            );
        }
    }

    #[test]
    fn binary_tag() {
        for text in [
            "",
            "aGVsbG8=",
            "aGk=",
            "aGVs",
            "aGVs\nbG8=\n",
            "R0lG\r\nODlh",
            "+/+/",
        ] {
            assert_eq!(
                resolve_tagged("!!binary", text, false),
                Ok(string(text)),
                "{text:?}"
            );
        }
        for text in [
            "aGVsbG8",
            "a===",
            "====",
            "aG=k",
            "aGVs bG8=",
            "a",
            "aGk=aGk=",
            "aG_k",
        ] {
            assert_eq!(
                resolve_tagged("!!binary", text, false),
                Err("yaml: !!binary value contains invalid base64 data".to_owned()),
                "{text:?}"
            );
        }
    }

    #[test]
    fn long_and_verbatim_tag_spellings() {
        assert_eq!(
            resolve_tagged("tag:yaml.org,2002:int", "0o17", true),
            Ok(num("15"))
        );
        assert_eq!(
            resolve_tagged("!<tag:yaml.org,2002:str>", "42", true),
            Ok(string("42"))
        );
        assert_eq!(
            resolve_tagged("tag:yaml.org,2002:bool", "on", true),
            Err("yaml: cannot decode !!str `on` as a !!bool".to_owned())
        );
    }

    #[test]
    fn go_integer_parsers() {
        assert_eq!(parse_go_uint("0"), Some(0));
        assert_eq!(parse_go_uint("0x"), None);
        assert_eq!(parse_go_uint("0b"), None);
        assert_eq!(parse_go_uint("0o8"), None);
        assert_eq!(parse_go_uint("+1"), None);
        assert_eq!(parse_go_uint("18446744073709551616"), None);
        assert_eq!(parse_go_int("+-1"), None);
        assert_eq!(parse_go_int("-9223372036854775809"), None);
        assert_eq!(parse_go_int("9223372036854775808"), None);
    }

    /// A tiny deterministic generator, so the sweeps below need no dependency.
    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn random_short_inputs_do_not_panic() {
        const ALPHABET: &[char] = &[
            '0', '1', '7', '8', '9', 'x', 'X', 'o', 'b', 'e', 'E', '.', '_', '+', '-', ':', 'T',
            'Z', ' ', '=', 'n', 'a', 'i', 'f', '~', 'é',
        ];
        let mut state = 0x2545_F491_4F6C_DD1D;
        for _ in 0..20_000 {
            let len = xorshift(&mut state) % 8;
            let text: String = (0..len)
                .map(|_| {
                    let i =
                        usize::try_from(xorshift(&mut state) % ALPHABET.len() as u64).unwrap_or(0);
                    ALPHABET[i]
                })
                .collect();
            let _ = resolve_plain(&text);
            for tag in ["!!int", "!!float", "!!null", "!!timestamp", "!!binary"] {
                let _ = resolve_tagged(tag, &text, true);
            }
        }
    }
}
