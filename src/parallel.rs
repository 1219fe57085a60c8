//! Independent work for a few releases, on two threads.
//!
//! A check against every release loads and checks each release on its own
//! once the files are read; the machines communities run this on have two
//! cores or more. The oldest and the newest release go to one thread, the
//! two in between to the other: older releases select packages per target,
//! newer ones evaluate image-customization.lua per device, so the halves
//! take about as long.

/// Runs `work` on each item, half of them on a second thread (with a stack
/// of `stack_size` bytes), and returns the results in the items' order.
/// Each thread has its own state: `here` on this thread, and on the other
/// one what `there` makes there (a state need not be [`Send`], e.g. a Lua
/// interpreter). With fewer than two items everything runs here.
pub fn on_two_threads<T, S, R>(
    items: Vec<T>,
    stack_size: usize,
    here: &mut S,
    there: impl FnOnce() -> S + Send,
    work: impl Fn(&mut S, T) -> R + Sync,
) -> Vec<R>
where
    T: Send,
    R: Send,
{
    let count = items.len();
    if count < 2 {
        return items.into_iter().map(|item| work(here, item)).collect();
    }
    let mut mine = Vec::new();
    let mut theirs = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        if on_this_thread(index, count) {
            mine.push((index, item));
        } else {
            theirs.push((index, item));
        }
    }
    let work = &work;
    // Kept outside the second thread's closure, so that they are still here
    // when no thread can be started.
    let theirs = std::sync::Mutex::new(theirs);
    let take = |cell: &std::sync::Mutex<Vec<(usize, T)>>| {
        std::mem::take(&mut *cell.lock().unwrap_or_else(|e| e.into_inner()))
    };
    let mut done: Vec<(usize, R)> = std::thread::scope(|scope| {
        let theirs = &theirs;
        let spawned = std::thread::Builder::new()
            .name("gluonvpn-release".into())
            .stack_size(stack_size)
            .spawn_scoped(scope, move || {
                let mut state = there();
                take(theirs)
                    .into_iter()
                    .map(|(index, item)| (index, work(&mut state, item)))
                    .collect::<Vec<_>>()
            });
        let mut done: Vec<(usize, R)> = mine
            .into_iter()
            .map(|(index, item)| (index, work(here, item)))
            .collect();
        match spawned {
            Ok(handle) => done.extend(
                handle
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p)),
            ),
            // No second thread to be had: the rest here too.
            Err(_) => done.extend(
                take(theirs)
                    .into_iter()
                    .map(|(index, item)| (index, work(here, item))),
            ),
        }
        done
    });
    done.sort_by_key(|(index, _)| *index);
    done.into_iter().map(|(_, result)| result).collect()
}

/// Whether item `index` of `count` stays on the calling thread: the first
/// and last, the third and third-to-last, … (for two items, the first).
fn on_this_thread(index: usize, count: usize) -> bool {
    if count == 2 {
        return index == 0;
    }
    index.min(count - 1 - index) % 2 == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_halves_pair_old_with_new() {
        let here: Vec<usize> = (0..4).filter(|&i| on_this_thread(i, 4)).collect();
        assert_eq!(here, [0, 3]);
        let here: Vec<usize> = (0..2).filter(|&i| on_this_thread(i, 2)).collect();
        assert_eq!(here, [0]);
        let here: Vec<usize> = (0..3).filter(|&i| on_this_thread(i, 3)).collect();
        assert_eq!(here, [0, 2]);
    }

    #[test]
    fn results_come_in_order_with_each_threads_state() {
        let this = std::thread::current().id();
        let mut calls_here = 0;
        let results = on_two_threads(
            (0..4).collect(),
            1 << 20,
            &mut calls_here,
            || 100,
            |state: &mut i32, item: i32| {
                *state += 1;
                (item, std::thread::current().id() == this)
            },
        );
        assert_eq!(results, [(0, true), (1, false), (2, false), (3, true)],);
        assert_eq!(calls_here, 2);
    }
}
