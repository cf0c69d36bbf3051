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
use core::future::Future;

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
    use super::*;
    use alloc::boxed::Box;
    use alloc::vec::Vec;
    use core::cell::Cell;
    use core::task::{Context, Poll};
    use futures::channel::oneshot;
    use futures::executor::LocalPool;
    use futures::task::LocalSpawnExt;

    /// A pause that yields to the executor once, standing in for a timer.
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

    /// Runs the pool's ready tasks a bounded number of times (waiters re-poll forever while the
    /// leader waits, so "until stalled" never comes).
    fn step(pool: &mut LocalPool, times: usize) {
        for _ in 0..times {
            pool.try_run_one();
        }
    }

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
            let (flights, runs, results, response) = (
                Rc::clone(&flights),
                Rc::clone(&runs),
                Rc::clone(&results),
                Rc::clone(&response),
            );
            pool.spawner()
                .spawn_local(async move {
                    let value = flights
                        .run(
                            "k",
                            || async move {
                                runs.set(runs.get() + 1);
                                let pending =
                                    response.borrow_mut().take().expect("only the leader runs");
                                let _ = pending.await;
                                Err("invalid_client")
                            },
                            pause,
                        )
                        .await;
                    results.borrow_mut().push(value);
                })
                .unwrap();
        }
        step(&mut pool, 500);
        assert_eq!(flights.in_flight(), 1);
        assert!(
            results.borrow().is_empty(),
            "everyone waits for the one run"
        );
        answer.send(()).unwrap();
        pool.run();
        assert_eq!(runs.get(), 1);
        assert_eq!(results.borrow().len(), 50);
        assert!(
            results.borrow().iter().all(|r| *r == Err("invalid_client")),
            "every waiter gets the leader's error"
        );
        assert_eq!(flights.in_flight(), 0);
    }

    #[test]
    fn different_keys_run_separately_and_later_calls_run_again() {
        let flights: SingleFlight<u8, u8> = SingleFlight::default();
        let pool_result = futures::executor::block_on(async {
            let a = flights.run(1, || async { 10 }, pause).await;
            let b = flights.run(2, || async { 20 }, pause).await;
            let c = flights.run(1, || async { 11 }, pause).await;
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
                    .run(
                        "k",
                        || async move {
                            let _ = never.await;
                            1
                        },
                        pause,
                    )
                    .await
            }
        };
        let mut leader = Box::pin(leader);
        let waker = futures::task::noop_waker();
        assert!(leader
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
        let follower_result = Rc::new(Cell::new(0));
        {
            let (flights, out) = (Rc::clone(&flights), Rc::clone(&follower_result));
            pool.spawner()
                .spawn_local(async move { out.set(flights.run("k", || async { 2 }, pause).await) })
                .unwrap();
        }
        step(&mut pool, 100);
        assert_eq!(
            follower_result.get(),
            0,
            "the follower waits for the leader"
        );
        drop(leader);
        pool.run();
        assert_eq!(follower_result.get(), 2, "the follower took over");
    }
}
