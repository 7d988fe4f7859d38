//! The reference's spelling suggestions: the closest name to a misspelt one ("did you mean"),
//! and lists of names ordered by their distance from it.

/// Deletes `_` and lower-cases, as the reference does before comparing names.
fn fold(s: &str) -> String {
    s.chars()
        .filter(|&c| c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

/// Levenshtein distance over bytes.
fn distance(a: &[u8], b: &[u8]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, &ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The closest candidate to `name`, if one is close enough: the first candidate with the
/// smallest distance below half the folded name's length (rounded up).
#[must_use]
pub fn nearest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let target = fold(name);
    let mut threshold = target.len().div_ceil(2);
    let mut best = None;
    for c in candidates {
        let d = distance(target.as_bytes(), fold(c).as_bytes());
        if d < threshold {
            threshold = d;
            best = Some(c);
        }
    }
    best
}

/// Sorts `list` (stably) by distance from `name`, both folded.
pub fn sort_by_distance(name: &str, list: &mut [String]) {
    let target = fold(name);
    list.sort_by_cached_key(|c| distance(target.as_bytes(), fold(c).as_bytes()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(nearest("bar", ["baz", "qux"]), Some("baz"));
        assert_eq!(nearest("bar", ["quux"]), None);
        assert_eq!(nearest("Foo_Bar", ["foobar"]), Some("foobar"));
    }

    #[test]
    fn field_list_order() {
        let mut l = vec![
            "'description'".to_owned(),
            "'imports'".to_owned(),
            "'values'".to_owned(),
        ];
        sort_by_distance("foo", &mut l);
        assert_eq!(l, ["'imports'", "'values'", "'description'"]);
        let mut l = vec![
            "'description'".to_owned(),
            "'imports'".to_owned(),
            "'values'".to_owned(),
        ];
        sort_by_distance("desc", &mut l);
        assert_eq!(l, ["'values'", "'imports'", "'description'"]);
    }
}
