#!/usr/bin/env bash
# On demand (not in CI): streams a generated 1 GiB CSV through the release-built CSV transformer (re-delimiting,
# latin-1 decoding, a date column, decimal/thousands) and fails if peak resident memory exceeds the limit: memory must
# stay flat whatever the input size. Usage: scripts/csv-memory.sh [MiB=1024] [limit-MiB=64]. Budget: ~2 min.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || export PATH="/opt/swift/usr/bin:$PATH"
swift build -c release --product web2ftp-csvmemcheck
.build/release/web2ftp-csvmemcheck "${1:-1024}" "${2:-64}"
