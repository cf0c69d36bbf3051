#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::*;
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::cell::Cell;
use core::task::{Context, Poll};
use futures::channel::oneshot;
use futures::executor::block_on;
use futures::future::{join, join_all};
use futures::FutureExt;

/// A pause that yields once, standing in for a timer. Every test drives all its futures in
/// one task (`join`), so some future is always ready and nothing parks (wasm32 cannot park).
fn pause() -> impl Future<Output = ()> {
    let mut yielded = false;
    core::future::poll_fn(move |cx: &mut Context<'_>| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
}

async fn pauses(n: usize) {
    for _ in 0..n {
        pause().await;
    }
}

#[test]
fn fifty_concurrent_callers_share_one_run_and_its_result() {
    let flights: SingleFlight<&str, Result<u32, &str>> = SingleFlight::default();
    let runs = Cell::new(0);
    // The one token request "in flight" until `answer` is sent.
    let (answer, response) = oneshot::channel::<()>();
    let response = RefCell::new(Some(response));
    let callers = (0..50).map(|_| {
        flights.run(
            "k",
            || async {
                runs.set(runs.get() + 1);
                let pending = response.borrow_mut().take().expect("only the leader runs");
                let _ = pending.await;
                Err("invalid_client")
            },
            pause,
        )
    });
    let answer_later = async {
        pauses(20).await;
        assert_eq!(flights.in_flight(), 1, "everyone waits for the one run");
        answer.send(()).unwrap();
    };
    let (results, ()) = block_on(join(join_all(callers), answer_later));
    assert_eq!(runs.get(), 1);
    assert_eq!(
        results,
        Vec::from([Err("invalid_client"); 50]),
        "every waiter gets the leader's error"
    );
    assert_eq!(flights.in_flight(), 0);
}

#[test]
fn different_keys_run_separately_and_later_calls_run_again() {
    let flights: SingleFlight<u8, u8> = SingleFlight::default();
    let results = block_on(async {
        let a = flights.run(1, || async { 10 }, pause).await;
        let b = flights.run(2, || async { 20 }, pause).await;
        let c = flights.run(1, || async { 11 }, pause).await;
        (a, b, c)
    });
    assert_eq!(results, (10, 20, 11));
}

#[test]
fn a_dropped_leader_hands_over_to_a_waiter() {
    let flights: SingleFlight<&str, u32> = SingleFlight::default();
    let (_keep_open, never) = oneshot::channel::<()>();
    let mut leader = Box::pin(flights.run(
        "k",
        || async move {
            let _ = never.await;
            1
        },
        pause,
    ));
    assert!(
        leader.as_mut().now_or_never().is_none(),
        "the leader is in flight"
    );
    let follower = flights.run("k", || async { 2 }, pause);
    let cancel_leader = async move {
        pauses(5).await;
        drop(leader);
    };
    let (value, ()) = block_on(join(follower, cancel_leader));
    assert_eq!(value, 2, "the follower took over");
    assert_eq!(flights.in_flight(), 0);
}
