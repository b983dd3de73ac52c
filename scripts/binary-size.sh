#!/usr/bin/env bash
# Where the stripped static binary's bytes go, from the lld link map of its build (scripts/bench.sh makes both):
# one line per part (the Swift runtime and standard library, the concurrency runtime, each of our modules, what the
# linker makes), in MB, then the stripped file's size. The README's "Binary size" table is this output.
# usage: scripts/binary-size.sh LINK-MAP STRIPPED-BINARY
set -euo pipefail
map="$1" binary="$2"
size=$(stat -c %s "$binary")
if ! head -1 "$map" | grep -q 'VMA.*LMA.*Size.*Align.*Out.*In.*Symbol'; then
  # gold's map (no ld.lld next to swiftc) has another layout: the total only.
  awk -v total="$size" 'BEGIN {
    printf "%8.2f MB  stripped binary (%d bytes, %.2f MiB)\n", total / 1e6, total, total / 1048576
  }'
  exit 0
fi
# lld's map: VMA, LMA, size and alignment in fixed columns (49 characters), then the output section (no indent),
# an input section (8 spaces: "file:(section)") or a symbol (16 spaces).
awk -v total="$size" '
  function hex(text,    value, i) {
    value = 0
    for (i = 1; i <= length(text); i++) value = value * 16 + index("0123456789abcdef", substr(text, i, 1)) - 1
    return value
  }
  NR == 1 { next }
  {
    rest = substr($0, 50)
    if (rest !~ /^ /) { out = rest; next }
    if (rest !~ /^        [^ ]/) next
    if (out ~ /^\.debug|^\.comment$|^\.symtab$|^\.strtab$|^\.shstrtab$|^\.bss$|^\.tbss$/) next
    input = substr(rest, 9)
    bytes = hex($3)
    if (input ~ /libswiftCore\.a/) part = "Swift runtime + standard library (libswiftCore)"
    else if (input ~ /libswift_Concurrency\.a|libdispatch\.a|libBlocksRuntime\.a/)
      part = "Swift concurrency runtime + libdispatch (the library'"'"'s async API)"
    else if (input ~ /libswift[A-Za-z_]*\.a/) part = "other Swift libraries (Glibc overlay, …)"
    else if (match(input, /\/[A-Za-z0-9_]+\.build\//)) part = "our module " substr(input, RSTART + 1, RLENGTH - 8)
    else if (input ~ /^<internal>/) {
      if (out ~ /^\.eh_frame/) part = "unwind tables (.eh_frame_hdr)"
      else if (out ~ /^\.rodata/) part = "merged string literals (all parts)"
      else part = "dynamic linking and relocation tables"
    }
    else part = "C runtime start files, libgcc"
    sum[part] += bytes
    all += bytes
  }
  END {
    for (p in sum) printf "%8.2f MB  %s\n", sum[p] / 1e6, p | "sort -rn"
    close("sort -rn")
    printf "%8.2f MB  headers, alignment padding\n", (total - all) / 1e6
    printf "%8.2f MB  stripped binary (%d bytes, %.2f MiB)\n", total / 1e6, total, total / 1048576
  }' "$map"
