//! Secrets: the ciphertext envelope of `fn::secret`.

pub(crate) mod envelope;
