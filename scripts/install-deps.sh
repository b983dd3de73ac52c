#!/usr/bin/env bash
# Installs what building and testing web2ftp needs on a fresh Debian 12 machine, and nothing when it is all there.
# The Swift toolchain itself is expected at /opt/swift or on PATH (this project's machines ship it).
# Budget: ~1 min when packages must be fetched, ~0 s otherwise.
set -euo pipefail

need=()
dpkg -s libssl-dev >/dev/null 2>&1 || need+=(libssl-dev)
dpkg -s zlib1g-dev >/dev/null 2>&1 || need+=(zlib1g-dev)
dpkg -s ca-certificates >/dev/null 2>&1 || need+=(ca-certificates)
command -v openssl >/dev/null || need+=(openssl)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
[ -x /usr/sbin/vsftpd ] || need+=(vsftpd)
command -v curl >/dev/null || need+=(curl)
command -v setsid >/dev/null || need+=(util-linux)
command -v useradd >/dev/null || need+=(passwd)
command -v python3 >/dev/null || need+=(python3 python3-pip)
[ -f /usr/share/zoneinfo/Europe/Berlin ] || need+=(tzdata)  # the schedule's DST tests
# The man page and completion checks (OperatorDocsTests): groff renders docs/web2ftp.1, zsh parses _web2ftp.
command -v groff >/dev/null || need+=(groff-base)
command -v zsh >/dev/null || need+=(zsh)
# KubernetesManifestTests reads contrib/kubernetes/web2ftp.yaml with Python's YAML parser.
python3 -c 'import yaml' 2>/dev/null || need+=(python3-yaml)
# The metrics checks (MetricsFileTests): promtool checks the exposition text and the example alert rules.
command -v promtool >/dev/null || need+=(prometheus)
# systemd-analyze verify checks the units in contrib/, systemd-escape the shard template's instance (SystemdUnitsTests).
command -v systemd-analyze >/dev/null || need+=(systemd)

if [ ${#need[@]} -gt 0 ]; then
  echo "install-deps: installing ${need[*]}" >&2
  sudo_cmd=""
  [ "$(id -u)" = 0 ] || sudo_cmd=sudo
  # Keep the packages' maintainer scripts from starting system-wide nginx/vsftpd on ports 80/21.
  policy=/usr/sbin/policy-rc.d made_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo_cmd tee "$policy" >/dev/null
    $sudo_cmd chmod +x "$policy"
    made_policy=1
  fi
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  [ -z "$made_policy" ] || $sudo_cmd rm -f "$policy"
fi

# Test-only oracles: Python's csv module ships with python3; pandas comes from PyPI, pinned: the expected bytes of the
# pandas differential checks (and the real-file corpus) are pandas 3.1's.
pandas_version=3.1.1
if [ "$(python3 -c 'import pandas; print(pandas.__version__)' 2>/dev/null)" != "$pandas_version" ]; then
  echo "install-deps: installing pandas $pandas_version (test oracle for the CSV transformer)" >&2
  python3 -m pip install --quiet --disable-pip-version-check "pandas==$pandas_version"
fi

# The terminal tests read web2ftp's output through pyte, a VT100 emulator (scripts/lib/pty-screen.py).
pyte_version=0.8.2
if [ "$(python3 -c 'import pyte, importlib.metadata as m; print(m.version("pyte"))' 2>/dev/null)" != "$pyte_version" ]; then
  echo "install-deps: installing pyte $pyte_version (terminal emulator for the TTY output tests)" >&2
  python3 -m pip install --quiet --disable-pip-version-check "pyte==$pyte_version"
fi

if ! command -v swift >/dev/null && [ ! -x /opt/swift/usr/bin/swift ]; then
  echo "install-deps: no Swift toolchain found (expected swift on PATH or /opt/swift/usr/bin/swift)" >&2
  exit 1
fi
