//! Helpers for end-to-end tests: locating the workspace's binaries and running them, and
//! starting moto (the AWS emulator) for the AWS-backed tests.

pub mod dora_truth;
pub mod hygiene_truth;
pub mod openapi;

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

/// Runs the `sei-jira` CLI as a person would, without the connection variables of the
/// environment the tests run in.
pub fn sei_jira(args: &[&str]) -> std::process::Output {
    Command::new(binary("sei-jira"))
        .args(args)
        .env_remove("JIRA_URL")
        .env_remove("JIRA_EMAIL")
        .env_remove("JIRA_API_TOKEN")
        .output()
        .expect("sei-jira runs")
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
    let mut command = Command::new(binary("jira-sim"));
    command.args(["--addr", "127.0.0.1:0"]).args(flags);
    start_printing_json(command)
}

/// Starts `command`, whose first line of output is JSON (where it listens, and how to call it).
pub fn start_printing_json(mut command: Command) -> Running {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{command:?} starts: {e}"));
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("startup line");
    let startup = serde_json::from_str(&line)
        .unwrap_or_else(|e| panic!("startup line is JSON ({e}): {line:?}"));
    Running { child, startup }
}

/// `sei-jira serve` on a free loopback port over the store at `store`, for account `acme`,
/// allowing loopback Jira sites (the simulator); its first line says where, with which token
/// and the console's one-time link.
pub fn start_serve(store: &std::path::Path) -> Running {
    let mut command = Command::new(binary("sei-jira"));
    command
        .args(["serve", "--addr", "127.0.0.1:0", "--account", "acme"])
        .arg("--store")
        .arg(store)
        .arg("--allow-private-network");
    start_printing_json(command)
}

/// moto's server mode (the AWS emulator) on a free loopback port.
///
/// It runs under a small shell that stops it as soon as its stdin, a pipe from this process,
/// closes: when the handle drops, and also when the test process exits without dropping it (a
/// handle kept in a `static` is never dropped).
pub struct Moto {
    shell: Child,
    endpoint: String,
}

impl Moto {
    /// The endpoint URL to give the AWS SDK, e.g. `http://127.0.0.1:40123`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        drop(self.shell.stdin.take());
        let _ = self.shell.wait();
    }
}

/// Runs Python ($0) on the server code ($3) with port $1, logging to $2, until stdin closes.
const MOTO_SUPERVISOR: &str = r#"
"$0" -c "$3" -H 127.0.0.1 -p "$1" >"$2" 2>&1 &
server=$!
read -r _ || true
kill "$server" 2>/dev/null
wait "$server" 2>/dev/null
exit 0
"#;

/// `moto_server`, handling one request at a time (why: the script's own comment).
const SERIAL_MOTO_SERVER: &str = include_str!("../infra/scripts/serial_moto_server.py");

/// How long moto may take to answer after it is spawned (Python imports take a few seconds).
const MOTO_STARTUP: std::time::Duration = std::time::Duration::from_secs(60);

/// Starts moto's server (the `moto_server` command of the repository's `.venv`, or of the
/// virtualenv `MOTO_SERVER_BIN` points into) and waits until it answers HTTP. Panics, failing
/// the test, when moto is missing or does not come up: the AWS tests never skip and never fall
/// back to anything else.
pub fn start_moto() -> Moto {
    require_imds_disabled();
    let python = moto_python();
    let port = free_loopback_port();
    let log = std::env::temp_dir().join(format!("moto-{}-{port}.log", std::process::id()));
    let mut shell = Command::new("sh")
        .arg("-c")
        .arg(MOTO_SUPERVISOR)
        .arg(&python)
        .arg(port.to_string())
        .arg(&log)
        .arg(SERIAL_MOTO_SERVER)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("sh starts (to supervise moto)");
    let endpoint = format!("http://127.0.0.1:{port}");
    let deadline = std::time::Instant::now() + MOTO_STARTUP;
    while !answers_http(port) {
        let exited = shell.try_wait().ok().flatten().is_some();
        if exited || std::time::Instant::now() > deadline {
            drop(shell.stdin.take());
            let _ = shell.wait();
            let output = std::fs::read_to_string(&log).unwrap_or_default();
            panic!(
                "moto ({}) did not answer on {endpoint}; its output:\n{output}",
                python.display()
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Moto { shell, endpoint }
}

/// The AWS SDK must never look for instance metadata (169.254.169.254) in tests. Cargo sets this
/// for every test run (`.cargo/config.toml`), as does `infra/scripts/test-all.sh`.
fn require_imds_disabled() {
    let value = std::env::var("AWS_EC2_METADATA_DISABLED").unwrap_or_default();
    assert_eq!(
        value, "true",
        "AWS_EC2_METADATA_DISABLED must be `true` for the AWS tests (run them through cargo, \
         which sets it from .cargo/config.toml)"
    );
}

/// The Python that `moto_server` runs under: the one beside it in its virtualenv.
fn moto_python() -> PathBuf {
    let bin = std::env::var_os("MOTO_SERVER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv/bin/moto_server"));
    let python = bin.with_file_name("python");
    assert!(
        bin.is_file() && python.is_file(),
        "moto_server not found at {} (with python beside it): run `bash infra/scripts/test-all.sh` \
         once, or `.venv/bin/pip install -r tests/requirements-aws.txt` (or set MOTO_SERVER_BIN \
         to the moto_server of another virtualenv)",
        bin.display()
    );
    python
}

/// The repository root: the parent of this crate's directory (`tests/`).
pub fn repo_root() -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the e2e crate lives one level below the repository root")
        .to_path_buf()
}

fn free_loopback_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// Whether something on the port answers an HTTP request with an HTTP status line.
fn answers_http(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let timeout = Some(std::time::Duration::from_secs(5));
    let _ = stream.set_read_timeout(timeout);
    let mut status = [0u8; 5];
    stream
        .write_all(b"GET /moto-api/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .and_then(|()| stream.read_exact(&mut status))
        .is_ok_and(|()| &status == b"HTTP/")
}

/// Fails, listing each, when rows of a catalogue (`total` in all) went otherwise than they say.
pub fn assert_no_wrong_rows(wrong: &[String], total: usize) {
    assert!(
        wrong.is_empty(),
        "{} of {total} rows:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// A CLI run's JSON answer, once it is known to have succeeded.
pub fn ok_json(out: std::process::Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `sei-jira sync` of every project of the site at `base` into the store file `store`, as
/// `email` with `token`; its JSON answer.
pub fn cli_sync(store: &str, base: &str, email: &str, token: &str) -> serde_json::Value {
    ok_json(sei_jira(&[
        "sync",
        "--store",
        store,
        "--json",
        "--url",
        base,
        "--email",
        email,
        "--token",
        token,
        "--allow-private-network",
    ]))
}

/// Changes how the simulator at `base` behaves (its `/_sim/control` settings).
pub async fn sim_control(base: &str, settings: serde_json::Value) {
    let answer = reqwest::Client::new()
        .put(format!("{base}/_sim/control"))
        .json(&settings)
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success(), "{settings}");
}
