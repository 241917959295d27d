//! Helpers for end-to-end tests: locating the workspace's binaries and running them.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// A workspace binary next to the running test executable (`target/<profile>/<name>`).
/// Build it first: `cargo build --workspace` (the test script does).
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps");
    let path = profile_dir.join(name);
    assert!(
        path.exists(),
        "{} not built: run `cargo build --workspace` first",
        path.display()
    );
    path
}

/// A child process that is killed when dropped.
pub struct Running {
    pub child: Child,
    /// The first line it printed, parsed as JSON.
    pub startup: serde_json::Value,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `jira-sim` on a free loopback port with extra flags and reads its startup line.
pub fn start_sim(flags: &[&str]) -> Running {
    let mut child = Command::new(binary("jira-sim"))
        .args(["--addr", "127.0.0.1:0"])
        .args(flags)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("jira-sim starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("startup line");
    let startup = serde_json::from_str(&line)
        .unwrap_or_else(|e| panic!("startup line is JSON ({e}): {line:?}"));
    Running { child, startup }
}
