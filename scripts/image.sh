#!/usr/bin/env bash
# Builds web2ftp's container image without Docker, as an OCI image layout tarball (OUT.tar, default
# .build-image/web2ftp.oci.tar): `oci-layout`, `index.json`, and under blobs/sha256/ an image manifest, its config
# (Entrypoint, User, Env, Labels) and two gzip layers — the run-time files (the shared libraries `ldd` names, the
# loader, a CA bundle, zoneinfo, /tmp, /etc/passwd and /etc/group with the non-root user web2ftp, 10001:10001), then
# the release binary (static Swift standard library, stripped: scripts/lib/release-flags.sh, as scripts/install.sh
# builds it). Layers are written reproducibly (entries sorted, mtime 0, numeric owners, gzip -n): the same binary and
# host files give the same digests. Load it with `skopeo copy oci-archive:OUT.tar docker://REGISTRY/web2ftp:TAG`
# or `podman load -i OUT.tar`. W2F_IMAGE_BINARY=PATH packs that binary instead of building one.
# Budget: ~3 min from a clean checkout (the release build), ~10 s once built.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || export PATH="/opt/swift/usr/bin:$PATH"
export LC_ALL=C

out="${1:-.build-image/web2ftp.oci.tar}"
# The image's user: what contrib/kubernetes/web2ftp.yaml's runAsUser says.
uid=10001
gid=10001
started=$(date +%s)

binary="${W2F_IMAGE_BINARY:-}"
if [ -z "$binary" ]; then
  source scripts/lib/release-flags.sh
  w2f_build_release .build-static .build-static/install/web2ftp
  binary=.build-static/install/web2ftp
fi
version="$("$binary" --version | awk '{print $NF; exit}')"
revision="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
case "$(uname -m)" in
  x86_64) arch=amd64 ;;
  aarch64) arch=arm64 ;;
  *) echo "image.sh: no OCI architecture name for $(uname -m)" >&2; exit 1 ;;
esac

work="$(mktemp -d "${TMPDIR:-/tmp}/web2ftp-image.XXXXXX")"
trap 'rm -rf "$work"' EXIT
base="$work/base" app="$work/app" layout="$work/layout"
mkdir -p "$base" "$app" "$layout/blobs/sha256"

# --- layer 1: what the binary needs at run time --------------------------------------------------------------------
mkdir -p "$base"/{etc/ssl/certs,usr/lib/ssl,usr/local/bin,usr/share,tmp,proc,sys,dev,run/web2ftp,var/lib/web2ftp}
# Every library ldd names, at the path it names (the loader searches /lib/x86_64-linux-gnu without a cache), and the
# loader at the binary's PT_INTERP path; symlinks on the host are resolved into files.
libs="$(ldd "$binary")"
if grep -q 'not found' <<<"$libs"; then
  echo "image.sh: ldd cannot resolve every library:" >&2
  echo "$libs" >&2
  exit 1
fi
while read -r path; do
  mkdir -p "$base$(dirname "$path")"
  cp -L "$path" "$base$path"
done < <(sed -nE 's/^[[:space:]]*[^[:space:]]+ => (\/[^ ]+) .*/\1/p; s/^[[:space:]]*(\/[^ ]+) \(.*/\1/p' <<<"$libs" | sort -u)
[ -n "$(ls "$base"/lib*/*/libc.so.* 2>/dev/null)" ] || { echo "image.sh: ldd named no libc" >&2; exit 1; }
# The system CAs for https:// sources and FTPS: the bundle (SSL_CERT_FILE in the config below) and OpenSSL's default
# file name pointing at it.
cp -L /etc/ssl/certs/ca-certificates.crt "$base/etc/ssl/certs/ca-certificates.crt"
ln -s /etc/ssl/certs/ca-certificates.crt "$base/usr/lib/ssl/cert.pem"
# zoneinfo for TZ (the schedule and {date} are local time); the leap-second "right/" zones are left out.
tar -C /usr/share -cf - --exclude=zoneinfo/right zoneinfo | tar -C "$base/usr/share" -xf -
printf 'root:x:0:0:root:/root:/sbin/nologin\nweb2ftp:x:%s:%s:web2ftp:/var/lib/web2ftp:/sbin/nologin\n' "$uid" "$gid" \
  >"$base/etc/passwd"
printf 'root:x:0:\nweb2ftp:x:%s:\n' "$gid" >"$base/etc/group"
# glibc's lookups without its defaults' surprises (hosts: /etc/hosts first, as container runtimes write it).
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$base/etc/nsswitch.conf"
# Modes from here, not from the host's umask.
find "$base" -type d -exec chmod 0755 {} +
find "$base" -type f -exec chmod 0644 {} +
chmod 0755 "$base"/lib*/*/* "$base"/lib64/* 2>/dev/null || true
chmod 1777 "$base/tmp"
chmod 0700 "$base/run/web2ftp" "$base/var/lib/web2ftp"

# --- layer 2: the binary --------------------------------------------------------------------------------------------
mkdir -p "$app/usr/local/bin"
install -m 0755 "$binary" "$app/usr/local/bin/web2ftp"
chmod 0755 "$app" "$app/usr" "$app/usr/local" "$app/usr/local/bin"

# A reproducible tar: sorted names, mtime 0, numeric owners, no atime/ctime (GNU format).
rtar() { tar --format=gnu --sort=name --mtime=@0 --numeric-owner "$@"; }

# Writes a blob (stdin) into the layout; prints "DIGEST SIZE".
blob() {
  local tmp="$work/blob" digest
  cat >"$tmp"
  digest="$(sha256sum "$tmp" | cut -d' ' -f1)"
  mv "$tmp" "$layout/blobs/sha256/$digest"
  echo "$digest $(stat -c %s "$layout/blobs/sha256/$digest")"
}

# Packs a directory as a layer: sets LAYER_DIGEST, LAYER_SIZE (gzip), DIFF_ID and RAW_SIZE (the tar).
# The runtime and state directories belong to the image's user (running without volumes still works); the rest root.
layer() {
  local dir="$1"
  rtar --owner=0 --group=0 --exclude=./run/web2ftp --exclude=./var/lib/web2ftp -C "$dir" -cf "$work/layer.tar" .
  if [ -d "$dir/run/web2ftp" ]; then
    rtar --owner="$uid" --group="$gid" --no-recursion -C "$dir" -rf "$work/layer.tar" ./run/web2ftp ./var/lib/web2ftp
  fi
  DIFF_ID="$(sha256sum "$work/layer.tar" | cut -d' ' -f1)"
  RAW_SIZE="$(stat -c %s "$work/layer.tar")"
  read -r LAYER_DIGEST LAYER_SIZE < <(gzip -n -9 -c "$work/layer.tar" | blob)
  rm -f "$work/layer.tar"
}

layer "$base"
base_digest=$LAYER_DIGEST base_size=$LAYER_SIZE base_diff=$DIFF_ID base_raw=$RAW_SIZE
layer "$app"
app_digest=$LAYER_DIGEST app_size=$LAYER_SIZE app_diff=$DIFF_ID app_raw=$RAW_SIZE

# The config's dates are the commit's (not the clock's), so a rebuild of one commit has one digest.
created="$(date -u -d "@$(git log -1 --format=%ct 2>/dev/null || echo 0)" +%Y-%m-%dT%H:%M:%SZ)"
labels="$(printf '"org.opencontainers.image.%s":"%s",' \
  title web2ftp \
  description "Streams CSV from HTTP(S) into FTP/FTPS" \
  version "$version" \
  revision "$revision" \
  created "$created")"
labels="{${labels%,}}"
env='["PATH=/usr/local/bin:/usr/bin:/bin","TZ=UTC","XDG_STATE_HOME=/var/lib/web2ftp","XDG_RUNTIME_DIR=/run/web2ftp",'
env+='"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"]'
config="{\"created\":\"$created\",\"architecture\":\"$arch\",\"os\":\"linux\",\"config\":{\"User\":\"$uid:$gid\","
config+="\"Env\":$env,\"Entrypoint\":[\"/usr/local/bin/web2ftp\"],\"Cmd\":[\"--help\"],\"WorkingDir\":\"/tmp\","
config+="\"Labels\":$labels},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:$base_diff\",\"sha256:$app_diff\"]},"
config+="\"history\":[{\"created\":\"$created\",\"created_by\":\"scripts/image.sh: libraries, CA bundle, zoneinfo, passwd\"},"
config+="{\"created\":\"$created\",\"created_by\":\"scripts/image.sh: web2ftp $version\"}]}"
read -r config_digest config_size < <(printf '%s' "$config" | blob)

layer_json() { printf '{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}' "$1" "$2"; }
manifest="{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
manifest+="\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:$config_digest\",\"size\":$config_size},"
manifest+="\"layers\":[$(layer_json "$base_digest" "$base_size"),$(layer_json "$app_digest" "$app_size")]}"
read -r manifest_digest manifest_size < <(printf '%s' "$manifest" | blob)

printf '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":"%s","os":"linux"},"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}' \
  "$manifest_digest" "$manifest_size" "$arch" "$version" >"$layout/index.json"
chmod 0644 "$layout/oci-layout" "$layout/index.json" "$layout"/blobs/sha256/*
chmod 0755 "$layout" "$layout/blobs" "$layout/blobs/sha256"

mkdir -p "$(dirname "$out")"
rtar --owner=0 --group=0 -C "$layout" -cf "$out.tmp" oci-layout index.json blobs
mv "$out.tmp" "$out"

mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
echo "image.sh: $out: web2ftp $version ($arch), manifest sha256:$manifest_digest"
echo "image.sh: layers compressed $(mib $((base_size + app_size))) (runtime $(mib "$base_size"), web2ftp $(mib "$app_size")),"\
  "uncompressed $(mib $((base_raw + app_raw))) (runtime $(mib "$base_raw"), web2ftp $(mib "$app_raw"));"\
  "archive $(mib "$(stat -c %s "$out")"); $(($(date +%s) - started)) s"
