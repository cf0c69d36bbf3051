//! A JSON object read the way .NET's configuration binder reads it: keys matched
//! case-insensitively, strings for booleans accepted, every key accounted for.
//!
//! Parsing is serde_json's; this only walks the parsed [`serde_json::Value`] so that every error
//! names the key path (`AzureAd:ClientCredentials[0]:SourceType`) and never the value.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use serde_json::{Map, Value};

use crate::error::Error;

/// A configuration error about `path`, prefixed with the setting that holds the JSON.
pub(super) fn error(path: &str, what: &str) -> Error {
    Error::configuration(format!("{} `{path}` {what}", super::AZURE_AD))
}

/// One JSON object's members, taken one by one; [`Object::finish`] refuses the rest.
pub(super) struct Object {
    path: String,
    members: Vec<(String, Value)>,
}

impl Object {
    /// `value` as an object at `path` (e.g. `AzureAd`).
    pub(super) fn new(path: &str, value: Value) -> Result<Self, Error> {
        match value {
            Value::Object(map) => Ok(Self::from_map(path, map)),
            _ => Err(error(path, "must be a JSON object")),
        }
    }

    fn from_map(path: &str, map: Map<String, Value>) -> Self {
        Self {
            path: String::from(path),
            members: map.into_iter().collect(),
        }
    }

    /// The path of member `key`.
    pub(super) fn path_of(&self, key: &str) -> String {
        format!("{}:{key}", self.path)
    }

    /// Removes member `key` (case-insensitive, as .NET configuration keys are). JSON `null`
    /// counts as absent, as it does for the binder.
    ///
    /// # Errors
    /// When two members differ only by case.
    pub(super) fn take(&mut self, key: &str) -> Result<Option<Value>, Error> {
        let mut found = None;
        let mut index = 0;
        while index < self.members.len() {
            if self.members[index].0.eq_ignore_ascii_case(key) {
                if found.is_some() {
                    return Err(error(
                        &self.path_of(key),
                        "appears twice (keys are case-insensitive)",
                    ));
                }
                found = Some(self.members.remove(index).1);
            } else {
                index += 1;
            }
        }
        Ok(found.filter(|value| !value.is_null()))
    }

    /// A string member; blank strings count as absent.
    pub(super) fn string(&mut self, key: &str) -> Result<Option<String>, Error> {
        match self.take(key)? {
            None => Ok(None),
            Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(_) => Err(error(&self.path_of(key), "must be a string")),
        }
    }

    /// A boolean member: JSON `true`/`false` or the strings `"true"`/`"false"` (any case).
    pub(super) fn boolean(&mut self, key: &str) -> Result<Option<bool>, Error> {
        match self.take(key)? {
            None => Ok(None),
            Some(Value::Bool(flag)) => Ok(Some(flag)),
            Some(Value::String(text)) if text.trim().eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(Value::String(text)) if text.trim().eq_ignore_ascii_case("false") => {
                Ok(Some(false))
            }
            Some(_) => Err(error(&self.path_of(key), "must be true or false")),
        }
    }

    /// A list of words: a JSON array of strings, or one string of space- or comma-separated
    /// words (Microsoft.Identity.Web's templates use both forms for `Scopes`).
    pub(super) fn words(&mut self, key: &str) -> Result<Option<Vec<String>>, Error> {
        let path = self.path_of(key);
        let bad = || error(&path, "must be a string or an array of strings");
        let words: Vec<String> = match self.take(key)? {
            None => return Ok(None),
            Some(Value::String(text)) => split_words(&text),
            Some(Value::Array(items)) => {
                let mut words = Vec::new();
                for item in items {
                    match item {
                        Value::String(text) => words.extend(split_words(&text)),
                        _ => return Err(bad()),
                    }
                }
                words
            }
            Some(_) => return Err(bad()),
        };
        Ok((!words.is_empty()).then_some(words))
    }

    /// An array member (absent = empty).
    pub(super) fn array(&mut self, key: &str) -> Result<Vec<Value>, Error> {
        match self.take(key)? {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => Ok(items),
            Some(_) => Err(error(&self.path_of(key), "must be an array")),
        }
    }

    /// An object member, as an [`Object`] of its own.
    pub(super) fn object(&mut self, key: &str) -> Result<Option<Object>, Error> {
        match self.take(key)? {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(Self::from_map(&self.path_of(key), map))),
            Some(_) => Err(error(&self.path_of(key), "must be a JSON object")),
        }
    }

    /// The remaining members as (name, object) pairs, in the order given (a name → object map
    /// such as `DownstreamApis`).
    pub(super) fn into_entries(self) -> Result<Vec<(String, Object)>, Error> {
        let mut entries = Vec::with_capacity(self.members.len());
        for (name, value) in self.members {
            let path = format!("{}:{name}", self.path);
            entries.push((name, Self::new(&path, value)?));
        }
        Ok(entries)
    }

    /// Accepts and drops member `key` if present (a known setting without meaning at the edge).
    pub(super) fn ignore(&mut self, key: &str) -> Result<(), Error> {
        self.take(key).map(drop)
    }

    /// Refuses any member not taken.
    ///
    /// # Errors
    /// Naming the first unknown key (never its value).
    pub(super) fn finish(self) -> Result<(), Error> {
        match self.members.first() {
            None => Ok(()),
            Some((key, _)) => Err(error(
                &format!("{}:{key}", self.path),
                "is not a setting edge-token knows (see the README's AzureAd section)",
            )),
        }
    }
}

fn split_words(text: &str) -> Vec<String> {
    text.split([' ', ','])
        .filter(|word| !word.is_empty())
        .map(String::from)
        .collect()
}
