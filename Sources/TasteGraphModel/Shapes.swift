/// Dimension legend, used in every doc comment of this module:
///
/// - U users, I items (songs, or artists where listens are counted per artist), N = U + I nodes;
///   node order is [users; items], so item i is node U + i.
/// - T tag nodes, only in a heterogeneous graph (`GCNConfig.tagWeight` > 0): then N = U + I + T, node
///   order [users; items; tags], and tag t is node U + I + t.
/// - E edges (listens); B edges in a mini-batch.
/// - F input features of an item (text embedding + popularity), H hidden width (64 by default).
///
/// All matrices are dense row-major `[Scalar]` buffers unless typed `SparseMatrix`.
public enum Shapes {}
