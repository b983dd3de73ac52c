#!/usr/bin/env bash
# On demand (not in CI): the whole test suite under a sanitizer, in a build directory of its own.
#   scripts/sanitize.sh address   AddressSanitizer (use after free, overflows of our raw buffers, leaks in C code)
#   scripts/sanitize.sh thread    ThreadSanitizer (the cross-thread paths: the resolver's worker threads, the loop's
#                                 task queue and wake-ups, EventLoopThread start/stop)
# Extra arguments go to `swift test` (e.g. --filter ReactorTests). Budget: ~6 min each on 2 cores (build ~4 min).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || export PATH="/opt/swift/usr/bin:$PATH"
kind="${1:-}"
case "$kind" in
  address|thread) shift ;;
  *) echo "usage: scripts/sanitize.sh address|thread [swift test arguments…]" >&2; exit 2 ;;
esac

scripts/install-deps.sh
source scripts/lib/servers.sh
ensure_test_servers
scratch=".build-$kind"
swift build --build-tests --sanitize="$kind" --scratch-path "$scratch"
# Reports go to stderr and make the process exit non-zero; Swift's own crash reporter would garble them.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=0:halt_on_error=1}"
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}"
swift test --skip-build --disable-xctest --sanitize="$kind" --scratch-path "$scratch" "$@"
