//! What the evaluator asks of the world: environments by name, providers, rotators and
//! decryption. The command line, the language server and the tests each plug in their own
//! [`Host`].
//!
//! Every method takes `&self` and the traits are `Sync`, so a host can serve independent
//! imports and provider opens from several threads.

use super::value::Value;

/// A provider: `fn::open::NAME`.
pub trait Provider: Sync {
    /// The JSON Schemas of the inputs and of the outputs.
    fn schema(&self) -> (serde_json::Value, serde_json::Value);
    /// Opens the provider. The error text is reported as is, at the call.
    ///
    /// # Errors
    /// Whatever the provider could not do, as the message to show.
    fn open(&self, inputs: &Value, context: &Value) -> Result<Value, String>;
}

/// A rotator: `fn::rotate::NAME`.
pub trait Rotator: Sync {
    /// The JSON Schemas of the inputs, the state and the outputs.
    fn schema(&self) -> (serde_json::Value, serde_json::Value, serde_json::Value);
    /// Opens with the current state (`None` when the document has none).
    ///
    /// # Errors
    /// The message to show.
    fn open(&self, inputs: &Value, state: Option<&Value>, context: &Value)
    -> Result<Value, String>;
    /// Rotates: returns the new state.
    ///
    /// # Errors
    /// The message to show.
    fn rotate(
        &self,
        inputs: &Value,
        state: Option<&Value>,
        context: &Value,
    ) -> Result<Value, String>;
}

/// Everything outside the evaluator.
pub trait Host: Sync {
    /// The text of environment `name` (`proj/env`). The error text is reported as is.
    ///
    /// # Errors
    /// Why the environment cannot be read (for example, it does not exist).
    fn load_environment(&self, name: &str) -> Result<String, String>;

    /// The provider `name`.
    ///
    /// # Errors
    /// Why it is not available, e.g. `unknown provider "aws-login"`.
    fn provider(&self, name: &str) -> Result<&dyn Provider, String>;

    /// The rotator `name`.
    ///
    /// # Errors
    /// Why it is not available, e.g. `unknown rotator "x"`.
    fn rotator(&self, name: &str) -> Result<&dyn Rotator, String>;

    /// Decrypts the ciphertext of a `fn::secret: {ciphertext: ...}`.
    ///
    /// # Errors
    /// Why it cannot be decrypted.
    fn decrypt(&self, ciphertext: &[u8]) -> Result<Vec<u8>, String>;
}
