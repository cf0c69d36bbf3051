//! Single-flight: concurrent callers asking for the same key share one piece of work.
//!
//! When N requests in one isolate miss the cache for the same token at once, one of them (the
//! leader) requests it and the others wait for its result, success or error: the provider sees
//! one token request instead of N. Single-threaded by design (`Rc`/`RefCell`): an edge isolate
//! runs its requests' futures on one thread. If the leader's future is dropped before it
//! finishes (its request was cancelled), the waiters are woken and one of them takes over.

use alloc::collections::BTreeMap;
use alloc::rc::Rc;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

/// Deduplicates concurrent work by key.
#[derive(Debug)]
pub struct SingleFlight<K, V> {
    flights: RefCell<BTreeMap<K, Rc<Flight<V>>>>,
}

impl<K, V> Default for SingleFlight<K, V> {
    fn default() -> Self {
        Self { flights: RefCell::new(BTreeMap::new()) }
    }
}

#[derive(Debug)]
struct Flight<V> {
    outcome: RefCell<Outcome<V>>,
    waiters: RefCell<Vec<Waker>>,
}

#[derive(Debug)]
enum Outcome<V> {
    Running,
    Done(V),
    Abandoned,
}

impl<K: Ord + Clone, V: Clone> SingleFlight<K, V> {
    /// Runs `work` for `key`, unless a run for `key` is already in flight, in which case this
    /// waits for that run and returns a clone of its output. `work` is called at most once.
    pub async fn run<F, Fut>(&self, key: K, work: F) -> V
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = V>,
    {
        loop {
            let in_flight = self.flights.borrow().get(&key).cloned();
            let Some(flight) = in_flight else { break };
            if let Some(value) = (Wait { flight }).await {
                return value;
            }
            // The leader was dropped before finishing: try to lead.
        }
        let flight = Rc::new(Flight { outcome: RefCell::new(Outcome::Running), waiters: RefCell::new(Vec::new()) });
        self.flights.borrow_mut().insert(key.clone(), Rc::clone(&flight));
        let mut guard = LeaderGuard { flights: &self.flights, key, flight, finished: false };
        let value = work().await;
        guard.finish(Outcome::Done(value.clone()));
        value
    }

    /// How many keys have work in flight.
    pub fn in_flight(&self) -> usize {
        self.flights.borrow().len()
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
            if flights.get(&self.key).is_some_and(|current| Rc::ptr_eq(current, &self.flight)) {
                flights.remove(&self.key);
            }
        }
        *self.flight.outcome.borrow_mut() = outcome;
        let waiters = core::mem::take(&mut *self.flight.waiters.borrow_mut());
        waiters.into_iter().for_each(Waker::wake);
    }
}

impl<K: Ord, V> Drop for LeaderGuard<'_, K, V> {
    fn drop(&mut self) {
        if !self.finished {
            self.finish(Outcome::Abandoned);
        }
    }
}

struct Wait<V> {
    flight: Rc<Flight<V>>,
}

impl<V: Clone> Future for Wait<V> {
    type Output = Option<V>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<V>> {
        match &*self.flight.outcome.borrow() {
            Outcome::Done(value) => return Poll::Ready(Some(value.clone())),
            Outcome::Abandoned => return Poll::Ready(None),
            Outcome::Running => {}
        }
        let mut waiters = self.flight.waiters.borrow_mut();
        if !waiters.iter().any(|w| w.will_wake(cx.waker())) {
            waiters.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::boxed::Box;
    use core::cell::Cell;
    use futures::channel::oneshot;
    use futures::executor::LocalPool;
    use futures::task::LocalSpawnExt;

    #[test]
    fn fifty_concurrent_callers_share_one_run_and_its_result() {
        let flights: Rc<SingleFlight<&str, Result<u32, &str>>> = Rc::default();
        let runs = Rc::new(Cell::new(0));
        let results = Rc::new(RefCell::new(Vec::new()));
        // The one token request "in flight" until the test answers it.
        let (answer, response) = oneshot::channel::<()>();
        let response = Rc::new(RefCell::new(Some(response)));
        let mut pool = LocalPool::new();
        for _ in 0..50 {
            let (flights, runs, results, response) = (Rc::clone(&flights), Rc::clone(&runs), Rc::clone(&results), Rc::clone(&response));
            pool.spawner()
                .spawn_local(async move {
                    let value = flights
                        .run("k", || async move {
                            runs.set(runs.get() + 1);
                            let pending = response.borrow_mut().take().expect("only the leader runs");
                            let _ = pending.await;
                            Err("invalid_client")
                        })
                        .await;
                    results.borrow_mut().push(value);
                })
                .unwrap();
        }
        pool.run_until_stalled();
        assert_eq!(flights.in_flight(), 1);
        answer.send(()).unwrap();
        pool.run();
        assert_eq!(runs.get(), 1);
        assert_eq!(results.borrow().len(), 50);
        assert!(results.borrow().iter().all(|r| *r == Err("invalid_client")), "every waiter gets the leader's error");
        assert_eq!(flights.in_flight(), 0);
    }

    #[test]
    fn different_keys_run_separately_and_later_calls_run_again() {
        let flights: SingleFlight<u8, u8> = SingleFlight::default();
        let pool_result = futures::executor::block_on(async {
            let a = flights.run(1, || async { 10 }).await;
            let b = flights.run(2, || async { 20 }).await;
            let c = flights.run(1, || async { 11 }).await;
            (a, b, c)
        });
        assert_eq!(pool_result, (10, 20, 11));
    }

    #[test]
    fn a_dropped_leader_hands_over_to_a_waiter() {
        let flights: Rc<SingleFlight<&str, u32>> = Rc::default();
        let (_keep_open, never) = oneshot::channel::<()>();
        let mut pool = LocalPool::new();
        // The leader never finishes: it is dropped while waiting.
        let leader = {
            let flights = Rc::clone(&flights);
            async move {
                flights
                    .run("k", || async move {
                        let _ = never.await;
                        1
                    })
                    .await
            }
        };
        let mut leader = Box::pin(leader);
        let waker = futures::task::noop_waker();
        assert!(leader.as_mut().poll(&mut Context::from_waker(&waker)).is_pending());
        let follower_result = Rc::new(Cell::new(0));
        {
            let (flights, out) = (Rc::clone(&flights), Rc::clone(&follower_result));
            pool.spawner().spawn_local(async move { out.set(flights.run("k", || async { 2 }).await) }).unwrap();
        }
        pool.run_until_stalled();
        assert_eq!(follower_result.get(), 0, "the follower waits for the leader");
        drop(leader);
        pool.run();
        assert_eq!(follower_result.get(), 2, "the follower took over");
    }
}
