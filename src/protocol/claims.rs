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
mod tests {
    use super::*;
    use alloc::vec;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn capabilities_alone_follow_msal() {
        assert_eq!(claims_parameter(&[], None).unwrap(), None);
        assert_eq!(
            claims_parameter(&["cp1".into()], None).unwrap().as_deref(),
            Some(r#"{"access_token":{"xms_cc":{"values":["cp1"]}}}"#)
        );
    }

    #[test]
    fn challenges_merge_with_capabilities() {
        let challenge = r#"{"access_token":{"nbf":{"essential":true,"value":"1604106651"}}}"#;
        assert_eq!(
            claims_parameter(&[], Some(challenge)).unwrap().as_deref(),
            Some(challenge)
        );
        let merged = claims_parameter(&["cp1".into()], Some(challenge))
            .unwrap()
            .unwrap();
        let merged: Value = serde_json::from_str(&merged).unwrap();
        assert_eq!(
            merged,
            json!({"access_token": {
                "xms_cc": {"values": ["cp1"]},
                "nbf": {"essential": true, "value": "1604106651"}
            }})
        );
        let id_token = r#"{"id_token":{"acrs":{"essential":true,"value":"c1"}}}"#;
        let both: Value = serde_json::from_str(
            &claims_parameter(&["cp1".into()], Some(id_token))
                .unwrap()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(both["id_token"]["acrs"]["value"], "c1");
        assert_eq!(both["access_token"]["xms_cc"]["values"][0], "cp1");
    }

    #[test]
    fn a_challenge_that_is_not_an_object_is_refused() {
        for bad in ["", "[1]", "\"x\"", "{"] {
            assert!(claims_parameter(&[], Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn capability_settings_are_split() {
        assert_eq!(parse_capabilities(" cp1, cp2 "), vec!["cp1", "cp2"]);
        assert!(parse_capabilities("").is_empty());
    }
}
