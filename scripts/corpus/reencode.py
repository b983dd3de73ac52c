#!/usr/bin/env python3
"""Makes the re-encoded variants of some corpus files (scripts/fetch-corpus.sh runs it; deterministic).

usage: reencode.py CORPUS_DIR

Each variant is an original third-party file written again the way a user's other tools would write it: in latin-1,
cp1252 or UTF-16 (with its byte-order mark), with a UTF-8 byte-order mark, `;`-separated with a decimal comma (and, for
one, `.` as the thousands separator), or with CRLF line ends. Only the notation changes, never the data: the rows are
read with Python's csv module and written with it again (minimal quoting); in data rows (never the header) a field that
is a plain decimal number (`-12.5`) has its `.` written as the decimal comma, and with a thousands separator an integer
part of four digits or more is grouped by three (`135450` → `135.450`). A file whose text does not fit the target
encoding is refused (UnicodeEncodeError), not approximated.

Variants land in CORPUS_DIR/variants/; a file is rewritten only when its bytes would change, so a warm run changes
nothing (the oracle's cache stays valid). scripts/corpus/files.txt holds each variant's SHA-256, which fetch-corpus.sh
checks after this script ran.
"""

import csv
import io
import os
import re
import sys

# (variant name, original, encoding, separator, decimal, thousands, line terminator)
VARIANTS = [
    ("canadian_senators.latin1.csv", "lifelines/canadian_senators.csv", "latin-1", ",", ".", None, "\n"),
    ("canadian_senators.cp1252-semicolon-crlf.csv", "lifelines/canadian_senators.csv", "cp1252", ";", ",", None,
     "\r\n"),
    ("canadian_senators.utf16.csv", "lifelines/canadian_senators.csv", "utf-16", ",", ".", None, "\n"),
    ("dd.cp1252-semicolon.csv", "lifelines/dd.csv", "cp1252", ";", ",", None, "\n"),
    ("macrodata.semicolon-decimal-comma.csv", "statsmodels/macrodata.csv", "utf-8", ";", ",", None, "\n"),
    ("seattle-weather.utf8sig-semicolon.csv", "vega_datasets/seattle-weather.csv", "utf-8-sig", ";", ",", None, "\n"),
    ("us-employment.cp1252-de-crlf.csv", "vega_datasets/us-employment.csv", "cp1252", ";", ",", ".", "\r\n"),
    ("penguins-raw.utf16.csv", "palmerpenguins/penguins-raw.csv", "utf-16", ",", ".", None, "\n"),
    ("airports.latin1-semicolon.csv", "vega_datasets/airports.csv", "latin-1", ";", ",", None, "\n"),
    ("fertility.cp1252-semicolon-crlf.csv", "statsmodels/fertility.csv", "cp1252", ";", ",", None, "\r\n"),
    ("lymph_node.iso8859-15-semicolon.csv", "lifelines/lymph_node.csv", "iso-8859-15", ";", ".", None, "\n"),
]

NUMBER = re.compile(r"^(-?)(\d+)(?:\.(\d+))?$")


def renumber(value, decimal, thousands):
    match = NUMBER.match(value)
    if not match:
        return value
    sign, whole, fraction = match.groups()
    if thousands and len(whole) > 3:
        head = len(whole) % 3 or 3
        whole = whole[:head] + "".join(thousands + whole[i:i + 3] for i in range(head, len(whole), 3))
    return sign + whole + ("" if fraction is None else decimal + fraction)


def encode(text, encoding):
    if encoding == "utf-16":
        # Little-endian with its byte-order mark, whatever the machine's byte order.
        return b"\xff\xfe" + text.encode("utf-16-le")
    if encoding == "utf-8-sig":
        return b"\xef\xbb\xbf" + text.encode("utf-8")
    return text.encode(encoding)


def variant(original_bytes, encoding, separator, decimal, thousands, terminator):
    text = original_bytes.decode("utf-8-sig")
    if separator == "," and decimal == "." and thousands is None and terminator == "\n":
        return encode(text, encoding)  # a re-encoding only: the same text, byte for byte
    rows = list(csv.reader(io.StringIO(text, newline="")))
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=separator, lineterminator=terminator, quoting=csv.QUOTE_MINIMAL)
    for number, row in enumerate(rows):
        if number > 0 and (decimal != "." or thousands):
            row = [renumber(value, decimal, thousands) for value in row]
        writer.writerow(row)
    return encode(out.getvalue(), encoding)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: reencode.py CORPUS_DIR")
    corpus = sys.argv[1]
    os.makedirs(os.path.join(corpus, "variants"), exist_ok=True)
    written = 0
    for name, original, encoding, separator, decimal, thousands, terminator in VARIANTS:
        with open(os.path.join(corpus, original), "rb") as handle:
            data = variant(handle.read(), encoding, separator, decimal, thousands, terminator)
        target = os.path.join(corpus, "variants", name)
        try:
            with open(target, "rb") as handle:
                if handle.read() == data:
                    continue
        except FileNotFoundError:
            pass
        with open(target + ".tmp", "wb") as handle:
            handle.write(data)
        os.replace(target + ".tmp", target)
        written += 1
    if written:
        print(f"reencode: wrote {written} variant(s) in {os.path.join(corpus, 'variants')}", file=sys.stderr)


if __name__ == "__main__":
    main()
