/// Why a text model could not be found, read or used. Each message says what to do about it.
public enum TextModelError: Error, CustomStringConvertible, Equatable {
    /// The model folder (or a file in it) is missing.
    case modelNotFound(String)
    /// A safetensors file that cannot be read: bad header, unsupported dtype, truncated data.
    case badWeights(String)
    /// A tensor the model needs is missing or has the wrong shape.
    case badTensor(String)
    /// config.json describes a model this encoder does not implement.
    case unsupportedConfig(String)
    /// vocab.txt lacks a required token or repeats one.
    case badVocabulary(String)
    /// A sequence limit (`max_seq_length`, `--max-seq-length`) below 2 or beyond the model's positions.
    case badSequenceLength(String)

    public var description: String {
        switch self {
        case .modelNotFound(let message), .badWeights(let message), .badTensor(let message),
            .unsupportedConfig(let message), .badVocabulary(let message), .badSequenceLength(let message):
            return message
        }
    }
}
