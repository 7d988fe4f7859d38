//! `escc merge-driver`: git's merge driver for environment files, which merges secrets by
//! path so that two branches changing secrets on neighbouring lines do not conflict.
//!
//! git runs it as `escc merge-driver --marker-size %L %O %A %B %P` (see docs/secrets.md):
//! the common ancestor's version, the current one (where the result goes) and the other
//! branch's, then the file's path. It never decrypts:
//!
//! 1. each version's secrets are found by path (as the diff driver finds them), and each
//!    path gets a 3-way decision on its own: changed on one side only, the change is taken;
//!    changed alike on both, taken once; changed differently on both, added on both with
//!    different values, or removed on one side and changed on the other, a conflict;
//! 2. in each version, every secret's argument (the plaintext, or the whole
//!    `{ciphertext: ...}`) is replaced by a token that depends only on its path, or, for a
//!    conflicting path, on its path and the version; `git merge-file` merges those masked
//!    texts line by line (a secret's change is not a line change there, so neighbouring
//!    secrets do not touch; a conflicting secret's tokens differ on each side, so git
//!    brackets its line with its own markers, in the configured conflict style);
//! 3. the tokens are replaced by the values decided, or within a conflict by each side's
//!    own, and a clean result is read back: it must load with the decided secret at each
//!    path.
//!
//! The result is never worse than git's own: when a version does not load, when the
//! result does not read back, or when the masked merge conflicts where git's line merge of
//! the files as they are would not (a secret of a list whose items moved), git's line
//! merge is what is written.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use super::Failure;
use super::diff_driver::{Held, sites_of};
use super::project::io_text;
use super::secrets::replace_file;
use crate::Source;
use crate::edit::{self, SecretSite};

/// What git passes (see the command's help).
pub(crate) struct MergeArgs {
    /// %O, %A, %B: the base, current and other versions, in [`BASE`], [`OURS`], [`THEIRS`]
    /// order. The result replaces the current one.
    pub(crate) files: [PathBuf; 3],
    /// %P: how messages name the file.
    pub(crate) path: Option<String>,
    /// %L.
    pub(crate) marker_size: u16,
    /// The conflict labels, in `git merge-file -L` order: current, base, other.
    pub(crate) labels: Vec<String>,
}

const BASE: usize = 0;
const OURS: usize = 1;
const THEIRS: usize = 2;
/// How messages name each version.
const NAMES: [&str; 3] = ["base", "current", "other"];
/// The token letter of each version's side of a conflicting secret.
const SIDES: [char; 3] = ['b', 'o', 't'];

/// A version's text and its secrets by path.
struct Version {
    text: String,
    sites: BTreeMap<String, SecretSite>,
}

/// What a path's secret becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Plan {
    /// The value of that version, or none (removed).
    Take(Option<usize>),
    Conflict(Conflict),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Conflict {
    BothChanged,
    BothAdded,
    RemovedAndChanged,
}

impl Conflict {
    fn describe(self) -> &'static str {
        match self {
            Conflict::BothChanged => "changed differently on both sides",
            Conflict::BothAdded => "added on both sides with different values",
            Conflict::RemovedAndChanged => "removed on one side and changed on the other",
        }
    }
}

/// The result to write and whether it is clean.
struct Outcome {
    bytes: Vec<u8>,
    clean: bool,
}

/// `escc merge-driver`: writes the merge into the current version's file; exits 0 when it
/// is clean, 1 when it has conflicts.
pub(crate) fn merge_driver(args: &MergeArgs) -> Result<ExitCode, Failure> {
    if args.labels.len() > 3 {
        return Err(Failure::new(
            "at most three labels (-L): the current, the base and the other".to_owned(),
        ));
    }
    let shown = args
        .path
        .clone()
        .unwrap_or_else(|| args.files[OURS].display().to_string());
    let outcome = merge(args, &shown)?;
    replace_file(&args.files[OURS], &shown, &outcome.bytes)?;
    Ok(if outcome.clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::EXIT_FAILED)
    })
}

fn merge(args: &MergeArgs, shown: &str) -> Result<Outcome, Failure> {
    let mut texts = Vec::with_capacity(3);
    for (i, file) in args.files.iter().enumerate() {
        match read(file)? {
            Ok(text) => texts.push(text),
            Err(why) => {
                super::note(&format!(
                    "{shown}: the {} version {why}; it is merged line by line, as git does",
                    NAMES[i]
                ));
                return raw_merge(args);
            }
        }
    }
    // Nothing to mask: git's merge is the merge.
    if !texts.iter().any(|t| t.contains("fn::secret")) {
        return raw_merge(args);
    }
    let mut versions = Vec::with_capacity(3);
    for (i, text) in texts.into_iter().enumerate() {
        let found = sites_of(&text).and_then(|sites| {
            let n = sites.len();
            let by_path: BTreeMap<_, _> = sites.into_iter().map(|s| (s.path.clone(), s)).collect();
            if by_path.len() == n {
                Ok(by_path)
            } else {
                Err("has two secrets at one path".to_owned())
            }
        });
        match found {
            Ok(sites) => versions.push(Version { text, sites }),
            Err(why) => {
                super::note(&format!(
                    "{shown}: the {} version {why}; it is merged line by line, as git does",
                    NAMES[i]
                ));
                return raw_merge(args);
            }
        }
    }
    let plan = plan(&versions);
    let masked = masked_merge(args, &versions, &plan)?;
    let conflicts: Vec<_> = plan
        .iter()
        .filter_map(|(path, p)| match p {
            Plan::Conflict(c) => Some((path, *c)),
            Plan::Take(_) => None,
        })
        .collect();
    let masked = match masked {
        Some(out) if out.clean => match read_back(&out.bytes, &versions, &plan) {
            Ok(()) => return Ok(out),
            Err(why) => {
                super::note(&format!(
                    "{shown}: {why}; it is merged line by line, as git does"
                ));
                None
            }
        },
        other => other,
    };
    // The masked merge conflicts (or could not be used): git's own, when that is clean, is
    // never worse.
    let raw = raw_merge(args)?;
    if raw.clean {
        return Ok(raw);
    }
    for (path, c) in &conflicts {
        super::note(&format!("{shown}: the secret {path} was {}", c.describe()));
    }
    Ok(masked.unwrap_or(raw))
}

/// A version's text, `Err` with why it cannot be masked (too large, not UTF-8), or a
/// failure when it cannot be read.
fn read(file: &Path) -> Result<Result<String, String>, Failure> {
    let mut bytes = Vec::new();
    std::fs::File::open(file)
        .and_then(|f| {
            f.take(crate::project::MAX_FILE_BYTES + 1)
                .read_to_end(&mut bytes)
        })
        .map_err(|e| Failure::new(format!("{}: {}", file.display(), io_text(&e))))?;
    if bytes.len() as u64 > crate::project::MAX_FILE_BYTES {
        return Ok(Err(format!(
            "is larger than {} MiB",
            crate::project::MAX_FILE_BYTES >> 20
        )));
    }
    Ok(String::from_utf8(bytes).map_err(|_| "is not UTF-8 text".to_owned()))
}

/// The decision for every path that holds a secret in any version, by path.
fn plan(versions: &[Version]) -> BTreeMap<String, Plan> {
    let paths: BTreeSet<&String> = versions.iter().flat_map(|v| v.sites.keys()).collect();
    paths
        .into_iter()
        .map(|path| {
            let at: Vec<Option<(&str, Held)>> = versions
                .iter()
                .map(|v| {
                    v.sites
                        .get(path)
                        .map(|s| (&v.text[s.arg.start()..s.arg.end()], Held::of(&s.kind)))
                })
                .collect();
            (path.clone(), decide(&at))
        })
        .collect()
}

/// The 3-way decision for one path, from each version's (argument text, value). Values
/// decide what changed; of two versions with the same value, the one written differently
/// from the base wins (a quoting or style change is kept).
fn decide(at: &[Option<(&str, Held)>]) -> Plan {
    let value = |i: usize| at[i].as_ref().map(|(_, h)| h);
    let text = |i: usize| at[i].as_ref().map(|(t, _)| *t);
    let present = |i: usize| at[i].is_some().then_some(i);
    let ours = value(OURS) != value(BASE);
    let theirs = value(THEIRS) != value(BASE);
    match (ours, theirs) {
        (false, false) if text(OURS) != text(BASE) => Plan::Take(present(OURS)),
        (false, _) => Plan::Take(present(THEIRS)),
        (true, false) => Plan::Take(present(OURS)),
        (true, true) if value(OURS) == value(THEIRS) => Plan::Take(present(OURS)),
        (true, true) => Plan::Conflict(if at[BASE].is_none() {
            Conflict::BothAdded
        } else if at[OURS].is_none() || at[THEIRS].is_none() {
            Conflict::RemovedAndChanged
        } else {
            Conflict::BothChanged
        }),
    }
}

/// The start of every token: one that none of the versions contains, so that every
/// occurrence in the merge is a token. The first such of `@escc-secret-N-`, N = 0, 1, ...:
/// the same versions give the same tokens.
fn token_prefix(versions: &[Version]) -> String {
    let mut n = 0u64;
    loop {
        let prefix = format!("@escc-secret-{n}-");
        if versions.iter().all(|v| !v.text.contains(&prefix)) {
            return prefix;
        }
        n += 1;
    }
}

/// The masked versions merged by `git merge-file` and their tokens replaced, or `None`
/// when a version cannot be masked.
fn masked_merge(
    args: &MergeArgs,
    versions: &[Version],
    plan: &BTreeMap<String, Plan>,
) -> Result<Option<Outcome>, Failure> {
    let prefix = token_prefix(versions);
    let index: BTreeMap<&str, usize> = plan
        .keys()
        .enumerate()
        .map(|(i, p)| (p.as_str(), i))
        .collect();
    let dir = tempfile::Builder::new()
        .prefix("escc-merge-")
        .tempdir()
        .map_err(|e| Failure::new(format!("a temporary directory: {}", io_text(&e))))?;
    let mut files = Vec::with_capacity(3);
    for (v, version) in versions.iter().enumerate() {
        let token = |site: &SecretSite| {
            let i = index[site.path.as_str()];
            match plan[&site.path] {
                Plan::Conflict(_) => format!("{prefix}{i}{}@", SIDES[v]),
                Plan::Take(_) => format!("{prefix}{i}@"),
            }
        };
        let Ok(masked) = edit::mask_secrets(&Source::new("", version.text.as_str()), &token) else {
            return Ok(None);
        };
        let file = dir.path().join(NAMES[v]);
        std::fs::write(&file, masked)
            .map_err(|e| Failure::new(format!("a temporary file: {}", io_text(&e))))?;
        files.push(file);
    }
    let (merged, clean) = merge_file(args, [&files[BASE], &files[OURS], &files[THEIRS]])?;
    drop(dir);
    let Ok(merged) = String::from_utf8(merged) else {
        return Ok(None);
    };
    let paths: Vec<&str> = index.keys().copied().collect();
    let value = |i: usize, side: Option<usize>, column: usize| {
        let path = *paths.get(i)?;
        let v = match (side, plan[path]) {
            (Some(v), _) | (None, Plan::Take(Some(v))) => v,
            // Removed, yet the merge keeps its line (inside a conflict): each version
            // that still has it holds the base's value.
            (None, _) => [OURS, THEIRS, BASE]
                .into_iter()
                .find(|v| versions[*v].sites.contains_key(path))?,
        };
        let version = versions.get(v)?;
        Some(argument(&version.text, version.sites.get(path)?, column))
    };
    Ok(substitute(&merged, &prefix, &value).map(|text| Outcome {
        bytes: text.into_bytes(),
        clean,
    }))
}

/// The text of a secret's argument, to put where a token was (at `column`, in
/// characters). A block scalar's argument takes its final line break, which the masked
/// text kept after the token. An argument of several lines keeps its text when it lands
/// at the column it was written at; elsewhere its lines would be indented wrongly, so it
/// is written as one flow line.
fn argument(text: &str, site: &SecretSite, column: usize) -> String {
    let raw = &text[site.arg.start()..site.arg.end()];
    let raw = raw.strip_suffix('\n').unwrap_or(raw);
    let line_start = text[..site.arg.start()].rfind('\n').map_or(0, |i| i + 1);
    let was = text[line_start..site.arg.start()].chars().count();
    if !raw.contains('\n') || was == column {
        return raw.to_owned();
    }
    // A JSON string is a YAML double-quoted scalar.
    let quoted = |s: &str| serde_json::Value::String(s.to_owned()).to_string();
    match Held::of(&site.kind) {
        Held::Plaintext(v) => quoted(&v),
        Held::Ciphertext(c) => format!("{{ciphertext: {}}}", quoted(&c)),
    }
}

/// `merged` with each token `PREFIX<i>[b|o|t]@` replaced by what `value` gives for path
/// number `i`, the side's version (if any) and the token's column; `None` when a token is
/// malformed or has no value.
fn substitute(
    merged: &str,
    prefix: &str,
    value: &dyn Fn(usize, Option<usize>, usize) -> Option<String>,
) -> Option<String> {
    let mut out = String::with_capacity(merged.len());
    let mut rest = merged;
    while let Some(at) = rest.find(prefix) {
        out.push_str(&rest[..at]);
        let tail = &rest[at + prefix.len()..];
        let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
        let i: usize = tail[..digits].parse().ok()?;
        let mut end = digits;
        let side = SIDES
            .iter()
            .position(|c| tail[end..].starts_with(*c))
            .inspect(|_| end += 1);
        if !tail[end..].starts_with('@') {
            return None;
        }
        let line_start = out.rfind('\n').map_or(0, |i| i + 1);
        let column = out[line_start..].chars().count();
        out.push_str(&value(i, side, column)?);
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// A clean merge must load with each path's decided secret and no other.
fn read_back(
    bytes: &[u8],
    versions: &[Version],
    plan: &BTreeMap<String, Plan>,
) -> Result<(), String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "the merge is not UTF-8".to_owned())?;
    let sites = sites_of(text).map_err(|why| format!("the merge {why}"))?;
    let got: BTreeMap<&str, Held> = sites
        .iter()
        .map(|s| (s.path.as_str(), Held::of(&s.kind)))
        .collect();
    let mut want = BTreeMap::new();
    for (path, p) in plan {
        match p {
            Plan::Take(Some(v)) => {
                want.insert(path.as_str(), Held::of(&versions[*v].sites[path].kind));
            }
            Plan::Take(None) => {}
            Plan::Conflict(_) => {
                return Err(format!(
                    "the secret {path} conflicts where the lines do not (it moved)"
                ));
            }
        }
    }
    if got.len() != sites.len() || got != want {
        return Err(
            "the merge does not read back with the merged secrets (a bug in escc)".to_owned(),
        );
    }
    Ok(())
}

/// git's line merge of the files as they are.
fn raw_merge(args: &MergeArgs) -> Result<Outcome, Failure> {
    let [base, ours, theirs] = &args.files;
    let (bytes, clean) = merge_file(args, [base, ours, theirs])?;
    Ok(Outcome { bytes, clean })
}

/// `git merge-file -p` of the base, current and other files: the merge and whether it is
/// clean. git reads merge.conflictStyle itself.
fn merge_file(args: &MergeArgs, files: [&PathBuf; 3]) -> Result<(Vec<u8>, bool), Failure> {
    let label = |i: usize, default: &str| {
        args.labels
            .get(i)
            .cloned()
            .unwrap_or_else(|| default.to_owned())
    };
    let out = Command::new("git")
        .args(["merge-file", "-p", "-q"])
        .arg(format!("--marker-size={}", args.marker_size))
        .args(["-L", &label(0, "ours"), "-L", &label(1, "base")])
        .args(["-L", &label(2, "theirs")])
        .arg(files[OURS])
        .arg(files[BASE])
        .arg(files[THEIRS])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Failure::new(format!("running git merge-file: {}", io_text(&e))))?;
    // The number of conflicts (at most 127), or negative on an error.
    match out.status.code() {
        Some(0) => Ok((out.stdout, true)),
        Some(1..=127) => Ok((out.stdout, false)),
        _ => Err(Failure::new(format!(
            "git merge-file failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[expect(clippy::unnecessary_wraps, reason = "a version that has the path")]
    fn held(t: &'static str) -> Option<(&'static str, Held)> {
        Some((t, Held::Ciphertext(t.trim_matches(['{', '}']).to_owned())))
    }

    #[test]
    fn each_path_is_merged_on_its_own() {
        let take = |v| Plan::Take(Some(v));
        // One side changed: its value.
        assert_eq!(decide(&[held("A"), held("A"), held("B")]), take(THEIRS));
        assert_eq!(decide(&[held("A"), held("B"), held("A")]), take(OURS));
        // Both alike: once. Neither: the base's text (from a side).
        assert_eq!(decide(&[held("A"), held("B"), held("B")]), take(OURS));
        assert_eq!(decide(&[held("A"), held("A"), held("A")]), take(THEIRS));
        // The same value written differently on one side: that writing.
        assert_eq!(decide(&[held("A"), held("{A}"), held("A")]), take(OURS));
        // Added on one side, removed on one side.
        assert_eq!(decide(&[None, held("A"), None]), take(OURS));
        assert_eq!(decide(&[held("A"), None, held("A")]), Plan::Take(None));
        assert_eq!(decide(&[held("A"), held("A"), None]), Plan::Take(None));
        assert_eq!(decide(&[None, held("A"), held("A")]), take(OURS));
        // Conflicts.
        for (at, c) in [
            ([held("A"), held("B"), held("C")], Conflict::BothChanged),
            ([None, held("B"), held("C")], Conflict::BothAdded),
            ([held("A"), None, held("C")], Conflict::RemovedAndChanged),
            ([held("A"), held("B"), None], Conflict::RemovedAndChanged),
        ] {
            assert_eq!(decide(&at), Plan::Conflict(c));
        }
        // A plaintext and a ciphertext of the same text are different values.
        assert_eq!(
            decide(&[
                Some(("x", Held::Plaintext("x".to_owned()))),
                Some(("x", Held::Ciphertext("x".to_owned()))),
                Some(("x", Held::Plaintext("x".to_owned()))),
            ]),
            take(OURS)
        );
    }

    #[test]
    fn tokens_are_replaced_and_checked() {
        let value = |i: usize, side: Option<usize>, column: usize| match (i, side) {
            (0, None) => Some(format!("zero@{column}")),
            (1, Some(s)) => Some(format!("one-{s}")),
            _ => None,
        };
        assert_eq!(
            substitute("a: @P-0@\n  b: @P-1t@ @P-1o@\n", "@P-", &value).as_deref(),
            Some("a: zero@3\n  b: one-2 one-1\n")
        );
        for bad in ["@P-2@", "@P-0x@", "@P-@", "@P-0"] {
            assert_eq!(substitute(bad, "@P-", &value), None, "{bad}");
        }
    }

    #[test]
    fn the_token_prefix_is_in_no_version() {
        let v = |t: &str| Version {
            text: t.to_owned(),
            sites: BTreeMap::new(),
        };
        assert_eq!(token_prefix(&[v("a"), v("b")]), "@escc-secret-0-");
        assert_eq!(
            token_prefix(&[v("@escc-secret-0-"), v("@escc-secret-1-")]),
            "@escc-secret-2-"
        );
    }

    #[test]
    fn a_multi_line_argument_moved_to_another_column_becomes_one_line() {
        let text = "values:\n  a:\n    fn::secret: |\n      two\n      lines\n  b: 1\n";
        let sites = edit::secret_sites(&Source::new("", text)).unwrap();
        assert_eq!(argument(text, &sites[0], 16), "|\n      two\n      lines");
        assert_eq!(argument(text, &sites[0], 4), "\"two\\nlines\\n\"");
    }
}
