import Foundation
import JSONL
import Testing

/// The `test_parsing` cases of JSONTestSuite (github.com/nst/JSONTestSuite, MIT), read from
/// `../shared/testdata/JSONTestSuite`: every `y_` accepted, every `n_` rejected, every `i_` as documented here.
@Suite("JSONTestSuite")
struct JSONTestSuiteTests {
    /// Our choice for every implementation-defined case, and why.
    static let implementationDefined: [String: Bool] = [
        // Numbers are kept as written and never converted, so magnitude and precision do not matter.
        "i_number_double_huge_neg_exp.json": true,
        "i_number_huge_exp.json": true,
        "i_number_neg_int_huge_exp.json": true,
        "i_number_pos_double_huge_exp.json": true,
        "i_number_real_neg_overflow.json": true,
        "i_number_real_pos_overflow.json": true,
        "i_number_real_underflow.json": true,
        "i_number_too_big_neg_int.json": true,
        "i_number_too_big_pos_int.json": true,
        "i_number_very_big_negative_int.json": true,
        // Unpaired surrogate escapes cannot be unescaped to UTF-8 (and PostgreSQL text/jsonb refuse
        // them), so they are rejected: loneSurrogate.
        "i_object_key_lone_2nd_surrogate.json": false,
        "i_string_1st_surrogate_but_2nd_missing.json": false,
        "i_string_1st_valid_surrogate_2nd_invalid.json": false,
        "i_string_incomplete_surrogate_and_escape_valid.json": false,
        "i_string_incomplete_surrogate_pair.json": false,
        "i_string_incomplete_surrogates_escape_valid.json": false,
        "i_string_invalid_lonely_surrogate.json": false,
        "i_string_invalid_surrogate.json": false,
        "i_string_inverted_surrogates_U+1D11E.json": false,
        "i_string_lone_second_surrogate.json": false,
        // Input must be well-formed UTF-8 (RFC 8259 §8.1): other encodings, overlongs, encoded
        // surrogates, code points above U+10FFFF, stray or truncated sequences are rejected.
        "i_string_UTF-16LE_with_BOM.json": false,
        "i_string_UTF-8_invalid_sequence.json": false,
        "i_string_UTF8_surrogate_U+D800.json": false,
        "i_string_invalid_utf-8.json": false,
        "i_string_iso_latin_1.json": false,
        "i_string_lone_utf8_continuation_byte.json": false,
        "i_string_not_in_unicode_range.json": false,
        "i_string_overlong_sequence_2_bytes.json": false,
        "i_string_overlong_sequence_6_bytes.json": false,
        "i_string_overlong_sequence_6_bytes_null.json": false,
        "i_string_truncated-utf-8.json": false,
        "i_string_utf16BE_no_BOM.json": false,
        "i_string_utf16LE_no_BOM.json": false,
        // 500 levels are within the default maxDepth of 512.
        "i_structure_500_nested_arrays.json": true,
        // A byte order mark is not JSON (RFC 8259 §8.1: "MUST NOT add"); we do not skip it.
        "i_structure_UTF-8_BOM_empty_object.json": false,
    ]

    @Test("the suite is present")
    func suitePresent() {
        #expect(testSuiteFiles(prefix: "y_").count == 95)
        #expect(testSuiteFiles(prefix: "n_").count == 188)
        #expect(testSuiteFiles(prefix: "i_").count == 35)
    }

    @Test("y_ cases are accepted as documents", arguments: testSuiteFiles(prefix: "y_"))
    func accepted(_ name: String) {
        let error = validateDocument(testSuiteBytes(name))
        #expect(error == nil, "\(name): \(String(describing: error))")
    }

    @Test("n_ cases are rejected as documents", arguments: testSuiteFiles(prefix: "n_"))
    func rejected(_ name: String) {
        #expect(validateDocument(testSuiteBytes(name)) != nil, "\(name)")
    }

    @Test("i_ cases follow the documented choice", arguments: testSuiteFiles(prefix: "i_"))
    func implementationDefined(_ name: String) {
        guard let expected = Self.implementationDefined[name] else {
            Issue.record("no documented choice for \(name)")
            return
        }
        let error = validateDocument(testSuiteBytes(name))
        #expect((error == nil) == expected, "\(name): \(String(describing: error))")
    }

    /// As a JSONL line (the cases without an inner newline; whitespace-only ones are blank lines).
    @Test("every case gives the same verdict as a JSONL line, whole and split byte by byte")
    func asLines() {
        for name in testSuiteFiles(prefix: "") {
            let bytes = testSuiteBytes(name)
            var body = bytes
            if body.last == 0x0A { body.removeLast() }
            if body.contains(0x0A) { continue }
            if body.allSatisfy({ [0x20, 0x09, 0x0D].contains($0) }) { continue }
            let expected: Bool =
                name.hasPrefix("y_") ? true : name.hasPrefix("n_") ? false : Self.implementationDefined[name]!
            let options = JSONLParser.Options(invalidLines: .report)
            let whole = parse(bytes, options: options)
            #expect(whole.lines.count == 1, "\(name)")
            #expect((whole.lines.first?.error == nil) == expected, "\(name)")
            if bytes.count < 2000 {
                let split = parse(bytes, options: options, cuts: Array(0..<bytes.count))
                #expect(split == whole, "\(name)")
            }
        }
    }

    @Test("the documented errors of a few cases")
    func reasons() {
        func code(_ name: String) -> JSONLError.Code? { validateDocument(testSuiteBytes(name))?.code }
        #expect(code("i_string_overlong_sequence_2_bytes.json") == .invalidUTF8)
        #expect(code("i_string_lone_second_surrogate.json") == .loneSurrogate)
        #expect(code("i_structure_UTF-8_BOM_empty_object.json") == .unexpectedCharacter)
        #expect(code("n_structure_100000_opening_arrays.json") == .tooDeep)
        #expect(code("n_string_unescaped_tab.json") == .controlCharacterInString)
        #expect(code("n_number_-01.json") == .unexpectedCharacter)  // [-01]: the 1 after -0
        #expect(code("n_structure_double_array.json") == .trailingCharacters)
        #expect(code("n_structure_no_data.json") == .unexpectedEndOfLine)
        // 500 levels fail with a lower limit.
        #expect(validateDocument(testSuiteBytes("i_structure_500_nested_arrays.json"), maxDepth: 499)?.code == .tooDeep)
    }
}
