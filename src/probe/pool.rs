//! Running blocking probes side by side, with a bound on the number of
//! threads and on the time the caller waits.

use std::collections::VecDeque;
use std::sync::{mpsc, Arc, Mutex, PoisonError};
use std::time::Instant;

/// Runs `job` on every item, on at most `workers` threads, and returns each
/// item's result in item order — `None` for those that had not finished by
/// `deadline`.
///
/// Threads still busy at the deadline are left behind (a name lookup cannot
/// be cancelled); they exit when their job returns, without starting another.
pub fn run_all<T, R, F>(items: Vec<T>, workers: usize, deadline: Instant, job: F) -> Vec<Option<R>>
where
    T: Send + 'static,
    R: Send + 'static,
    F: Fn(T) -> R + Send + Sync + 'static,
{
    let count = items.len();
    let mut results: Vec<Option<R>> = (0..count).map(|_| None).collect();
    if count == 0 {
        return results;
    }
    let queue = Arc::new(Mutex::new(
        items.into_iter().enumerate().collect::<VecDeque<_>>(),
    ));
    let job = Arc::new(job);
    let (sender, receiver) = mpsc::channel();
    for _ in 0..workers.clamp(1, count) {
        let (queue, job, sender) = (Arc::clone(&queue), Arc::clone(&job), sender.clone());
        let spawned = std::thread::Builder::new()
            .name("gluonvpn-probe".into())
            .spawn(move || loop {
                if Instant::now() >= deadline {
                    break;
                }
                let next = queue
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .pop_front();
                let Some((index, item)) = next else {
                    break;
                };
                if sender.send((index, job(item))).is_err() {
                    break;
                }
            });
        if spawned.is_err() {
            // Fewer threads than asked for; the ones running share the work.
            break;
        }
    }
    drop(sender);
    let mut done = 0;
    while done < count {
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            break;
        };
        match receiver.recv_timeout(left) {
            Ok((index, result)) => {
                results[index] = Some(result);
                done += 1;
            }
            // Out of time, or every worker has stopped.
            Err(_) => break,
        }
    }
    queue.lock().unwrap_or_else(PoisonError::into_inner).clear();
    results
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn results_come_back_in_item_order() {
        let deadline = Instant::now() + Duration::from_secs(10);
        let results = run_all((0..20u64).collect(), 4, deadline, |n| {
            std::thread::sleep(Duration::from_millis(20 - n));
            n * 2
        });
        let expected: Vec<Option<u64>> = (0..20).map(|n| Some(n * 2)).collect();
        assert_eq!(results, expected);
    }

    #[test]
    fn jobs_run_side_by_side() {
        let started = Instant::now();
        let deadline = started + Duration::from_secs(10);
        let results = run_all((0..8).collect(), 8, deadline, |n: u32| {
            std::thread::sleep(Duration::from_millis(300));
            n
        });
        assert!(results.iter().all(Option::is_some));
        assert!(
            started.elapsed() < Duration::from_millis(1500),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn the_deadline_bounds_the_wait() {
        let started = Instant::now();
        let deadline = started + Duration::from_millis(200);
        let results = run_all(vec![10u64, 3000, 3000], 2, deadline, |ms| {
            std::thread::sleep(Duration::from_millis(ms));
            ms
        });
        assert_eq!(results, vec![Some(10), None, None]);
        assert!(started.elapsed() < Duration::from_millis(1000));
    }

    #[test]
    fn no_items_no_threads() {
        let results: Vec<Option<u8>> = run_all(Vec::<u8>::new(), 4, Instant::now(), |n| n);
        assert!(results.is_empty());
    }
}
