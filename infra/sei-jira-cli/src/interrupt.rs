//! Ctrl-C (SIGINT) and SIGTERM during a local sync: the first stops the sync as its deadline
//! would — the requests in flight are answered and stored, nothing new is asked for, the leases
//! are given back — so that the next run resumes where this one stopped; a second ends the
//! process at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::signal::unix::{SignalKind, signal};

/// The exit code of a command stopped by a signal, as shells report one (128 + SIGINT).
pub const EXIT_CODE: i32 = 130;

/// Set once the process is asked to stop; watched from the moment it is made.
pub fn stop_flag() -> std::io::Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let flag = stop.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
            if flag.swap(true, Ordering::Relaxed) {
                eprintln!("\nStopped at once: the next run resumes from the last stored batch.");
                std::process::exit(EXIT_CODE);
            }
            eprintln!(
                "\nStopping: storing the issues already on their way (Ctrl-C again to quit at once)…"
            );
        }
    });
    Ok(stop)
}
