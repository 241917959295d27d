#!/usr/bin/env bash
# Runs every check and test in the repository: formatting, lints, the Rust tests (unit, simulator
# HTTP, end-to-end) and the Python fidelity tests (OpenAPI schemas, the pycontribs `jira` client)
# against the Jira simulator. Installs what it needs itself: Python packages go into .venv.
# Everything talks to 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/../.."

# No test talks to AWS (the AWS-backed tests run against moto on 127.0.0.1); the SDK must never
# probe instance metadata.
export AWS_EC2_METADATA_DISABLED=true
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

step() { printf '\n==> %s\n' "$*"; }
started=$SECONDS

step "Python test environment (.venv: fidelity tests, moto for the DynamoDB store tests)"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check \
    -r tests/fidelity/requirements.txt -r tests/requirements-aws.txt

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo build (workspace, all targets)"
cargo build --workspace --all-targets --locked

step "Rust tests"
cargo test --workspace --locked

step "Python fidelity tests against jira-sim"
JIRA_SIM_BIN="$PWD/target/debug/jira-sim" .venv/bin/pytest tests/fidelity -q

step "SAM template: sam validate --lint, OpenAPI document valid (offline; .venv-sam)"
bash infra/scripts/sam-check.sh

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "all checks passed in $((SECONDS - started)) s"
