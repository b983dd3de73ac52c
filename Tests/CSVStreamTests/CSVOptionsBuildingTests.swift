import CSVStream
import Testing

@Suite("CSVOptions built in Swift")
struct CSVOptionsBuildingTests {
    @Test("typed options are checked as PARAMS are, every problem listed")
    func typedValidation() throws {
        var options = CSVOptions()
        options.separator = UInt8(ascii: "\"")
        options.decimal = UInt8(ascii: ",")
        options.thousands = UInt8(ascii: ",")
        options.names = ["a", "a"]
        options.skipFooter = 20_000
        options.columns = [.name("a"), .index(1)]
        options.comment = 10
        #expect(throws: CSVConfigError.self) { try options.validate() }
        do {
            try options.validate()
        } catch {
            #expect(error.problems.contains("sep and quotechar must differ"))
            #expect(error.problems.contains("decimal and thousands must differ"))
            #expect(error.problems.contains("names has duplicates: [\"a\", \"a\"]"))
            #expect(error.problems.contains("skipfooter 20000 is too large (at most 10000 rows are held back)"))
            #expect(error.problems.contains("usecols must be all column names or all indices, not a mix"))
            #expect(error.problems.contains { $0.hasPrefix("comment must be one ASCII character") })
            #expect(error.problems.count == 6)
        }
        try CSVOptions().validate()
    }

    @Test("the dictionary path reports each problem once, as before")
    func dictionaryProblemsOnce() {
        func problems(_ params: [String: CSVParam]) -> [String] {
            do {
                _ = try CSVOptions(params: params)
                return []
            } catch {
                return error.problems
            }
        }
        #expect(problems(["names": ["a", "a"]]) == ["names has duplicates: [\"a\", \"a\"]"])
        #expect(problems(["sep": "'", "quotechar": "'"]) == ["sep and quotechar must differ"])
        #expect(
            problems(["skipfooter": 10_001]) == ["skipfooter 10001 is too large (at most 10000 rows are held back)"])
    }

    @Test("typed options equal the same options from a dictionary; ignored keys aside, a transform request counts")
    func equality() throws {
        var typed = CSVOptions()
        typed.separator = UInt8(ascii: ";")
        typed.columns = [.name("id")]
        typed.header = 0
        let fromDictionary = try CSVOptions(params: ["sep": ";", "usecols": ["id"], "header": 0, "engine": "c"])
        #expect(typed == fromDictionary)
        #expect(!typed.isPassthrough)
        // OUTPUT {} asks for a transform with every default: not the same as no OUTPUT.
        let empty = try CSVOptions(params: [:], output: [:])
        #expect(empty != CSVOptions() && !empty.isPassthrough && CSVOptions().isPassthrough)
        var asked = CSVOptions()
        asked.transformRequested = true
        #expect(asked == empty)
    }

    @Test("CSVParam literals build what JSON would")
    func literals() {
        let params: [String: CSVParam] = [
            "sep": ";", "skiprows": 1, "x": 1.5, "dayfirst": true, "thousands": nil, "usecols": ["a", 2],
            "dtype": ["a": "str"],
        ]
        #expect(params["sep"] == .string(";") && params["skiprows"] == .integer(1) && params["x"] == .number(1.5))
        #expect(params["dayfirst"] == .bool(true) && params["thousands"] == .null)
        #expect(params["usecols"] == .array([.string("a"), .integer(2)]))
        #expect(params["dtype"] == .object(["a": .string("str")]))
    }

    @Test("push takes an array or a slice of one, with the same output as a buffer, however the input is split")
    func pushOverloads() throws {
        let options = try CSVOptions(params: ["sep": ";", "usecols": ["b"]])
        let input = Array("a;b\n1;2\n3;4\n".utf8)
        var whole: [UInt8] = []
        let first = CSVTransformer(options: options)
        try first.push(input, into: &whole)
        try first.finish(into: &whole)
        #expect(String(decoding: whole, as: UTF8.self) == "b\n2\n4\n")
        var split: [UInt8] = []
        let second = CSVTransformer(options: options)
        for index in input.indices { try second.push(input[index...index], into: &split) }
        try second.finish(into: &split)
        #expect(split == whole)
    }
}
