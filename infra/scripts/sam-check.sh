#!/usr/bin/env bash
# Checks the SAM template offline, and on request builds the Lambda functions.
#
#   bash infra/scripts/sam-check.sh            # venv + sam validate --lint + OpenAPI check
#   bash infra/scripts/sam-check.sh --build    # ... then sam build (arm64, cargo-lambda + zig), timed
#                                              # (without LTO unless SAM_BUILD_LTO=1; see below)
#   bash infra/scripts/sam-check.sh --tools-only  # only the venv (the rehearsal's cargo-lambda)
#
# Creates or updates .venv-sam from infra/requirements-sam.txt (aws-sam-cli, cargo-lambda, ziglang,
# openapi-spec-validator). Nothing here talks to AWS: the environment below has fake credentials,
# a fixed region, no instance-metadata probing and no SAM telemetry, and `sam validate` runs only
# with --lint (cfn-lint, offline; plain `sam validate` would call IAM). The validate step also runs
# with a dead proxy, so anything that tried the network anyway would fail at once.
# `sam build` needs crates.io (cargo) and the rustup target aarch64-unknown-linux-gnu.
set -euo pipefail
cd "$(dirname "$0")/../.."

build=0 tools_only=0
for arg in "$@"; do
    case "$arg" in
        --build) build=1 ;;
        --tools-only) tools_only=1 ;;
        -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $arg (use --build, --tools-only or --help)" >&2; exit 2 ;;
    esac
done

step() { printf '\n==> %s\n' "$*"; }

venv=.venv-sam
req=infra/requirements-sam.txt
stamp="$venv/.requirements.sha256"

step "SAM tooling (.venv-sam from $req)"
if [ ! -x "$venv/bin/python" ]; then
    python="${PYTHON:-python3}"
    if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
        echo "aws-sam-cli needs Python >= 3.10; set PYTHON=/path/to/python3.x" >&2
        exit 1
    fi
    "$python" -m venv "$venv"
fi
if ! sha256sum --check --status "$stamp" 2>/dev/null; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
    sha256sum "$req" > "$stamp"
fi
"$venv/bin/sam" --version
# `cargo-lambda --version` alone is refused: the binary is a cargo subcommand and expects "lambda" first.
"$venv/bin/cargo-lambda" lambda --version
echo "zig $("$venv/bin/python" -m ziglang version)"
[ "$tools_only" = 1 ] && exit 0

# Offline AWS environment for every sam/aws tool run below.
export AWS_EC2_METADATA_DISABLED=true
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
unset AWS_SESSION_TOKEN AWS_PROFILE
export SAM_CLI_TELEMETRY=0

step "sam validate --lint (template.yaml)"
HTTPS_PROXY=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 NO_PROXY= \
    "$venv/bin/sam" validate --lint --template-file template.yaml

step "cfn-lint infra/network.yaml (the optional network stack)"
"$venv/bin/cfn-lint" infra/network.yaml

step "OpenAPI 3.0 document (docs/openapi.yaml)"
"$venv/bin/openapi-spec-validator" docs/openapi.yaml

if [ "$build" = 1 ]; then
    step "rustup target aarch64-unknown-linux-gnu"
    if rustup target list --installed | grep -qx aarch64-unknown-linux-gnu; then
        echo "already installed"
    elif ! rustup target add aarch64-unknown-linux-gnu; then
        echo "could not add the rustup target aarch64-unknown-linux-gnu (it downloads from" >&2
        echo "the Rust distribution server); sam build for arm64 cannot run without it" >&2
        exit 1
    fi

    step "sam build (rust-cargolambda, arm64)"
    # The venv's bin first: sam finds cargo-lambda there, and cargo-lambda finds zig as
    # `python3 -m ziglang` with the venv's python3.
    export PATH="$PWD/$venv/bin:$PATH"
    # This checks that every function builds for arm64 on provided.al2023; link-time
    # optimisation changes no code path, only how long the build takes: measured cold on the
    # 2-core machine, 458 s without it against about 740 s with the release profile's thin LTO
    # (every function's link runs it again), and binaries no larger. SAM_BUILD_LTO=1 builds
    # exactly as a deployment's `sam build` does.
    [ "${SAM_BUILD_LTO:-0}" = 1 ] || export CARGO_PROFILE_RELEASE_LTO=false
    started=$(date +%s)
    sam build --template-file template.yaml
    echo "sam build took $(( $(date +%s) - started )) s"

    step "built artifacts: one arm64 bootstrap a function"
    # The ELF header's e_machine (bytes 18-19, little-endian) is 183 for AArch64.
    "$venv/bin/python" - <<'PY'
import pathlib, re, sys
functions = re.findall(r"^  (\w+Function):\n    Type: AWS::Serverless::Function", open("template.yaml").read(), re.M)
if not functions:
    sys.exit("no AWS::Serverless::Function found in template.yaml")
for name in functions:
    bootstrap = pathlib.Path(".aws-sam/build") / name / "bootstrap"
    if not bootstrap.is_file():
        sys.exit(f"{bootstrap} is missing")
    head = bootstrap.read_bytes()[:20]
    if head[:4] != b"\x7fELF" or int.from_bytes(head[18:20], "little") != 183:
        sys.exit(f"{bootstrap} is not an AArch64 ELF executable")
    print(f"{bootstrap}: AArch64 ELF, {bootstrap.stat().st_size / 2**20:.1f} MiB")
PY
fi

step "SAM checks passed"
