import Tensors

/// Builds SAMA's adapted vector v = A ⊙ x of one parameter from blocks of x that arrive in order (a streamed
/// meta backward, `Autodiff.gradients(of:wrt:streaming:)`), so x itself never exists whole.
///
/// Each block's A ⊙ x is written into `destination`, a parameter-sized buffer. An optimizer that
/// keeps a parameter-sized state only for A (Adam: the last gradient) may hand that buffer over as
/// `destination` when the state is to be released anyway: A of an entry is read before the entry is
/// overwritten, so v then costs no memory beyond what the optimizer already held.
public final class AdaptedVectorBuilder {
    /// Writes v for the entries of the block (x, scratch the closure may overwrite) starting at the offset into
    /// the destination buffer (the whole of it; entries not yet written still hold what they held).
    public typealias Write = (
        _ block: UnsafeMutableBufferPointer<Float>, _ offset: Int,
        _ destination: UnsafeMutableBufferPointer<Float>
    ) -> Void

    /// Where v is written; returned by `finish()`.
    private let destination: Tensor
    private let write: Write
    /// Runs once every entry is written (frees the optimizer's state for A if asked to).
    private let completion: (Tensor) -> Void
    private var written = 0

    /// - Parameters:
    ///   - destination: the buffer v is written into.
    ///   - write: writes A ⊙ block into `destination` at the block's offset.
    ///   - completion: called with `destination` when it is complete.
    public init(destination: Tensor, write: @escaping Write, completion: @escaping (Tensor) -> Void) {
        self.destination = destination
        self.write = write
        self.completion = completion
    }

    /// A builder that adapts each block in place with `adaptBlock` (A ⊙ block, given the block's offset) and
    /// copies it into `destination`.
    public convenience init(
        destination: Tensor, adaptBlock: @escaping (UnsafeMutableBufferPointer<Float>, Int) -> Void,
        completion: @escaping (Tensor) -> Void
    ) {
        self.init(
            destination: destination,
            write: { block, offset, out in
                adaptBlock(block, offset)
                guard let source = block.baseAddress, block.count > 0 else { return }
                (out.baseAddress! + offset).update(from: source, count: block.count)
            }, completion: completion)
    }

    /// Adds the next block of x (scratch: its contents afterwards are unspecified); blocks must come in
    /// order. `observe` sees the entries of v just written, e.g. to accumulate ‖v‖².
    public func add(_ block: UnsafeMutableBufferPointer<Float>, observe: ((UnsafeBufferPointer<Float>) -> Void)? = nil) {
        precondition(
            written + block.count <= destination.count,
            "AdaptedVectorBuilder: \(written + block.count) entries for a parameter of \(destination.count)")
        let offset = written, count = block.count
        destination.withUnsafeMutableBufferPointer { out in
            write(block, offset, out)
            observe?(UnsafeBufferPointer(rebasing: out[offset..<(offset + count)]))
        }
        written += count
    }

    /// v, once every entry has been added.
    public func finish() -> Tensor {
        precondition(written == destination.count, "AdaptedVectorBuilder: \(written) of \(destination.count) entries written")
        completion(destination)
        return destination
    }
}

extension UpdateDerivative {
    /// A builder for A ⊙ x of `parameter` fed block by block. The default takes A from `updateDerivative`
    /// (materialised once, a parameter-sized buffer) and multiplies each block by it as it arrives; with
    /// `releasingState` it then frees the parameter's state for A.
    public func adaptedVectorBuilder(for parameter: NamedParameter, releasingState: Bool) -> AdaptedVectorBuilder {
        let derivative = updateDerivative([parameter])[0]
        precondition(
            derivative.count == parameter.tensor.count,
            "updateDerivative of \(parameter.key): \(derivative.count) entries for \(parameter.tensor.count)")
        return AdaptedVectorBuilder(
            destination: Tensor.zeros(parameter.tensor.shape),
            adaptBlock: { block, offset in
                derivative.withUnsafeBufferPointer { a in for i in block.indices { block[i] *= a[offset + i] } }
            }
        ) { [self] _ in
            if releasingState { releaseUpdateDerivativeState([parameter]) }
        }
    }
}
