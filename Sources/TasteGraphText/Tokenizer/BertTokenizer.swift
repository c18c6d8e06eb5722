/// BERT's uncased tokenizer as all-MiniLM-L6-v2 uses it: `BasicTokenizer`, then `WordPiece`, then
/// `[CLS] pieces… [SEP]`, truncated so the whole sequence has at most `maxLength` tokens.
public struct BertTokenizer: Sendable {
    public let basic = BasicTokenizer()
    public let wordPiece: WordPiece
    public let classifierID: Int32
    public let separatorID: Int32
    /// The longest sequence, [CLS] and [SEP] included (sentence-transformers' `max_seq_length`).
    public let maxLength: Int

    /// - Parameter maxLength: the longest sequence, at least 2. A model folder's own limit comes from
    ///   `MiniLMModel.sequenceLimit(directory:override:)`; `SentenceEncoder(modelDirectory:)` applies it.
    /// - Throws: `TextModelError.badVocabulary` when [CLS], [SEP] or [UNK] is missing.
    public init(vocabulary: Vocabulary, maxLength: Int = MiniLMModel.fallbackMaxLength) throws {
        precondition(maxLength >= 2, "maxLength must leave room for [CLS] and [SEP]")
        wordPiece = try WordPiece(vocabulary: vocabulary)
        classifierID = try vocabulary.requiredID(of: "[CLS]")
        separatorID = try vocabulary.requiredID(of: "[SEP]")
        self.maxLength = maxLength
    }

    /// The input ids of `text`: [CLS], the first `maxLength − 2` word pieces, [SEP].
    public func encode(_ text: String) -> [Int32] {
        var ids: [Int32] = [classifierID]
        let limit = maxLength - 1
        for word in basic.split(text) {
            wordPiece.append(word, to: &ids)
            if ids.count >= limit { break }
        }
        if ids.count > limit { ids.removeLast(ids.count - limit) }
        ids.append(separatorID)
        return ids
    }
}
