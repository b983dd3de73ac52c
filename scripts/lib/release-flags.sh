# Sourced by scripts/install.sh and scripts/bench.sh: the `swift build` arguments of the binary users install (release,
# static Swift standard library), in W2F_RELEASE_FLAGS. What each flag saves is in the README, "Binary size".
# -Osize for the CLI and the config/run glue (WebToFTP, web2ftp) is in Package.swift; the byte paths keep -O.
w2f_release_flags() {
  W2F_RELEASE_FLAGS=(
    -c release --static-swift-stdlib --product web2ftp
    # Internal functions in sections of their own, and public ones no longer kept whatever happens: the linker's
    # --gc-sections (SwiftPM passes it) then drops what nothing calls, our unused public API included.
    -Xswiftc -Xfrontend -Xswiftc -function-sections
    -Xswiftc -Xfrontend -Xswiftc -internalize-at-link
    # SwiftPM exports every symbol of an executable (a dynamic symbol table of our names, and all of them GC roots).
    -Xlinker --no-export-dynamic
    # Identical functions folded when nothing takes their address (gold and lld both have it).
    -Xlinker --icf=safe
  )
  local swiftc
  swiftc="$(readlink -f "$(command -v swiftc)")"
  if [ -x "$(dirname "$swiftc")/ld.lld" ]; then
    W2F_RELEASE_FLAGS+=(-Xswiftc -use-ld=lld)
    # Packed relative relocations (DT_RELR): 0.6 MB less than PIE's .rela.dyn. The loader must know them: glibc 2.36.
    local glibc
    glibc="$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}')"
    if [ -n "$glibc" ] && [ "$(printf '%s\n2.36\n' "$glibc" | sort -V | head -1)" = "2.36" ]; then
      W2F_RELEASE_FLAGS+=(-Xlinker -z -Xlinker pack-relative-relocs)
    fi
  fi
}

# Builds the binary users install into SCRATCH (a --scratch-path of its own) and writes it stripped to OUTPUT, with
# lld's link map next to it (OUTPUT.map, for scripts/binary-size.sh). SwiftPM does not recompile when only -Xswiftc
# flags change, so a scratch built with other flags is cleared first.
w2f_build_release() {
  local scratch="$1" output="$2"
  w2f_release_flags
  local stamp="$scratch/w2f-release-flags"
  if [ -d "$scratch" ] && [ "$(cat "$stamp" 2>/dev/null)" != "${W2F_RELEASE_FLAGS[*]}" ]; then rm -rf "$scratch"; fi
  mkdir -p "$scratch" "$(dirname "$output")"
  swift build "${W2F_RELEASE_FLAGS[@]}" --scratch-path "$scratch" -Xlinker "-Map=$output.map"
  echo "${W2F_RELEASE_FLAGS[*]}" >"$stamp"
  strip -o "$output" "$scratch/release/web2ftp"
}
