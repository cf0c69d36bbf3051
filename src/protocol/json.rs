//! Strict JSON: objects whose member names are unique, at every depth.
//!
//! RFC 8259 §4 leaves duplicate names to the parser ("the names within an object SHOULD be
//! unique"), and `serde_json` keeps the last one. Two parsers of the same text then disagree on
//! what it says: a JOSE header with two `alg`, or a token response with two `access_token`, reads
//! one way to a checker and another way to a user. RFC 7515 §5.2 and RFC 7519 §7.2 require JWS
//! and JWT parsers to refuse duplicate names, and edge-token refuses them in every JSON document
//! it receives from the identity provider.
//!
//! The parsing stays `serde_json`'s: [`StrictValue`] only replaces the visitor that builds a
//! [`Value`], so it has the same grammar, string decoding (names are compared after unescaping:
//! `"a"` and `"\u0061"` are the same name) and recursion limit.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::error::Category;
use serde_json::{Map, Number, Value};

/// The message of the error a repeated member name produces.
const DUPLICATE_MEMBER: &str = "duplicate member name in a JSON object";

/// Why a text is not a strict JSON object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StrictJsonError {
    /// Not JSON at all (syntax, encoding, nesting deeper than `serde_json`'s limit).
    NotJson,
    /// JSON, but not an object.
    NotAnObject,
    /// An object (at any depth) names a member twice.
    DuplicateMember,
}

/// A JSON value in which no object repeats a member name. Deserializing it fails with a data
/// error (`serde_json::error::Category::Data`) on the first repeated name.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StrictValue(pub(crate) Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value without duplicate member names")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        // As `serde_json::Value`'s own visitor: a non-finite float has no JSON number.
        Ok(Number::from_f64(value).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.into()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        StrictValue::deserialize(deserializer).map(|value| value.0)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(StrictValue(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(name) = access.next_key::<String>()? {
            if object.contains_key(&name) {
                return Err(de::Error::custom(DUPLICATE_MEMBER));
            }
            let StrictValue(value) = access.next_value()?;
            object.insert(name, value);
        }
        Ok(Value::Object(object))
    }
}

/// Parses `bytes` as a JSON object without a repeated member name at any depth.
///
/// # Errors
/// [`StrictJsonError`] saying whether the text is not JSON, not an object, or repeats a name.
pub(crate) fn strict_object(bytes: &[u8]) -> Result<Map<String, Value>, StrictJsonError> {
    match serde_json::from_slice::<StrictValue>(bytes) {
        Ok(StrictValue(Value::Object(object))) => Ok(object),
        Ok(_) => Err(StrictJsonError::NotAnObject),
        // The visitor accepts every JSON type, so its only data error is a repeated name;
        // syntax, EOF and I/O errors (and the recursion limit) are other categories.
        Err(err) if err.classify() == Category::Data => Err(StrictJsonError::DuplicateMember),
        Err(_) => Err(StrictJsonError::NotJson),
    }
}

#[cfg(test)]
mod tests;
