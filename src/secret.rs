//! Newtypes for secret values: client secrets, tokens, assertions and private keys.
//!
//! Every type here prints `[redacted]` under both `Debug` and `Display`, so a secret cannot reach
//! a log line, an error message or a panic message by formatting. The raw value is reachable only
//! through an explicit `expose_secret()` call, which makes each use easy to audit.
//!
//! A value is held once and shared: cloning one (handing a cached access token to a caller, say)
//! copies a pointer, not the secret, and the value is zeroized once, when its last holder drops
//! it (best effort: copies made by the platform, e.g. JavaScript strings on Workers, are outside
//! Rust's control).

use alloc::string::String;
use alloc::sync::Arc;
use core::fmt;

use zeroize::Zeroize;

const REDACTED: &str = "[redacted]";

/// The one copy of a secret value behind its holders: zeroized when the last one drops it.
#[derive(PartialEq, Eq)]
struct SharedSecret(String);

impl Drop for SharedSecret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

macro_rules! secret_string {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        ///
        /// Cloning shares the value (no copy); it is zeroized when the last clone is dropped.
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(Arc<SharedSecret>);

        impl $name {
            /// Wraps a secret value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(Arc::new(SharedSecret(value.into())))
            }

            /// The raw secret. Every call site is a place where the secret leaves its wrapper:
            /// keep them few and never format the result.
            pub fn expose_secret(&self) -> &str {
                &self.0 .0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), REDACTED)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(REDACTED)
            }
        }

    };
}

secret_string!(
    /// A client secret (RFC 6749 §2.3.1), sent as `client_secret` in the form body or in HTTP
    /// Basic authentication.
    ClientSecret
);

secret_string!(
    /// An OAuth 2.0 access token (RFC 6749 §1.4), sent to resource servers as
    /// `Authorization: Bearer <token>` (RFC 6750 §2.1).
    AccessToken
);

secret_string!(
    /// An OAuth 2.0 refresh token (RFC 6749 §1.5).
    RefreshToken
);

secret_string!(
    /// An OpenID Connect ID token (OIDC Core §2), a JWT about the signed-in user.
    IdToken
);

secret_string!(
    /// A logout token (OpenID Connect Back-Channel Logout 1.0 §2.4): a JWT the provider POSTs
    /// to the back-channel logout URI to end a user's sessions.
    LogoutToken
);

secret_string!(
    /// A client assertion (RFC 7521 §4.2, RFC 7523 §2.2): a signed JWT that authenticates the
    /// client, sent as `client_assertion`. Either signed by edge-token from a certificate's key
    /// or supplied by the caller (workload identity federation).
    ClientAssertion
);

/// Tokens are serialized only into sealed or cached entries (the token cache entry,
/// [`crate::acquisition::cache::CachedToken`]; the encrypted session record,
/// [`crate::scenarios::session`]; the coordinator's sealed records) and into the messages between
/// an isolate and its token coordinator, which stay inside the deployment
/// ([`crate::acquisition::coordination`]).
macro_rules! serde_token {
    ($($name:ident),*) => {$(
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.expose_secret())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer).map(Self::new)
            }
        }
    )*};
}

serde_token!(AccessToken, RefreshToken, IdToken);

#[cfg(test)]
mod tests;
