use super::*;
use alloc::string::ToString;
use alloc::vec;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// 2026-11-18T11:06:40Z.
const NOW: u64 = 1_795_000_000;

fn dated(date: &str) -> HttpResponse {
    HttpResponse {
        status: 200,
        headers: vec![("Date".to_string(), date.to_string())],
        body: vec![],
    }
}

struct Fixed(u64);
impl Clock for Fixed {
    fn now_unix_secs(&self) -> u64 {
        self.0
    }
}

#[test]
fn offsets_are_learned_bounded_and_applied() {
    let offset = ClockOffset::default();
    // The provider is 7 minutes ahead (a local clock running late).
    assert_eq!(
        offset.learn(&dated("Wed, 18 Nov 2026 11:13:40 GMT"), NOW),
        Some(420)
    );
    assert_eq!(offset.secs(), 420);
    let clock = CorrectedClock {
        local: &Fixed(NOW),
        offset: &offset,
    };
    assert_eq!(clock.now_unix_secs(), NOW + 420);
    // Unchanged: no news.
    assert_eq!(
        offset.learn(&dated("Wed, 18 Nov 2026 11:13:40 GMT"), NOW),
        None
    );
    // Behind by 90 s.
    assert_eq!(
        offset.learn(&dated("Wed, 18 Nov 2026 11:05:10 GMT"), NOW),
        Some(-90)
    );
    let clock = CorrectedClock {
        local: &Fixed(NOW),
        offset: &offset,
    };
    assert_eq!(clock.now_unix_secs(), NOW - 90);
    // Within the noise: zero.
    assert_eq!(
        offset.learn(&dated("Wed, 18 Nov 2026 11:06:42 GMT"), NOW),
        Some(0)
    );
    // Absurd, missing or junk: ignored.
    assert_eq!(
        offset.learn(&dated("Thu, 19 Nov 2026 11:06:40 GMT"), NOW),
        None
    );
    assert_eq!(
        offset.learn(&dated("Mon, 01 Jan 1990 00:00:00 GMT"), NOW),
        None
    );
    assert_eq!(offset.learn(&dated("yesterday"), NOW), None);
    let undated = HttpResponse {
        status: 200,
        headers: vec![],
        body: vec![],
    };
    assert_eq!(offset.learn(&undated, NOW), None);
    assert_eq!(offset.secs(), 0);
}
