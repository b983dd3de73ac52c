#!/usr/bin/env bash
# README command 1: web2ftp's main job end to end on this machine. Builds the release binary, starts the local test
# servers (nginx serving demo CSVs over HTTP/HTTPS, vsftpd with explicit FTPS), and runs
#   web2ftp manual parallel --config config.json --cacert <test CA>
# with FTPHOST/FTPUSER/FTPPASS/FTPTARGET pointing at the local vsftpd. Stops the servers it started.
# Budget: ~3 min from a clean checkout (release build), seconds afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || export PATH="/opt/swift/usr/bin:$PATH"

scripts/install-deps.sh
swift build -c release --product web2ftp

source scripts/lib/servers.sh
ensure_test_servers

target="$W2F_TEST_DIR/ftp-home/demo"
mkdir -p "$target"
chown "$W2F_FTP_USER" "$target" 2>/dev/null || true

export FTPHOST="127.0.0.1:$W2F_FTPS_PORT" FTPUSER="$W2F_FTP_USER" FTPPASS="$W2F_FTP_PASS" FTPTARGET="$target"
set +e
.build/release/web2ftp manual parallel --config config.json --cacert "$W2F_CA_FILE"
status=$?
set -e
echo "demo: web2ftp exited with $status; files in $target:"
ls -l "$target"
exit "$status"
