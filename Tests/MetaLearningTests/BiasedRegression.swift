import NeuralNetworks
import Optimizers
import Tensors
@testable import MetaLearning

/// The biased-regression bilevel problem of the SAMA paper (Appendix E), with its closed forms in Double:
///     λ* = argmin_λ ‖X'w*(λ) − y'‖²,  w*(λ) = argmin_w ‖Xw − y‖² + β‖w − λ‖².
final class BiasedRegression: BilevelProgram {
    typealias Batch = Void
    let d: Int, beta: Float
    let x: Tensor, y: Tensor, xMeta: Tensor, yMeta: Tensor
    let w: Tensor, lambda: Tensor
    let base: Level, meta: Level

    init(
        d: Int = 8, n: Int = 64, nMeta: Int = 32, beta: Float = 0.15, seed: UInt64 = 3,
        baseOptimizer: any Optimizer, metaOptimizer: any Optimizer, metaSchedule: LearningRateSchedule = .constant
    ) {
        var rng = RandomGenerator(seed: seed)
        self.d = d; self.beta = beta
        let scale = 1 / Float(n).squareRoot(), metaScale = 1 / Float(nMeta).squareRoot()
        let truth = Tensor.normal([d, 1], using: &rng)
        x = Tensor.normal([n, d], std: scale, using: &rng)
        y = x.matmul(truth) + Tensor.normal([n, 1], std: 0.3 * scale, using: &rng)
        // The meta data come from a shifted truth, so λ* is far from 0 and from the plain least squares.
        let shifted = truth + Tensor.normal([d, 1], std: 0.7, using: &rng)
        xMeta = Tensor.normal([nMeta, d], std: metaScale, using: &rng)
        yMeta = xMeta.matmul(shifted)
        w = Tensor.zeros([d, 1], requiresGrad: true)
        lambda = Tensor.zeros([d, 1], requiresGrad: true)
        base = Level(name: "base", parameters: [("w", w)], optimizer: baseOptimizer)
        meta = Level(name: "meta", parameters: [("lambda", lambda)], optimizer: metaOptimizer, schedule: metaSchedule)
    }

    func nextBaseBatch() {}
    func nextMetaBatch() {}

    func baseLoss(_ batch: Void, context: ForwardContext) -> Tensor {
        let r = x.matmul(w) - y, shrink = w - lambda
        return (r * r).sum() + (shrink * shrink).sum() * beta
    }

    func metaLoss(_ batch: Void, context: ForwardContext) -> Tensor {
        let r = xMeta.matmul(w) - yMeta
        return (r * r).sum()
    }

    // MARK: Closed forms (Double)

    private func matrix(_ t: Tensor) -> [[Double]] {
        let cols = t.shape[1]
        return (0..<t.shape[0]).map { i in (0..<cols).map { Double(t.scalars[i * cols + $0]) } }
    }

    /// XᵀX + βI.
    private var jacobian: [[Double]] {
        let m = matrix(x)
        return (0..<d).map { i in (0..<d).map { j in m.reduce(0) { $0 + $1[i] * $1[j] } + (i == j ? Double(beta) : 0) } }
    }

    /// w*(λ) = (XᵀX + βI)⁻¹(Xᵀy + βλ).
    func optimalW(_ lambda: [Double]) -> [Double] {
        let m = matrix(x), yv = y.scalars.map(Double.init)
        let rhs = (0..<d).map { j in zip(m, yv).reduce(0) { $0 + $1.0[j] * $1.1 } + Double(beta) * lambda[j] }
        return LinearAlgebra.solve(jacobian, rhs)
    }

    /// The exact hypergradient dL_meta/dλ = 2β(XᵀX + βI)⁻¹ X'ᵀ(X'w*(λ) − y').
    func exactHypergradient(_ lambda: [Double]) -> [Double] {
        let wStar = optimalW(lambda)
        let mm = matrix(xMeta), ym = yMeta.scalars.map(Double.init)
        let residual = zip(mm, ym).map { row, target in zip(row, wStar).reduce(0) { $0 + $1.0 * $1.1 } - target }
        let g = (0..<d).map { j in zip(mm, residual).reduce(0) { $0 + $1.0[j] * $1.1 } }
        return LinearAlgebra.solve(jacobian, g).map { 2 * Double(beta) * $0 }
    }

    /// λ* = (AᵀA)⁻¹Aᵀb with A = βX'(XᵀX + βI)⁻¹ and b = y' − X'(XᵀX + βI)⁻¹Xᵀy.
    func optimalLambda() -> [Double] {
        let mm = matrix(xMeta), ym = yMeta.scalars.map(Double.init)
        let inverse = LinearAlgebra.inverse(jacobian)
        let a = mm.map { row in (0..<d).map { j in Double(beta) * (0..<d).reduce(0) { $0 + row[$1] * inverse[$1][j] } } }
        let wZero = optimalW([Double](repeating: 0, count: d))  // (XᵀX + βI)⁻¹Xᵀy
        let b = zip(mm, ym).map { row, target in target - zip(row, wZero).reduce(0) { $0 + $1.0 * $1.1 } }
        let ata = (0..<d).map { i in (0..<d).map { j in a.reduce(0) { $0 + $1[i] * $1[j] } } }
        let atb = (0..<d).map { i in zip(a, b).reduce(0) { $0 + $1.0[i] * $1.1 } }
        return LinearAlgebra.solve(ata, atb)
    }
}

/// Dense Double linear algebra for the closed forms (Gaussian elimination with partial pivoting).
enum LinearAlgebra {
    static func solve(_ a: [[Double]], _ b: [Double]) -> [Double] {
        var m = a, v = b
        let n = b.count
        for col in 0..<n {
            let pivot = (col..<n).max { abs(m[$0][col]) < abs(m[$1][col]) }!
            m.swapAt(col, pivot); v.swapAt(col, pivot)
            for row in (col + 1)..<n {
                let f = m[row][col] / m[col][col]
                for k in col..<n { m[row][k] -= f * m[col][k] }
                v[row] -= f * v[col]
            }
        }
        var x = [Double](repeating: 0, count: n)
        for row in stride(from: n - 1, through: 0, by: -1) {
            x[row] = (v[row] - ((row + 1)..<n).reduce(0) { $0 + m[row][$1] * x[$1] }) / m[row][row]
        }
        return x
    }

    static func inverse(_ a: [[Double]]) -> [[Double]] {
        let n = a.count
        let columns = (0..<n).map { j in solve(a, (0..<n).map { $0 == j ? 1 : 0 }) }
        return (0..<n).map { i in (0..<n).map { j in columns[j][i] } }
    }

    static func cosine(_ a: [Double], _ b: [Double]) -> Double {
        let dot = zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
        let na = a.reduce(0) { $0 + $1 * $1 }.squareRoot(), nb = b.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return dot / max(na * nb, 1e-300)
    }

    static func distance(_ a: [Double], _ b: [Double]) -> Double {
        zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
    }
}
