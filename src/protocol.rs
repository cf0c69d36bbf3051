//! OAuth 2.0 and OpenID Connect messages on the wire: authorities and their endpoints (Entra ID,
//! B2C, External ID, AD FS, any OIDC issuer), discovery (RFC 8414, OIDC Discovery 1.0), token
//! requests and responses (RFC 6749 §4–5), claims requests, scopes, PKCE (RFC 7636),
//! authorization requests and responses, and bearer headers (RFC 6750).

pub(crate) mod authority;
#[cfg(feature = "webapp")]
pub(crate) mod authorization;
pub(crate) mod bearer;
pub(crate) mod claims;
pub(crate) mod discovery;
pub(crate) mod json;
#[cfg(feature = "webapp")]
pub(crate) mod pkce;
pub(crate) mod request;
pub(crate) mod response;
pub(crate) mod scope;

pub use authority::{is_tenant_id, Authority, AuthorityKind, Region};
pub use bearer::{bearer_token, BearerChallenge, BearerErrorCode, CredentialsError};
pub use claims::CAPABILITY_CP1;
pub use discovery::ProviderMetadata;
pub use scope::Scopes;
