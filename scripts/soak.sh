#!/usr/bin/env bash
# On demand (not in CI): a soak of one web2ftp process — N small transfers (default 10,000; 100 distinct 10 KiB files
# from nginx, HTTP and HTTPS alternating, into vsftpd over explicit FTPS) in parallel mode — sampling the process's
# open descriptors and resident memory twice a second. Fails unless both stay flat — the last third of the run peaks
# no higher than the first third, within 2 descriptors, and 2 MiB plus 1 KiB for every source finished in between
# (the run keeps each finished source's outcome — path, URL, digest — for its summary, by design: measured ≈ 0.8 KiB;
# a leaked connection or buffer would cost 64–256 KiB) — every file is published, and vsftpd is left with no session
# of ours once the run ends.
# usage: scripts/soak.sh [N=10000] [WORKERS=8]   Budget: ~2 min build + ~1 min per 10,000 transfers.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || export PATH="/opt/swift/usr/bin:$PATH"
count="${1:-10000}" workers="${2:-8}"

scripts/install-deps.sh
swift build -c release --product web2ftp
source scripts/lib/servers.sh
ensure_test_servers

work=$(mktemp -d /tmp/web2ftp-soak.XXXXXX)
target="$W2F_TEST_DIR/ftp-home/soak-$$"
mkdir -p "$W2F_TEST_DIR/www/soak" "$target"
chown "$W2F_FTP_USER" "$target"
for i in $(seq 0 99); do
  f="$W2F_TEST_DIR/www/soak/f$i.csv"
  [ -s "$f" ] || awk -v s="$i" 'BEGIN { print "id,value,label"; for (r = 1; r <= 400; r++) printf "%d,%d,soak-%06d\n", r, (r * 7919 + s) % 100003, s }' > "$f"
done
{
  echo "{"
  for i in $(seq 1 "$count"); do
    base="http://127.0.0.1:$W2F_HTTP_PORT"
    [ $((i % 2)) = 0 ] && base="https://localhost:$W2F_HTTPS_PORT"
    sep=","; [ "$i" = "$count" ] && sep=""
    printf '"s%05d": {"URL": "%s/soak/f%d.csv", "PARAMS": {}}%s\n' "$i" "$base" $((i % 100)) "$sep"
  done
  echo "}"
} > "$work/config.json"

sessions() { pgrep -f "vsftpd-ftps.conf" | wc -l; }
before_sessions=$(sessions)
export FTPHOST="127.0.0.1:$W2F_FTPS_PORT" FTPUSER="$W2F_FTP_USER" FTPPASS="$W2F_FTP_PASS" FTPTARGET="$target"
start=$(date +%s)
.build/release/web2ftp manual parallel --workers "$workers" --config "$work/config.json" --cacert "$W2F_CA_FILE" \
  --log "$work/etl_pipeline.log" --quiet --retries 0 &
pid=$!
: > "$work/samples"
while kill -0 "$pid" 2>/dev/null; do
  fds=$(ls "/proc/$pid/fd" 2>/dev/null | wc -l) || true
  rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status" 2>/dev/null) || true
  done_count=$(grep -c ' published ' "$work/etl_pipeline.log" 2>/dev/null) || true
  [ -n "$rss" ] && echo "$fds $rss ${done_count:-0}" >> "$work/samples"
  sleep 0.5
done
set +e
wait "$pid"
status=$?
set -e
seconds=$(( $(date +%s) - start ))
sleep 2  # vsftpd's session processes end when their control connection does
after_sessions=$(sessions)
published=$(find "$target" -type f -name 's*.csv' | wc -l)
leftovers=$(find "$target" -type f -name '.*' | wc -l)

awk -v n="$count" -v status="$status" -v published="$published" -v leftovers="$leftovers" -v secs="$seconds" \
    -v before="$before_sessions" -v after="$after_sessions" '
  { fds[NR] = $1; rss[NR] = $2; done[NR] = $3 }
  END {
    third = int(NR / 3); if (third < 1) third = 1
    for (i = 1; i <= NR; i++) {
      if (i <= third) { if (fds[i] > f1) f1 = fds[i]; if (rss[i] > r1) r1 = rss[i] }
      if (i > NR - third) { if (fds[i] > f3) f3 = fds[i]; if (rss[i] > r3) r3 = rss[i] }
      if (fds[i] > fmax) fmax = fds[i]; if (rss[i] > rmax) rmax = rss[i]
    }
    printf "soak: %d transfers in %d s (exit %d), %d published, %d leftovers; %d samples\n", n, secs, status, published, leftovers, NR
    printf "soak: open fds  first third max %d, last third max %d, overall max %d\n", f1, f3, fmax
    printf "soak: RSS KiB   first third max %d, last third max %d, overall max %d\n", r1, r3, rmax
    printf "soak: vsftpd processes before %d, after %d\n", before, after
    finished = done[NR] - done[third]
    printf "soak: sources finished between the thirds %d (allowance %d KiB for their outcomes)\n", finished, finished
    bad = status != 0 || published != n || leftovers != 0 || f3 > f1 + 2 || r3 > r1 + 2048 + finished || after > before || NR < 3
    print bad ? "soak: FAILED" : "soak: passed (flat)"
    exit bad
  }' "$work/samples"
rm -rf "$target" "$work"
