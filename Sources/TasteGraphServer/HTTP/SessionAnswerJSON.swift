import NIOCore
import TasteGraphServing

/// `SessionAnswer` written straight into a buffer: the JSON `JSONResponse.buffer` gives (snake-case keys,
/// sorted, nil fields left out), without Foundation's encoder, which costs about 80 µs for a 20-item
/// answer, more than the session model's scoring. `SessionRoutesTests` checks the two agree.
enum SessionAnswerJSON {
    static func buffer(_ answer: SessionAnswer) -> ByteBuffer {
        var out = ByteBuffer()
        out.reserveCapacity(256 + 160 * answer.items.count)
        out.writeStaticString("{")
        if let context = answer.context {
            out.writeStaticString("\"context\":{")
            var first = true
            func field(_ name: StaticString) {
                if !first { out.writeStaticString(",") }
                first = false
                out.writeStaticString(name)
            }
            if let device = context.device { field("\"device\":"); string(device, into: &out) }
            if let hour = context.hour { field("\"hour\":"); out.writeString(String(hour)) }
            if let weekday = context.weekday { field("\"weekday\":"); out.writeString(String(weekday)) }
            out.writeStaticString("},")
        }
        out.writeStaticString("\"items\":[")
        for (index, item) in answer.items.enumerated() {
            if index > 0 { out.writeStaticString(",") }
            out.writeStaticString("{\"artist\":")
            string(item.artist, into: &out)
            out.writeStaticString(",\"item\":")
            string(item.item, into: &out)
            if let plays = item.predictedPlays { out.writeStaticString(",\"predicted_plays\":"); number(plays, into: &out) }
            out.writeStaticString(",\"score\":")
            number(item.score, into: &out)
            out.writeStaticString(",\"title\":")
            string(item.title, into: &out)
            out.writeStaticString("}")
        }
        out.writeStaticString("],\"model\":")
        string(answer.model, into: &out)
        out.writeStaticString(answer.personalized ? ",\"personalized\":true,\"unknown_items\":[" : ",\"personalized\":false,\"unknown_items\":[")
        for (index, id) in answer.unknownItems.enumerated() {
            if index > 0 { out.writeStaticString(",") }
            string(id, into: &out)
        }
        out.writeStaticString("]}")
        return out
    }

    /// A JSON number; a non-finite value (never produced by the models) is written as 0 to keep the JSON valid.
    static func number(_ value: Double, into out: inout ByteBuffer) {
        out.writeString(value.isFinite ? "\(value)" : "0")
    }

    /// A JSON string: `"` and `\` escaped, control characters as \u00XX, everything else as UTF-8.
    static func string(_ text: String, into out: inout ByteBuffer) {
        out.writeStaticString("\"")
        var text = text
        text.withUTF8 { bytes in
            var start = 0
            for (index, byte) in bytes.enumerated() where byte < 0x20 || byte == 0x22 || byte == 0x5C {
                if index > start { out.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[start..<index])) }
                switch byte {
                case 0x22: out.writeStaticString("\\\"")
                case 0x5C: out.writeStaticString("\\\\")
                case 0x0A: out.writeStaticString("\\n")
                case 0x09: out.writeStaticString("\\t")
                case 0x0D: out.writeStaticString("\\r")
                default:
                    let hex: [UInt8] = Array("0123456789abcdef".utf8)
                    out.writeBytes([0x5C, 0x75, 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 15)]])
                }
                start = index + 1
            }
            if bytes.count > start { out.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[start..<bytes.count])) }
        }
        out.writeStaticString("\"")
    }
}
