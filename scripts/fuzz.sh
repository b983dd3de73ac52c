#!/usr/bin/env bash
# Fuzzes the parsers with libFuzzer: HTTP response parser + chunked decoder, FTP replies + 227/229, URLs, JSON and
# the config loader, the CSV transformer, the inflate path (gzip/ZIP/deflate decoders; each also checks that splitting the input changes nothing).
# usage: scripts/fuzz.sh [SECONDS-PER-TARGET=20] [TARGET…]   — CI runs a 20 s smoke of each; run longer on demand
# (budget: SECONDS × 6 plus ~1 min to build). A crash stops the run with a non-zero exit and leaves the input in
# $W2F_FUZZ_DIR/<target>/crash-* (default /tmp/web2ftp-fuzz): turn it into a regression test.
# The targets are built debug with --sanitize=fuzzer alone: with --sanitize=address added, or in release, this
# toolchain leaves the Swift code without coverage counters (seen: 8 counters instead of ~19,000).
set -euo pipefail
cd "$(dirname "$0")/../Fuzz"
command -v swift >/dev/null || export PATH="/opt/swift/usr/bin:$PATH"
seconds="${1:-20}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(FuzzHTTP FuzzFTP FuzzURL FuzzConfig FuzzCSV FuzzInflate)
base="${W2F_FUZZ_DIR:-/tmp/web2ftp-fuzz}"
# A few valid inputs to start from (the first byte is the fuzzer's own: split point and options).
seed() {
  local dir=$2
  [ -z "$(ls -A "$dir")" ] || return 0
  case "$1" in
    FuzzHTTP)
      printf '\x10HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc' > "$dir/cl"
      printf '\x21HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nWiki\r\n0\r\nT: v\r\n\r\n' > "$dir/chunked"
      printf '\x30HTTP/1.0 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n' > "$dir/interim" ;;
    FuzzFTP)
      printf '\x05220-Welcome\r\n 211 x\r\n220 ready\r\n227 Entering Passive Mode (127,0,0,1,70,200)\r\n' > "$dir/multi"
      printf '\x03229 Entering Extended Passive Mode (|||18105|)\n' > "$dir/epsv" ;;
    FuzzURL) printf 'https://u:p@[::1]:8443/a/../b c.csv?x=1&y#f' > "$dir/url" ;;
    FuzzConfig)
      printf '{"s": {"URL": "https://e/x.csv", "PARAMS": {"sep": ";", "usecols": [0, "a"]}, "TARGET": "d/{name}-{date:%%Y}.csv"}}' > "$dir/config" ;;
    FuzzCSV)
      printf '\x08a;b;c\n"x;""y""";1.234,5;31.01.2024\r\n\n' > "$dir/csv"
      printf '\x0d\xff\xfea\x00,\x00b\x00\n\x00' > "$dir/utf16" ;;
    FuzzInflate)
      { printf '\x20'; printf 'a,b\n1,2\n' | gzip -n; } > "$dir/gzip"
      python3 -c 'import io,sys,zipfile
b=io.BytesIO(); z=zipfile.ZipFile(b,"w",zipfile.ZIP_DEFLATED); z.writestr("a.csv","a,b\n1,2\n"); z.close()
sys.stdout.buffer.write(b"\x29"+b.getvalue())' > "$dir/zip"
      { printf '\x12'; printf 'a,b\n' | python3 -c 'import sys,zlib; sys.stdout.buffer.write(zlib.compress(sys.stdin.buffer.read()))'; } > "$dir/deflate" ;;
  esac
}

status=0
for target in "${targets[@]}"; do
  # A failed build must stop the run: going on would fuzz a stale binary from an earlier build.
  build_log="$(mktemp)"
  if ! swift build -c debug --sanitize=fuzzer --product "$target" > "$build_log" 2>&1; then
    grep -E "error" "$build_log" >&2 || tail -20 "$build_log" >&2
    echo "fuzz $target: BUILD FAILED" >&2
    rm -f "$build_log"
    exit 1
  fi
  grep -E "warning: .*swift" "$build_log" || true
  rm -f "$build_log"
  mkdir -p "$base/$target/corpus"
  seed "$target" "$base/$target/corpus"
  log="$base/$target/last.log"
  if SWIFT_BACKTRACE=enable=no ".build/debug/$target" -max_total_time="$seconds" -artifact_prefix="$base/$target/" \
      "$base/$target/corpus" > "$log" 2>&1; then
    echo "fuzz $target: $(grep -E 'DONE' "$log" | tail -1) — $(grep -E '^Done ' "$log" | tail -1)"
  else
    echo "fuzz $target: FAILED — see $log and $base/$target/crash-*" >&2
    grep -E "Fatal error|precondition|ERROR" "$log" | head -5 >&2 || true
    status=1
  fi
done
exit "$status"
