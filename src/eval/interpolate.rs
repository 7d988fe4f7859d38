//! Interpolation and the string form of values (the reference's §5.6).

use std::fmt::Write as _;
use std::sync::Arc;

use super::Evaluator;
use super::arena::{ExprId, Repr, ValueId};
use super::memo::{STACK_RED_ZONE, STACK_SEGMENT};
use crate::ast::Accessor;
use crate::go::strconv::quote;
use crate::schema::Schema;

impl Evaluator<'_> {
    pub(super) fn interpolate(
        &mut self,
        x: ExprId,
        parts: &[(String, Option<Vec<Accessor>>)],
    ) -> ValueId {
        let mut text = String::new();
        let (mut unknown, mut secret) = (false, false);
        for (part, (literal, access)) in parts.iter().enumerate() {
            text.push_str(literal);
            if let Some(accs) = access {
                let v = self.resolve(x, part, accs, &Schema::Always);
                let room = self
                    .options
                    .max_value_weight
                    .saturating_sub(self.values.weight().saturating_add(text.len()));
                let Some((s, u, sec)) = self.string_form(v, room) else {
                    return self.too_large(x);
                };
                self.share_weight(self.values.weight() + text.len() + s.len());
                unknown |= u;
                secret |= sec;
                if !u {
                    text.push_str(&s);
                }
            }
        }
        if unknown {
            "[unknown]".clone_into(&mut text);
        }
        let v = self.new_value(x, Repr::String(Arc::from(text)), Schema::of_type("string"));
        let val = self.values.get_mut(v);
        val.unknown = unknown;
        val.secret = secret;
        v
    }

    /// The string form of a value (§5.6): (text, unknown, secret); `None` if the text is
    /// longer than `cap` bytes (each level of nesting quotes the one inside it again, so
    /// the text can be exponentially larger than the value).
    pub(super) fn string_form(&self, v: ValueId, cap: usize) -> Option<(String, bool, bool)> {
        stacker::maybe_grow(STACK_RED_ZONE, STACK_SEGMENT, || {
            self.string_form_inner(v, cap)
        })
    }

    fn string_form_inner(&self, v: ValueId, cap: usize) -> Option<(String, bool, bool)> {
        let val = self.val(v);
        if val.unknown {
            return Some(("[unknown]".to_owned(), true, val.secret));
        }
        let (mut unknown, mut secret) = (false, val.secret);
        let mut text = String::new();
        match &val.repr {
            Repr::Null => {}
            Repr::Bool(b) => text = b.to_string(),
            Repr::Number(n) | Repr::String(n) if n.len() <= cap => text = n.to_string(),
            Repr::Number(_) | Repr::String(_) => return None,
            Repr::List(items) => {
                for (n, &i) in items.iter().enumerate() {
                    let (s, u, sec) = self.string_form(i, cap)?;
                    unknown |= u;
                    secret |= sec;
                    if n > 0 {
                        text.push(',');
                    }
                    text.push_str(&quote(&s));
                    if text.len() > cap {
                        return None;
                    }
                }
            }
            Repr::Map(m) => {
                for (n, (k, &i)) in m.iter().enumerate() {
                    let (s, u, sec) = self.string_form(i, cap)?;
                    unknown |= u;
                    secret |= sec;
                    if n > 0 {
                        text.push(',');
                    }
                    let _ = write!(text, "{}={}", quote(k), quote(&s));
                    if text.len() > cap {
                        return None;
                    }
                }
            }
        }
        Some((text, unknown, secret))
    }
}
