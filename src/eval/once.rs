//! Identical opens run once per evaluation. An environment that opens the same provider
//! with the same inputs twice (or two environments of one evaluation that do) gets one
//! result, made by one call: one STS session instead of two, one plugin run instead of
//! two, and the same credentials in both places.
//!
//! Two opens are identical when they name the same provider with equal inputs, secret
//! flags included (a built-in provider may mark its output secret because an input is),
//! and, for a provider that reads it ([`Provider::reads_context`]), the same execution
//! context. A failure is shared as well: the second call reports the first one's error at
//! its own place.
//!
//! This is the one place: the evaluator and the prefetcher both reach providers through
//! the host [`evaluate_with`](super::evaluate_with) wraps in [`OpenOnce`], so an open the
//! prefetcher is making is waited for, not made again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use super::host::{Host, HostError, ParsedEnvironment, Provider, Rotator};
use super::value::Value;
use crate::syntax::Limits;

/// The result of one open, shared by every identical open.
type Cell = Arc<OnceLock<Result<Value, String>>>;

/// What makes two opens identical: the provider's name, the inputs (with their flags) and
/// the context as providers receive it (for those that read it).
type Key = (String, Value, Option<String>);

/// The opens of one evaluation, by key. Keys hold the inputs, secrets included: this map
/// lives in memory for the evaluation only and is never printed.
#[derive(Default)]
struct Opens(Mutex<HashMap<Key, Cell>>);

/// The host of one evaluation: `host`, with identical opens made once.
pub(crate) struct OpenOnce<'h> {
    host: &'h dyn Host,
    opens: Arc<Opens>,
}

impl<'h> OpenOnce<'h> {
    pub(crate) fn new(host: &'h dyn Host) -> Self {
        OpenOnce {
            host,
            opens: Arc::default(),
        }
    }
}

impl Host for OpenOnce<'_> {
    fn load_environment(&self, name: &str) -> Result<String, HostError> {
        self.host.load_environment(name)
    }

    // Forwarded: the host may keep parses for many evaluations.
    fn parse(&self, name: &str, text: &str, limits: &Limits) -> Arc<ParsedEnvironment> {
        self.host.parse(name, text, limits)
    }

    // Forwarded, not defaulted: a host that reads versions names imports by revision.
    fn import_name(&self, importer: &str, name: &str) -> String {
        self.host.import_name(importer, name)
    }

    fn shared_imports(&self) -> Option<&super::SharedImports> {
        self.host.shared_imports()
    }

    fn provider(&self, name: &str) -> Result<Arc<dyn Provider>, HostError> {
        let provider = self.host.provider(name)?;
        Ok(Arc::new(Once {
            name: name.to_owned(),
            provider,
            opens: self.opens.clone(),
        }))
    }

    fn rotator(&self, name: &str) -> Result<Arc<dyn Rotator>, HostError> {
        // A rotator's open follows its rotation, whose state it reads: not shared.
        self.host.rotator(name)
    }

    fn decrypt(&self, ciphertext: &[u8]) -> Result<Vec<u8>, HostError> {
        self.host.decrypt(ciphertext)
    }
}

/// A provider whose identical opens share one result.
struct Once {
    name: String,
    provider: Arc<dyn Provider>,
    opens: Arc<Opens>,
}

impl Provider for Once {
    fn schema(&self) -> (serde_json::Value, serde_json::Value) {
        self.provider.schema()
    }

    fn reads_context(&self) -> bool {
        self.provider.reads_context()
    }

    fn open(&self, inputs: &Value, context: &Value) -> Result<Value, String> {
        // Providers receive the context as plain JSON (flags dropped): so is it compared.
        let context_key = self
            .provider
            .reads_context()
            .then(|| context.to_json(false).to_string());
        let key = (self.name.clone(), inputs.clone(), context_key);
        let cell = self
            .opens
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key)
            .or_default()
            .clone();
        // Outside the map's lock: other opens go on; an identical one waits for this one.
        cell.get_or_init(|| self.provider.open(inputs, context))
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// Counts its opens; each takes `delay`; reads the context when `context` is set.
    struct Counting {
        opens: AtomicUsize,
        delay: Duration,
        context: bool,
    }

    impl Provider for Counting {
        fn schema(&self) -> (serde_json::Value, serde_json::Value) {
            (serde_json::json!(true), serde_json::json!(true))
        }
        fn reads_context(&self) -> bool {
            self.context
        }
        fn open(&self, inputs: &Value, _: &Value) -> Result<Value, String> {
            let n = self.opens.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(self.delay);
            Ok(Value::object([
                ("n".to_owned(), Value::string(n.to_string())),
                ("inputs".to_owned(), inputs.clone()),
            ]))
        }
    }

    struct One(Arc<Counting>);

    impl Host for One {
        fn load_environment(&self, name: &str) -> Result<String, HostError> {
            Err(HostError::not_found(name))
        }
        fn provider(&self, _: &str) -> Result<Arc<dyn Provider>, HostError> {
            Ok(self.0.clone())
        }
        fn rotator(&self, name: &str) -> Result<Arc<dyn Rotator>, HostError> {
            Err(HostError::not_found(name))
        }
        fn decrypt(&self, c: &[u8]) -> Result<Vec<u8>, HostError> {
            Ok(c.to_vec())
        }
    }

    fn counting(context: bool, delay: Duration) -> Arc<Counting> {
        Arc::new(Counting {
            opens: AtomicUsize::new(0),
            delay,
            context,
        })
    }

    #[test]
    fn identical_opens_share_one_call_and_secret_flags_count() {
        let counter = counting(false, Duration::ZERO);
        let host = One(counter.clone());
        let once = OpenOnce::new(&host);
        let inputs = Value::object([("a".to_owned(), Value::string("x"))]);
        let mut secret = inputs.clone();
        if let crate::eval::ValueKind::Object(m) = &mut secret.kind {
            m.get_mut("a").unwrap().secret = true;
        }
        let (c1, c2) = (
            Value::object([("e".to_owned(), Value::string("one"))]),
            Value::object([("e".to_owned(), Value::string("two"))]),
        );
        let p = once.provider("p").unwrap();
        let first = p.open(&inputs, &c1).unwrap();
        // Another provider handle, another context (not read): the same open.
        assert_eq!(once.provider("p").unwrap().open(&inputs, &c2), Ok(first));
        assert_eq!(counter.opens.load(Ordering::SeqCst), 1);
        // The same text, secret: another open.
        p.open(&secret, &c1).unwrap();
        assert_eq!(counter.opens.load(Ordering::SeqCst), 2);
        // Another name: another open.
        once.provider("q").unwrap().open(&inputs, &c1).unwrap();
        assert_eq!(counter.opens.load(Ordering::SeqCst), 3);

        // A provider that reads the context opens once per context.
        let counter = counting(true, Duration::ZERO);
        let host = One(counter.clone());
        let once = OpenOnce::new(&host);
        let p = once.provider("p").unwrap();
        p.open(&inputs, &c1).unwrap();
        p.open(&inputs, &c1).unwrap();
        p.open(&inputs, &c2).unwrap();
        assert_eq!(counter.opens.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn concurrent_identical_opens_wait_for_the_first() {
        let counter = counting(false, Duration::from_millis(200));
        let host = One(counter.clone());
        let once = OpenOnce::new(&host);
        let inputs = Value::object([]);
        let results: Vec<Value> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| once.provider("p").unwrap().open(&inputs, &inputs)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap().unwrap())
                .collect()
        });
        assert_eq!(counter.opens.load(Ordering::SeqCst), 1);
        assert!(results.iter().all(|r| *r == results[0]));
    }
}
