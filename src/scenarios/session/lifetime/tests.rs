//! Session timeouts: settings, idle and absolute ends, sliding renewal at half the window.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};

use super::*;

struct Map(BTreeMap<&'static str, String>);
impl Settings for Map {
    fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}

fn lifetime(pairs: &[(&'static str, &str)]) -> Result<SessionLifetime, Error> {
    SessionLifetime::from_settings(&Map(pairs
        .iter()
        .map(|(n, v)| (*n, v.to_string()))
        .collect()))
}

#[test]
fn defaults_are_a_day_and_no_idle_timeout() {
    let default = lifetime(&[]).unwrap();
    assert_eq!(default, SessionLifetime::default());
    assert_eq!(default.ends_at(1000), 1000 + 86_400);
    assert!(!default.is_idle(0, u64::MAX));
    assert!(!default.renewal_due(0, u64::MAX));
    assert_eq!(default.cookie_max_age(5000, 1000), None);
}

#[test]
fn the_idle_window_ends_a_session_and_renews_after_half_of_it() {
    let both = lifetime(&[
        ("SESSION_ABSOLUTE_TIMEOUT_SECS", "3600"),
        ("SESSION_IDLE_TIMEOUT_SECS", "600"),
    ])
    .unwrap();
    assert_eq!((both.absolute_secs, both.idle_secs), (3600, Some(600)));
    assert!(!both.is_idle(1000, 1599));
    assert!(both.is_idle(1000, 1600));
    assert!(!both.renewal_due(1000, 1299));
    assert!(both.renewal_due(1000, 1300));
    // The cookie lasts the idle window, but never past the absolute end.
    assert_eq!(both.cookie_max_age(1000 + 3600, 1000), Some(600));
    assert_eq!(both.cookie_max_age(1000 + 3600, 4400), Some(200));
    assert_eq!(both.cookie_max_age(1000, 4400), Some(0));
}

#[test]
fn out_of_range_values_name_their_setting() {
    for (name, value) in [
        ("SESSION_ABSOLUTE_TIMEOUT_SECS", "59"),
        ("SESSION_ABSOLUTE_TIMEOUT_SECS", "7776001"),
        ("SESSION_ABSOLUTE_TIMEOUT_SECS", "1h"),
        ("SESSION_IDLE_TIMEOUT_SECS", "29"),
        ("SESSION_IDLE_TIMEOUT_SECS", "-5"),
    ] {
        let error = lifetime(&[(name, value)]).unwrap_err();
        assert!(error.to_string().contains(name), "{error}");
    }
    // The idle timeout cannot outlast the absolute one.
    let error = lifetime(&[
        ("SESSION_ABSOLUTE_TIMEOUT_SECS", "600"),
        ("SESSION_IDLE_TIMEOUT_SECS", "601"),
    ])
    .unwrap_err();
    assert!(error.to_string().contains("SESSION_IDLE_TIMEOUT_SECS"));
}
