#!/usr/bin/env bash
# The real servers web2ftp's tests and demo talk to, on loopback only:
#   nginx   HTTP  on W2F_HTTP_PORT  (default 18080) and HTTPS on W2F_HTTPS_PORT (18443);
#           /chunked/<file> serves the same files with Transfer-Encoding: chunked.
#           /gzip/<file> the same with Content-Encoding: gzip for CSV (when asked for); .gz/.zip fixtures made at start.
#   vsftpd  explicit FTPS (AUTH TLS required for login and data, require_ssl_reuse=YES) on W2F_FTPS_PORT (18021);
#   vsftpd  plain FTP on W2F_FTP_PORT (18022);
#   vsftpd  implicit FTPS (TLS from the first byte) on W2F_FTPS_IMPLICIT_PORT (18023);
#   the compatibility servers, each with explicit TLS required on control and data:
#   proftpd 1.3.8 (mod_tls; data must resume the control session) on W2F_PROFTPD_PORT (18031),
#   pure-ftpd 1.0.50 (--tls=3, virtual user chrooted to the FTP home) on W2F_PUREFTPD_PORT (18032),
#   pyftpdlib (TLS_FTPHandler, home = the FTP home as its virtual root) on W2F_PYFTPDLIB_PORT (18033).
#   Debian's proftpd and pure-ftpd packages conflict with vsftpd's, so they are unpacked (apt-get download +
#   dpkg-deb -x) into $W2F_TEST_DIR/compat-root and run from there; pyftpdlib comes from PyPI.
# Certificates come from a test CA made here at start ($W2F_TEST_DIR/ca.pem; server cert for IP:127.0.0.1, IP:::1 and
# DNS:localhost). The FTP user W2F_FTP_USER / W2F_FTP_PASS is a local account whose home is $W2F_TEST_DIR/ftp-home.
# All state lives in W2F_TEST_DIR (default /tmp/web2ftp-test-servers); `stop` ends only the PIDs `start` started.
#
# usage: scripts/test-servers.sh start|stop|status|env
# Needs root the first time (apt-get, the local FTP user, its PAM service file). Budget: ~1 min with installs.
set -euo pipefail

: "${W2F_TEST_DIR:=/tmp/web2ftp-test-servers}"
: "${W2F_HTTP_PORT:=18080}"
: "${W2F_HTTPS_PORT:=18443}"
: "${W2F_FTPS_PORT:=18021}"
: "${W2F_FTP_PORT:=18022}"
: "${W2F_FTPS_IMPLICIT_PORT:=18023}"
: "${W2F_FTPS_PASV_MIN:=18100}"
: "${W2F_FTPS_PASV_MAX:=18199}"
: "${W2F_FTP_PASV_MIN:=18200}"
: "${W2F_FTP_PASV_MAX:=18299}"
: "${W2F_IMPLICIT_PASV_MIN:=18300}"
: "${W2F_IMPLICIT_PASV_MAX:=18349}"
: "${W2F_PROFTPD_PORT:=18031}"
: "${W2F_PUREFTPD_PORT:=18032}"
: "${W2F_PYFTPDLIB_PORT:=18033}"
: "${W2F_FTP_USER:=w2ftest}"
: "${W2F_FTP_PASS:=w2ftest-Secret-1}"

DIR="$W2F_TEST_DIR"
PIDS="$DIR/pids"
PAM_SERVICE=web2ftp-test

log() { printf 'test-servers: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "need root for: $*"; fi
}

install_packages() {
  local missing=()
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
  [ -x /usr/sbin/vsftpd ] || missing+=(vsftpd)
  command -v openssl >/dev/null || missing+=(openssl)
  [ -f /etc/ssl/certs/ca-certificates.crt ] || missing+=(ca-certificates)
  command -v ss >/dev/null || missing+=(iproute2)
  # Libraries the unpacked proftpd and pure-ftpd binaries link against (apt would pull them in with the packages).
  local lib
  for lib in libhiredis0.14 libmemcached11 libmemcachedutil2 libpcre2-posix3 libsodium23 libcap2 libidn2-0 libacl1; do
    dpkg -s "$lib" >/dev/null 2>&1 || missing+=("$lib")
  done
  [ ${#missing[@]} -eq 0 ] && return
  log "installing ${missing[*]}"
  # The packages' maintainer scripts would start the system-wide services on ports 80/21: keep them down.
  local policy=/usr/sbin/policy-rc.d made_policy=
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null && as_root chmod +x "$policy" && made_policy=1
  fi
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ -n "$made_policy" ] && as_root rm -f "$policy"
  return 0
}

# proftpd and pure-ftpd, unpacked next to the installed vsftpd (their packages conflict with it); pyftpdlib from PyPI.
install_compat_servers() {
  local root="$DIR/compat-root"
  if [ ! -x "$root/usr/sbin/proftpd" ] || [ ! -f "$root/usr/lib/proftpd/mod_tls.so" ] || [ ! -x "$root/usr/sbin/pure-ftpd" ] \
    || [ ! -x "$root/usr/bin/pure-pw" ]; then
    log "unpacking proftpd (+ mod_tls) and pure-ftpd into $root"
    local work
    work=$(mktemp -d)
    chmod 0777 "$work"  # apt-get download runs as _apt
    (cd "$work" && apt-get download -q proftpd-core proftpd-mod-crypto pure-ftpd pure-ftpd-common >/dev/null 2>&1) ||
      { as_root apt-get update -qq && (cd "$work" && apt-get download -q proftpd-core proftpd-mod-crypto pure-ftpd pure-ftpd-common >/dev/null); }
    mkdir -p "$root"
    local deb
    for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$root"; done
    rm -rf "$work"
  fi
  if ! python3 -c 'import pyftpdlib, OpenSSL' >/dev/null 2>&1; then
    log "installing pyftpdlib and pyOpenSSL from PyPI"
    python3 -m pip install --quiet --disable-pip-version-check pyftpdlib pyopenssl
  fi
}

write_compat_confs() {
  local root="$DIR/compat-root" c="$DIR/compat"
  mkdir -p "$c"
  cat > "$c/proftpd.conf" <<EOF
ServerName "web2ftp test proftpd"
ServerType standalone
DefaultServer on
Port $W2F_PROFTPD_PORT
DefaultAddress 127.0.0.1
SocketBindTight on
UseIPv6 off
User nobody
Group nogroup
PidFile $c/proftpd.pid
ScoreboardFile $c/proftpd.scoreboard
DelayTable none
WtmpLog off
UseReverseDNS off
RequireValidShell off
UseFtpUsers off
SystemLog $c/proftpd.log
TransferLog none
PassivePorts 18400 18449
Umask 022
MaxInstances 200
# AllowOverwrite stays off (the default): STOR or RNTO onto an existing file is refused, as on many real servers.
ModulePath $root/usr/lib/proftpd
LoadModule mod_tls.c
TLSEngine on
TLSRequired on
TLSProtocol TLSv1.2 TLSv1.3
TLSECCertificateFile $DIR/server.pem
TLSECCertificateKeyFile $DIR/server.key
TLSVerifyClient off
TLSLog $c/proftpd-tls.log
EOF
  # pure-ftpd's Debian build refuses this PAM/unix set-up; a virtual user in its own database maps to the test user.
  rm -f "$c/pureftpd.passwd" "$c/pureftpd.pdb"
  printf '%s\n%s\n' "$W2F_FTP_PASS" "$W2F_FTP_PASS" | "$root/usr/bin/pure-pw" useradd "$W2F_FTP_USER" \
    -u "$W2F_FTP_USER" -g "$W2F_FTP_USER" -d "$DIR/ftp-home" -f "$c/pureftpd.passwd" -m -F "$c/pureftpd.pdb" >/dev/null
  # pure-pw hashes with argon2id at t=1023: about a second of CPU per login, and tens of seconds when the parallel
  # tests load both cores (logins then time out). A SHA-512 crypt hash (glibc checks it in milliseconds) instead.
  local hash
  hash=$(openssl passwd -6 "$W2F_FTP_PASS")
  awk -F: -v OFS=: -v h="$hash" '{ $2 = h; print }' "$c/pureftpd.passwd" > "$c/pureftpd.passwd.new"
  mv "$c/pureftpd.passwd.new" "$c/pureftpd.passwd"
  "$root/usr/bin/pure-pw" mkdb "$c/pureftpd.pdb" -f "$c/pureftpd.passwd"
}

make_certificates() {
  local want
  for want in server expired wrongname selfsigned; do [ -s "$DIR/$want.pem" ] || break; want=; done
  [ -z "$want" ] && return
  log "making the test CA and certificates"
  local c="$DIR/certs-work"
  rm -rf "$c" && mkdir -p "$c/newcerts" && touch "$c/index.txt" && echo 1000 > "$c/serial"
  # A running server keeps the certificate it started with: the CA is made once, and only missing certificates after.
  [ -s "$DIR/ca.pem" ] && [ -s "$DIR/ca.key" ] || openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
    -nodes -days 3650 -subj "/CN=web2ftp test CA" -keyout "$DIR/ca.key" -out "$DIR/ca.pem" 2>/dev/null
  cat > "$c/ca.cnf" <<EOF
[ ca ]
default_ca = test
[ test ]
dir = $c
database = $c/index.txt
new_certs_dir = $c/newcerts
serial = $c/serial
certificate = $DIR/ca.pem
private_key = $DIR/ca.key
default_md = sha256
policy = anything
copy_extensions = copy
unique_subject = no
[ anything ]
commonName = supplied
[ server ]
basicConstraints = CA:FALSE
keyUsage = digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, IP:::1, DNS:localhost
[ wrongname ]
basicConstraints = CA:FALSE
keyUsage = digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:files.example.com
EOF
  sign() { # name start end extensions
    [ -s "$DIR/$1.pem" ] && return
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
      -keyout "$DIR/$1.key" -out "$c/$1.csr" 2>/dev/null
    openssl ca -batch -config "$c/ca.cnf" -extensions "$4" -startdate "$2" -enddate "$3" \
      -in "$c/$1.csr" -out "$c/$1.crt" 2>/dev/null
    openssl x509 -in "$c/$1.crt" -out "$DIR/$1.pem"
  }
  sign server 20240101000000Z 20350101000000Z server
  sign expired 20200101000000Z 20210101000000Z server
  # Valid, from our CA, for another name; and right name, right dates, but signed by nobody we trust.
  sign wrongname 20240101000000Z 20350101000000Z wrongname
  [ -s "$DIR/selfsigned.pem" ] || openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -subj "/CN=localhost" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$DIR/selfsigned.key" -out "$DIR/selfsigned.pem" 2>/dev/null
  chmod 0644 "$DIR"/*.pem "$DIR"/*.key
  rm -rf "$c"
}

make_ftp_user() {
  local home="$DIR/ftp-home"
  if ! id "$W2F_FTP_USER" >/dev/null 2>&1; then
    log "creating local FTP user $W2F_FTP_USER"
    as_root useradd --no-create-home --home-dir "$home" --shell /usr/sbin/nologin "$W2F_FTP_USER"
  fi
  as_root usermod --home "$home" "$W2F_FTP_USER" >/dev/null 2>&1 || true
  echo "$W2F_FTP_USER:$W2F_FTP_PASS" | as_root chpasswd
  mkdir -p "$home"
  as_root chown "$W2F_FTP_USER" "$home"
  # Debian's own vsftpd PAM service also demands a login shell (pam_shells); this one checks the password only.
  if [ ! -f "/etc/pam.d/$PAM_SERVICE" ]; then
    printf 'auth required pam_unix.so\naccount required pam_unix.so\nsession required pam_permit.so\n' |
      as_root tee "/etc/pam.d/$PAM_SERVICE" >/dev/null
  fi
}

write_www() {
  local www="$DIR/www"
  mkdir -p "$www"
  printf 'id,name,amount,date\n1,Alice,10.50,2024-01-31\n2,"Bob, Jr.",7,2024-02-29\n3,"Quote ""q""",0.01,2024-12-01\n' \
    > "$www/small.csv"
  # 1 MiB of deterministic CSV rows, for transfers that take more than one read.
  if [ ! -s "$www/large.csv" ]; then
    awk 'BEGIN { print "id,value,label"; for (i = 1; i <= 30000; i++) printf "%d,%d,row-%08d\n", i, (i * 7919) % 100003, i }' \
      > "$www/large.csv"
  fi
  printf 'ok\n' > "$www/health.txt"
  write_compressed "$www"
  # The demo's sources: a ';'-separated latin-1 file with day-first dates and decimal commas.
  mkdir -p "$www/demo"
  printf 'Kunde;Stadt;Datum;Betrag\nM\374ller GmbH;K\366ln;31.01.2024;1.234,50\nB\344cker & S\366hne;M\374nchen;29.02.2024;99,90\n"Stra\337e; Nr. 5";Z\374rich;01.03.2024;12.000,00\n' \
    > "$www/demo/sales-latin1.csv"
}

# Compressed fixtures (issue #18), made from the CSVs above at each start, never committed: gzip files, ZIPs with one
# and two members, a .gz name whose body is plain CSV, and 64 MiB of zeros in 64 KiB of gzip (MAX_BYTES).
write_compressed() {
  python3 - "$1" <<'PY'
import gzip, io, os, sys, zipfile
www = sys.argv[1]
def put(name, data):
    path = os.path.join(www, name)
    if not os.path.exists(path) or open(path, "rb").read() != data:
        with open(path + ".tmp", "wb") as f: f.write(data)
        os.replace(path + ".tmp", path)
small = open(os.path.join(www, "small.csv"), "rb").read()
large = open(os.path.join(www, "large.csv"), "rb").read()
put("small.csv.gz", gzip.compress(small, mtime=0))
put("large.csv.gz", gzip.compress(large, mtime=0))
put("not-gzip.csv.gz", small)
put("zeros.csv.gz", gzip.compress(b"0" * (64 << 20), mtime=0))
def archive(members):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members: z.writestr(zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)
    return out.getvalue()
put("small.zip", archive([("small.csv", small)]))
put("two.zip", archive([("small.csv", small), ("large.csv", large)]))
PY
}

write_nginx_conf() {
  mkdir -p "$DIR/nginx-tmp"
  local ipv6_http="" ipv6_https=""
  if [ -f /proc/net/if_inet6 ] && grep -q '^0\{31\}1 ' /proc/net/if_inet6 2>/dev/null; then
    ipv6_http="listen [::1]:$W2F_HTTP_PORT;"
    ipv6_https="listen [::1]:$W2F_HTTPS_PORT ssl;"
  fi
  local user_line=""
  [ "$(id -u)" = 0 ] && user_line="user www-data;"
  cat > "$DIR/nginx.conf" <<EOF
$user_line
daemon off;
worker_processes 1;
pid $DIR/nginx.pid;
error_log $DIR/nginx-error.log warn;
events { worker_connections 512; }
http {
  # The connection number shows keep-alive reuse: several requests, one connection.
  log_format w2f '\$connection \$connection_requests "\$request" \$status';
  access_log $DIR/nginx-access.log w2f;
  client_body_temp_path $DIR/nginx-tmp/body;
  proxy_temp_path $DIR/nginx-tmp/proxy;
  fastcgi_temp_path $DIR/nginx-tmp/fastcgi;
  uwsgi_temp_path $DIR/nginx-tmp/uwsgi;
  scgi_temp_path $DIR/nginx-tmp/scgi;
  types { text/csv csv; text/plain txt; text/html html; }
  default_type application/octet-stream;
  sendfile on;
  keepalive_requests 100000;
  server {
    listen 127.0.0.1:$W2F_HTTP_PORT;
    $ipv6_http
    server_name localhost;
    root $DIR/www;
    # SSI drops Content-Length, so these answers go out with Transfer-Encoding: chunked.
    location /chunked/ { alias $DIR/www/; ssi on; ssi_types text/csv text/plain; }
    location = /redirect/relative { return 302 ../small.csv; }
    location = /redirect/absolute { return 301 http://127.0.0.1:$W2F_HTTP_PORT/small.csv; }
    location = /redirect/chain { return 307 /redirect/relative; }
    location = /redirect/loop { return 302 /redirect/loop2; }
    location = /redirect/loop2 { return 302 /redirect/loop; }
    location = /redirect/to-https { return 302 https://localhost:$W2F_HTTPS_PORT/small.csv; }
    # Content-Encoding: gzip for CSV when the request accepts it (issue #18).
    location /gzip/ { alias $DIR/www/; gzip on; gzip_types text/csv; gzip_min_length 0; gzip_vary on; }
  }
  server {
    listen 127.0.0.1:$W2F_HTTPS_PORT ssl;
    $ipv6_https
    server_name localhost;
    ssl_certificate $DIR/server.pem;
    ssl_certificate_key $DIR/server.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:W2F:1m;
    ssl_session_tickets on;
    root $DIR/www;
    location /chunked/ { alias $DIR/www/; ssi on; ssi_types text/csv text/plain; }
    location = /redirect/relative { return 302 ../small.csv; }
    location = /redirect/to-http { return 301 http://127.0.0.1:$W2F_HTTP_PORT/small.csv; }
  }
}
EOF
}

write_vsftpd_conf() { # file port pasv_min pasv_max tls(YES/NO) [implicit]
  mkdir -p "$DIR/vsftpd-empty"
  cat > "$1" <<EOF
listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port=$2
background=NO
anonymous_enable=NO
local_enable=YES
write_enable=YES
local_umask=022
pam_service_name=$PAM_SERVICE
secure_chroot_dir=$DIR/vsftpd-empty
chroot_local_user=NO
pasv_enable=YES
pasv_min_port=$3
pasv_max_port=$4
pasv_address=127.0.0.1
connect_from_port_20=NO
seccomp_sandbox=NO
isolate=NO
isolate_network=NO
utf8_filesystem=YES
max_clients=200
max_per_ip=200
xferlog_enable=YES
log_ftp_protocol=YES
vsftpd_log_file=$1.log
ssl_enable=$5
EOF
  if [ "$5" = YES ]; then
    cat >> "$1" <<EOF
rsa_cert_file=$DIR/server.pem
rsa_private_key_file=$DIR/server.key
force_local_logins_ssl=YES
force_local_data_ssl=YES
require_ssl_reuse=YES
ssl_sslv2=NO
ssl_sslv3=NO
ssl_tlsv1=NO
ssl_ciphers=HIGH
debug_ssl=YES
EOF
    [ "${6:-}" = implicit ] && echo "implicit_ssl=YES" >> "$1"
  fi
  return 0
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() { # port name pid
  local i
  for i in $(seq 1 100); do
    port_open "$1" && return 0
    kill -0 "$3" 2>/dev/null || die "$2 exited at start (see $DIR/*.log)"
    sleep 0.1
  done
  die "$2 did not listen on port $1 within 10 s"
}

launch() { # name port command...
  local name=$1 port=$2
  shift 2
  if port_open "$port"; then die "port $port (for $name) is already taken by another process"; fi
  setsid "$@" > "$DIR/$name.out" 2>&1 < /dev/null &
  local pid=$!
  echo "$name $pid" >> "$PIDS"
  wait_port "$port" "$name" "$pid"
  log "$name listening on 127.0.0.1:$port (pid $pid)"
}

is_up() {
  [ -f "$PIDS" ] || return 1
  local name pid
  while read -r name pid; do kill -0 "$pid" 2>/dev/null || return 1; done < "$PIDS"
  port_open "$W2F_HTTP_PORT" && port_open "$W2F_HTTPS_PORT" && port_open "$W2F_FTPS_PORT" && port_open "$W2F_FTP_PORT" \
    && port_open "$W2F_FTPS_IMPLICIT_PORT" && port_open "$W2F_PROFTPD_PORT" && port_open "$W2F_PUREFTPD_PORT" \
    && port_open "$W2F_PYFTPDLIB_PORT"
}

start() {
  if is_up; then
    log "already up (state in $DIR)"
    # Servers started by an older version of this script get what tests added since: fixtures, and nginx locations
    # (a reload, not a restart: connections in flight finish).
    write_www
    if ! grep -q 'location /gzip/' "$DIR/nginx.conf" 2>/dev/null; then
      write_nginx_conf
      kill -HUP "$(cat "$DIR/nginx.pid")" && log "nginx reloaded with the new locations"
    fi
    return 0
  fi
  [ -f "$PIDS" ] && stop
  install_packages
  mkdir -p "$DIR"
  install_compat_servers
  chmod 0755 "$DIR"
  make_certificates
  make_ftp_user
  write_www
  write_nginx_conf
  write_vsftpd_conf "$DIR/vsftpd-ftps.conf" "$W2F_FTPS_PORT" "$W2F_FTPS_PASV_MIN" "$W2F_FTPS_PASV_MAX" YES
  write_vsftpd_conf "$DIR/vsftpd-plain.conf" "$W2F_FTP_PORT" "$W2F_FTP_PASV_MIN" "$W2F_FTP_PASV_MAX" NO
  write_vsftpd_conf "$DIR/vsftpd-implicit.conf" "$W2F_FTPS_IMPLICIT_PORT" "$W2F_IMPLICIT_PASV_MIN" \
    "$W2F_IMPLICIT_PASV_MAX" YES implicit
  write_compat_confs
  : > "$PIDS"
  local nginx_bin vsftpd_bin
  nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
  vsftpd_bin=/usr/sbin/vsftpd
  launch nginx "$W2F_HTTPS_PORT" "$nginx_bin" -p "$DIR" -c "$DIR/nginx.conf"
  launch vsftpd-ftps "$W2F_FTPS_PORT" "$vsftpd_bin" "$DIR/vsftpd-ftps.conf"
  launch vsftpd-plain "$W2F_FTP_PORT" "$vsftpd_bin" "$DIR/vsftpd-plain.conf"
  launch vsftpd-implicit "$W2F_FTPS_IMPLICIT_PORT" "$vsftpd_bin" "$DIR/vsftpd-implicit.conf"
  local root="$DIR/compat-root"
  launch proftpd "$W2F_PROFTPD_PORT" "$root/usr/sbin/proftpd" -n -c "$DIR/compat/proftpd.conf"
  launch pure-ftpd "$W2F_PUREFTPD_PORT" "$root/usr/sbin/pure-ftpd" -S "127.0.0.1,$W2F_PUREFTPD_PORT" -p 18450:18499 \
    -P 127.0.0.1 -Y 3 -2 "$DIR/server.pem,$DIR/server.key" -E -H -u 100 -c 200 -C 200 \
    -l "puredb:$DIR/compat/pureftpd.pdb"
  launch pyftpdlib "$W2F_PYFTPDLIB_PORT" python3 "$(cd "$(dirname "$0")" && pwd)/lib/pyftpd.py" "$W2F_PYFTPDLIB_PORT" \
    18500 18549 "$W2F_FTP_USER" "$W2F_FTP_PASS" "$DIR/ftp-home" "$DIR/server.pem" "$DIR/server.key"
  wait_port "$W2F_HTTP_PORT" nginx "$(awk '$1=="nginx"{print $2}' "$PIDS")"
}

stop() {
  [ -f "$PIDS" ] || { log "nothing to stop"; return 0; }
  local name pid
  while read -r name pid; do
    # Each server runs in a session of its own (setsid): end its whole process group (vsftpd's per-connection
    # processes call setsid themselves and end when their control connection does).
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL -- "-$pid" 2>/dev/null || true
      log "stopped $name (pid $pid)"
    fi
  done < "$PIDS"
  rm -f "$PIDS"
}

print_env() {
  cat <<EOF
export W2F_TEST_DIR=$DIR
export W2F_HTTP_PORT=$W2F_HTTP_PORT
export W2F_HTTPS_PORT=$W2F_HTTPS_PORT
export W2F_FTPS_PORT=$W2F_FTPS_PORT
export W2F_FTP_PORT=$W2F_FTP_PORT
export W2F_FTPS_IMPLICIT_PORT=$W2F_FTPS_IMPLICIT_PORT
export W2F_PROFTPD_PORT=$W2F_PROFTPD_PORT
export W2F_PUREFTPD_PORT=$W2F_PUREFTPD_PORT
export W2F_PYFTPDLIB_PORT=$W2F_PYFTPDLIB_PORT
export W2F_FTP_USER=$W2F_FTP_USER
export W2F_FTP_PASS=$W2F_FTP_PASS
export W2F_CA_FILE=$DIR/ca.pem
EOF
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if is_up; then log "up (state in $DIR)"; else log "down"; exit 1; fi ;;
  env) print_env ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
