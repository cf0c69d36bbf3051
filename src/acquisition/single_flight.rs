//! Single-flight: concurrent callers asking for the same key share one piece of work.
//!
//! When N requests in one isolate miss the cache for the same token at once, one of them (the
//! leader) requests it and the others wait for its result, success or error: the provider sees
//! one token request instead of N. Single-threaded by design (`Rc`/`RefCell`): an edge isolate
//! runs its requests' futures on one thread. If the leader's future is dropped before it
//! finishes (its request was cancelled), one of the waiters takes over.
//!
//! Waiters are not woken by the leader: each rechecks the flight after a `pause` future of its
//! own (a short timer). Runtimes such as Workers bind async work to the request that started
//! it: a request whose only pending work is another request's promise is cancelled as hung
//! (measured in workerd), so a waiter must keep its own IO (the timer) in flight.

use alloc::collections::BTreeMap;
use alloc::rc::Rc;
use core::cell::RefCell;
use core::fmt;
use core::future::Future;

use crate::acquisition::client::SINGLE_FLIGHT_RECHECK_MS;
use crate::error::Error;
use crate::platform::Sleep;

/// Deduplicates concurrent work by key.
#[derive(Debug)]
pub struct SingleFlight<K, V> {
    flights: RefCell<BTreeMap<K, Rc<Flight<V>>>>,
}

impl<K, V> Default for SingleFlight<K, V> {
    fn default() -> Self {
        Self {
            flights: RefCell::new(BTreeMap::new()),
        }
    }
}

#[derive(Debug)]
struct Flight<V> {
    outcome: RefCell<Outcome<V>>,
}

#[derive(Debug)]
enum Outcome<V> {
    Running,
    Done(V),
    Abandoned,
}

impl<K: Ord + Clone, V: Clone> SingleFlight<K, V> {
    /// Runs `work` for `key`, unless a run for `key` is already in flight, in which case this
    /// waits for that run and returns a clone of its output, checking it after each `pause`
    /// (e.g. a 10 ms timer). `work` is called at most once.
    pub async fn run<F, Fut, P, PFut>(&self, key: K, work: F, pause: P) -> V
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = V>,
        P: Fn() -> PFut,
        PFut: Future<Output = ()>,
    {
        loop {
            let in_flight = self.flights.borrow().get(&key).cloned();
            let Some(flight) = in_flight else { break };
            loop {
                match &*flight.outcome.borrow() {
                    Outcome::Done(value) => return value.clone(),
                    Outcome::Abandoned => break, // the leader was dropped: try to lead
                    Outcome::Running => {}
                }
                pause().await;
            }
        }
        let flight = Rc::new(Flight {
            outcome: RefCell::new(Outcome::Running),
        });
        self.flights
            .borrow_mut()
            .insert(key.clone(), Rc::clone(&flight));
        let mut guard = LeaderGuard {
            flights: &self.flights,
            key,
            flight,
            finished: false,
        };
        let value = work().await;
        guard.finish(Outcome::Done(value.clone()));
        value
    }

    /// How many keys have work in flight.
    pub fn in_flight(&self) -> usize {
        self.flights.borrow().len()
    }
}

/// A value built on first use and kept for the life of the isolate (or instance): the
/// per-isolate client of an adapter's token provider. Concurrent first callers share one build
/// ([`SingleFlight`]); a failed build is not kept, so the next caller tries again (a missing
/// setting fixed by a redeploy, a provider briefly unreachable during discovery).
pub struct BuiltOnce<T> {
    value: RefCell<Option<Rc<T>>>,
    build: SingleFlight<(), Result<Rc<T>, Error>>,
}

impl<T> Default for BuiltOnce<T> {
    fn default() -> Self {
        Self {
            value: RefCell::new(None),
            build: SingleFlight::default(),
        }
    }
}

impl<T> fmt::Debug for BuiltOnce<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BuiltOnce")
            .field("built", &self.value.borrow().is_some())
            .finish()
    }
}

impl<T> BuiltOnce<T> {
    /// The value, built by `build` if this is the first call (or every earlier build failed).
    /// Waiters recheck the leader's build every `SINGLE_FLIGHT_RECHECK_MS` on `sleep`.
    ///
    /// # Errors
    /// Whatever `build` returned, shared by every caller that waited for it.
    pub async fn get<Fut>(
        &self,
        build: impl FnOnce() -> Fut,
        sleep: &dyn Sleep,
    ) -> Result<Rc<T>, Error>
    where
        Fut: Future<Output = Result<T, Error>>,
    {
        if let Some(value) = self.value.borrow().as_ref() {
            return Ok(Rc::clone(value));
        }
        self.build
            .run(
                (),
                || async {
                    let value = Rc::new(build().await?);
                    *self.value.borrow_mut() = Some(Rc::clone(&value));
                    Ok(value)
                },
                || sleep.sleep(SINGLE_FLIGHT_RECHECK_MS),
            )
            .await
    }

    /// The value if it has been built.
    pub fn get_built(&self) -> Option<Rc<T>> {
        self.value.borrow().clone()
    }
}

struct LeaderGuard<'a, K: Ord, V> {
    flights: &'a RefCell<BTreeMap<K, Rc<Flight<V>>>>,
    key: K,
    flight: Rc<Flight<V>>,
    finished: bool,
}

impl<K: Ord, V> LeaderGuard<'_, K, V> {
    fn finish(&mut self, outcome: Outcome<V>) {
        self.finished = true;
        {
            let mut flights = self.flights.borrow_mut();
            if flights
                .get(&self.key)
                .is_some_and(|current| Rc::ptr_eq(current, &self.flight))
            {
                flights.remove(&self.key);
            }
        }
        *self.flight.outcome.borrow_mut() = outcome;
    }
}

impl<K: Ord, V> Drop for LeaderGuard<'_, K, V> {
    fn drop(&mut self) {
        if !self.finished {
            self.finish(Outcome::Abandoned);
        }
    }
}

#[cfg(test)]
mod tests {
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
}
