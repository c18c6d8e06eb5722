/// Dimension legend, used in every doc comment of this module:
///
/// - U users, I items (songs, or artists where listens are counted per artist), N = U + I nodes;
///   node order is [users; items], so item i is node U + i.
/// - E edges (listens); B edges in a mini-batch.
/// - F input features of an item (text embedding + popularity), H hidden width (64 by default).
///
/// All matrices are dense row-major `[Scalar]` buffers unless typed `SparseMatrix`.
public enum Shapes {}
