//! A request to stop, shared between whoever asks (a signal handler, a test)
//! and whoever waits (a reader blocked on a stream that stalled, or on a FIFO
//! that has no writer yet).
//!
//! Blocking waits in this crate wake every [`POLL`] to look at it, so a
//! cancelled run ends within about that long wherever it waits. A thread
//! blocked inside the kernel itself (an `open(2)` of a FIFO nobody writes, a
//! `read(2)` of a stalled pipe) is not woken: the waiter stops waiting for it
//! and lets it go; the process's exit ends it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crossbeam::channel::{Receiver, RecvTimeoutError};

/// How often a blocked wait looks at its [`Cancel`].
pub const POLL: Duration = Duration::from_millis(50);

/// A shared stop flag. Clones share the flag; `Default` is a fresh one that
/// nobody has cancelled.
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn new() -> Self {
        Self::default()
    }

    /// Ask every holder to stop. Only an atomic store: safe to call from a
    /// signal handler.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Why a cancellable receive returned without a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Woken {
    /// The sender is gone and the channel is empty.
    Disconnected,
    /// The [`Cancel`] was set.
    Cancelled,
}

/// `rx.recv()` that gives up once `cancel` is set (checked every [`POLL`]).
pub fn recv<T>(rx: &Receiver<T>, cancel: &Cancel) -> Result<T, Woken> {
    loop {
        if cancel.is_cancelled() {
            return Err(Woken::Cancelled);
        }
        match rx.recv_timeout(POLL) {
            Ok(m) => return Ok(m),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return Err(Woken::Disconnected),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn a_blocked_receive_ends_soon_after_cancel_and_not_before() {
        let (_tx, rx) = crossbeam::channel::bounded::<u32>(1);
        let c = Cancel::new();
        let c2 = c.clone();
        let t0 = Instant::now();
        let h = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            c2.cancel();
        });
        assert_eq!(recv(&rx, &c), Err(Woken::Cancelled));
        let waited = t0.elapsed();
        h.join().unwrap();
        // It waited for the cancel (a sender still exists), and woke within
        // a poll period or two of it.
        assert!(waited >= Duration::from_millis(300), "{waited:?}");
        assert!(waited < Duration::from_millis(300) + 4 * POLL, "{waited:?}");
    }

    #[test]
    fn messages_and_disconnection_come_through() {
        let (tx, rx) = crossbeam::channel::bounded::<u32>(2);
        tx.send(7).unwrap();
        drop(tx);
        let c = Cancel::new();
        assert_eq!(recv(&rx, &c), Ok(7));
        assert_eq!(recv(&rx, &c), Err(Woken::Disconnected));
    }
}
