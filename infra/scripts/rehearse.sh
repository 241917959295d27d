#!/usr/bin/env bash
# The deployment rehearsal (docs/rehearsal.md): template.yaml translated offline by the SAM
# translator and created on moto server; the real function binaries (a host build) run under
# cargo-lambda's Lambda runtime emulator, each with exactly the environment the deployment gives
# it; the platform's flow driven through them; each function's IAM policies checked against the
# AWS actions its code needs. Everything listens on 127.0.0.1; nothing talks to AWS.
#
#   bash infra/scripts/rehearse.sh [--template PATH] [--keep]
#
# Builds the workspace (debug, all targets) if it is not up to date, and sets up .venv (moto and the SAM
# translator, from tests/requirements-aws.txt) and .venv-sam's cargo-lambda if they are missing.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ ! -x .venv/bin/moto_server ] || ! .venv/bin/python -c 'import samtranslator' 2>/dev/null; then
    [ -x .venv/bin/python ] || python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check -r tests/requirements-aws.txt
fi
[ -x .venv-sam/bin/cargo-lambda ] || bash infra/scripts/sam-check.sh --tools-only
# The binaries as the sources stand (nothing to do when the build is up to date). All targets, as
# test-all.sh builds them: without the tests' dev-dependencies cargo resolves other features for
# shared crates (time, url, the AWS SDK) and would build much of the tree a second time.
cargo build --workspace --all-targets --locked --quiet

export AWS_EC2_METADATA_DISABLED=true
exec .venv/bin/python infra/rehearsal/rehearse.py "$@"
