use super::*;
use futures::executor::block_on;

/// A variables host that knows some variables and fails on others.
struct Double {
    defined: BTreeMap<&'static str, &'static str>,
    failing: &'static [&'static str],
    asked: core::cell::RefCell<Vec<String>>,
}

impl VariableHost for Double {
    fn get<'a>(&'a self, name: &'a str) -> LocalBoxFuture<'a, Result<Option<String>, Error>> {
        self.asked.borrow_mut().push(name.into());
        let result = if self.failing.contains(&name) {
            Err(Error::configuration(format!(
                "Spin variable {name} could not be read"
            )))
        } else {
            Ok(self.defined.get(name).map(|value| String::from(*value)))
        };
        Box::pin(core::future::ready(result))
    }
}

fn double(defined: &[(&'static str, &'static str)], failing: &'static [&'static str]) -> Double {
    Double {
        defined: defined.iter().copied().collect(),
        failing,
        asked: Default::default(),
    }
}

#[test]
fn settings_are_read_from_their_lower_case_variables() {
    let host = double(&[("client_id", "daemon"), ("client_secret", "s3cret")], &[]);
    let settings = block_on(VariableSettings::load(
        &host,
        &["CLIENT_ID", "CLIENT_SECRET", "AUTHORITY"],
    ))
    .unwrap();
    assert_eq!(
        *host.asked.borrow(),
        ["client_id", "client_secret", "authority"]
    );
    assert_eq!(settings.get("CLIENT_ID").as_deref(), Some("daemon"));
    assert_eq!(settings.get("AUTHORITY"), None, "undefined is unset");
    assert_eq!(
        settings.get("client_id"),
        None,
        "settings keep their own names"
    );
}

#[test]
fn a_host_error_stops_loading_and_names_the_variable() {
    let host = double(&[("client_id", "daemon")], &["client_secret"]);
    let error = block_on(VariableSettings::load(
        &host,
        &["CLIENT_SECRET", "CLIENT_ID"],
    ))
    .unwrap_err();
    assert!(matches!(&error, Error::Configuration(m) if m.contains("client_secret")));
}

#[test]
fn debug_shows_names_not_values() {
    let host = double(&[("client_secret", "SENTINEL-VALUE")], &[]);
    let settings = block_on(VariableSettings::load(&host, &["CLIENT_SECRET"])).unwrap();
    let debug = format!("{settings:?}");
    assert!(debug.contains("CLIENT_SECRET"));
    assert!(!debug.contains("SENTINEL"));
}

#[test]
fn the_daemon_reads_its_configuration_through_the_variables() {
    let host = double(
        &[
            ("authority", "http://127.0.0.1:9400"),
            ("client_id", "daemon"),
            ("client_secret", "s"),
            ("downstream_url", "http://127.0.0.1:9500/api"),
            ("downstream_scopes", "api://downstream/.default"),
            ("daemon_api_audience", "api://daemon"),
            ("daemon_caller_roles", "Daemon.Call"),
        ],
        &[],
    );
    let settings = block_on(VariableSettings::load(&host, &scenario_setting_names())).unwrap();
    let config = edge_token::scenarios::DaemonConfig::from_settings(&settings).unwrap();
    assert_eq!(config.client.client_id, "daemon");
    assert!(matches!(
        config.callers,
        edge_token::scenarios::DaemonCallers::Bearer(_)
    ));
}

#[test]
fn the_web_app_and_the_web_api_read_their_configuration_through_the_variables() {
    let names = scenario_setting_names();
    let once: alloc::collections::BTreeSet<_> = names.iter().collect();
    assert_eq!(once.len(), names.len(), "each name once");
    let host = double(
        &[
            ("authority", "http://127.0.0.1:9400"),
            ("client_id", "webapp"),
            ("client_secret", "s"),
            ("redirect_uri", "http://127.0.0.1:8081/auth/callback"),
            ("cookie_key", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"),
            ("downstream_url", "http://127.0.0.1:9500/api"),
            ("downstream_scopes", "api://downstream/.default"),
            ("web_api_url", "http://127.0.0.1:8082/api/profile"),
            ("web_api_scopes", "api://webapi/access_as_user"),
            ("api_audience", "api://webapi"),
            ("api_required_scope", "access_as_user"),
            ("api_downstream_url", "http://127.0.0.1:9500/api"),
            ("api_downstream_scopes", "api://downstream/user.read"),
        ],
        &[],
    );
    let settings = block_on(VariableSettings::load(&host, &names)).unwrap();
    let webapp = edge_token::scenarios::WebAppConfig::from_settings(&settings).unwrap();
    assert_eq!(
        webapp.redirect_uris.as_slice()[0].as_str(),
        "http://127.0.0.1:8081/auth/callback"
    );
    assert!(webapp.web_api.is_some());
    let webapi = edge_token::scenarios::WebApiConfig::from_settings(&settings).unwrap();
    assert_eq!(webapi.audiences, ["api://webapi"]);
}
