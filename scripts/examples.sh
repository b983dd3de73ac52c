#!/usr/bin/env bash
# Builds Examples/, a package of its own that depends on ours by path, as an embedder's would: one example per layer
# (docs/library.md) and the README's "Embedding" snippet, extracted as written, so that both compile against the
# public API only. Warnings fail, as in the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || export PATH="/opt/swift/usr/bin:$PATH"

# The ```swift blocks after "## Embedding", as the README shows them: the first (the run) as ReadmeEmbedding, the
# second (the layers, async) as ReadmeLayers.
extract() {
  local number=$1 snippet=$2
  mkdir -p "$(dirname "$snippet")"
  {
    echo "// Extracted from README.md (\"Embedding\") by scripts/examples.sh: edit the README, not this file."
    awk -v want="$number" '/^## Embedding/ { section = 1 } /^## Security/ { section = 0 }
         section && /^```swift/ { seen++; inside = (seen == want); next } inside && /^```/ { inside = 0; next }
         inside { print }' README.md
  } > "$snippet"
  [ "$(wc -l < "$snippet")" -gt 1 ] || {
    echo "examples: no swift snippet number $number under README's \"## Embedding\"" >&2
    exit 1
  }
}
extract 1 Examples/Sources/ReadmeEmbedding/main.swift
extract 2 Examples/Sources/ReadmeLayers/main.swift

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
swift build --package-path Examples 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
[ "$status" -eq 0 ] || { echo "examples: the build failed" >&2; exit "$status"; }
if grep -E '^/.*/Examples/.*: warning:' "$log" >/dev/null; then
  echo "examples: warnings" >&2
  exit 1
fi
if grep -rn '@_spi' Examples/Sources >/dev/null; then
  echo "examples: an @_spi import; the examples show the public API only" >&2
  exit 1
fi
echo "examples: built ($(ls Examples/Sources | tr '\n' ' '))"
