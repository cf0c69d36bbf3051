//! Settings from Spin variables (through a small seam) or from the WASI environment.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use edge_token::config::Settings;
use edge_token::error::Error;
use edge_token::platform::LocalBoxFuture;

/// The Spin variable that holds setting `setting`: its name in lower case (Spin variable names
/// are lower-case letters, digits and underscores), e.g. `CLIENT_ID` -> `client_id`.
pub fn variable_name(setting: &str) -> String {
    setting.to_ascii_lowercase()
}

/// Every setting one of the scenarios may read, each once: the client's
/// ([`edge_token::config::CLIENT_SETTING_NAMES`]), then the daemon's
/// ([`edge_token::scenarios::DAEMON_SETTING_NAMES`]), the web app's and the web API's, for
/// [`VariableSettings::load`] (a component serving several scenarios reads them all up front).
pub fn scenario_setting_names() -> Vec<&'static str> {
    use edge_token::config::CLIENT_SETTING_NAMES;
    use edge_token::scenarios::{
        DAEMON_SETTING_NAMES, WEB_API_SETTING_NAMES, WEB_APP_SETTING_NAMES,
    };
    let mut names = Vec::new();
    let lists = [
        CLIENT_SETTING_NAMES,
        DAEMON_SETTING_NAMES,
        WEB_APP_SETTING_NAMES,
        WEB_API_SETTING_NAMES,
    ];
    for name in lists.into_iter().flatten() {
        if !names.contains(name) {
            names.push(*name);
        }
    }
    names
}

/// Where Spin variables come from: [`SpinVariables`] in Spin, a double in tests.
pub trait VariableHost {
    /// The value of variable `name`, or `None` when the application does not define it.
    ///
    /// # Errors
    /// [`Error::Configuration`] naming the variable when the host cannot read it.
    fn get<'a>(&'a self, name: &'a str) -> LocalBoxFuture<'a, Result<Option<String>, Error>>;
}

/// Spin's variables interface (`spin_sdk::variables::get`). The component must declare each
/// variable it reads in `spin.toml` (`[component.<id>.variables]`).
#[derive(Debug, Default, Clone, Copy)]
pub struct SpinVariables;

impl VariableHost for SpinVariables {
    fn get<'a>(&'a self, name: &'a str) -> LocalBoxFuture<'a, Result<Option<String>, Error>> {
        Box::pin(async move {
            match spin_sdk::variables::get(name).await {
                Ok(value) => Ok(Some(value)),
                Err(spin_sdk::variables::Error::Undefined(_)) => Ok(None),
                Err(error) => Err(Error::configuration(format!(
                    "Spin variable {name} could not be read: {error}"
                ))),
            }
        })
    }
}

/// Settings read from Spin variables once, up front ([`edge_token::config::Settings`] is
/// synchronous, Spin variables are not). `Debug` shows the names only.
pub struct VariableSettings {
    values: BTreeMap<String, String>,
}

impl VariableSettings {
    /// Reads the variable of each setting in `settings` (see [`variable_name`]) from `host`;
    /// undefined variables are unset settings.
    ///
    /// # Errors
    /// The first host error ([`Error::Configuration`] naming the variable).
    pub async fn load(host: &dyn VariableHost, settings: &[&str]) -> Result<Self, Error> {
        let mut values = BTreeMap::new();
        for setting in settings {
            if let Some(value) = host.get(&variable_name(setting)).await? {
                values.insert(String::from(*setting), value);
            }
        }
        Ok(Self { values })
    }
}

impl Settings for VariableSettings {
    fn get(&self, name: &str) -> Option<String> {
        self.values.get(name).cloned()
    }
}

impl fmt::Debug for VariableSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.values.keys().map(String::as_str).collect();
        f.debug_struct("VariableSettings")
            .field("names", &names)
            .finish()
    }
}

/// Settings from the WASI environment (`wasmtime serve --env NAME=VALUE`), under the
/// settings' own names. For running the component without Spin's variables interface.
#[derive(Debug, Default, Clone, Copy)]
pub struct EnvSettings;

impl Settings for EnvSettings {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

#[cfg(test)]
mod tests;
