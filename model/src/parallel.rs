//! The costly reading of one message's changes (Automerge's parse and the
//! checks after it), spread over the machine's cores and answered in order.
//! The server reads a push message this way, the phone a pull message.

/// Fewest items each thread starts on: fewer are read on the caller's thread
/// alone, as starting a thread would cost more than it saves.
pub const ITEMS_PER_THREAD: usize = 64;

/// Most threads one message is read on.
pub const MAX_THREADS: usize = 4;

/// `f` of each of `items`, in their order, worked out on as many threads as
/// the machine has cores (up to [`MAX_THREADS`], each with at least
/// [`ITEMS_PER_THREAD`] items; the first part on the caller's thread). A
/// panic in `f` is raised again on the caller's thread.
pub fn map_in_order<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    map_in_order_by(items, ITEMS_PER_THREAD, f)
}

/// The machine's cores, as the process found them first: asking again
/// reads the control group's files each time, for every message.
pub fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, usize::from))
}

/// [`map_in_order`] of items each costing more: each thread starts on at
/// least `per_thread` of them.
pub fn map_in_order_by<T: Send, R: Send>(
    items: Vec<T>,
    per_thread: usize,
    f: impl Fn(T) -> R + Sync,
) -> Vec<R> {
    map_in_order_on(items, per_thread, cores(), f)
}

/// [`map_in_order_by`] on at most `threads` threads (the caller's among
/// them): where other work of the process keeps a core busy meanwhile.
pub fn map_in_order_on<T: Send, R: Send>(
    items: Vec<T>,
    per_thread: usize,
    threads: usize,
    f: impl Fn(T) -> R + Sync,
) -> Vec<R> {
    let threads = threads
        .min(MAX_THREADS)
        .min(items.len() / per_thread.max(1))
        .max(1);
    if threads < 2 {
        return items.into_iter().map(f).collect();
    }
    let per_thread = items.len().div_ceil(threads);
    let mut parts = Vec::with_capacity(threads);
    let mut rest = items;
    while !rest.is_empty() {
        let tail = rest.split_off(per_thread.min(rest.len()));
        parts.push(std::mem::replace(&mut rest, tail));
    }
    let mut parts = parts.into_iter();
    let first = parts.next().unwrap_or_default();
    let f = &f;
    std::thread::scope(|s| {
        let others: Vec<_> = parts
            .map(|part| s.spawn(move || part.into_iter().map(f).collect::<Vec<_>>()))
            .collect();
        let mut done: Vec<R> = first.into_iter().map(f).collect();
        for t in others {
            done.extend(t.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
        }
        done
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_answered_in_their_order_whatever_the_threads() {
        for n in [
            0,
            1,
            ITEMS_PER_THREAD * 2 - 1,
            ITEMS_PER_THREAD * 2,
            ITEMS_PER_THREAD * MAX_THREADS + 3,
            5000,
        ] {
            let items: Vec<usize> = (0..n).collect();
            let got = map_in_order(items, |i| (i, std::thread::current().id()));
            assert_eq!(
                got.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
                (0..n).collect::<Vec<_>>(),
                "{n} items"
            );
        }
    }

    #[test]
    fn a_large_message_is_read_on_more_than_one_thread() {
        if std::thread::available_parallelism().map_or(1, usize::from) < 2 {
            return;
        }
        let items: Vec<usize> = (0..ITEMS_PER_THREAD * MAX_THREADS).collect();
        let got = map_in_order(items, |_| std::thread::current().id());
        let mut threads = got.clone();
        threads.dedup();
        assert!(threads.len() >= 2, "one thread read {} items", got.len());
        assert_eq!(got[0], std::thread::current().id());
    }
}
