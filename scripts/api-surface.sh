#!/usr/bin/env bash
# The public surface of the library, measured: every symbol an embedder can see in the library's modules, one
# `module kind path` line each, sorted, compared with the checked-in api/public-symbols.txt. Any change of the surface
# (a new public name, a removed one, an internal one made public by accident) is a visible diff, to be reviewed and
# committed with `--update`. `@_spi(Internals)` symbols are not part of it (dump-symbol-graph leaves them out at its
# default access level, public).
# usage: scripts/api-surface.sh [--update]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || export PATH="/opt/swift/usr/bin:$PATH"
# The modules of the products (WebToFTP re-exports some of them, CSVStream is a product of its own).
modules=(Reactor TLS HTTP1 FTP CSVStream Compression WebToFTP)
expected=api/public-symbols.txt
# It writes to .build/<triple>/symbolgraph: clear it first, so that only this run's graphs count.
rm -rf .build/*/symbolgraph
log=.build/api-surface.log
mkdir -p .build
# It exits 1 after writing the library's graphs, on the test-discovery modules: judge by the files it wrote.
swift package dump-symbol-graph > "$log" 2>&1 || true
out=$(sed -n 's/^Files written to //p' "$log" | tail -1)
[ -n "$out" ] || out=$(ls -d .build/*/symbolgraph 2>/dev/null | head -1)
for module in "${modules[@]}"; do
  [ -n "$out" ] && [ -s "$out/$module.symbols.json" ] || {
    echo "api-surface: no symbol graph for $module (see $log)" >&2
    tail -20 "$log" >&2
    exit 1
  }
done
actual=$(mktemp)
trap 'rm -f "$actual"' EXIT
python3 - "$out" "${modules[@]}" > "$actual" <<'PY'
import glob, json, os, sys
out, modules = sys.argv[1], sys.argv[2:]
lines = set()
for module in modules:
    files = [os.path.join(out, module + ".symbols.json")] + glob.glob(os.path.join(out, module + "@*.symbols.json"))
    for path in files:
        with open(path) as f:
            graph = json.load(f)
        for symbol in graph.get("symbols", []):
            kind = symbol["kind"]["identifier"].removeprefix("swift.")
            lines.add(f"{module} {kind} {'.'.join(symbol['pathComponents'])}")
print("\n".join(sorted(lines)))
PY
count=$(wc -l < "$actual")
if [ "${1:-}" = "--update" ]; then
  cp "$actual" "$expected"
  echo "api-surface: $count public symbols written to $expected"
  exit 0
fi
if ! diff -u "$expected" "$actual"; then
  echo "api-surface: the public surface changed ($count symbols); review, then scripts/api-surface.sh --update" >&2
  exit 1
fi
echo "api-surface: $count public symbols, as in $expected"
