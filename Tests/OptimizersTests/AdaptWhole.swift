import Optimizers
import Tensors

extension UpdateDerivative {
    /// x ← A ⊙ x for each vector, through `adaptedVectorBuilder` fed the whole vector as one block, keeping
    /// the state for A: the reference the block-by-block tests compare with.
    func adaptWhole(_ vectors: [Tensor], parameters: [NamedParameter]) {
        for (x, parameter) in zip(vectors, parameters) {
            let builder = adaptedVectorBuilder(for: parameter, releasingState: false)
            var block = x.scalars
            block.withUnsafeMutableBufferPointer { builder.add($0) }
            x.assign(builder.finish())
        }
    }
}
