import NeuralNetworks
import Optimizers
import Tensors

/// Neumann series for x ≈ H⁻¹ ∂L_meta/∂θ with exact Hessian-vector products (double backward; Lorraine et
/// al. 2020): p = v = g; K times v ← v − α·H·v, p ← p + v; x = α·p (docs/ALGORITHMS.md §4).
public struct Neumann: Hypergradient {
    public var iterations: Int
    public var alpha: Float
    public init(iterations: Int = 1, alpha: Float = 1) {
        self.iterations = iterations; self.alpha = alpha
    }
    public var method: MetaMethod { .neumann }
    public func compute<Program: BilevelProgram>(_ passes: MetaStepPasses<Program>) throws -> MetaStepResult {
        ImplicitHypergradient(solver: .neumann(iterations: iterations, alpha: alpha)).compute(passes)
    }
}

/// Conjugate gradient on H·x = ∂L_meta/∂θ from x = 0 with exact Hessian-vector products (iMAML).
public struct ConjugateGradient: Hypergradient {
    public var iterations: Int
    public init(iterations: Int = 1) {
        self.iterations = iterations
    }
    public var method: MetaMethod { .cg }
    public func compute<Program: BilevelProgram>(_ passes: MetaStepPasses<Program>) throws -> MetaStepResult {
        ImplicitHypergradient(solver: .conjugateGradient(iterations: iterations)).compute(passes)
    }
}

extension Hypergradient where Self == Neumann {
    /// Neumann with K iterations and step α.
    public static func neumann(iterations: Int = 1, alpha: Float = 1) -> Neumann { Neumann(iterations: iterations, alpha: alpha) }
}

extension Hypergradient where Self == ConjugateGradient {
    /// Conjugate gradient with K iterations.
    public static func cg(iterations: Int = 1) -> ConjugateGradient { ConjugateGradient(iterations: iterations) }
}

/// The shared computation of Neumann and CG, with exact Hessian-vector and mixed products (double backward
/// through the base loss on the last batch):
///     dL/dλ = ∂L_meta/∂λ − ∂²L_base/∂λ∂θ · x,   x ≈ H⁻¹ ∂L_meta/∂θ.
struct ImplicitHypergradient {
    enum Solver {
        /// p = v = g; K times: v ← v − α·H·v, p ← p + v; x = α·p.
        case neumann(iterations: Int, alpha: Float)
        /// K conjugate-gradient iterations on H·x = g from x = 0 (β from the fresh residual).
        case conjugateGradient(iterations: Int)
    }

    var solver: Solver

    func compute<Program: BilevelProgram>(_ passes: MetaStepPasses<Program>) -> MetaStepResult {
        let theta = passes.program.base.tensors, lambda = passes.program.meta.tensors
        let (gMeta, direct, metaLoss) = passes.metaGradients()
        // ∂L_base/∂θ with its graph recorded, reused by every product below.
        let gBase = passes.measure(.hypergradientBasePasses) {
            Autodiff.gradients(of: passes.replayedBaseLoss(), wrt: theta, createGraph: true)
        }
        func hessianTimes(_ v: [Tensor]) -> [Tensor] {
            passes.measure(.hypergradientBasePasses) { Autodiff.mixedProduct(gradients: gBase, vector: v, wrt: theta) }
        }

        let x: [Tensor]
        switch solver {
        case let .neumann(iterations, alpha):
            var v = ParameterVectors.copy(gMeta)
            let p = ParameterVectors.copy(gMeta)
            for _ in 0..<iterations {
                let hv = hessianTimes(v)
                v = ParameterVectors.copy(v)
                ParameterVectors.addScaled(v, -alpha, hv)
                ParameterVectors.addScaled(p, 1, v)
            }
            x = ParameterVectors.scaled(p, alpha)
        case let .conjugateGradient(iterations):
            let solution = gMeta.map { Tensor.zeros($0.shape) }
            let residual = ParameterVectors.copy(gMeta)
            let direction = ParameterVectors.copy(gMeta)
            var rr = ParameterVectors.dot(residual, residual)
            for _ in 0..<iterations where rr > 0 {
                let hp = hessianTimes(direction)
                let curvature = ParameterVectors.dot(direction, hp)
                guard curvature > 0 else { break }  // H not positive along p: stop with what we have
                let step = Float(rr / curvature)
                ParameterVectors.addScaled(solution, step, direction)
                ParameterVectors.addScaled(residual, -step, hp)
                let fresh = ParameterVectors.dot(residual, residual)
                let beta = Float(fresh / rr)
                for (d, r) in zip(direction, residual) { d.assign(withoutGrad { r + d * beta }) }
                rr = fresh
            }
            x = solution
        }
        let mixed = passes.measure(.hypergradientBasePasses) { Autodiff.mixedProduct(gradients: gBase, vector: x, wrt: lambda) }
        let hypergradient = withoutGrad { zip(direct, mixed).map { $0 - $1 } }
        return MetaStepResult(hypergradient: hypergradient, metaLoss: metaLoss, epsilon: nil)
    }
}
