#!/usr/bin/env python3
"""The expected output of every corpus case, from pandas (RealFileCorpusTests runs this once per test run).

usage: oracle.py CORPUS_DIR MANIFEST

For each case of the manifest (its files in order, each file's cases in order; case k is the k-th of that flattened
list) the expected bytes are

    pandas.read_csv(file, dtype=str, keep_default_na=False, **params).to_csv(index=False, lineterminator="\\n")

with engine="python" when params hold skipfooter (the C engine has no skipfooter), and with exactly the output rules
the README documents where they knowingly differ from pandas, and nothing else:

* Values are text. dtype=str makes pandas keep them as read, whatever the params' own dtype says (the user's dtype
  is dropped: values are never re-typed here).
* parse_dates: dates are decided per value, not per column. The named columns (names, or indices counted among the
  columns read, after usecols, as pandas counts them) are read as text, then each non-empty value goes through
  pandas.to_datetime(value, dayfirst=..., format=date_format) on its own. A value pandas cannot read is kept as it
  was. One pandas reads is written YYYY-MM-DD, or YYYY-MM-DD HH:MM:SS[.frac][±HH:MM] when the value gives a time
  (with date_format: the format has %H or %I; without: the value has H:MM), the fraction digits as the value wrote
  them, the offset when the value has a zone. (pandas itself parses a column whole and writes all its values in one
  shape; streaming decides value by value, and that is the documented rule.)
* decimal / thousands: pandas leaves text alone under dtype=str, so the oracle rewrites what the README says is
  rewritten: in data rows, outside date columns, a value that is a number in that notation (optional sign, one to
  three digits then groups of exactly three after each thousands separator, or plain digits; then optionally the
  decimal separator and one or more digits) becomes plain 1234.5, and only when a thousands separator was removed or
  the decimal separator was not ".".
* A case where pandas raises has the expected outcome "error" (the exception's text kept for the report).

Outputs go to CORPUS_DIR/expected/<key>/<k>.csv (or <k>.error), the key a hash of this script, the manifest, the
pandas version and every case file's bytes, so a warm run only hashes and prints; the directory's path is the last
line on stdout. pandas must be the 3.1 series (scripts/install-deps.sh installs it).
"""

import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import sys
import tempfile
import warnings

PANDAS_SERIES = "3.1."


def number_rewriter(decimal, thousands):
    t = re.escape(thousands) if thousands else None
    d = re.escape(decimal)
    whole = rf"\d{{1,3}}(?:{t}\d{{3}})+|\d+" if t else r"\d+"
    pattern = re.compile(rf"^([+-]?)({whole})(?:{d}(\d+))?$")

    def rewrite(value):
        match = pattern.match(value)
        if not match:
            return value
        sign, digits, fraction = match.groups()
        changed = bool(thousands) and thousands in digits or (fraction is not None and decimal != ".")
        if not changed:
            return value
        plain = digits.replace(thousands, "") if thousands else digits
        return sign + plain + ("" if fraction is None else "." + fraction)

    return rewrite


DATE_CACHE = {}  # (dayfirst, date_format) → {value: normalized}: several cases read the same columns


def date_normalizer(pd, dayfirst, date_format):
    gives_time = (lambda value: "%H" in date_format or "%I" in date_format) if date_format else (
        lambda value: re.search(r"\d:\d\d", value) is not None)
    cache = DATE_CACHE.setdefault((dayfirst, date_format), {})

    def normalize(value):
        if value == "":
            return value
        if value in cache:
            return cache[value]
        result = value
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                stamp = pd.to_datetime(value, dayfirst=dayfirst, format=date_format)
        except (ValueError, OverflowError, TypeError):
            stamp = None
        if stamp is not None and stamp is not pd.NaT:
            result = f"{stamp.year:04d}-{stamp.month:02d}-{stamp.day:02d}"
            if gives_time(value):
                result += f" {stamp.hour:02d}:{stamp.minute:02d}:{stamp.second:02d}"
                fraction = re.search(r"\d:\d\d[.,](\d+)", value)
                if fraction:
                    result += "." + fraction.group(1)
                if stamp.tzinfo is not None:
                    minutes = int(stamp.utcoffset().total_seconds() // 60)
                    sign = "-" if minutes < 0 else "+"
                    result += f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
        cache[value] = result
        return result

    return normalize


def expected(pd, path, params):
    params = dict(params)
    date_columns = params.pop("parse_dates", None) or []
    if date_columns is True:
        raise ValueError("parse_dates: true is not a case")
    if not isinstance(date_columns, list):
        date_columns = [date_columns]
    dayfirst = params.pop("dayfirst", False)
    date_format = params.pop("date_format", None)
    params.pop("dtype", None)
    if params.get("skipfooter"):
        params["engine"] = "python"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, **params)
    dates = set()
    for column in date_columns:
        if isinstance(column, int):
            dates.add(frame.columns[column])
        elif column in frame.columns:
            dates.add(column)
        else:
            raise ValueError(f"parse_dates: no column {column!r}")
    if date_columns:
        normalize = date_normalizer(pd, dayfirst, date_format)
        for column in dates:
            frame[column] = frame[column].map(normalize)
    if "decimal" in params or params.get("thousands"):
        rewrite = number_rewriter(params.get("decimal", "."), params.get("thousands"))
        for column in frame.columns:
            if column not in dates:
                frame[column] = frame[column].map(rewrite)
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


def cases(manifest):
    for entry in manifest["files"]:
        for case in entry["cases"]:
            yield entry["file"], case["params"]


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: oracle.py CORPUS_DIR MANIFEST")
    corpus, manifest_path = sys.argv[1], sys.argv[2]
    warnings.simplefilter("ignore")  # pandas' advice (dayfirst, format inference) is not an outcome
    try:
        version = importlib.metadata.version("pandas")
    except importlib.metadata.PackageNotFoundError:
        sys.exit("oracle: pandas is not installed (scripts/install-deps.sh installs it)")
    if not version.startswith(PANDAS_SERIES):
        sys.exit(f"oracle: pandas {version} found; the expected outputs are pandas {PANDAS_SERIES}x's"
                 " (scripts/install-deps.sh installs the pinned version)")
    with open(manifest_path, "rb") as handle:
        manifest_bytes = handle.read()
    manifest = json.loads(manifest_bytes)
    key = hashlib.sha256()
    with open(__file__, "rb") as handle:
        key.update(handle.read())
    key.update(manifest_bytes)
    key.update(version.encode())
    files = sorted({file for file, _ in cases(manifest)})
    for file in files:
        path = os.path.join(corpus, file)
        try:
            with open(path, "rb") as handle:
                key.update(file.encode() + b"\0" + hashlib.sha256(handle.read()).digest())
        except FileNotFoundError:
            sys.exit(f"oracle: {path} is missing: run scripts/fetch-corpus.sh")
    root = os.path.join(corpus, "expected")
    target = os.path.join(root, key.hexdigest()[:32])
    if not os.path.isdir(target):
        import pandas as pd

        os.makedirs(root, exist_ok=True)
        scratch = tempfile.mkdtemp(dir=root, prefix=".making-")
        for number, (file, params) in enumerate(cases(manifest)):
            try:
                output, suffix = expected(pd, os.path.join(corpus, file), params), ".csv"
            except Exception as error:  # pandas refusing the file is an expected outcome too
                output, suffix = f"{type(error).__name__}: {error}".encode(), ".error"
            with open(os.path.join(scratch, f"{number}{suffix}"), "wb") as handle:
                handle.write(output)
        try:
            os.rename(scratch, target)
        except OSError:
            shutil.rmtree(scratch)  # another run made it meanwhile
        for name in os.listdir(root):  # older keys are of no further use
            if name != os.path.basename(target) and not name.startswith("."):
                shutil.rmtree(os.path.join(root, name), ignore_errors=True)
    print(target)


if __name__ == "__main__":
    main()
