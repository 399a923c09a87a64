#!/usr/bin/env bash
# Runs every test: unit and integration tests on this kernel, then the integration tests inside
# the lab kernels (Debian 6.1 and 6.12 under QEMU) unless WHYFAIL_SKIP_LAB=1.
# Needs root (whyfail loads BPF programs). Ends with one line: "tests: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

config=${CONFIGURATION:-Release}
passed=0 failed=0 skipped=0 status=0

# tracefs: whyfail itself only needs BTF tracepoints, but doctor and the lab read it.
mountpoint -q /sys/kernel/tracing 2>/dev/null || mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || true
# securityfs: the active LSM list (/sys/kernel/security/lsm) that the Landlock and LSM tests check; a fresh
# machine may not have it mounted.
mountpoint -q /sys/kernel/security 2>/dev/null || mount -t securityfs securityfs /sys/kernel/security 2>/dev/null || true

count() { # adds the counts of a "dotnet test" log (normal verbosity summary block) to the totals
  local n
  n=$(grep -E '^\s+Passed: +[0-9]+' "$1" | tail -n 1 | grep -oE '[0-9]+'); passed=$((passed + ${n:-0}))
  n=$(grep -E '^\s+Failed: +[0-9]+' "$1" | tail -n 1 | grep -oE '[0-9]+'); failed=$((failed + ${n:-0}))
  n=$(grep -E '^\s+Skipped: +[0-9]+' "$1" | tail -n 1 | grep -oE '[0-9]+'); skipped=$((skipped + ${n:-0}))
}

# What of a test log is shown: failures with their messages, and the summary.
show='^\s+Failed [A-Z]|Error Message|^\s+(Assert|Expected|Actual)|Test Run (Successful|Failed)|Total tests|^\s+(Passed|Failed|Skipped): |^lab:'

log=$(mktemp)
trap 'rm -f "$log"' EXIT

./build.sh >/dev/null || { echo "build failed"; ./build.sh; exit 1; }

# Integration tests run the product itself, the native binary.
export WHYFAIL_BIN=$PWD/out/whyfail

echo "== host ($(uname -r))"
dotnet test tests/Whyfail.Tests/Whyfail.Tests.csproj -c "$config" --no-build --filter "kernel!=lab" --logger "console;verbosity=normal" >"$log" 2>&1
grep -E -A4 "$show" "$log" | grep -vE '^\s+Passed [A-Z]' || true
grep -q 'Test Run Successful' "$log" || status=1
count "$log"

if [[ "${WHYFAIL_SKIP_LAB:-0}" != 1 && -x tests/vm/run-tests ]]; then
  # The source-line tests read the lab kernels' -dbg vmlinux and source files: fetched once into the lab cache.
  tests/vm/fetch-debuginfo 6.1 6.12 || echo "lab: fetch-debuginfo failed: the source-line tests will fail"
  # Both lab kernels at once: each guest is one emulated CPU thread (TCG), so two use both cores.
  declare -A labs
  for k in 6.1 6.12; do
    labs[$k]=$(mktemp)
    tests/vm/run-tests --kernel "$k" -c "$config" >"${labs[$k]}" 2>&1 &
  done
  wait
  for k in 6.1 6.12; do
    echo "== lab kernel $k"
    grep -E -A4 "$show" "${labs[$k]}" | grep -vE '^\s+Passed [A-Z]' || true
    grep -q 'Test Run Successful' "${labs[$k]}" || status=1
    count "${labs[$k]}"
    rm -f "${labs[$k]}"
  done
fi

echo "tests: $passed passed, $failed failed, $skipped skipped"
[[ $failed -eq 0 ]] || status=1
exit $status
