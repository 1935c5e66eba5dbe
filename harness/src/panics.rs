//! Turning a panicking variant into a failure with a message, instead of a crashed harness.
//!
//! A learner's exercise may index past a buffer; the harness reports that like a wrong result
//! (`FAILED`, with the panic's message and place) and goes on with the other variants. The hook
//! is installed on first use and records the message only while [`capturing`] runs (one capture at
//! a time in the process); at any other time it hands over to the default hook, so a bug in the
//! harness itself is never silent.

use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, Once};

/// How many [`capturing`] calls are running: while above zero, panics on any thread (a rayon
/// worker running a band of a parallel variant, say) are recorded instead of printed.
static CAPTURING: AtomicUsize = AtomicUsize::new(0);
/// The first panic message recorded while capturing.
static MESSAGE: Mutex<Option<String>> = Mutex::new(None);
/// Held by the outermost [`capturing`] call, so that two threads never capture at once (their
/// messages would mix); nested calls on the same thread do not take it again.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

thread_local! {
    /// How deep this thread is in nested [`capturing`] calls.
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

fn install_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let default_hook = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if CAPTURING.load(Ordering::SeqCst) == 0 {
                return default_hook(info);
            }
            let message = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(no message)".into());
            let place = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
            MESSAGE.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert(format!("panicked{place}: {message}"));
        }));
    });
}

/// Runs `f`; a panic inside it (on this thread or on a worker it waits for) becomes `Err` with
/// the panic's message and place.
pub fn capturing<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    install_hook();
    let outermost = DEPTH.get() == 0;
    let _turn: Option<MutexGuard<()>> = outermost.then(|| ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner()));
    DEPTH.set(DEPTH.get() + 1);
    CAPTURING.fetch_add(1, Ordering::SeqCst);
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    CAPTURING.fetch_sub(1, Ordering::SeqCst);
    DEPTH.set(DEPTH.get() - 1);
    let message = MESSAGE.lock().unwrap_or_else(|e| e.into_inner()).take();
    result.map_err(|_| message.unwrap_or_else(|| "panicked (no message)".into()))
}

#[cfg(test)]
mod tests {
    use super::capturing;

    #[test]
    fn a_panic_becomes_its_message_and_place() {
        let data = [1, 2, 3];
        let index = std::hint::black_box(7);
        let error = capturing(|| data[index]).unwrap_err();
        assert!(error.contains("index out of bounds: the len is 3 but the index is 7"), "{error}");
        assert!(error.contains("panics.rs:"), "the place is named: {error}");
    }

    #[test]
    fn a_panic_on_a_worker_thread_keeps_its_message() {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        let error = capturing(|| pool.install(|| rayon::join(|| (), || panic!("band 3 is wrong")))).unwrap_err();
        assert!(error.contains("band 3 is wrong"), "{error}");
    }

    #[test]
    fn no_panic_is_ok_and_capture_ends_with_the_call() {
        assert_eq!(capturing(|| 41 + 1), Ok(42));
        assert_eq!(capturing(|| capturing(|| panic!("inner")).unwrap_err().contains("inner")), Ok(true));
    }
}
