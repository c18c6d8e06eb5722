import Foundation
import TasteGraphCore
import TasteGraphGraph
import TasteGraphSupport
import TestSupport
import Testing

/// Explicit split files: `user<TAB>item<TAB>weight`, optional header, ids mapped through the catalog.
@Suite struct SplitFileTests {
    /// Text ids as other datasets have them: hex user hashes, item ids with spaces, and a user literally named
    /// like the header's first column.
    static var catalog: Catalog {
        var catalog = Catalog(userCount: 3, itemCount: 3)
        catalog.userExternalIDs = ["00ff3a9c", "b7c2e1d4", "userID"]
        catalog.itemExternalIDs = ["2f", "track 7", "0"]
        return catalog
    }

    static let rows = "b7c2e1d4\t2f\t3\n00ff3a9c\ttrack 7\t12.5\nb7c2e1d4\t0\t0\n"
    /// The rows above in dense ids.
    static let expected = ListenTable(users: [1, 0, 1], items: [0, 1, 2], plays: [3, 12.5, 0])

    @Test func textIdsWithAndWithoutHeader() throws {
        let dir = TemporaryDirectory()
        let withHeader = dir.write("with-header.tsv", "userID\tartistID\tweight\n" + Self.rows)
        let withoutHeader = dir.write("without-header.tsv", Self.rows)
        #expect(try SplitFile.load(path: withHeader, catalog: Self.catalog) == Self.expected)
        #expect(try SplitFile.load(path: withoutHeader, catalog: Self.catalog) == Self.expected)
        // CRLF line ends and blank lines change nothing.
        let crlf = dir.write("crlf.tsv", "userID\tartistID\tweight\r\n\r\n" + Self.rows.replacingOccurrences(of: "\n", with: "\r\n"))
        #expect(try SplitFile.load(path: crlf, catalog: Self.catalog) == Self.expected)
    }

    /// A first line whose weight is a number is data, even when its ids read like column names.
    @Test func firstLineWithANumericWeightIsData() throws {
        let dir = TemporaryDirectory()
        let path = dir.write("split.tsv", "userID\t0\t7\n" + Self.rows)
        let table = try SplitFile.load(path: path, catalog: Self.catalog)
        #expect(table.count == 4)
        #expect(table.users.first == 2 && table.items.first == 2 && table.plays.first == 7)
        // Only line 1 may be a header: the same header further down is a bad row, named by its line.
        let late = dir.write("late-header.tsv", Self.rows + "user\titem\tweight\n")
        let error = #expect(throws: InputError.self) { try SplitFile.load(path: late, catalog: Self.catalog) }
        #expect(error?.file == late && error?.line == 4)
    }

    @Test func unknownIdsNameTheFileAndLine() {
        let dir = TemporaryDirectory()
        let badUser = dir.write("bad-user.tsv", "userID\tartistID\tweight\n" + Self.rows + "00ff3a9d\t2f\t1\n")
        let userError = #expect(throws: InputError.self) { try SplitFile.load(path: badUser, catalog: Self.catalog) }
        #expect(userError?.file == badUser && userError?.line == 5)
        #expect(userError?.reason == "unknown user id 00ff3a9d: not in the store")
        #expect(userError?.description == "\(badUser):5: unknown user id 00ff3a9d: not in the store")

        let badItem = dir.write("bad-item.tsv", "00ff3a9c\t2f\t1\nb7c2e1d4\ttrack 8\t2\n")
        let itemError = #expect(throws: InputError.self) { try SplitFile.load(path: badItem, catalog: Self.catalog) }
        #expect(itemError?.file == badItem && itemError?.line == 2)
        #expect(itemError?.reason == "unknown item id track 8: not in the store")
        #expect(itemError?.description.hasPrefix("\(badItem):2: ") == true)
    }

    /// Other bad rows: each error names its line.
    @Test(arguments: [
        ("00ff3a9c\t2f\n", "wrong column count"),
        ("00ff3a9c\t2f\t1\textra\n", "wrong column count"),
        ("00ff3a9c\t2f\t-1\n", "is not a non-negative number"),
        ("00ff3a9c\t2f\tnan\n", "is not a non-negative number"),
        ("00ff3a9c\t2f\t2000000000\n", "too large"),
    ])
    func badRowsAreRefusedWithTheirLine(row: String, reason: String) {
        let dir = TemporaryDirectory()
        let path = dir.write("split.tsv", Self.rows + row)
        let error = #expect(throws: InputError.self) { try SplitFile.load(path: path, catalog: Self.catalog) }
        #expect(error?.line == 4 && error?.reason.contains(reason) == true, "\(String(describing: error))")
    }

    /// A UTF-8 byte-order mark before the first line is dropped: the header is still recognized, and a first
    /// data line's user id still resolves.
    @Test func byteOrderMarkIsStripped() throws {
        let dir = TemporaryDirectory()
        let bom = LineReader.byteOrderMark
        let header = dir.write("bom-header.tsv", bytes: bom + Array(("userID\tartistID\tweight\n" + Self.rows).utf8))
        #expect(try SplitFile.load(path: header, catalog: Self.catalog) == Self.expected)
        let data = dir.write("bom-data.tsv", bytes: bom + Array(Self.rows.utf8))
        #expect(try SplitFile.load(path: data, catalog: Self.catalog) == Self.expected)
    }

    @Test func missingFileIsAReadError() {
        let dir = TemporaryDirectory()
        #expect(throws: FileReadError.self) { try SplitFile.load(path: dir.file("absent.tsv"), catalog: Self.catalog) }
    }
}
