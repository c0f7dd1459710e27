import Tensors

/// Builds SAMA's adapted vector v = A ⊙ x of one parameter from blocks of x that arrive in order (a streamed
/// meta backward, `Autodiff.gradients(of:wrt:streaming:)`), so x itself never exists whole.
///
/// Each block is adapted in place and copied into `destination`, a parameter-sized buffer. An optimizer that
/// keeps a parameter-sized state only for A (Adam: the last gradient) may hand that buffer over as
/// `destination` when the state is to be released anyway: A of an entry is read before the entry is
/// overwritten, so v then costs no memory beyond what the optimizer already held.
public final class AdaptedVectorBuilder {
    /// Where v is written; returned by `finish()`.
    private let destination: Tensor
    /// Multiplies a block of x, starting at the given element offset of the parameter, by A in place.
    private let adaptBlock: (UnsafeMutableBufferPointer<Float>, Int) -> Void
    /// Runs once every entry is written (adapts there if the blocks were copied raw; frees the optimizer state).
    private let completion: (Tensor) -> Void
    private var written = 0

    /// - Parameters:
    ///   - destination: the buffer v is written into (its previous contents may be read by `adaptBlock`
    ///     for entries not yet written).
    ///   - adaptBlock: A ⊙ block in place for the entries starting at the offset.
    ///   - completion: called with `destination` when it is complete.
    public init(destination: Tensor, adaptBlock: @escaping (UnsafeMutableBufferPointer<Float>, Int) -> Void,
                completion: @escaping (Tensor) -> Void) {
        self.destination = destination
        self.adaptBlock = adaptBlock
        self.completion = completion
    }

    /// Adapts the next block of x in place (it is scratch: afterwards it holds those entries of v) and stores
    /// it; blocks must come in order.
    public func add(_ block: UnsafeMutableBufferPointer<Float>) {
        precondition(written + block.count <= destination.count, "AdaptedVectorBuilder: \(written + block.count) entries for a parameter of \(destination.count)")
        adaptBlock(block, written)
        let offset = written
        destination.withUnsafeMutableBufferPointer { out in
            guard let source = block.baseAddress, block.count > 0 else { return }
            (out.baseAddress! + offset).update(from: source, count: block.count)
        }
        written += block.count
    }

    /// v, once every entry has been added.
    public func finish() -> Tensor {
        precondition(written == destination.count, "AdaptedVectorBuilder: \(written) of \(destination.count) entries written")
        completion(destination)
        return destination
    }
}

extension Optimizer {
    /// A builder for A ⊙ x of `parameter` fed block by block. The default takes A from `updateDerivative`
    /// (materialised once, a parameter-sized buffer) and multiplies each block by it as it arrives; with
    /// `releasingState` it then frees the parameter's state for A.
    public func adaptedVectorBuilder(for parameter: NamedParameter, releasingState: Bool) -> AdaptedVectorBuilder {
        let derivative = updateDerivative([parameter])[0]
        precondition(derivative.count == parameter.tensor.count, "updateDerivative of \(parameter.key): \(derivative.count) entries for \(parameter.tensor.count)")
        return AdaptedVectorBuilder(destination: Tensor.zeros(parameter.tensor.shape), adaptBlock: { block, offset in
            derivative.withUnsafeBufferPointer { a in for i in block.indices { block[i] *= a[offset + i] } }
        }) { [self] _ in
            if releasingState { releaseUpdateDerivativeState([parameter]) }
        }
    }
}
