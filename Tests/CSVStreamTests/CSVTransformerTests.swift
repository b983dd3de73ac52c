@_spi(Internals) import CSVStream
import Testing

@Suite("CSV tokenizer and writer")
struct CSVTokenizerTests {
    @Test("quoted fields with separators, doubled quotes and line breaks come out RFC 4180-quoted")
    func quoting() {
        #expect(
            transform("a,b\n\"x,y\",\"say \"\"hi\"\"\"\n\"multi\nline\",z\n")
                == "a,b\n\"x,y\",\"say \"\"hi\"\"\"\n\"multi\nline\",z\n")
        // Quotes that are not needed go.
        #expect(transform("a,b\n\"plain\",\"\"\n") == "a,b\nplain,\n")
    }

    @Test("CRLF, LF and lone CR line ends; a missing final line end")
    func lineEnds() {
        #expect(transform("a,b\r\n1,2\r3,4\n5,6") == "a,b\n1,2\n3,4\n5,6\n")
    }

    @Test("blank lines are skipped by default; kept as empty rows when asked")
    func blankLines() {
        #expect(transform("a\n\n1\n\n\n2\n") == "a\n1\n2\n")
        #expect(transform("a\n\n1\n", ["skip_blank_lines": .bool(false)]) == "a\n\"\"\n1\n")
    }

    @Test("a stray quote inside an unquoted field is kept; text after a closing quote is appended")
    func lenient() {
        #expect(transform("a,b\n5\"2,x\n\"ab\"cd,y\n") == "a,b\n\"5\"\"2\",x\nabcd,y\n")
    }

    @Test("an unterminated quote is an error naming the row")
    func unterminated() {
        #expect(
            transform("a,b\n1,2\n\"open,3\n4,5\n") == "error: unterminated quoted field in row 3 (starting on line 3)")
    }

    @Test("an empty body is an error; a header-only body is published as it is")
    func emptyAndHeaderOnly() {
        #expect(transform("", ["sep": .string(",")]) == "error: no data: the body is empty")
        #expect(transform("a;b\n", ["sep": .string(";")]) == "a,b\n")
    }

    @Test("a row longer than the cap is refused")
    func longRow() {
        var options = CSVOptions()
        options.maxRowBytes = 100
        #expect(
            run([Array(("a\n\"" + String(repeating: "x", count: 200)).utf8)], options).0.hasPrefix(
                "error: row 2 is longer than 100 bytes"))
    }
}

@Suite("CSV PARAMS")
struct CSVParamsTests {
    @Test("sep (tab included), quotechar, escapechar, comment")
    func characters() {
        #expect(transform("a;b\n1;\"x;y\"\n", ["sep": .string(";")]) == "a,b\n1,x;y\n")
        #expect(transform("a\tb\n1\t2\n", ["sep": .string("\t")]) == "a,b\n1,2\n")
        #expect(transform("a\tb\n1\t2\n", ["delimiter": .string("\\t")]) == "a,b\n1,2\n")
        #expect(transform("a,b\n'x,y',2\n", ["quotechar": .string("'")]) == "a,b\n\"x,y\",2\n")
        #expect(transform("a,b\nx\\,y,2\n", ["escapechar": .string("\\")]) == "a,b\n\"x,y\",2\n")
        #expect(transform("a,b\n# note\n1,2 # tail\n", ["comment": .string("#")]) == "a,b\n1,2 \n")
    }

    @Test("header, names, skiprows, nrows")
    func rows() {
        #expect(transform("junk\njunk\na,b\n1,2\n", ["skiprows": .integer(2)]) == "a,b\n1,2\n")
        #expect(transform("x\na,b\n1,2\n", ["header": .integer(1)]) == "a,b\n1,2\n")
        #expect(transform("1,2\n3,4\n", ["header": .null]) == "1,2\n3,4\n")
        #expect(transform("1,2\n3,4\n", ["names": .array([.string("p"), .string("q")])]) == "p,q\n1,2\n3,4\n")
        #expect(
            transform("a,b\n1,2\n", ["names": .array([.string("p"), .string("q")]), "header": .integer(0)])
                == "p,q\n1,2\n")
        #expect(transform("a\n1\n2\n3\n", ["nrows": .integer(2)]) == "a\n1\n2\n")
    }

    @Test("usecols by name or index keeps the file's column order")
    func usecols() {
        #expect(transform("a,b,c\n1,2,3\n", ["usecols": .array([.string("c"), .string("a")])]) == "a,c\n1,3\n")
        #expect(transform("a,b,c\n1,2,3\n", ["usecols": .array([.integer(1)])]) == "b\n2\n")
        #expect(
            transform("a,b\n1,2\n", ["usecols": .array([.string("zz")])])
                == "error: usecols: no column named 'zz' (columns: a, b)")
    }

    @Test("rows with too many fields: error by default, skipped and counted with warn or skip; short rows padded")
    func badLines() {
        #expect(transform("a,b\n1,2,3\n") == "error: expected 2 fields, saw 3 at row 2")
        #expect(transform("a,b\n1,2,3\n4,5\n", ["on_bad_lines": .string("skip")]) == "a,b\n4,5\n")
        let (_, counters) = run([Array("a,b\n1,2,3\n4\n".utf8)], options(["on_bad_lines": .string("warn")]))
        #expect(counters.badRowsSkipped == 1 && counters.rowsOut == 1)
        #expect(transform("a,b,c\n1\n") == "a,b,c\n1,,\n")
    }

    @Test("skipfooter holds back the last rows")
    func skipFooter() {
        #expect(transform("a\n1\n2\n3\ntotal\nend\n", ["skipfooter": .integer(2)]) == "a\n1\n2\n3\n")
        #expect(transform("a\n1\n", ["skipfooter": .integer(5)]) == "a\n")
    }

    @Test("decimal and thousands rewrite numbers in that notation only; no re-typing")
    func numbers() {
        let params: [String: CSVParam] = ["sep": .string(";"), "decimal": .string(","), "thousands": .string(".")]
        #expect(
            transform("v;w\n1.234,50;007\n-12,5;1.5\n2.345.678;x,y\n", params)
                == "v,w\n1234.50,007\n-12.5,1.5\n2345678,\"x,y\"\n")
    }

    @Test("parse_dates: the formats read, values ISO 8601, unparseable ones kept and counted")
    func dates() {
        let input = """
            d,n
            2024-01-31,1
            2024/02/29 13:05,2
            31.12.2023 23:59:59,3
            03/04/2024,4
            13/04/2024,5
            2024-05-06T07:08:09.250Z,6
            2024-05-06 07:08:09+0530,7
            7 Jan 2024,8
            Feb 3 2024,9
            March 4 2024,10
            not a date,11
            2023-02-29,12
            01/02/69,13

            """
        let (output, counters) = run([Array(input.utf8)], options(["parse_dates": .array([.string("d")])]))
        #expect(
            output == """
                d,n
                2024-01-31,1
                2024-02-29 13:05:00,2
                2023-12-31 23:59:59,3
                2024-03-04,4
                2024-04-13,5
                2024-05-06 07:08:09.250+00:00,6
                2024-05-06 07:08:09+05:30,7
                2024-01-07,8
                2024-02-03,9
                2024-03-04,10
                not a date,11
                2023-02-29,12
                1969-01-02,13

                """)
        #expect(counters.datesUnparsed == 2)
        #expect(
            transform("d\n03/04/2024\n", ["parse_dates": .array([.integer(0)]), "dayfirst": .bool(true)])
                == "d\n2024-04-03\n")
        #expect(
            transform(
                "d\n20240131 0730\n", ["parse_dates": .array([.string("d")]), "date_format": .string("%Y%m%d %H%M")])
                == "d\n2024-01-31 07:30:00\n")
        #expect(
            transform(
                "d\n31-Jan-24 02:15 PM\n",
                ["parse_dates": .array([.string("d")]), "date_format": .string("%d-%b-%y %I:%M %p")])
                == "d\n2024-01-31 14:15:00\n")
    }

    @Test("OUTPUT: separator, CRLF line ends, BOM")
    func output() {
        #expect(
            transform("a,b\n1,\"x;y\"\n", output: ["sep": .string(";"), "lineterminator": .string("\r\n")])
                == "a;b\r\n1;\"x;y\"\r\n")
        #expect(transform("a\n1\n", output: ["bom": .bool(true)]) == "\u{FEFF}a\n1\n")
    }

    @Test("counters")
    func counters() {
        let (_, counters) = run([Array("a,b\n1,2\n3,4\n5,6\n".utf8)], options(["nrows": .integer(2)]))
        #expect(counters.rowsIn == 2 && counters.rowsOut == 2 && counters.bytesIn == 16 && counters.bytesOut == 12)
    }

    @Test("a bad config lists every problem at once")
    func config() throws {
        do {
            _ = try CSVOptions(params: [
                "sep": .string(";;"), "encoding": .string("ebcdic"), "nrows": .integer(-1), "index_col": .integer(0),
                "low_memory": .bool(false),
            ])
            Issue.record("accepted a bad config")
        } catch {
            #expect(error.problems.count == 4, "\(error.problems)")
            #expect(error.description.contains("unknown PARAMS key 'index_col'"))
            #expect(error.description.contains("encoding \"ebcdic\" is not supported"))
        }
        let quiet = try CSVOptions(params: ["engine": .string("c"), "dtype": .string("str")])
        #expect(quiet.ignoredKeys == ["engine"] && quiet.textDtype == "str")
        #expect(CSVOptions().isPassthrough)
        #expect(!(try CSVOptions(params: ["sep": .string(",")])).isPassthrough)
    }
}

@Suite("CSV encodings")
struct CSVEncodingTests {
    @Test("names matched as Python does")
    func names() {
        #expect(CSVEncoding(pythonName: "Latin_1") == .latin1)
        #expect(CSVEncoding(pythonName: "L1") == .latin1)
        #expect(CSVEncoding(pythonName: "UTF8") == .utf8)
        #expect(CSVEncoding(pythonName: "windows-1252") == .cp1252)
        #expect(CSVEncoding(pythonName: "ISO-8859-15") == .latin9)
        #expect(CSVEncoding(pythonName: "utf_8_sig") == .utf8Signature)
        #expect(CSVEncoding(pythonName: "ebcdic") == nil)
    }

    @Test("latin-1, cp1252 (0x80–0x9F differ) and ISO-8859-15 to UTF-8")
    func singleByte() {
        let bytes: [UInt8] = Array("a\n".utf8) + [0xE9, 0x80, 0xA4, 10]
        #expect(transform(bytes, options(["encoding": .string("latin-1")])) == "a\né\u{80}¤\n")
        #expect(transform(bytes, options(["encoding": .string("cp1252")])) == "a\né€¤\n")
        #expect(transform(bytes, options(["encoding": .string("iso-8859-15")])) == "a\né\u{80}€\n")
        #expect(
            transform(Array("a\n".utf8) + [0x81, 10], options(["encoding": .string("cp1252")])).hasPrefix(
                "error: byte 0x81 at byte offset 2 is not valid cp1252 (row 2)"))
    }

    @Test(
        """
        single-byte code pages in long runs of accented text (eight bytes at a time): the same text, \
        an undefined byte found at its offset
        """
    )
    func singleByteRuns() {
        // é a ü € b ß ä c ö d Ä e
        let accented: [UInt8] = [0xE9, 0x61, 0xFC, 0x80, 0x62, 0xDF, 0xE4, 0x63, 0xF6, 0x64, 0xC4, 0x65]
        let input = Array("a\n".utf8) + accented + accented + [10]
        let line = "éaü€bßäcödÄe"
        #expect(transform(input, options(["encoding": .string("cp1252")])) == "a\n\(line)\(line)\n")
        #expect(
            transform(input, options(["encoding": .string("latin-1")])) == "a\n"
                + String(repeating: "éaü\u{80}bßäcödÄe", count: 2) + "\n")
        var holed = input
        holed[2 + 13] = 0x8D  // undefined in cp1252, in the middle of a word of accented text
        #expect(
            transform(holed, options(["encoding": .string("cp1252")])).hasPrefix(
                "error: byte 0x8D at byte offset 15 is not valid cp1252 (row 2)"))
        #expect(
            transform(holed, options(["encoding": .string("cp1252"), "encoding_errors": .string("replace")]))
                == "a\n\(line)é\u{FFFD}ü€bßäcödÄe\n")
    }

    @Test("UTF-8: BOM dropped, multi-byte characters split anywhere, invalid bytes an error or U+FFFD")
    func utf8() {
        #expect(
            transform([0xEF, 0xBB, 0xBF] + Array("a,b\nü,€😀\n".utf8), options(["sep": .string(",")]))
                == "a,b\nü,€😀\n")
        let bad: [UInt8] = Array("a\nx".utf8) + [0xC3, 0x28, 10]
        #expect(
            transform(bad, options(["encoding": .string("utf-8")])).hasPrefix(
                "error: byte 0xC3 at byte offset 3 is not valid utf-8 (row 2)"))
        #expect(transform(bad, options(["encoding_errors": .string("replace")])) == "a\nx\u{FFFD}(\n")
    }

    @Test("UTF-16 with BOM, little- and big-endian, surrogate pairs")
    func utf16() {
        let text = "a,b\nü,😀\n"
        let le: [UInt8] = [0xFF, 0xFE] + text.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        let be: [UInt8] = [0xFE, 0xFF] + text.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        #expect(transform(le, options(["encoding": .string("utf-16")])) == text)
        #expect(transform(be, options(["encoding": .string("utf-16")])) == text)
    }
}
