import TasteGraphCore
import TasteGraphSupport

/// Reads an explicit train or test split: `userID<TAB>itemID<TAB>weight`, optionally with the header
/// `userID	artistID	weight` (the format of ../shared/datasets/lastfm-2k/split).
///
/// Ids are the dataset's external ids; they are mapped to the store's dense ids through the catalog.
public enum SplitFile {
    /// A UTF-8 byte-order mark before the first line is ignored (`LineReader`).
    /// - Throws: `InputError` naming the file and line for a bad row or an id missing from the store (its
    ///   message escapes control bytes of the quoted ids), `FileReadError` for a missing, unreadable or
    ///   directory file.
    public static func load(path: String, catalog: Catalog) throws -> ListenTable {
        var users: [String: Int32] = [:]
        for (index, id) in catalog.userExternalIDs.enumerated() { users[id] = Int32(index) }
        var items: [String: Int32] = [:]
        for (index, id) in catalog.itemExternalIDs.enumerated() { items[id] = Int32(index) }
        var table = ListenTable()
        try LineReader(path: path).forEachLine { number, bytes in
            let line = String(decoding: bytes, as: UTF8.self)
            if line.isEmpty { return }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            // A header names its columns: its weight field is not a number (ids may be any text).
            if number == 1 && fields.count == 3 && Float(fields[2]) == nil { return }
            guard fields.count == 3 else {
                throw InputError(file: path, line: number, reason: "wrong column count: expected 3 tab-separated fields (user, item, weight), found \(fields.count)")
            }
            guard let user = users[String(fields[0])] else {
                throw InputError(file: path, line: number, reason: "unknown user id \(fields[0]): not in the store")
            }
            guard let item = items[String(fields[1])] else {
                throw InputError(file: path, line: number, reason: "unknown item id \(fields[1]): not in the store")
            }
            guard let weight = Float(fields[2]), weight >= 0, weight.isFinite else {
                throw InputError(file: path, line: number, reason: "weight '\(fields[2])' is not a non-negative number")
            }
            // The same limit as a stored play count, so sums over a split stay finite too.
            guard weight <= Float(ListenTable.maximumPlayCount) else {
                throw InputError(file: path, line: number, reason: "weight \(fields[2]) is too large: at most 1,000,000,000 plays per row")
            }
            table.append(user: user, item: item, plays: weight)
        }
        return table
    }
}
