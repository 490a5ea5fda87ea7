//! Helpers for the worker threads' request channels.

use std::sync::mpsc::{Receiver, TryRecvError};

/// Latest request wins: given a request just received, drains everything queued behind it and
/// returns the newest one (None when the sender is gone), so that a worker never does stale work.
pub fn newest<T>(rx: &Receiver<T>, mut latest: T) -> Option<T> {
    loop {
        match rx.try_recv() {
            Ok(newer) => latest = newer,
            Err(TryRecvError::Empty) => return Some(latest),
            Err(TryRecvError::Disconnected) => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_the_newest() {
        let (tx, rx) = std::sync::mpsc::channel();
        for i in 1..5 {
            tx.send(i).unwrap();
        }
        let first = rx.recv().unwrap();
        assert_eq!(super::newest(&rx, first), Some(4));
        drop(tx);
        assert_eq!(super::newest(&rx, 7), None);
    }
}
