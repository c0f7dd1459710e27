/// A dense, contiguous, row-major Float32 tensor with reverse-mode autodiff.
///
/// `Tensor` has reference semantics (like a parameter in any deep-learning framework): a parameter is a
/// `Tensor` with `requiresGrad == true` that optimizers update in place. A tensor is owned by one thread at
/// a time; it is `@unchecked Sendable` so ranks running on threads can hand tensors over explicitly.
public final class Tensor: @unchecked Sendable {
    /// The extent of each dimension; `[]` is a scalar.
    public let shape: [Int]
    /// The elements in row-major order. Shared copy-on-write between tensors made by `reshape`.
    public internal(set) var storage: [Float]
    /// Whether gradients flow into this tensor. Parameters set it; op results inherit it while recording.
    public var requiresGrad: Bool
    /// Gradient accumulated by `backward()` (leaves only).
    public var grad: Tensor?
    /// The recorded operation that produced this tensor (nil for leaves and for results computed without grad).
    package var node: GraphNode?

    /// Creates a tensor from elements; `storage.count` must equal the product of `shape`.
    public init(shape: [Int], storage: [Float], requiresGrad: Bool = false) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor shape \(shape) has a negative dimension")
        precondition(
            storage.count == Tensor.count(of: shape),
            "Tensor storage has \(storage.count) elements but shape \(shape) needs \(Tensor.count(of: shape))")
        self.shape = shape
        self.storage = storage
        self.requiresGrad = requiresGrad
    }

    /// A tensor of the given shape filled with `value`.
    public convenience init(repeating value: Float, shape: [Int], requiresGrad: Bool = false) {
        self.init(shape: shape, storage: [Float](repeating: value, count: Tensor.count(of: shape)), requiresGrad: requiresGrad)
    }

    /// A scalar tensor.
    public convenience init(_ value: Float) { self.init(shape: [], storage: [value]) }

    /// A 1-D tensor from an array.
    public convenience init(_ values: [Float], requiresGrad: Bool = false) {
        self.init(shape: [values.count], storage: values, requiresGrad: requiresGrad)
    }

    /// A tensor whose elements are produced by a kernel writing into uninitialised memory.
    package convenience init(shape: [Int], fill: (UnsafeMutableBufferPointer<Float>) -> Void) {
        let n = Tensor.count(of: shape)
        let values = [Float](unsafeUninitializedCapacity: n) { buffer, initialized in
            fill(buffer)
            initialized = n
        }
        self.init(shape: shape, storage: values)
    }

    /// Zeros of the given shape.
    public static func zeros(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        Tensor(repeating: 0, shape: shape, requiresGrad: requiresGrad)
    }

    /// Ones of the given shape.
    public static func ones(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        Tensor(repeating: 1, shape: shape, requiresGrad: requiresGrad)
    }

    /// Number of elements of a shape.
    @inlinable public static func count(of shape: [Int]) -> Int { shape.reduce(1, *) }

    /// Number of elements.
    public var count: Int { storage.count }
    /// Number of dimensions.
    public var rank: Int { shape.count }
    /// The single element of a one-element tensor.
    public var item: Float {
        precondition(storage.count == 1, "item needs a one-element tensor, shape is \(shape)")
        return storage[0]
    }
    /// The elements as an array.
    public var scalars: [Float] { storage }

    /// Read-only access to the elements.
    @inlinable public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try storage.withUnsafeBufferPointer(body)
    }

    /// In-place access to the elements (optimizers, running statistics). Bypasses autodiff.
    public func withUnsafeMutableBufferPointer<R>(_ body: (inout UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        try storage.withUnsafeMutableBufferPointer(body)
    }

    /// Overwrites the elements with those of `other` (same element count). Bypasses autodiff.
    public func assign(_ other: Tensor) {
        precondition(other.count == count, "assign: \(other.shape) into \(shape)")
        storage = other.storage
    }

    /// Overwrites the elements from an array (same element count). Bypasses autodiff.
    public func assign(_ values: [Float]) {
        precondition(values.count == count, "assign: \(values.count) values into \(shape)")
        storage = values
    }

    /// A new leaf tensor sharing these elements, cut off from the graph.
    public func detached() -> Tensor { Tensor(shape: shape, storage: storage) }

    /// A deep copy as a leaf (same `requiresGrad`).
    public func copy() -> Tensor { Tensor(shape: shape, storage: storage, requiresGrad: requiresGrad) }

    /// Whether this tensor was produced by a recorded operation.
    public var isLeaf: Bool { node == nil }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let preview = storage.prefix(8).map { "\($0)" }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(preview)\(storage.count > 8 ? ", ..." : "")])"
    }
}
