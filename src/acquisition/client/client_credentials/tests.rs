//! Prepared app token requests: the same tokens as per-call acquisition, no entropy or key
//! work on a hit, and only for the client that prepared them.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use core::cell::Cell;

use futures::executor::block_on;

use super::super::tests::{client, scopes, ENTRA, SUCCESS};
use crate::acquisition::TokenSource;
use crate::error::Error;
use crate::platform::{Entropy, Platform};
use crate::testing::{MapStore, ReplayPlatform, NOW};

/// Counts what is drawn from it (always 0x42 bytes).
#[derive(Default)]
struct CountedEntropy(Cell<usize>);

impl Entropy for CountedEntropy {
    fn fill(&self, dest: &mut [u8]) -> Result<(), Error> {
        self.0.set(self.0.get() + 1);
        dest.fill(0x42);
        Ok(())
    }
}

#[test]
fn a_prepared_request_serves_the_same_token_from_memory_without_drawing_entropy() {
    // Entra's `refresh_in` (1799 s) makes the entry refreshable: its jitter is drawn once.
    let env = ReplayPlatform::new(&[(200, SUCCESS)]);
    let store = MapStore::default();
    let entropy = CountedEntropy::default();
    let platform = Platform {
        entropy: &entropy,
        ..env.platform(&store)
    };
    let client = client(ENTRA);
    let request = client.app_token_request(&scopes()).unwrap();
    assert_eq!(request.scopes(), &scopes());
    let first = block_on(client.acquire_app_token(&request, &platform)).unwrap();
    assert_eq!(first.source, TokenSource::Provider);
    let drawn = entropy.0.get();
    for _ in 0..3 {
        let hit = block_on(client.acquire_app_token(&request, &platform)).unwrap();
        assert_eq!(hit.source, TokenSource::Memory);
        assert_eq!(hit.access_token, first.access_token);
        assert!(!hit.refresh_due);
    }
    assert_eq!(entropy.0.get(), drawn, "a hit draws nothing");
    // The per-call form finds the same entry.
    let per_call = block_on(client.acquire_token_for_client(&scopes(), &platform)).unwrap();
    assert_eq!(per_call.source, TokenSource::Memory);
    assert_eq!(per_call.access_token, first.access_token);
    // Past `refresh_in` (less at most the 60 s jitter) every hit says a refresh is due.
    env.now.set(NOW + 1799);
    let due = block_on(client.acquire_app_token(&request, &platform)).unwrap();
    assert!(due.refresh_due);
    assert_eq!(env.requests.borrow().len(), 1);
}

#[test]
fn a_prepared_request_serves_only_the_client_that_prepared_it() {
    let env = ReplayPlatform::new(&[]);
    let store = MapStore::default();
    let request = client(ENTRA).app_token_request(&scopes()).unwrap();
    let other = client(ENTRA);
    let refused = block_on(other.acquire_app_token(&request, &env.platform(&store)));
    assert!(
        matches!(refused, Err(Error::Configuration(_))),
        "{refused:?}"
    );
    assert!(env.requests.borrow().is_empty());
}

#[test]
fn preparing_checks_the_scopes_and_the_authority_once() {
    let client = client(ENTRA);
    let delegated = crate::Scopes::parse("https://graph.microsoft.com/User.Read").unwrap();
    assert!(matches!(
        client.app_token_request(&delegated),
        Err(Error::Configuration(_))
    ));
    let common = super::super::tests::client("https://login.microsoftonline.com/common");
    assert!(matches!(
        common.app_token_request(&scopes()),
        Err(Error::Configuration(_))
    ));
}

#[test]
fn per_call_acquisition_keeps_what_it_prepares_and_starts_over_when_full() {
    let env = ReplayPlatform::new(&[(200, SUCCESS)]);
    let store = MapStore::default();
    let client = client(ENTRA);
    for _ in 0..3 {
        block_on(client.acquire_token_for_client(&scopes(), &env.platform(&store))).unwrap();
    }
    assert_eq!(client.prepared.len(), 1);
    assert_eq!(env.requests.borrow().len(), 1);
    // A refused set is not kept.
    let delegated = crate::Scopes::parse("https://graph.microsoft.com/User.Read").unwrap();
    assert!(block_on(client.acquire_token_for_client(&delegated, &env.platform(&store))).is_err());
    assert_eq!(client.prepared.len(), 1);
    for i in 0..crate::acquisition::MAX_PREPARED_REQUESTS + 3 {
        let scopes = crate::Scopes::parse(&alloc::format!("api://r{i}/.default")).unwrap();
        let request = client
            .prepared
            .get_or_prepare(&scopes, || client.app_token_request(&scopes))
            .unwrap();
        assert_eq!(request.scopes(), &scopes);
    }
    // Full at MAX_PREPARED_REQUESTS: the next one started over, the three after it joined.
    assert_eq!(client.prepared.len(), 4);
}
