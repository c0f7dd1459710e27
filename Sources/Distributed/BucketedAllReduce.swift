import Dispatch
import Tensors

/// The parameters of a model grouped into all-reduce buckets of at most `capacityBytes` (a parameter larger
/// than that gets a bucket of its own). Parameters come in sorted dotted-key order (the same on every rank);
/// buckets are filled in `order`: by default the reverse of that order, which is roughly the order in which
/// backward completes gradients (the output layer first), so the first bucket fills, and starts reducing,
/// first. `BucketedAllReduce` refills them in the readiness order it observes in its first round.
public struct GradientBuckets: Sendable, Equatable {
    public struct Bucket: Sendable, Equatable {
        /// Indices into the parameter list, in the order they are packed.
        public var parameters: [Int]
        /// Offset of each packed parameter in the bucket buffer.
        public var offsets: [Int]
        /// Total number of Floats.
        public var count: Int
    }

    /// The buckets in launch order (the first fills first during backward).
    public let buckets: [Bucket]
    /// For each parameter: its bucket and its position in that bucket's `parameters` (nil for a parameter
    /// left out of `order`, which is reduced some other way).
    public let location: [(bucket: Int, slot: Int)?]

    public static func == (a: GradientBuckets, b: GradientBuckets) -> Bool { a.buckets == b.buckets }

    /// 4 MB. Frameworks often use 25 MB, but on a model of a few million parameters that is one bucket, which
    /// can start only when backward ends; smaller buckets let the all-reduce overlap backward (how much is
    /// hidden at each size: `winnow bench ddp --bucket-mb`, docs/benchmark-notes.md).
    public static let defaultCapacityBytes = 4 << 20

    /// - Parameters:
    ///   - counts: element count of each parameter, in sorted dotted-key order.
    ///   - order: the parameters to pack, in packing order (default: all of them, in reverse key order).
    ///   - capacityBytes: the largest bucket, unless one parameter alone is larger.
    public init(counts: [Int], order: [Int]? = nil, capacityBytes: Int = GradientBuckets.defaultCapacityBytes) {
        precondition(capacityBytes >= 4, "bucket capacity must be at least one Float, got \(capacityBytes) bytes")
        let order = order ?? Array(counts.indices.reversed())
        precondition(
            Set(order).count == order.count && order.allSatisfy(counts.indices.contains),
            "bucket order must list distinct parameters among the \(counts.count)")
        let capacity = capacityBytes / MemoryLayout<Float>.size
        var buckets: [Bucket] = []
        var current = Bucket(parameters: [], offsets: [], count: 0)
        for index in order {
            if !current.parameters.isEmpty && current.count + counts[index] > capacity {
                buckets.append(current)
                current = Bucket(parameters: [], offsets: [], count: 0)
            }
            current.parameters.append(index)
            current.offsets.append(current.count)
            current.count += counts[index]
        }
        if !current.parameters.isEmpty { buckets.append(current) }
        var location = [(bucket: Int, slot: Int)?](repeating: nil, count: counts.count)
        for (b, bucket) in buckets.enumerated() {
            for (slot, p) in bucket.parameters.enumerated() { location[p] = (b, slot) }
        }
        self.buckets = buckets
        self.location = location
    }
}

/// Timing and volume of the bucketed all-reduces, summed over rounds.
public struct AllReduceStatistics: Sendable, Equatable {
    /// Rounds finished (one per `finish`).
    public var rounds = 0
    /// Bucket all-reduces completed.
    public var buckets = 0
    /// Bytes each rank contributed (the size of the reduced buffers).
    public var bytes = 0
    /// Seconds spent blocked in `wait` after backward (the communication not hidden by computation).
    public var waitSeconds = 0.0
    /// Seconds spent packing gradients and starting reductions inside the backward pass.
    public var launchSeconds = 0.0
    /// Row-sparse parameters: rows sent (the union over ranks of the rows with a nonzero gradient) and rows
    /// in total, summed over rounds.
    public var sparseRowsSent = 0
    public var sparseRowsTotal = 0
    public init() {}
}

/// When this rank, its backward done and every bucket launched, started waiting for one round's reductions
/// and when that wait ended, in
/// `DispatchTime` uptime nanoseconds (one clock for every process of a machine, so ranks on one machine can
/// tell waiting for a slower rank from waiting for data).
public struct ReductionRoundTime: Sendable, Equatable, Codable {
    public var waitStart: UInt64
    public var waitEnd: UInt64
    public init(waitStart: UInt64, waitEnd: UInt64) { self.waitStart = waitStart; self.waitEnd = waitEnd }
}

/// Mean all-reduce of a gradient list in buckets started during backward (docs/ALGORITHMS.md §9).
///
///     let reducer = BucketedAllReduce(communicator: c, counts: parameters.map(\.count))
///     reducer.begin()
///     let grads = Autodiff.gradients(of: loss, wrt: parameters, onGradientReady: reducer.gradientReady)
///     let mean = try reducer.finish(like: grads)     // waits; identical on every rank
///
/// Each bucket is packed and its nonblocking all-reduce started as soon as the last of its gradients is
/// complete. Between launches the pending requests are tested so MPI can progress them. With one rank
/// nothing is copied: `finish` returns the gradients (scaled and summed with the addend, if any).
///
/// Parameters given a row width (embedding tables) stay out of the buckets: after backward, only the rows
/// some rank's gradient touches are reduced (`SparseRowReduction`): the same sums as the dense reduction,
/// identical on every rank.
public final class BucketedAllReduce {
    public let communicator: any Communicator
    public private(set) var layout: GradientBuckets
    /// Refill the buckets in the order gradients became ready in the first round (rank 0's order, broadcast).
    public var followsReadiness = true
    private let counts: [Int]
    private let capacityBytes: Int
    private var readinessOrder: [Int] = []
    private var adapted = false
    public private(set) var statistics = AllReduceStatistics()
    /// Test pending requests after every launch (MPI progresses only inside MPI calls).
    public var progressPending = true
    private var buffers: [ReductionBuffer]
    private var filled: [Int]
    private var pending: [(any PendingReduction)?]
    private var scale: Float = 1
    private var addend: [Tensor]?
    private var active = false
    /// The bucket launch order of the last round (tests check it follows readiness).
    public private(set) var launchOrder: [Int] = []
    /// How many gradients had been reported when each bucket of the last round was launched.
    public private(set) var readyCountAtLaunch: [Int] = []
    private var readyCount = 0
    private var reported: [Bool]
    /// Elements per row of each row-sparse parameter; nil for the bucketed ones.
    private let rowWidths: [Int?]
    /// Keep `roundTimes` (benchmarks).
    public var recordsRoundTimes = false
    /// Backward end and wait end of each round, when `recordsRoundTimes` is set.
    public private(set) var roundTimes: [ReductionRoundTime] = []

    /// A reducer for parameters of the given element counts (sorted dotted-key order, the same on every rank).
    /// - Parameter rowWidths: for each parameter, its row width if its gradient is usually nonzero in few
    ///   rows only (embedding tables: reduced sparsely after backward), nil to reduce it in the buckets.
    public init(
        communicator: any Communicator, counts: [Int], rowWidths: [Int?]? = nil,
        capacityBytes: Int = GradientBuckets.defaultCapacityBytes
    ) {
        self.communicator = communicator
        self.counts = counts
        self.capacityBytes = capacityBytes
        let rowWidths = rowWidths ?? [Int?](repeating: nil, count: counts.count)
        precondition(rowWidths.count == counts.count, "BucketedAllReduce: \(rowWidths.count) row widths for \(counts.count) parameters")
        for (i, width) in rowWidths.enumerated() {
            if let width {
                precondition(width > 0 && counts[i] % width == 0, "parameter \(i): \(counts[i]) elements are not rows of \(width)")
            }
        }
        self.rowWidths = rowWidths
        let layout = GradientBuckets(
            counts: counts, order: counts.indices.reversed().filter { rowWidths[$0] == nil },
            capacityBytes: capacityBytes)
        precondition(
            layout.location.indices.allSatisfy { (layout.location[$0] != nil) != (rowWidths[$0] != nil) },
            "BucketedAllReduce: every parameter must be bucketed or row-sparse, not both")
        self.layout = layout
        buffers = communicator.isDistributed ? layout.buckets.map { ReductionBuffer(count: $0.count) } : []
        filled = [Int](repeating: 0, count: layout.buckets.count)
        pending = [(any PendingReduction)?](repeating: nil, count: layout.buckets.count)
        reported = [Bool](repeating: false, count: counts.count)
    }

    /// Starts a round: every gradient reported will be reduced as `scale · (gradient + addend)`.
    public func begin(scale: Float = 1, addend: [Tensor]? = nil) {
        precondition(!active, "BucketedAllReduce.begin called twice without finish")
        active = true
        self.scale = scale
        self.addend = addend
        for i in filled.indices { filled[i] = 0; pending[i] = nil }
        launchOrder = []
        readyCountAtLaunch = []
        readyCount = 0
        readinessOrder = []
        for i in reported.indices { reported[i] = false }
    }

    /// Reports that parameter `index`'s gradient is complete (the `onGradientReady` hook of `Autodiff.gradients`).
    public func gradientReady(_ index: Int, _ gradient: Tensor) {
        precondition(active, "gradientReady outside begin/finish")
        precondition(!reported[index], "gradient \(index) reported twice")
        reported[index] = true
        readinessOrder.append(index)
        readyCount += 1
        guard communicator.isDistributed else { return }
        let start = DispatchTime.now().uptimeNanoseconds
        defer { statistics.launchSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        guard let location = layout.location[index] else {
            // Row-sparse: reduced in `finish`, once every rank has its rows.
            if progressPending { for request in pending { _ = request?.test() } }
            return
        }
        let (b, slot) = location
        let bucket = layout.buckets[b]
        let destination = buffers[b].pointer + bucket.offsets[slot]
        // Pre-divided by the rank count, so a sum all-reduce gives the mean without another pass.
        let s = scale / Float(communicator.size)
        gradient.withUnsafeBufferPointer { g in
            precondition(
                g.count == (slot + 1 < bucket.offsets.count ? bucket.offsets[slot + 1] : bucket.count) - bucket.offsets[slot],
                "gradient \(index) has \(g.count) elements, its bucket slot expects another size")
            if let addend {
                addend[index].withUnsafeBufferPointer { a in for i in 0..<g.count { destination[i] = s * (g[i] + a[i]) } }
            } else {
                for i in 0..<g.count { destination[i] = s * g[i] }
            }
        }
        filled[b] += 1
        if filled[b] == bucket.parameters.count { launch(b) }
        if progressPending { for request in pending { _ = request?.test() } }
    }

    private func launch(_ b: Int) {
        launchOrder.append(b)
        readyCountAtLaunch.append(readyCount)
        pending[b] = communicator.startAllReduce(buffers[b], .sum)
    }

    /// Launches buckets whose gradients were not all reported (parameters the loss does not reach get zeros
    /// from `gradients`, which reports them after the pass), waits for every bucket and returns the mean
    /// gradients shaped like `gradients`.
    public func finish(like gradients: [Tensor]) throws -> [Tensor] {
        precondition(active, "finish without begin")
        defer { addend = nil }  // the accumulated gradients are not needed after the round
        precondition(gradients.count == reported.count, "finish: \(gradients.count) gradients for \(reported.count) parameters")
        for i in reported.indices where !reported[i] { gradientReady(i, gradients[i]) }
        active = false
        statistics.rounds += 1
        guard communicator.isDistributed else {
            guard scale != 1 || addend != nil else { return gradients }
            let addend = self.addend, s = scale
            return withoutGrad { gradients.enumerated().map { i, g in (addend.map { g + $0[i] } ?? g) * s } }
        }
        // Row-sparse parameters: mark their touched rows (local work) before the wait starts, then exchange in
        // key order (the same collectives in the same order on every rank).
        let s = scale / Float(communicator.size)
        let sparse = rowWidths.indices.compactMap { i in
            rowWidths[i].map { (index: i, reduction: SparseRowReduction(gradient: gradients[i], addend: addend?[i], scale: s, width: $0)) }
        }
        let start = DispatchTime.now().uptimeNanoseconds
        for (_, reduction) in sparse { try reduction.start(communicator: communicator) }
        for b in layout.buckets.indices { try pending[b]!.wait(); pending[b] = nil }
        var result = [Tensor?](repeating: nil, count: gradients.count)
        for (i, reduction) in sparse {
            result[i] = try reduction.finish()
            statistics.bytes += reduction.floatsSent * MemoryLayout<Float>.size
            statistics.sparseRowsSent += reduction.rows.count
            statistics.sparseRowsTotal += counts[i] / reduction.width
        }
        let waitEnd = DispatchTime.now().uptimeNanoseconds
        statistics.waitSeconds += Double(waitEnd - start) / 1e9
        if recordsRoundTimes { roundTimes.append(ReductionRoundTime(waitStart: start, waitEnd: waitEnd)) }
        statistics.buckets += layout.buckets.count
        statistics.bytes += layout.buckets.reduce(0) { $0 + $1.count } * MemoryLayout<Float>.size
        for (b, bucket) in layout.buckets.enumerated() {
            let source = buffers[b].pointer
            for (slot, p) in bucket.parameters.enumerated() {
                let start = bucket.offsets[slot]
                result[p] = Tensor(
                    shape: gradients[p].shape,
                    storage: Array(UnsafeBufferPointer(start: source + start, count: gradients[p].count)))
            }
        }
        if followsReadiness && !adapted { try adaptToReadiness() }
        return result.map { $0! }
    }

    /// After the first round: rebuild the buckets in rank 0's observed readiness order (same on every rank).
    private func adaptToReadiness() throws {
        adapted = true
        var order = readinessOrder.map(Float.init)
        try communicator.broadcast(&order, root: 0)
        let observed = order.map { Int($0) }.filter { rowWidths[$0] == nil }
        let rebuilt = GradientBuckets(counts: counts, order: observed, capacityBytes: capacityBytes)
        guard rebuilt != layout else { return }
        layout = rebuilt
        buffers = layout.buckets.map { ReductionBuffer(count: $0.count) }
        filled = [Int](repeating: 0, count: layout.buckets.count)
        pending = [(any PendingReduction)?](repeating: nil, count: layout.buckets.count)
    }

    /// Whole round without overlap (gradients already computed): begin, report all, finish.
    public func reduce(_ gradients: [Tensor], scale: Float = 1) throws -> [Tensor] {
        begin(scale: scale)
        for (i, g) in gradients.enumerated() { gradientReady(i, g) }
        return try finish(like: gradients)
    }
}
