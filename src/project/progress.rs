//! Which providers a host is opening right now, for a front end to show ("opening 2
//! providers: aws-login, vault-secrets"). It knows names only: never an input or a result.

use std::sync::{Arc, Mutex, PoisonError};

use crate::eval::{Provider, Value};

/// The providers being opened now (see [`super::FsHost::with_progress`]).
#[derive(Debug, Default)]
pub struct Opening {
    /// One entry per open in flight.
    names: Mutex<Vec<String>>,
}

impl Opening {
    /// The names of the providers being opened, one per open in flight, sorted.
    #[must_use]
    pub fn names(&self) -> Vec<String> {
        let mut names = self.lock().clone();
        names.sort();
        names
    }

    /// A line saying what is being opened (`None` when nothing is): the count and the
    /// distinct names, at most `max_names` of them, then `…`.
    #[must_use]
    pub fn summary(&self, max_names: usize) -> Option<String> {
        let names = self.names();
        if names.is_empty() {
            return None;
        }
        let mut distinct = names.clone();
        distinct.dedup();
        let more = if distinct.len() > max_names {
            "…"
        } else {
            ""
        };
        distinct.truncate(max_names);
        let plural = if names.len() == 1 { "" } else { "s" };
        Some(format!(
            "opening {} provider{plural}: {}{more}",
            names.len(),
            distinct.join(", ")
        ))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<String>> {
        self.names.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A provider whose opens are listed in an [`Opening`] while they run.
pub(super) struct Tracked {
    pub(super) name: String,
    pub(super) provider: Arc<dyn Provider>,
    pub(super) opening: Arc<Opening>,
}

/// Removes one entry of a name when dropped, so an open that panics is removed too.
struct Entry<'a>(&'a Opening, &'a str);

impl Drop for Entry<'_> {
    fn drop(&mut self) {
        let mut names = self.0.lock();
        if let Some(i) = names.iter().position(|n| n == self.1) {
            names.swap_remove(i);
        }
    }
}

impl Provider for Tracked {
    fn schema(&self) -> (serde_json::Value, serde_json::Value) {
        self.provider.schema()
    }

    fn reads_context(&self) -> bool {
        self.provider.reads_context()
    }

    fn open(&self, inputs: &Value, context: &Value) -> Result<Value, String> {
        self.opening.lock().push(self.name.clone());
        let _entry = Entry(&self.opening, &self.name);
        self.provider.open(inputs, context)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_count_opens_and_name_distinct_providers() {
        let o = Opening::default();
        assert_eq!(o.summary(3), None);
        o.lock().extend(
            ["vault-secrets", "aws-login", "aws-login"]
                .iter()
                .map(|s| (*s).to_owned()),
        );
        assert_eq!(
            o.summary(3).unwrap(),
            "opening 3 providers: aws-login, vault-secrets"
        );
        o.lock()
            .extend(["gcp-login", "x"].iter().map(|s| (*s).to_owned()));
        assert_eq!(
            o.summary(3).unwrap(),
            "opening 5 providers: aws-login, gcp-login, vault-secrets…"
        );
        o.lock().clear();
        o.lock().push("a".to_owned());
        assert_eq!(o.summary(3).unwrap(), "opening 1 provider: a");
    }
}
