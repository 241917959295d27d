#!/usr/bin/env bash
# Runs every check and test in the repository: formatting, lints, the Rust tests (unit, simulator
# HTTP, end-to-end) and the Python fidelity tests (OpenAPI schemas, the pycontribs `jira` client)
# against the Jira simulator, the deployment rehearsal (infra/scripts/rehearse.sh: the template
# deployed on moto, the function binaries run under a Lambda runtime emulator and driven as the
# platform drives them), then the SAM checks: `sam validate --lint` and `sam build`.
# Installs what it needs itself: Python packages go into .venv and .venv-sam, the arm64 Rust target
# through rustup, Debian's chromium and chromium-driver (the browser tests) through apt. The tests talk to
# 127.0.0.1 only; installs reach the package registries.
set -euo pipefail
cd "$(dirname "$0")/../.."

# No test talks to AWS (the AWS-backed tests run against moto on 127.0.0.1); the SDK must never
# probe instance metadata.
export AWS_EC2_METADATA_DISABLED=true
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# CI builds once from scratch: incremental caches would only take disk and time.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

# Each step's wall time, printed at the end (also when a step fails).
started=$SECONDS
step_name="" step_started=$SECONDS
times=()
end_step() {
    [ -n "$step_name" ] && times+=("$(printf '%6d s  %s' $((SECONDS - step_started)) "$step_name")")
    step_name=""
}
step() {
    end_step
    step_name="$*" step_started=$SECONDS
    printf '\n==> %s\n' "$*"
}
print_times() {
    end_step
    printf '\nStep times:\n'
    printf '%s\n' "${times[@]}"
    printf '%6d s  total\n' $((SECONDS - started))
    # Disk is finite on CI machines: what the build took, and what is left.
    [ -d target ] && du -sh target .aws-sam 2>/dev/null || true
    df -h . | tail -n 1
}
trap print_times EXIT

step "Python test environment (.venv: fidelity tests, moto for the DynamoDB store tests)"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check \
    -r tests/fidelity/requirements.txt -r tests/requirements-aws.txt

step "Chromium and chromium-driver (Debian's packages) for the browser tests (report page, console)"
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends chromium chromium-driver
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo build (workspace, all targets)"
cargo build --workspace --all-targets --locked

step "Rust tests"
cargo test --workspace --locked

step "The repository stands alone: nothing reads a path outside it"
# The guard: no code or script of the repository names the team kit beside the checkout.
if git grep -n -I -E '\.\./shared/(reference|hooks|README)|parents\[[0-9]\] */ *"shared"' -- '*.rs' '*.py' '*.sh' '*.toml' '.ci/*' ':!infra/scripts/test-all.sh'; then
    echo "error: the lines above read outside the repository; keep what tests need inside it" >&2
    exit 1
fi
# The proof: the fidelity tests (the only tests that read data files of their own) run from a
# copy of the repository in an empty directory, with nothing beside it.
standalone="$(bash infra/scripts/standalone-copy.sh)"

step "Python fidelity tests against jira-sim (from the standalone copy)"
(cd "$standalone" && JIRA_SIM_BIN="$OLDPWD/target/debug/jira-sim" "$OLDPWD/.venv/bin/pytest" tests/fidelity -q -p no:cacheprovider)
rm -rf "$(dirname "$standalone")"

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "Deployment rehearsal: template.yaml on moto, the function binaries under cargo-lambda's runtime emulator"
bash infra/scripts/rehearse.sh

# Last, being the slowest (about 13 min cold on 2 cores, release builds for arm64 with zig):
# SAM_BUILD=0 skips `sam build` for a quicker local run; CI always runs it.
if [ "${SAM_BUILD:-1}" = 0 ]; then
    step "SAM template: sam validate --lint, OpenAPI document (offline; .venv-sam); sam build skipped (SAM_BUILD=0)"
    bash infra/scripts/sam-check.sh
else
    step "SAM template: sam validate --lint, OpenAPI document (offline; .venv-sam), sam build (arm64)"
    bash infra/scripts/sam-check.sh --build
fi

end_step
printf '\n==> all checks passed in %d s\n' $((SECONDS - started))
