#!/usr/bin/env bash
# Builds web2ftp in release mode with the Swift standard library linked statically, strips it, and installs it as
# /usr/local/bin/web2ftp (PREFIX=/opt/x installs into /opt/x/bin), with its man page (PREFIX/share/man/man1/web2ftp.1)
# and its bash and zsh completions (PREFIX/share/bash-completion/completions/web2ftp,
# PREFIX/share/zsh/site-functions/_web2ftp). At run time the binary needs libc, libstdc++, OpenSSL 3
# (Debian: libssl3) and zlib (zlib1g). Budget: ~3 min.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || export PATH="/opt/swift/usr/bin:$PATH"
prefix="${PREFIX:-/usr/local}"
# The flags and what they save: scripts/lib/release-flags.sh, README "Binary size".
source scripts/lib/release-flags.sh
w2f_build_release .build-static .build-static/install/web2ftp
install -d "$prefix/bin"
install -m 0755 .build-static/install/web2ftp "$prefix/bin/web2ftp"
install -D -m 0644 docs/web2ftp.1 "$prefix/share/man/man1/web2ftp.1"
install -D -m 0644 contrib/completions/web2ftp.bash "$prefix/share/bash-completion/completions/web2ftp"
install -D -m 0644 contrib/completions/_web2ftp "$prefix/share/zsh/site-functions/_web2ftp"
"$prefix/bin/web2ftp" --version
echo "installed $prefix/bin/web2ftp ($(stat -c %s "$prefix/bin/web2ftp") bytes); at run time it needs libc, libstdc++, OpenSSL 3 (libssl3) and zlib (zlib1g)"
echo "installed $prefix/share/man/man1/web2ftp.1 (man web2ftp) and the completions for bash and zsh"
