import NeuralNetworks
import Optimizers
import Tensors

/// SAMA: the base optimizer's adaptation A = ∂u/∂g, a central difference of radius ε = α/‖v‖ along
/// v = A ⊙ ∂L_meta/∂θ (docs/ALGORITHMS.md §2). Cost: one meta forward + backward, two base forwards and two
/// backwards through the meta nets only.
public struct SAMA: Hypergradient {
    /// The radius α of the central difference (ε = α/‖v‖); the paper's 1 suits BERT-size models.
    public var alpha: Float
    /// Leave θ at θ − εv after the meta step (the paper's choice); otherwise θ is restored exactly.
    public var baseUpdateAlongV: Bool
    /// Feed the meta nets, in both perturbed passes, the inputs recorded at θ (one more base forward), as
    /// the exact mixed product sees them; off (the paper's implementation), each pass recomputes them.
    public var freezeMetaInputs: Bool

    public init(alpha: Float = 1, baseUpdateAlongV: Bool = true, freezeMetaInputs: Bool = false) {
        self.alpha = alpha; self.baseUpdateAlongV = baseUpdateAlongV; self.freezeMetaInputs = freezeMetaInputs
    }

    public var method: MetaMethod { .sama }
    public var usesAdaptation: Bool { true }
    public func compute<Program: BilevelProgram>(_ passes: MetaStepPasses<Program>) throws -> MetaStepResult {
        try FiniteDifferenceHypergradient(
            adapt: true, alpha: alpha, baseUpdateAlongV: baseUpdateAlongV,
            freezeMetaInputs: freezeMetaInputs
        ).compute(passes)
    }
}

/// SAMA without adaptation (A = I): the paper's ablation.
public struct SAMANA: Hypergradient {
    public var alpha: Float
    public var baseUpdateAlongV: Bool
    public var freezeMetaInputs: Bool

    public init(alpha: Float = 1, baseUpdateAlongV: Bool = true, freezeMetaInputs: Bool = false) {
        self.alpha = alpha; self.baseUpdateAlongV = baseUpdateAlongV; self.freezeMetaInputs = freezeMetaInputs
    }

    public var method: MetaMethod { .samaNA }
    public func compute<Program: BilevelProgram>(_ passes: MetaStepPasses<Program>) throws -> MetaStepResult {
        try FiniteDifferenceHypergradient(
            adapt: false, alpha: alpha, baseUpdateAlongV: baseUpdateAlongV,
            freezeMetaInputs: freezeMetaInputs
        ).compute(passes)
    }
}

/// DARTS' finite-difference hypergradient: A = I and θ restored after the meta step. Its radius α is the
/// same setting as SAMA's (`meta.alpha`, `--alpha`); DARTS' paper uses 0.01.
public struct DARTS: Hypergradient {
    public var alpha: Float
    public var freezeMetaInputs: Bool

    public init(alpha: Float = 0.01, freezeMetaInputs: Bool = false) {
        self.alpha = alpha; self.freezeMetaInputs = freezeMetaInputs
    }

    public var method: MetaMethod { .darts }
    public func compute<Program: BilevelProgram>(_ passes: MetaStepPasses<Program>) throws -> MetaStepResult {
        try FiniteDifferenceHypergradient(
            adapt: false, alpha: alpha, baseUpdateAlongV: false,
            freezeMetaInputs: freezeMetaInputs
        ).compute(passes)
    }
}

extension Hypergradient where Self == SAMA {
    /// SAMA with radius α.
    public static func sama(alpha: Float = 1, baseUpdateAlongV: Bool = true, freezeMetaInputs: Bool = false) -> SAMA {
        SAMA(alpha: alpha, baseUpdateAlongV: baseUpdateAlongV, freezeMetaInputs: freezeMetaInputs)
    }
}

extension Hypergradient where Self == SAMANA {
    /// SAMA without adaptation.
    public static func samaNA(alpha: Float = 1, baseUpdateAlongV: Bool = true, freezeMetaInputs: Bool = false) -> SAMANA {
        SAMANA(alpha: alpha, baseUpdateAlongV: baseUpdateAlongV, freezeMetaInputs: freezeMetaInputs)
    }
}

extension Hypergradient where Self == DARTS {
    /// DARTS with radius α.
    public static func darts(alpha: Float = 0.01, freezeMetaInputs: Bool = false) -> DARTS {
        DARTS(alpha: alpha, freezeMetaInputs: freezeMetaInputs)
    }
}

/// The shared computation of SAMA, SAMA-NA and DARTS:
///     ε = α/‖v‖,  dL/dλ = ∂L_meta/∂λ + (g⁻ − g⁺)/(2ε),  g± = ∂L_base(θ ± εv, λ; B)/∂λ.
struct FiniteDifferenceHypergradient {
    /// Use the base optimizer's ∂u/∂g as A (SAMA); identity otherwise (SAMA-NA, DARTS).
    var adapt: Bool
    var alpha: Float
    /// Leave θ at θ − εv afterwards (computed as θ + εv − 2εv); otherwise θ is restored exactly.
    var baseUpdateAlongV: Bool
    /// Feed the meta nets the same inputs in both passes (those at θ, from one more forward).
    var freezeMetaInputs: Bool = false

    /// The hypergradient on the last base batch (θ left at θ − εv with `baseUpdateAlongV`, else restored).
    ///
    /// With several ranks (`passes.lambdaReducer` set), the meta batch is the same on every rank, so g_meta,
    /// v and ε are identical without communication; g± come from this rank's shard of B. The g⁻ backward feeds
    /// (2ε·direct − g⁺ + g⁻)/(2ε) bucket by bucket into one λ-sized mean all-reduce: the mean over ranks of
    /// the shard terms is the global batch's (g⁻ − g⁺)/(2ε), so λ's update equals the one-process update on
    /// the global batch and is the same on every rank; θ − εv is bit-identical on every rank because v is.
    func compute<Program: BilevelProgram>(_ passes: MetaStepPasses<Program>) throws -> MetaStepResult {
        let base = passes.program.base
        var v: [Tensor]
        let metaLoss: Float, direct: [Tensor], norm: Double
        if adapt {
            // v = A ⊙ g_meta built block by block as the meta backward streams g_meta: a linear layer's weight
            // gradient is computed a few rows at a time and folded straight into v, and with
            // `passes.releasesAdaptationState` v takes over the buffer of Adam's last gradient (A of each entry is read
            // before the entry is overwritten), so g_meta never exists whole next to that gradient.
            // The touched mask and ‖v‖ are applied and summed block by block too (no pass over v afterwards).
            let adapted = AdaptedMetaGradient(
                parameters: base.parameters, optimizer: try base.updateDerivative(),
                releasingState: passes.releasesAdaptationState, touchedBy: passes.touchedBy, phases: passes.phases)
            (direct, metaLoss) = passes.metaGradients(streamingTheta: adapted.consume)
            v = adapted.vectors()
            norm = adapted.norm
        } else {
            let gradients = passes.metaGradients()
            (v, direct, metaLoss) = (gradients.theta, gradients.direct, gradients.loss)
            // Backward may share tensor objects between gradients, so masked copies are made.
            if let touched = passes.touchedBy { v = zip(v, touched).map { Self.masked($0, where: $1) } }
            norm = ParameterVectors.norm(v)
        }
        // Before θ is perturbed and λ updated. A non-finite meta loss is reported as such by the engine (from the
        // early return below); with a finite one, nothing else would show the non-finite direction.
        if !norm.isFinite && metaLoss.isFinite { throw EngineError.nonFiniteMetaDirection(step: passes.baseStep, norm: norm) }
        guard norm > 0, norm.isFinite else {
            // Identical on every rank (direct comes from the shared meta batch): nothing to reduce.
            return MetaStepResult(hypergradient: direct, metaLoss: metaLoss, epsilon: nil, reduced: true)
        }
        let epsilon = alpha / Float(norm)
        let theta = base.tensors
        // A copy of θ only when it must be restored exactly: with the base update along v, θ goes from θ + εv
        // to θ − εv (up to rounding) in place, which saves a parameter-sized buffer and a pass over it.
        let original = baseUpdateAlongV ? nil : theta.map { $0.storage }
        // Frozen meta inputs are recorded at θ by one more forward (inputs from the θ + εv pass would put an
        // O(ε) error into the difference).
        let metaInputs = freezeMetaInputs ? MetaInputRecording() : nil
        if let metaInputs {
            withoutGrad { _ = passes.replayedBaseLoss(metaInputs: metaInputs) }
            metaInputs.startReplay()
        }
        ParameterVectors.addScaled(theta, epsilon, v)
        let gPlus = passes.baseGradientForMeta(metaInputs: metaInputs)
        metaInputs?.startReplay()
        ParameterVectors.addScaled(theta, -2 * epsilon, v)
        if let reducer = passes.lambdaReducer {
            let addend = withoutGrad { zip(direct, gPlus).map { d, p in d * (2 * epsilon) - p } }
            reducer.begin(scale: 1 / (2 * epsilon), addend: addend)
            let gMinus = passes.baseGradientForMeta(metaInputs: metaInputs, onGradientReady: reducer.gradientReady)
            if let original { for (t, saved) in zip(theta, original) { t.assign(saved) } }
            let hypergradient = try reducer.finish(like: gMinus)
            return MetaStepResult(hypergradient: hypergradient, metaLoss: metaLoss, epsilon: epsilon, reduced: true)
        }
        let gMinus = passes.baseGradientForMeta(metaInputs: metaInputs)
        if let original { for (t, saved) in zip(theta, original) { t.assign(saved) } }
        let hypergradient = withoutGrad {
            zip(direct, zip(gMinus, gPlus)).map { d, pair in d + (pair.0 - pair.1) * (1 / (2 * epsilon)) }
        }
        return MetaStepResult(hypergradient: hypergradient, metaLoss: metaLoss, epsilon: epsilon)
    }

    /// `values` with zeros wherever `mask` says the last base gradient was exactly zero.
    static func masked(_ values: Tensor, where mask: TouchedMask) -> Tensor {
        precondition(mask.touched.count == values.count, "touched mask of \(mask.touched.count) entries for \(values.count) values")
        let copy = values.detached()  // copy-on-write: the first write copies the storage
        copy.withUnsafeMutableBufferPointer { mask.zeroUntouched($0, from: 0) }
        return copy
    }
}

/// SAMA's v = A ⊙ ∂L_meta/∂θ assembled from the row blocks of a streamed meta backward, one
/// `AdaptedVectorBuilder` per parameter while its blocks arrive.
final class AdaptedMetaGradient {
    private let parameters: [NamedParameter]
    private let optimizer: any UpdateDerivative
    private let releasingState: Bool
    /// Zero v where the last base gradient was exactly zero (`perturbTouchedParametersOnly`).
    private let touchedBy: [TouchedMask]?
    private var builders: [AdaptedVectorBuilder?]
    private var results: [Tensor?]
    private var sumOfSquares = 0.0
    /// The engine's clock, timing each block as `.adaptation`.
    private let phases: PhaseClock?

    init(
        parameters: [NamedParameter], optimizer: any UpdateDerivative, releasingState: Bool, touchedBy: [TouchedMask]? = nil,
        phases: PhaseClock? = nil
    ) {
        precondition(touchedBy == nil || touchedBy!.count == parameters.count, "one touched mask per parameter")
        self.parameters = parameters
        self.optimizer = optimizer
        self.releasingState = releasingState
        self.touchedBy = touchedBy
        self.phases = phases
        builders = Array(repeating: nil, count: parameters.count)
        results = Array(repeating: nil, count: parameters.count)
    }

    /// ‖v‖ over all parameters, once every one is complete.
    var norm: Double { sumOfSquares.squareRoot() }

    /// Takes the next block of parameter `index`'s meta gradient (rows of its first axis, in order).
    func consume(_ index: Int, _ rows: Range<Int>, _ values: UnsafeMutableBufferPointer<Float>) {
        guard let phases else { return adapt(index, rows, values) }
        phases.measure(.adaptation) { adapt(index, rows, values) }
    }

    private func adapt(_ index: Int, _ rows: Range<Int>, _ values: UnsafeMutableBufferPointer<Float>) {
        let parameter = parameters[index]
        precondition(results[index] == nil, "meta gradient of \(parameter.key) streamed twice")
        let rowCount = parameter.tensor.shape.first ?? 1
        if let mask = touchedBy?[index] {
            // A ⊙ (mask ⊙ g) = mask ⊙ (A ⊙ g): masking the raw block is masking v.
            precondition(mask.touched.count == parameter.tensor.count, "touched mask of \(mask.touched.count) entries for \(parameter.key)")
            mask.zeroUntouched(values, from: rows.lowerBound * (parameter.tensor.count / Swift.max(rowCount, 1)))
        }
        let builder = builders[index] ?? optimizer.adaptedVectorBuilder(for: parameter, releasingState: releasingState)
        builder.add(values) { v in self.sumOfSquares += ParameterVectors.sumOfSquares(v) }
        if rows.upperBound == rowCount {
            results[index] = builder.finish()
            builders[index] = nil
        } else {
            builders[index] = builder
        }
    }

    /// v per parameter, once the backward has streamed every one.
    func vectors() -> [Tensor] {
        results.enumerated().map { index, v in
            guard let v else { preconditionFailure("meta gradient of \(parameters[index].key) never completed") }
            return v
        }
    }
}

/// Which entries of a parameter the last base gradient touched (nonzero), one byte each.
struct TouchedMask {
    let touched: [UInt8]
    init(_ gradient: Tensor) {
        touched = gradient.withUnsafeBufferPointer { g in g.map { $0 != 0 ? 1 : 0 } }
    }

    /// Zeroes the entries of `values` (the parameter's entries from `offset` on) that the gradient did not touch.
    func zeroUntouched(_ values: UnsafeMutableBufferPointer<Float>, from offset: Int) {
        precondition(
            offset + values.count <= touched.count, "touched mask of \(touched.count) entries for entries up to \(offset + values.count)")
        touched.withUnsafeBufferPointer { m in for i in values.indices where m[offset + i] == 0 { values[i] = 0 } }
    }
}
