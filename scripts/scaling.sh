#!/usr/bin/env bash
# On demand (not in CI): what one web2ftp process costs per source, for docs/scaling.md. 10, 100 and 1,000 sources of
# 10 KiB, HTTPS → FTPS on the loopback test servers (nginx, vsftpd), sequential and parallel with 4 and 16 workers,
# then the same 1,000 as 4 shards, then a shard killed mid-run and run again. For each: wall time, client CPU (user +
# system), peak RSS, the most descriptors and sockets open at once (sampled every 20 ms), FTP logins (vsftpd's log).
# Budget: ~5 min on 2 cores. usage: scripts/scaling.sh [--markdown FILE]
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
command -v swift >/dev/null || export PATH="/opt/swift/usr/bin:$PATH"
markdown=""
[ "${1:-}" = "--markdown" ] && markdown="$(realpath -m "$2")"

command -v /usr/bin/time >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q time >/dev/null
source scripts/lib/release-flags.sh
w2f_build_release .build-static .build-static/bench/web2ftp
bin="$root/.build-static/bench/web2ftp"
source scripts/lib/servers.sh
ensure_test_servers

work="$(mktemp -d /tmp/web2ftp-scaling.XXXXXX)"
www="$W2F_TEST_DIR/www/scale"
remote="$W2F_TEST_DIR/ftp-home/scale"
ftplog="$W2F_TEST_DIR/vsftpd-ftps.conf.log"
mkdir -p "$www" "$remote"
chown "$W2F_FTP_USER" "$remote" 2>/dev/null || true
python3 - "$www" <<'EOF'
import os, random, sys
root = sys.argv[1]
for i in range(1000):
    path = os.path.join(root, "s%04d.csv" % i)
    if os.path.exists(path) and os.path.getsize(path) > 10000: continue
    r = random.Random(i)
    rows = ["id,name,amount,day"]
    while sum(len(x) + 1 for x in rows) < 10240:
        rows.append("%d,name %d,%d.%02d,2026-%02d-%02d" % (len(rows), r.randrange(10**6), r.randrange(10**5),
                    r.randrange(100), r.randrange(1, 13), r.randrange(1, 29)))
    open(path, "w").write("\n".join(rows) + "\n")
EOF

config() {  # config N → a config of N sources
  local n=$1 file="$work/config-$1.json"
  python3 - "$n" "$W2F_HTTPS_PORT" >"$file" <<'EOF'
import json, sys
n, port = int(sys.argv[1]), sys.argv[2]
print(json.dumps({"src%04d" % i: {"URL": "https://localhost:%s/scale/s%04d.csv" % (port, i), "PARAMS": {}}
                  for i in range(n)}, indent=1))
EOF
  echo "$file"
}

export FTPHOST="localhost:$W2F_FTPS_PORT" FTPUSER="$W2F_FTP_USER" FTPPASS="$W2F_FTP_PASS" FTPTARGET="$remote"
export XDG_STATE_HOME="$work/state" XDG_RUNTIME_DIR="$work/run"
mkdir -p "$XDG_STATE_HOME" "$XDG_RUNTIME_DIR"
rows=()

# measure LABEL SOURCES ARGS… → one row: wall, CPU, peak RSS, max fds, max sockets, logins
measure() {
  local label=$1 n=$2; shift 2
  local before after timefile="$work/time" peakfile="$work/peak"
  before=$(grep -c 'OK LOGIN' "$ftplog" 2>/dev/null || true)
  rm -f "$remote"/*.csv
  local start end
  start=$(date +%s.%N)
  /usr/bin/time -f '%e %U %S %M' -o "$timefile" "$bin" "$@" --cacert "$W2F_CA_FILE" --log "$work/etl.log" --quiet \
    --retries 0 --force >/dev/null 2>"$work/stderr" &
  local timer=$! fds=0 socks=0 pid=""
  while kill -0 "$timer" 2>/dev/null; do
    [ -n "$pid" ] || pid=$(pgrep -P "$timer" || true)
    if [ -n "$pid" ] && [ -d "/proc/$pid/fd" ]; then
      local f s
      # The process may end between two looks: a vanished /proc entry counts nothing.
      f=$(ls "/proc/$pid/fd" 2>/dev/null | wc -l || true)
      s=$(find "/proc/$pid/fd" -lname 'socket:*' 2>/dev/null | wc -l || true)
      [ "$f" -gt "$fds" ] && fds=$f
      [ "$s" -gt "$socks" ] && socks=$s
    fi
    sleep 0.02
  done
  local status=0
  wait "$timer" || status=$?
  end=$(date +%s.%N)
  after=$(grep -c 'OK LOGIN' "$ftplog" 2>/dev/null || true)
  local published
  published=$(ls "$remote"/*.csv 2>/dev/null | wc -l || true)
  read -r wall user sys rss <"$timefile"
  rows+=("$(awk -v l="$label" -v n="$n" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" -v f="$fds" -v k="$socks" \
    -v g="$((after - before))" -v p="$published" -v st="$status" 'BEGIN {
      printf "| %s | %d | %d | %.2f | %.2f | %.1f | %.1f | %d | %d | %d | %d |", l, n, p, w, u + s, 1000 * (u + s) / (p > 0 ? p : n),
        r / 1024, f, k, g, st }')")
  echo "${rows[-1]}"
}

echo "== per-source costs (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
for n in 10 100 1000; do
  c=$(config "$n")
  measure "sequential" "$n" manual sequential --config "$c"
  measure "parallel, 4 workers" "$n" manual parallel --workers 4 --config "$c"
  [ "$n" -lt 1000 ] || measure "parallel, 16 workers" "$n" manual parallel --workers 16 --config "$c"
done
c=$(config 1000)
for k in 0 1 2 3; do
  measure "shard $k/4, 4 workers" 1000 manual parallel --workers 4 --config "$c" --shard "$k/4"
done

echo "== a shard killed mid-run, then run again"
rm -f "$remote"/*
# Sequential, half of the 1,000: long enough (≈ 2 s) to die in the middle.
"$bin" manual sequential --config "$c" --shard 0/2 --cacert "$W2F_CA_FILE" --log "$work/kill.log" --quiet \
  --retries 0 --force >/dev/null 2>&1 &
victim=$!
sleep 1
kill -9 "$victim" 2>/dev/null || true
wait "$victim" 2>/dev/null || true
published=$(ls "$remote" | grep -c '\.csv$' || true)
leftover=$(ls -a "$remote" | grep -vc '^\.\{1,2\}$\|\.csv$' || true)
echo "killed after 1 s: $published published, $leftover temporary files left on the server"
"$bin" manual sequential --config "$c" --shard 0/2 --cacert "$W2F_CA_FILE" --log "$work/again.log" --quiet \
  --retries 0 >/dev/null 2>&1 || true
cleaned=$(grep -c 'leftover' "$work/again.log" || true)
again_published=$(grep -c '\] published' "$work/again.log" || true)
again_unchanged=$(grep -c '\] unchanged' "$work/again.log" || true)
after_published=$(ls "$remote" | grep -c '\.csv$' || true)
after_leftover=$(ls -a "$remote" | grep -vc '^\.\{1,2\}$\|\.csv$' || true)
echo "run again: $again_published uploaded, $again_unchanged unchanged; on the server $after_published files, $after_leftover temporary files left, $cleaned leftover log lines"
kill_line="A shard (\`--shard 0/2\`: 500 sources, sequential) killed with SIGKILL 1 s into its run: $published files published, $leftover temporary files left on the server; the next run of that shard (without \`--force\`) uploaded $again_published and found $again_unchanged unchanged; the server then held $after_published files and $after_leftover temporary files ($cleaned \`leftovers\` log lines)."

header="| run | sources in the config | published | wall s | CPU s | CPU ms per published source | peak RSS MiB | max fds | max sockets | FTP logins | exit |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
{
  echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), load average at the end $(cut -d' ' -f1-3 /proc/loadavg):"
  echo
  echo "$header"
  printf '%s\n' "${rows[@]}"
  echo
  echo "$kill_line"
} | tee "$work/table.md"
[ -z "$markdown" ] || cp "$work/table.md" "$markdown"
rm -rf "$remote" "$work"
