#!/usr/bin/env bash
# On demand (not in CI): web2ftp against curl | curl, curl | lftp, a curl loop, xargs -P 4, mlr and Python's csv on the
# same loopback servers, plus the hot-path micro-benchmarks (MB/s, and instructions per byte under callgrind).
# Budget: ~40 min (the first run also generates ~3.5 GiB of data, ~1 min); `--quick` (2 runs, 200 small files, no
# 2 GiB case) ~8 min. Figures on a shared 2-core VM are noisy: compare the ratios measured in one run.
# usage: scripts/bench.sh [--quick] [--markdown FILE] [--runs N] [--no-micro] [--only-micro] [--only CASE]
# --only CASE runs one group of the comparison, no micro-benchmarks: one-file (the whole-process CPU of one small file,
# web2ftp against curl download + curl upload, ~1 min), one-core (1 GiB HTTP → FTPS with client and servers on CPU 0,
# ~5 min), idle (an idle `schedule`'s RSS and CPU, ~30 s), path (instructions per byte of the whole HTTP → FTPS path and
# where they go, callgrind, ~5 min), small (200 and 1,000 small files, ~8 min), big (1 GiB HTTP(S) → FTPS and HTTP →
# plain FTP, ~10 min), lean (one-file, one-core, idle and path: issue #16's rows). --only-one-file is --only one-file.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
command -v swift >/dev/null || export PATH="/opt/swift/usr/bin:$PATH"

quick=() markdown=() runs=() only=() micro=1 compare=1
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=(--quick) ;;
    --markdown) markdown=(--markdown "$(realpath -m "$2")"); shift ;;
    --runs) runs=(--runs "$2"); shift ;;
    --no-micro) micro= ;;
    --only-micro) compare= ;;
    --only-one-file) only=(--only one-file); micro= ;;
    --only) only=(--only "$2"); micro=; shift ;;
    *) echo "usage: scripts/bench.sh [--quick] [--markdown FILE] [--runs N] [--no-micro] [--only-micro] [--only CASE]" >&2; exit 2 ;;
  esac
  shift
done

scripts/install-deps.sh
missing=()
for tool in curl lftp mlr valgrind taskset /usr/bin/time; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q curl lftp miller valgrind util-linux time >/dev/null
fi

# The binary users install (release, static Swift standard library, stripped: scripts/install.sh's flags), and where
# its bytes go, so that every run states the size (README, "Binary size").
source scripts/lib/release-flags.sh
w2f_build_release .build-static .build-static/bench/web2ftp
echo "== binary size (scripts/binary-size.sh)"
scripts/binary-size.sh .build-static/bench/web2ftp.map .build-static/bench/web2ftp | tee .build-static/bench/size.txt
(cd Benchmarks && swift build -c release)
bench="$root/Benchmarks/.build/release/web2ftp-bench"

if [ -n "$micro" ]; then
  echo "== micro-benchmarks (wall MB/s, best of 5)"
  "$bench" micro --mib 64 --repeat 5
  echo "== instructions per byte (callgrind: 16 MiB run minus 8 MiB run, divided by 8 MiB; stable across noise)"
  for name in http-head http-chunked ftp-replies csv-tokenize csv-passthrough csv-plain csv-plain-redelimit csv-redelimit csv-date \
    csv-short csv-short-cols sha256; do
    counts=()
    for mib in 8 16; do
      counts+=("$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bench" micro "$name" --mib "$mib" --repeat 1 2>&1 \
        | sed -n 's/.*Collected : \([0-9]*\).*/\1/p')")
    done
    awk -v n="$name" -v a="${counts[0]}" -v b="${counts[1]}" 'BEGIN { printf "%-16s %6.2f instructions/byte\n", n, (b - a) / (8 * 1048576) }'
  done
fi

if [ -n "$compare" ]; then
  source scripts/lib/servers.sh
  ensure_test_servers
  echo "== data (deterministic; kept between runs)"
  "$bench" gen "$W2F_TEST_DIR/www" "${quick[@]}"
  export W2F_BENCH_WEB2FTP="$root/.build-static/bench/web2ftp"
  "$bench" compare "${quick[@]}" "${runs[@]}" "${markdown[@]}" "${only[@]}"
fi
if [ ${#markdown[@]} -gt 0 ] && [ -f "${markdown[1]}" ]; then
  { printf '\nBinary size (stripped, static Swift stdlib), by part:\n\n```\n'; cat .build-static/bench/size.txt; printf '```\n'; } \
    >>"${markdown[1]}"
fi
