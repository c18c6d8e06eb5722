import Foundation
import TasteGraphCore
import Testing

@Suite struct DenseIndexTests {
    @Test func indicesOrderByTheirPositionAndPrintAsIt() {
        let items = [ItemIndex(7), ItemIndex(0), ItemIndex(3)]
        #expect(items.sorted().map(\.rawValue) == [0, 3, 7])
        #expect(UserIndex(2) < UserIndex(10))
        #expect(!(ArtistIndex(4) < ArtistIndex(4)))
        #expect(Set([UserIndex(1), UserIndex(1), UserIndex(2)]).count == 2)
        #expect(ItemIndex(42).description == "42")
    }

    @Test func indicesEncodeAsBareIntegers() throws {
        let data = try JSONEncoder().encode([UserIndex(0), UserIndex(12)])
        #expect(String(decoding: data, as: UTF8.self) == "[0,12]")
        #expect(try JSONDecoder().decode([ItemIndex].self, from: Data("[5,1]".utf8)) == [ItemIndex(5), ItemIndex(1)])
        struct Row: Codable, Equatable { var user: UserIndex; var artist: ArtistIndex }
        let row = Row(user: UserIndex(3), artist: ArtistIndex(9))
        #expect(try JSONDecoder().decode(Row.self, from: JSONEncoder().encode(row)) == row)
    }

    @Test func aNegativeIndexDoesNotDecode() {
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([ArtistIndex].self, from: Data("[-1]".utf8)) }
    }
}

@Suite struct IDMapTests {
    @Test func roundTripsBothWays() throws {
        let ids = (0..<500).map { "user-\(($0 * 7919) % 1009)" }
        let map = try IDMap<UserIndex>(externalIDs: ids)
        #expect(map.count == 500)
        for index in map.allIndices {
            #expect(map.index(of: map.externalID(of: index)) == index)
        }
        for (k, id) in ids.enumerated() {
            #expect(map.index(of: id) == UserIndex(k))
            #expect(map.externalID(of: UserIndex(k)) == id)
        }
        #expect(map.index(of: "nobody") == nil)
        #expect(map.allIndices == (0..<500).map(UserIndex.init))
    }

    @Test func anEmptyMapKnowsNobody() throws {
        let map = try IDMap<ItemIndex>(externalIDs: [])
        #expect(map.count == 0)
        #expect(map.index(of: "") == nil)
    }

    @Test func aDuplicateIDIsRefusedNamingItAndBothIndices() {
        let error = #expect(throws: IDMapError.self) { try IDMap<ArtistIndex>(externalIDs: ["a", "b", "c", "b"]) }
        #expect(error?.description.contains("'b'") == true)
        #expect(error?.description.contains("1 and 3") == true)
    }
}

@Suite struct ListenTableTests {
    @Test func appendKeepsTheColumnsParallel() {
        var table = ListenTable()
        #expect(table.count == 0)
        table.append(user: 2, item: 5, plays: 3)
        table.append(user: 0, item: 1, plays: 0.5)
        #expect(table.count == 2)
        #expect(table == ListenTable(users: [2, 0], items: [5, 1], plays: [3, 0.5]))
        #expect(table != ListenTable(users: [2, 0], items: [5, 1], plays: [3, 1]))
        let second = table.listen(at: 1)
        #expect(second.user == UserIndex(0) && second.item == ItemIndex(1) && second.plays == 0.5)
    }

    @Test func theLargestPlayCountKeepsEverySumInRange() {
        // 2³¹ listens at the limit must not overflow Int64, and the limit is exact as a Float.
        #expect(!ListenTable.maximumPlayCount.multipliedReportingOverflow(by: 1 << 31).overflow)
        #expect(Int64(Float(ListenTable.maximumPlayCount)) == ListenTable.maximumPlayCount)
    }
}

@Suite struct CatalogTests {
    @Test func typedAccessorsReadTheSameArrays() throws {
        var catalog = Catalog(userCount: 3, itemCount: 4)
        catalog.itemArtist[2] = -1
        #expect(catalog.externalID(of: UserIndex(2)) == "u2")
        #expect(catalog.externalID(of: ItemIndex(3)) == "i3")
        #expect(catalog.externalID(of: ArtistIndex(1)) == "a1")
        #expect(catalog.artist(of: ItemIndex(1)) == ArtistIndex(1))
        #expect(catalog.artist(of: ItemIndex(2)) == nil)
        let users = try catalog.userIDs()
        #expect(users.index(of: "u1") == UserIndex(1))
        #expect(try catalog.itemIDs().index(of: "i0") == ItemIndex(0))
        #expect(try catalog.artistIDs().count == 4)
    }

    @Test func duplicateExternalIDsAreRefused() {
        var catalog = Catalog(userCount: 2, itemCount: 1)
        catalog.userExternalIDs = ["same", "same"]
        #expect(throws: IDMapError.self) { try catalog.userIDs() }
    }
}

@Suite struct ModelFileTests {
    static let sample = ModelFile(
        kind: "test", header: Data(#"{"dimension":3}"#.utf8),
        arrays: [("weights", .float([1.5, -2, 0, .infinity])), ("ids", .int([0, 7, -1])), ("empty", .float([]))])

    @Test func roundTripsKindHeaderAndArrays() throws {
        let decoded = try ModelFile.decode(try Self.sample.encoded())
        #expect(decoded.kind == "test")
        #expect(decoded.header == Self.sample.header)
        #expect(decoded.arrays.map(\.name) == ["weights", "ids", "empty"])
        #expect(try decoded.floats("weights") == [1.5, -2, 0, .infinity])
        #expect(try decoded.ints("ids") == [0, 7, -1])
        #expect(try decoded.floats("empty") == [])
        #expect(throws: ModelFileError.self) { try decoded.floats("ids") }
        #expect(throws: ModelFileError.self) { try decoded.ints("missing") }
    }

    @Test func changingAnyByteIsRefused() throws {
        let data = try Self.sample.encoded()
        #expect(ModelFile.hasMagic(data))
        for position in 0..<data.count {
            var damaged = data
            damaged[position] ^= 0x01
            #expect(throws: ModelFileError.self, "byte \(position)") { try ModelFile.decode(damaged) }
        }
    }

    @Test func truncatedOrExtendedFilesAreRefused() throws {
        let data = try Self.sample.encoded()
        for length in [0, 3, 4, 20, data.count - 1] {
            #expect(throws: ModelFileError.self, "length \(length)") { try ModelFile.decode(data.prefix(length)) }
        }
        #expect(throws: ModelFileError.self) { try ModelFile.decode(data + [0]) }
    }

    @Test func writeReplacesTheFileAtomically() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tg-core-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("model.tgm").path
        try Data("old".utf8).write(to: URL(fileURLWithPath: path))
        try Self.sample.write(to: path)
        let read = try ModelFile.decode(try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(try read.ints("ids") == [0, 7, -1])
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["model.tgm"])
        #expect(throws: FileWriteError.self) { try AtomicFile.write(Data(), to: folder.path + "/missing/x") }
    }
}

@Suite struct SharedErrorTests {
    @Test func errorsSayWhatAndWhere() {
        #expect(CheckpointError(path: "m.tgm", reason: "bad header").description == "m.tgm: bad header")
        #expect(ModelFitError(message: "loss is NaN; lower the learning rate").description == "loss is NaN; lower the learning rate")
        #expect(InputError(file: "a.tsv", line: 3, reason: "bad\u{1B}").description == #"a.tsv:3: bad\x1b"#)
        #expect(InputError(file: "a.tsv", line: nil, reason: "empty").description == "a.tsv: empty")
    }
}
