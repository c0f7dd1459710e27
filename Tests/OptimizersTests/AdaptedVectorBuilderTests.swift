import Foundation
import Testing
@testable import Optimizers
import Tensors

/// `adaptedVectorBuilder`: A ⊙ x built from blocks of x equals A (`updateDerivative`) times x entry by entry, and Adam lends
/// its last gradient's buffer only when nothing else refers to it.
@Suite struct AdaptedVectorBuilderTests {
    static let count = 37
    static func values(_ seed: Double) -> [Float] {
        (0..<count).map { i -> Float in
            let scale: Double = Foundation.pow(10, Double(i % 4) - 2)
            return Float(Foundation.sin(seed + 1.3 * Double(i)) * scale)
        }
    }

    /// An optimizer that has taken two steps on a 37-entry parameter `w`; the second step's gradient is made
    /// by `lastGradient` so callers decide who else holds it.
    static func stepped(_ optimizer: any Optimizer, lastGradient: () -> Tensor) -> NamedParameter {
        let parameter: NamedParameter = ("w", Tensor(shape: [count], storage: values(0.5)))
        optimizer.step([parameter], gradients: [Tensor(shape: [count], storage: values(1.0))])
        optimizer.step([parameter], gradients: [lastGradient()])
        return parameter
    }

    /// Feeds x in blocks of 5, 16 and 16 entries (8-lane blocks and tails at different offsets).
    static func build(_ builder: AdaptedVectorBuilder, _ x: [Float]) -> Tensor {
        var start = 0
        for size in [5, 16, 16] {
            var block = Array(x[start..<(start + size)])
            block.withUnsafeMutableBufferPointer { builder.add($0) }
            start += size
        }
        return builder.finish()
    }

    /// A ⊙ x from `updateDerivative`, entry by entry (the kernels compute the same product, unfused).
    static func expected(_ optimizer: any UpdateDerivative, _ parameter: NamedParameter, _ x: [Float]) -> [Float] {
        zip(optimizer.updateDerivative([parameter])[0].scalars, x).map { $0 * $1 }
    }

    @Test func adamBlocksEqualTheWholeVector() {
        let adam = Adam(learningRate: 0.01)
        let parameter = Self.stepped(adam) { Tensor(shape: [Self.count], storage: Self.values(2.0)) }
        let x = Self.values(3.0)
        let expected = Self.expected(adam, parameter, x)
        let v = Self.build(adam.adaptedVectorBuilder(for: parameter, releasingState: false), x)
        #expect(v.scalars == expected)
        #expect(adam.hasUpdateDerivativeState([parameter]), "not released")
    }

    @Test func adamReleasingWritesIntoItsOwnLastGradient() {
        let adam = Adam(learningRate: 0.01)
        weak var lent: Tensor?
        let parameter = Self.stepped(adam) {
            let g = Tensor(shape: [Self.count], storage: Self.values(2.0))
            lent = g
            return g
        }
        let x = Self.values(3.0)
        let expected = Self.expected(adam, parameter, x)
        let v = Self.build(adam.adaptedVectorBuilder(for: parameter, releasingState: true), x)
        #expect(v.scalars == expected, "each entry's A is read before the entry is overwritten")
        #expect(lent != nil && v === lent, "v took over the last gradient's buffer")
        #expect(!adam.hasUpdateDerivativeState([parameter]), "released")
    }

    @Test func adamLeavesAGradientTheCallerStillHolds() {
        let adam = Adam(learningRate: 0.01)
        let held = Tensor(shape: [Self.count], storage: Self.values(2.0))
        let parameter = Self.stepped(adam) { held }
        let x = Self.values(3.0)
        let expected = Self.expected(adam, parameter, x)
        let v = Self.build(adam.adaptedVectorBuilder(for: parameter, releasingState: true), x)
        #expect(v.scalars == expected)
        #expect(v !== held)
        #expect(held.scalars == Self.values(2.0), "the caller's gradient is untouched")
    }

    @Test func adamWithL2DecayAndNeverSteppedParameters() {
        // With L2 decay Adam keeps its own effective gradient; a parameter it never stepped has constant A.
        let adam = Adam(learningRate: 0.01, weightDecay: 0.1)
        let parameter = Self.stepped(adam) { Tensor(shape: [Self.count], storage: Self.values(2.0)) }
        let fresh: NamedParameter = ("other", Tensor(shape: [Self.count], storage: Self.values(4.0)))
        let x = Self.values(3.0)
        for p in [parameter, fresh] {
            let expected = Self.expected(adam, p, x)
            #expect(Self.build(adam.adaptedVectorBuilder(for: p, releasingState: true), x).scalars == expected, "\(p.key)")
        }
    }

    @Test func defaultBuilderEqualsAdaptInPlace() {
        let sgd = SGD(learningRate: 0.1, momentum: 0.9)
        let parameter = Self.stepped(sgd) { Tensor(shape: [Self.count], storage: Self.values(2.0)) }
        let x = Self.values(3.0)
        let expected = Self.expected(sgd, parameter, x)
        #expect(Self.build(sgd.adaptedVectorBuilder(for: parameter, releasingState: true), x).scalars == expected)
    }
}
