//! Exact decimals for the numeric keywords (`minimum`, `multipleOf`, ...), so that number texts
//! compare as the reference compares them.

use std::cmp::Ordering;
use std::fmt::Write as _;

/// An exact decimal parsed from a number's text (or an infinity, which Go's `%g` can produce).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Decimal {
    NegativeInfinity,
    /// `±0.d₁d₂…dₙ × 10^point`, with no leading or trailing zero digit; zero has no digits.
    Finite {
        negative: bool,
        digits: Vec<u8>,
        point: i64,
    },
    Infinity,
}

impl Decimal {
    /// Exponents beyond this are clamped; no digit string is long enough to notice.
    const EXPONENT_LIMIT: i64 = 1_000_000_000_000_000;

    pub(super) fn parse(text: &str) -> Option<Decimal> {
        let (negative, rest) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        if rest.eq_ignore_ascii_case("inf") || rest.eq_ignore_ascii_case("infinity") {
            return Some(if negative {
                Decimal::NegativeInfinity
            } else {
                Decimal::Infinity
            });
        }
        let (mantissa, exponent) = match rest.split_once(['e', 'E']) {
            Some((mantissa, exponent)) => (mantissa, Decimal::parse_exponent(exponent)?),
            None => (rest, 0),
        };
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let is_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if (whole.is_empty() && fraction.is_empty()) || !is_digits(whole) || !is_digits(fraction) {
            return None;
        }
        let mut digits: Vec<u8> = whole
            .bytes()
            .chain(fraction.bytes())
            .map(|b| b - b'0')
            .collect();
        let leading = digits.iter().take_while(|&&d| d == 0).count();
        digits.drain(..leading);
        while digits.last() == Some(&0) {
            digits.pop();
        }
        if digits.is_empty() {
            return Some(Decimal::Finite {
                negative: false,
                digits,
                point: 0,
            });
        }
        let point = i64::try_from(whole.len()).ok()? - i64::try_from(leading).ok()? + exponent;
        Some(Decimal::Finite {
            negative,
            digits,
            point,
        })
    }

    fn parse_exponent(text: &str) -> Option<i64> {
        let (negative, digits) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let magnitude = digits.bytes().fold(0i64, |acc, b| {
            (acc * 10 + i64::from(b - b'0')).min(Decimal::EXPONENT_LIMIT)
        });
        Some(if negative { -magnitude } else { magnitude })
    }

    /// (sign, magnitude as (point, digits)); zero and the infinities have no magnitude.
    fn order_key(&self) -> (i8, Option<(i64, &[u8])>) {
        match self {
            Decimal::NegativeInfinity => (-2, None),
            Decimal::Finite { digits, .. } if digits.is_empty() => (0, None),
            Decimal::Finite {
                negative,
                digits,
                point,
            } => (
                if *negative { -1 } else { 1 },
                Some((*point, digits.as_slice())),
            ),
            Decimal::Infinity => (2, None),
        }
    }

    /// Whether `self / divisor` is an integer, computed exactly.
    pub(super) fn is_multiple_of(&self, divisor: &Decimal) -> bool {
        let (
            Decimal::Finite {
                digits: value,
                point: value_point,
                ..
            },
            Decimal::Finite {
                digits: divisor_digits,
                point: divisor_point,
                ..
            },
        ) = (self, divisor)
        else {
            // A finite value divided by an infinity is 0; an infinite value is no integer.
            return matches!(self, Decimal::Finite { .. });
        };
        if divisor_digits.is_empty() {
            return false;
        }
        if value.is_empty() {
            return true;
        }
        // value = V·10^(value_point − |V|), divisor = D·10^(divisor_point − |D|), with V and D
        // integers without trailing zeros; the quotient is (V / D)·10^shift.
        let length = |digits: &Vec<u8>| i64::try_from(digits.len()).unwrap_or(i64::MAX);
        let shift = (value_point - length(value)) - (divisor_point - length(divisor_digits));
        if shift < 0 {
            // V would need a factor 10, but it has no trailing zero.
            return false;
        }
        let Some(d) = Decimal::small_integer(divisor_digits) else {
            return self.to_f64() / divisor.to_f64() % 1.0 == 0.0;
        };
        let mut remainder = value
            .iter()
            .fold(0u128, |r, &digit| (r * 10 + u128::from(digit)) % d);
        // D < 2^123, so more than 128 factors of ten cannot change divisibility.
        for _ in 0..shift.min(128) {
            remainder = remainder * 10 % d;
        }
        remainder == 0
    }

    /// The digits as an integer, if it has at most 37 of them (so `r·10 + 9` fits in a `u128`).
    fn small_integer(digits: &[u8]) -> Option<u128> {
        (digits.len() <= 37).then(|| digits.iter().fold(0u128, |n, &d| n * 10 + u128::from(d)))
    }

    fn to_f64(&self) -> f64 {
        match self {
            Decimal::NegativeInfinity => f64::NEG_INFINITY,
            Decimal::Infinity => f64::INFINITY,
            Decimal::Finite {
                negative,
                digits,
                point,
            } => {
                let mut text = String::from(if *negative { "-0." } else { "0." });
                text.extend(digits.iter().map(|&d| char::from(b'0' + d)));
                let _ = write!(text, "e{point}");
                text.parse().unwrap_or(f64::NAN)
            }
        }
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> Ordering {
        let ((sign, a), (other_sign, b)) = (self.order_key(), other.order_key());
        sign.cmp(&other_sign).then_with(|| {
            let magnitude = a.cmp(&b);
            if sign < 0 {
                magnitude.reverse()
            } else {
                magnitude
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals() {
        let d = |s: &str| Decimal::parse(s).unwrap();
        assert_eq!(d("1e+06"), d("1000000"));
        assert_eq!(d("-0"), d("0.000"));
        assert_eq!(d("0012.50"), d("12.5"));
        assert!(d("-1") < d("-0.5"));
        assert!(d("-0.5") < d("0"));
        assert!(d("0") < d("1e-300"));
        assert!(d("99") < d("1e2"));
        assert!(d("1e999999999999999999999") > d("9e100"));
        assert!(d("-Inf") < d("-1e300") && d("+Inf") > d("1e300"));
        assert_eq!(d("Infinity"), Decimal::Infinity);
        for bad in ["", "-", "1e", "e5", ".", "1.2.3", "0x10", "NaN", "1e+-2"] {
            assert_eq!(Decimal::parse(bad), None, "{bad}");
        }
        assert!(d(".5").is_multiple_of(&d("0.25")));
        assert!(!d("1e400").is_multiple_of(&d("7e3")));
        assert!(d("7e400").is_multiple_of(&d("7e3")));
        assert!(d("6").is_multiple_of(&d("-3")));
        assert!(d("5").is_multiple_of(&d("Inf")));
        assert!(!d("Inf").is_multiple_of(&d("5")));
        // A divisor too long for exact arithmetic falls back to floats.
        let long = "1".repeat(40);
        assert!(d(&long).is_multiple_of(&d(&long)));
    }
}
