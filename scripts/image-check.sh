#!/usr/bin/env bash
# CI's check of the container image (scripts/image.sh), as root: builds it twice and requires the same bytes
# (reproducible layers), reads it with `skopeo inspect oci-archive:` (the Debian package, installed when missing),
# checks every blob's digest and the config's diff_ids, extracts the root filesystem (the layers applied in order)
# and runs the binary from it under chroot as a container runtime would: the root read-only, /proc mounted (the
# Swift runtime reads the arguments from /proc/self/cmdline), tmpfs on /tmp and the runtime directory, a host
# directory as the state volume, the image's user 10001. There: `--version`, then a real `manual` run as the
# Kubernetes CronJob runs it (--shard auto/1 with JOB_COMPLETION_INDEX, --log -, JSON lines) that publishes a file
# from nginx (18080) to vsftpd (FTPS 18021, the test CA passed with --cacert), checked on vsftpd's disk; a second run
# finds the source unchanged through the state file on the volume. Starts the test servers unless they are up.
# Budget: ~4 min from a clean checkout (the release build), ~30 s once built.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || export PATH="/opt/swift/usr/bin:$PATH"

die() { echo "image-check: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (chroot, mount)"

if ! command -v skopeo >/dev/null; then
  echo "image-check: installing skopeo" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends skopeo >/dev/null
fi

chroot="$(command -v chroot)" || die "no chroot (coreutils)"

source scripts/lib/servers.sh
ensure_test_servers

work="$(mktemp -d "${TMPDIR:-/tmp}/web2ftp-image-check.XXXXXX")"
rootfs="$work/rootfs"
name="image-check-$$"
target="$W2F_TEST_DIR/ftp-home/$name"
source_file="$W2F_TEST_DIR/www/$name.csv"
finish() {
  # Every mount under the root filesystem (/proc first among them) goes before anything is deleted; a mount that
  # will not go leaves the directory in place rather than deleting through it.
  umount -R "$rootfs" 2>/dev/null || true
  if [ -n "$(findmnt -rn -o TARGET | grep -F "$rootfs" || true)" ]; then
    echo "image-check: mounts left under $rootfs; not deleting $work" >&2
  else
    rm -rf "$work"
  fi
  rm -rf "$target" "$source_file"
  [ -z "$W2F_STARTED_SERVERS" ] || scripts/test-servers.sh stop
}
trap finish EXIT

echo "== image-check: building the image twice (scripts/image.sh)"
bash scripts/image.sh "$work/a.tar"
bash scripts/image.sh "$work/b.tar"
cmp "$work/a.tar" "$work/b.tar" || die "two builds of one input differ: the image is not reproducible"
image="$work/a.tar"

echo "== image-check: skopeo inspect oci-archive:"
skopeo inspect "oci-archive:$image" >"$work/inspect.json"
skopeo inspect --config "oci-archive:$image" >"$work/config.json"
expected_version="$("${W2F_IMAGE_BINARY:-.build-static/install/web2ftp}" --version)"
python3 - "$work/inspect.json" "$work/config.json" "${expected_version##* }" <<'EOF'
import json, sys
inspect, config, version = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
problems = []
def want(what, got, expected):
    if got != expected:
        problems.append(f"{what}: {got!r}, expected {expected!r}")
want("Os", inspect.get("Os"), "linux")
want("layers", len(inspect.get("Layers", [])), 2)
want("version label", inspect.get("Labels", {}).get("org.opencontainers.image.version"), version)
c = config.get("config", {})
want("User", c.get("User"), "10001:10001")
want("Entrypoint", c.get("Entrypoint"), ["/usr/local/bin/web2ftp"])
env = dict(e.split("=", 1) for e in c.get("Env", []))
for key in ("PATH", "TZ", "XDG_STATE_HOME", "XDG_RUNTIME_DIR"):
    if key not in env:
        problems.append(f"Env lacks {key}")
if problems:
    sys.exit("image-check: " + "; ".join(problems))
print(f"image-check: {inspect['Os']}/{inspect['Architecture']}, {len(inspect['Layers'])} layers, user {c['User']}")
EOF

echo "== image-check: blobs and layers"
mkdir -p "$work/layout" "$rootfs"
tar -xf "$image" -C "$work/layout"
for blob in "$work"/layout/blobs/sha256/*; do
  [ "$(sha256sum "$blob" | cut -d' ' -f1)" = "$(basename "$blob")" ] || die "blob $(basename "$blob") has another digest"
done
manifest="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"][7:])' \
  "$work/layout/index.json")"
read -r config_digest layers < <(python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
print(m["config"]["digest"][7:], " ".join(l["digest"][7:] for l in m["layers"]))' "$work/layout/blobs/sha256/$manifest")
diff_ids="$(python3 -c 'import json,sys; print(" ".join(d[7:] for d in json.load(open(sys.argv[1]))["rootfs"]["diff_ids"]))' \
  "$work/layout/blobs/sha256/$config_digest")"
unpacked=""
# The layers in the manifest's order, as a runtime applies them (ours have no whiteouts).
for layer in $layers; do
  unpacked+="$(gzip -dc "$work/layout/blobs/sha256/$layer" | sha256sum | cut -d' ' -f1) "
  tar -xzf "$work/layout/blobs/sha256/$layer" -C "$rootfs" --numeric-owner --same-permissions
done
[ "${unpacked% }" = "$diff_ids" ] || die "the config's diff_ids are not the layers' uncompressed digests"
echo "image-check: $(du -sh --apparent-size "$rootfs" | cut -f1) root filesystem from layers $layers"

echo "== image-check: the binary under chroot"
# What the run needs that the image does not hold, as Kubernetes mounts them: the config (a ConfigMap) and the CA.
mkdir -p "$rootfs/etc/web2ftp"
cp "$W2F_CA_FILE" "$rootfs/etc/web2ftp/ca.pem"
printf '{"%s": {"URL": "http://127.0.0.1:%s/%s.csv", "PARAMS": {}}}\n' "$name" "$W2F_HTTP_PORT" "$name" \
  >"$rootfs/etc/web2ftp/config.json"
chmod 0644 "$rootfs/etc/web2ftp/ca.pem" "$rootfs/etc/web2ftp/config.json"
# The root read-only, then the writable places a pod has: tmpfs (emptyDir) on /tmp and the runtime directory, a host
# directory (the PersistentVolumeClaim) on the state directory, and /proc.
mount --bind "$rootfs" "$rootfs"
mount -o remount,bind,ro "$rootfs"
mount -t proc proc "$rootfs/proc"
mount -t tmpfs -o mode=1777,size=16m tmpfs "$rootfs/tmp"
mount -t tmpfs -o mode=0700,uid=10001,gid=10001,size=1m tmpfs "$rootfs/run/web2ftp"
mkdir -p "$work/state"
chown 10001:10001 "$work/state"
mount --bind "$work/state" "$rootfs/var/lib/web2ftp"
if touch "$rootfs/etc/written" 2>/dev/null; then die "the root filesystem is writable: the check would prove less"; fi

in_image() {
  env -i PATH=/usr/local/bin:/usr/bin:/bin TZ=Europe/Berlin XDG_STATE_HOME=/var/lib/web2ftp \
    XDG_RUNTIME_DIR=/run/web2ftp SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt "$@"
}
version="$(in_image "$chroot" --userspec=10001:10001 "$rootfs" /usr/local/bin/web2ftp --version)"
[ "$version" = "$expected_version" ] || die "--version in the image says '$version', expected '$expected_version'"
echo "image-check: web2ftp --version in the image: $version"

mkdir -p "$target"
chown "$W2F_FTP_USER" "$target"
# A file of its own, so that the run's bytes on vsftpd's disk can be compared with the source's.
{
  echo "id,city,when"
  for i in $(seq 1 200); do echo "$i,Zürich $i,2026-12-0$((i % 9 + 1))"; done
} >"$source_file"
chmod 0644 "$source_file"

run_in_image() {
  in_image FTPHOST="127.0.0.1:$W2F_FTPS_PORT" FTPUSER="$W2F_FTP_USER" FTPPASS="$W2F_FTP_PASS" FTPTARGET="$target" \
    JOB_COMPLETION_INDEX=0 "$chroot" --userspec=10001:10001 "$rootfs" /usr/local/bin/web2ftp manual parallel \
    --config /etc/web2ftp/config.json --cacert /etc/web2ftp/ca.pem --shard auto/1 --log - --log-format json
}
# The JSON lines one event each: the events a run must log, by name.
events() { python3 -c 'import json,sys; print(" ".join(json.loads(l)["event"] for l in sys.stdin if l.strip()))'; }

status=0
run_in_image 2>"$work/run1.log" || status=$?
[ "$status" = 0 ] || { cat "$work/run1.log" >&2; die "the manual run in the image exited $status"; }
cmp "$source_file" "$target/$name.csv" || die "vsftpd's disk does not hold the source's bytes at $target/$name.csv"
grep -q '"event": *"published"' "$work/run1.log" || { cat "$work/run1.log" >&2; die "no published event"; }
echo "image-check: published $(stat -c %s "$target/$name.csv") bytes to $target/$name.csv; events: $(events <"$work/run1.log")"

ls "$work/state/web2ftp/"*.0-of-1.json >/dev/null 2>&1 || die "no shard state file on the state volume"
status=0
run_in_image 2>"$work/run2.log" || status=$?
[ "$status" = 0 ] || { cat "$work/run2.log" >&2; die "the second run in the image exited $status"; }
grep -q '"event": *"unchanged"' "$work/run2.log" \
  || { cat "$work/run2.log" >&2; die "the second run did not find the source unchanged (state volume)"; }
echo "image-check: second run: unchanged (state file $(basename "$work"/state/web2ftp/*.0-of-1.json) on the volume)"
echo "== image-check passed"
