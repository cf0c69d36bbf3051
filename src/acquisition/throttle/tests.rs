use super::*;
use alloc::format;
use alloc::vec;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// 2026-11-18T11:06:40Z.
const NOW: u64 = 1_795_000_000;

#[test]
fn http_dates_parse_as_imf_fixdate() {
    assert_eq!(
        parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
        Some(784_111_777)
    );
    assert_eq!(parse_http_date("Wed, 18 Nov 2026 11:06:40 GMT"), Some(NOW));
    for junk in [
        "",
        "tomorrow",
        "06 Nov 1994",
        "Sun, 06 Nov 1994 25:49:37 GMT",
        "1234",
    ] {
        assert_eq!(parse_http_date(junk), None, "{junk}");
    }
}

#[test]
fn retry_after_is_seconds_or_a_date_defaulted_and_capped() {
    assert_eq!(retry_after_secs(Some("30"), NOW), 30);
    assert_eq!(retry_after_secs(Some(" 120 "), NOW), 120);
    assert_eq!(
        retry_after_secs(Some("Wed, 18 Nov 2026 11:07:25 GMT"), NOW),
        45
    );
    // Absent, junk, negative, zero, a past date: the default.
    for value in [
        None,
        Some("soon"),
        Some("-5"),
        Some("0"),
        Some("1.5"),
        Some("Wed, 18 Nov 2026 10:00:00 GMT"),
    ] {
        assert_eq!(
            retry_after_secs(value, NOW),
            DEFAULT_THROTTLE_SECS,
            "{value:?}"
        );
    }
    // Huge: the cap.
    assert_eq!(retry_after_secs(Some("86400"), NOW), MAX_THROTTLE_SECS);
    assert_eq!(
        retry_after_secs(Some("99999999999999999999999"), NOW),
        MAX_THROTTLE_SECS
    );
    assert_eq!(
        retry_after_secs(Some("Fri, 01 Jan 2100 00:00:00 GMT"), NOW),
        MAX_THROTTLE_SECS
    );
}

fn response(status: u16, retry_after: Option<&str>) -> HttpResponse {
    HttpResponse {
        status,
        headers: retry_after
            .map(|v| vec![("Retry-After".to_string(), v.to_string())])
            .unwrap_or_default(),
        body: vec![],
    }
}

#[test]
fn verdicts_follow_status_and_retry_after() {
    assert_eq!(verdict(&response(200, None), NOW), Verdict::Accept);
    assert_eq!(verdict(&response(400, Some("5")), NOW), Verdict::Accept);
    assert_eq!(
        verdict(&response(429, Some("7")), NOW),
        Verdict::Throttle { secs: 7 }
    );
    assert_eq!(
        verdict(&response(429, None), NOW),
        Verdict::Throttle {
            secs: DEFAULT_THROTTLE_SECS
        }
    );
    assert_eq!(
        verdict(&response(503, Some("2")), NOW),
        Verdict::Throttle { secs: 2 }
    );
    assert_eq!(verdict(&response(503, None), NOW), Verdict::Retry);
    assert_eq!(verdict(&response(500, None), NOW), Verdict::Retry);
    assert_eq!(verdict(&response(408, None), NOW), Verdict::Accept);
}

#[test]
fn the_table_throttles_exact_keys_until_they_expire() {
    let table = ThrottleTable::default();
    table.record("a", 30, NOW);
    assert_eq!(table.remaining("a", NOW), Some(30));
    assert_eq!(table.remaining("a", NOW + 29), Some(1));
    assert_eq!(table.remaining("a", NOW + 30), None);
    assert_eq!(table.remaining("b", NOW), None);
    // A shorter throttle does not shorten a longer one.
    table.record("a", 5, NOW);
    assert_eq!(table.remaining("a", NOW), Some(30));
    table.record("a", 10_000, NOW);
    assert_eq!(table.remaining("a", NOW), Some(MAX_THROTTLE_SECS));
}

#[test]
fn the_table_is_bounded() {
    let table = ThrottleTable::default();
    for i in 0..(THROTTLE_TABLE_CAPACITY as u64 + 10) {
        table.record(&format!("key-{i}"), 100 + i, NOW);
    }
    assert_eq!(table.len(), THROTTLE_TABLE_CAPACITY);
    // The newest survive; the soonest-ending went first.
    assert!(table
        .remaining(&format!("key-{}", THROTTLE_TABLE_CAPACITY + 9), NOW)
        .is_some());
    assert!(table.remaining("key-0", NOW).is_none());
}

#[test]
fn a_remembered_answer_is_replayed_until_it_ends_and_a_plain_throttle_says_throttled() {
    let table = ThrottleTable::default();
    let dead = Error::Server(alloc::boxed::Box::new(crate::error::ServerError {
        status: 400,
        error: "invalid_grant".into(),
        ..Default::default()
    }));
    table.remember("refresh", UI_REQUIRED_THROTTLE_SECS, dead.clone(), NOW);
    assert_eq!(table.refusal("refresh", NOW + 119), Some(dead));
    assert_eq!(table.refusal("refresh", NOW + 120), None);
    table.record("app", SERVER_ERROR_THROTTLE_SECS, NOW);
    assert_eq!(
        table.refusal("app", NOW + 10),
        Some(Error::Throttled {
            retry_after_secs: 50
        })
    );
    assert_eq!(table.refusal("other", NOW), None);
}

#[test]
fn only_user_errors_of_refresh_and_on_behalf_of_requests_are_remembered() {
    use crate::protocol::scope::Scopes;
    use crate::secret::{AccessToken, RefreshToken};
    let server = |code: &str| {
        Error::Server(alloc::boxed::Box::new(crate::error::ServerError {
            status: 400,
            error: code.into(),
            ..Default::default()
        }))
    };
    let scopes = Scopes::parse("api://a/.default").unwrap();
    let refresh_token = RefreshToken::new("rt");
    let assertion = AccessToken::new("at");
    let refresh = Grant::RefreshToken {
        refresh_token: &refresh_token,
        scopes: &scopes,
        claims: None,
    };
    let obo = Grant::OnBehalfOf {
        assertion: &assertion,
        scopes: &scopes,
        claims: None,
    };
    let app = Grant::ClientCredentials {
        scopes: &scopes,
        claims: None,
    };
    for code in [
        "invalid_grant",
        "interaction_required",
        "consent_required",
        "login_required",
    ] {
        assert!(requires_user(&refresh, &server(code)), "{code}");
        assert!(requires_user(&obo, &server(code)), "{code}");
        assert!(!requires_user(&app, &server(code)), "{code}");
    }
    for other in ["invalid_client", "invalid_scope", "temporarily_unavailable"] {
        assert!(!requires_user(&refresh, &server(other)), "{other}");
    }
    assert!(!requires_user(&refresh, &Error::Cache("x".into())));
}
