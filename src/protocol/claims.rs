//! The `claims` request parameter (OIDC Core §5.5): claims challenges from resources and the
//! client capabilities the Microsoft identity platform reads from it.
//!
//! A client that can handle claims challenges (continuous access evaluation, conditional
//! access step-up) declares the capability `cp1`; MSAL sends it in every token request as
//! `{"access_token":{"xms_cc":{"values":["cp1"]}}}`, merged with the claims challenge being
//! answered, if any (Microsoft identity platform "claims challenges, claims requests and
//! client capabilities").

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::{json, Map, Value};

use crate::error::Error;

/// The capability a client declares to receive claims challenges (continuous access
/// evaluation).
pub const CAPABILITY_CP1: &str = "cp1";

/// The `claims` parameter for a token request: the client `capabilities` (as
/// `access_token.xms_cc.values`) merged with a claims `challenge` (JSON text); `None` when both
/// are empty. Objects are merged member by member, the challenge's values winning on a conflict
/// (MSAL's merge).
///
/// # Errors
/// [`Error::Configuration`] when `challenge` is not a JSON object.
pub(crate) fn claims_parameter(
    capabilities: &[String],
    challenge: Option<&str>,
) -> Result<Option<String>, Error> {
    let mut merged = Map::new();
    if !capabilities.is_empty() {
        merged.insert(
            "access_token".into(),
            json!({"xms_cc": {"values": capabilities}}),
        );
    }
    if let Some(challenge) = challenge {
        match serde_json::from_str::<Value>(challenge) {
            Ok(Value::Object(challenge)) => merge(&mut merged, challenge),
            _ => {
                return Err(Error::configuration(
                    "a claims challenge must be a JSON object",
                ))
            }
        }
    }
    Ok((!merged.is_empty()).then(|| Value::Object(merged).to_string()))
}

fn merge(into: &mut Map<String, Value>, from: Map<String, Value>) {
    for (name, value) in from {
        match (into.get_mut(&name), value) {
            (Some(Value::Object(existing)), Value::Object(more)) => merge(existing, more),
            (_, value) => {
                into.insert(name, value);
            }
        }
    }
}

/// Client capabilities from a setting: names separated by spaces or commas (e.g. `cp1`).
pub(crate) fn parse_capabilities(setting: &str) -> Vec<String> {
    setting
        .split([' ', ','])
        .filter(|c| !c.is_empty())
        .map(String::from)
        .collect()
}

#[cfg(test)]
mod tests;
