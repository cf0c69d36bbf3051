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

use crate::error::Error;
use crate::platform::Sleep;

/// How often a request waiting for another request's work (a token request, a client build)
/// rechecks it, in milliseconds. Adds at most this much latency to waiters on a cold cache.
pub(crate) const SINGLE_FLIGHT_RECHECK_MS: u32 = 10;

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
mod tests;
