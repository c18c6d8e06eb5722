/// An open-addressing hash map from byte strings to ids, with every key stored once in one byte arena.
///
/// The import hot path looks up a user and an item per row; doing that on raw bytes avoids creating a
/// `String` per field. Linear probing, load factor ≤ 1/2, power-of-two capacity.
/// Memory: about 32 bytes per slot plus the key bytes.
struct ByteKeyMap {
    /// One slot, 32 bytes: a probe touches one cache line.
    private struct Slot {
        var hash: UInt64 = 0
        var value: Int64 = 0
        var offset: Int = 0
        var length: Int32 = -1  // -1 marks an empty slot
    }

    private var arena: [UInt8] = []
    private var slots: [Slot]
    private(set) var count = 0
    private var mask: Int

    init(capacity: Int = 1024) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [Slot](repeating: Slot(), count: size)
        mask = size - 1
    }

    /// 64-bit hash of a byte string: 8 bytes at a time, multiply-xorshift mixing.
    @inline(__always)
    static func hash(_ key: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(key.count)
        var i = 0
        let n = key.count
        if let base = key.baseAddress {
            while i + 8 <= n {
                h = (h ^ base.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
                h ^= h >> 29
                i += 8
            }
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while i < n {
                tail |= UInt64(base.load(fromByteOffset: i, as: UInt8.self)) << shift
                shift += 8
                i += 1
            }
            h = (h ^ tail) &* 0x94D0_49BB_1331_11EB
        }
        // murmur3's fmix64: every input bit reaches the low bits that pick the slot.
        h ^= h >> 33
        h = h &* 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        h = h &* 0xC4CE_B9FE_1A85_EC53
        return h ^ (h >> 33)
    }

    /// The id stored for `key`, or nil.
    func find(_ key: UnsafeRawBufferPointer) -> Int64? {
        let h = Self.hash(key)
        var index = Int(truncatingIfNeeded: h) & mask
        return slots.withUnsafeBufferPointer { slots in
            arena.withUnsafeBytes { arenaBytes in
                while slots[index].length >= 0 {
                    let slot = slots[index]
                    if slot.hash == h && Int(slot.length) == key.count
                        && (key.count == 0 || Self.equal(arenaBytes.baseAddress! + slot.offset, key.baseAddress!, key.count))
                    {
                        return slot.value
                    }
                    index = (index + 1) & mask
                }
                return nil
            }
        }
    }

    /// Byte equality, 8 bytes at a time (keys are short ids: an inline loop beats a call to memcmp).
    @inline(__always)
    private static func equal(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ count: Int) -> Bool {
        var i = 0
        while i + 8 <= count {
            if a.loadUnaligned(fromByteOffset: i, as: UInt64.self) != b.loadUnaligned(fromByteOffset: i, as: UInt64.self) {
                return false
            }
            i += 8
        }
        while i < count {
            if a.load(fromByteOffset: i, as: UInt8.self) != b.load(fromByteOffset: i, as: UInt8.self) { return false }
            i += 1
        }
        return true
    }

    /// Stores `value` for a key that is not in the map yet.
    mutating func insert(_ key: UnsafeRawBufferPointer, value: Int64) {
        if (count + 1) * 2 > slots.count { grow() }
        let offset = arena.count
        arena.append(contentsOf: key)
        place(Slot(hash: Self.hash(key), value: value, offset: offset, length: Int32(key.count)))
        count += 1
    }

    private mutating func place(_ slot: Slot) {
        var index = Int(truncatingIfNeeded: slot.hash) & mask
        while slots[index].length >= 0 { index = (index + 1) & mask }
        slots[index] = slot
    }

    private mutating func grow() {
        let old = slots
        slots = [Slot](repeating: Slot(), count: old.count * 2)
        mask = slots.count - 1
        for slot in old where slot.length >= 0 { place(slot) }
    }
}
