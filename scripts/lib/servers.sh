# Sourced by scripts that need the test servers: starts them unless they are up, stops on exit only what was started
# here, and exports their settings (W2F_*).
ensure_test_servers() {
  local root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  W2F_STARTED_SERVERS=""
  if ! "$root/scripts/test-servers.sh" status 2>/dev/null; then
    "$root/scripts/test-servers.sh" start
    W2F_STARTED_SERVERS=1
  fi
  trap '[ -z "$W2F_STARTED_SERVERS" ] || "'"$root"'/scripts/test-servers.sh" stop' EXIT
  eval "$("$root/scripts/test-servers.sh" env)"
}
