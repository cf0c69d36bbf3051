//! Scopes (RFC 6749 §3.3): a set of case-sensitive tokens, compared as a set.

use alloc::collections::BTreeSet;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::error::Error;

/// A non-empty set of scope tokens. Order and duplicates in the input do not matter: two
/// `Scopes` built from `"b a"` and `"a b a"` are equal, and so are their cache keys.
///
/// On the Microsoft identity platform, app-only requests (client credentials) ask for
/// `{resource}/.default` ("The /.default scope", Microsoft identity platform docs).
///
/// ```
/// use edge_token::Scopes;
/// assert_eq!(Scopes::parse("b a")?, Scopes::parse("a b a")?);
/// assert!(Scopes::parse("  ").is_err()); // empty: a configuration error
/// # Ok::<(), edge_token::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Scopes(BTreeSet<String>);

impl Scopes {
    /// Parses a space-separated list (RFC 6749 §3.3; runs of spaces are allowed).
    ///
    /// # Errors
    /// [`Error::Configuration`] when the list is empty or a token has a character outside
    /// `%x21 / %x23-5B / %x5D-7E` (no `"`, `\`, controls or non-ASCII).
    pub fn parse(space_separated: &str) -> Result<Self, Error> {
        let mut set = BTreeSet::new();
        for token in space_separated.split(' ').filter(|t| !t.is_empty()) {
            let valid = token
                .bytes()
                .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b));
            if !valid {
                return Err(Error::configuration(
                    "scopes: a scope has a character RFC 6749 §3.3 does not allow",
                ));
            }
            set.insert(token.to_string());
        }
        if set.is_empty() {
            return Err(Error::configuration(
                "scopes: at least one scope is required",
            ));
        }
        Ok(Self(set))
    }

    /// The scopes sorted and joined by single spaces: the `scope` request parameter, and the
    /// canonical form used in cache keys.
    pub fn to_param(&self) -> String {
        self.0
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Iterates over the scopes in sorted order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// Checks the Microsoft identity platform's rule for app-only requests (client credentials):
    /// exactly one scope, `{resource}/.default` ("The /.default scope"; Microsoft.Identity.Web
    /// refuses anything else with IDW10404/IDW10405). App permissions are granted to the app by
    /// an administrator, never asked for one by one.
    ///
    /// # Errors
    /// [`Error::Configuration`] saying which rule failed and what to write instead.
    pub fn require_app_only(&self) -> Result<(), Error> {
        let mut scopes = self.iter();
        match (scopes.next(), scopes.next()) {
            (Some(scope), None)
                if scope.ends_with(DEFAULT_SUFFIX) && scope.len() > DEFAULT_SUFFIX.len() =>
            {
                Ok(())
            }
            (Some(_), None) => Err(Error::configuration(
                "scopes: an app-only token request on the Microsoft identity platform asks for \
                 `{resource}/.default` (e.g. `api://downstream/.default`), not individual \
                 permissions (IDW10405)",
            )),
            _ => Err(Error::configuration(
                "scopes: an app-only token request on the Microsoft identity platform asks for \
                 exactly one scope, `{resource}/.default` (IDW10404)",
            )),
        }
    }

    /// The app-only scope of the resource these scopes belong to: `{resource}/.default` for the
    /// first scope that names its resource (`api://downstream/user.read` ->
    /// `api://downstream/.default`, `https://graph.microsoft.com/User.Read` ->
    /// `https://graph.microsoft.com/.default`); `None` when no scope does (`openid`, `User.Read`).
    pub fn app_only_default(&self) -> Option<Self> {
        self.iter().find_map(|scope| {
            let (resource, permission) = scope.rsplit_once('/')?;
            // A URI (`api://…`, `https://…`) or an application id (`{guid}/User.Read`).
            let named = !permission.is_empty()
                && !resource.is_empty()
                && !resource.ends_with('/')
                && (resource.contains("://") || !resource.contains(':'));
            named.then(|| {
                let mut set = BTreeSet::new();
                set.insert(alloc::format!("{resource}{DEFAULT_SUFFIX}"));
                Self(set)
            })
        })
    }
}

/// The suffix of an app-only scope: `{resource}/.default`.
const DEFAULT_SUFFIX: &str = "/.default";

#[cfg(test)]
mod tests;
