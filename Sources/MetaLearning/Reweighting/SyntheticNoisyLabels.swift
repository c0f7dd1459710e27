import Tensors

/// The synthetic noisy-label problem of `winnow bench meta`, generated deterministically from a seed:
/// Gaussian classes (means from N(0, meanStd²·I), unit-variance noise around them), a fraction of the
/// training labels flipped to a uniformly drawn other class, and clean meta and test sets.
public struct SyntheticNoisyLabels: Sendable {
    public var train: DenseClassificationData
    /// Which training labels were flipped (never used in training).
    public var corrupted: [Bool]
    public var meta: DenseClassificationData
    public var test: DenseClassificationData

    public init(
        classes: Int = 10, dimension: Int = 784, meanStd: Float = 0.12, trainCount: Int = 20_000, metaCount: Int = 1_000,
        testCount: Int = 5_000, noise: Float = 0.4, seed: UInt64 = 0
    ) {
        var rng = RandomGenerator(seed: seed)
        let means = Tensor.normal([classes, dimension], std: meanStd, using: &rng)
        func sample(_ n: Int) -> DenseClassificationData {
            let labels = (0..<n).map { _ in rng.integer(below: classes) }
            let x = means.indexSelect(labels) + Tensor.normal([n, dimension], using: &rng)
            return DenseClassificationData(features: x, labels: labels, classCount: classes)
        }
        var train = sample(trainCount)
        var corrupted = [Bool](repeating: false, count: trainCount)
        for i in 0..<trainCount where rng.uniform() < noise {
            let shift = 1 + rng.integer(below: classes - 1)
            train.labels[i] = (train.labels[i] + shift) % classes
            corrupted[i] = true
        }
        self.train = train
        self.corrupted = corrupted
        meta = sample(metaCount)
        test = sample(testCount)
    }
}
