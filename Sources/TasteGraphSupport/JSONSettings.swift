import Foundation

/// Typed settings overlaid by a JSON object of overrides (`--settings '{"window": 3}'`): the one rule behind
/// both model registries.
public enum JSONSettings {
    /// An override that names no setting, or does not decode.
    public struct Mismatch: Error, CustomStringConvertible, Sendable {
        public let message: String
        public var description: String { message }
    }

    /// `base` with the keys of `overrides` replaced; a nested object is overlaid key by key, so an override
    /// names only the settings it changes.
    /// - Throws: `Mismatch` naming the first key `base` does not have.
    public static func overlay(_ overrides: [String: Any], onto base: [String: Any], path: String) throws -> [String: Any] {
        var merged = base
        for (key, value) in overrides {
            guard let current = merged[key] else {
                throw Mismatch(message: "\(path): unknown setting '\(key)'; known: \(merged.keys.sorted().joined(separator: ", "))")
            }
            if let nested = value as? [String: Any], let currentObject = current as? [String: Any] {
                merged[key] = try overlay(nested, onto: currentObject, path: "\(path).\(key)")
            } else {
                merged[key] = value
            }
        }
        return merged
    }

    /// `defaults` as a JSON object.
    public static func object<S: Encodable>(_ defaults: S) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: JSONEncoder().encode(defaults)) as? [String: Any] ?? [:]
    }

    /// `defaults` overlaid by `overrides`, decoded.
    /// - Throws: `Mismatch` for an unknown key or a value of the wrong type.
    public static func decode<S: Codable>(_ defaults: S, overrides: [String: Any], path: String) throws -> S {
        let merged = try overlay(overrides, onto: object(defaults), path: path)
        do {
            return try JSONDecoder().decode(S.self, from: JSONSerialization.data(withJSONObject: merged))
        } catch {
            throw Mismatch(message: "\(path): bad settings: \(error)")
        }
    }
}
