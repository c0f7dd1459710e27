import DataIO
import Foundation
import Tensors

/// One split of an image dataset: `[N, C, H, W]` normalised Float32 images, integer labels and the records' ids.
public struct ImageSplit: Sendable {
    /// The split's name in the dataset (`train`, `test`, ...).
    public let name: String
    /// `[N, C, H, W]`, normalised (see ``ImageDataOptions``).
    public let images: Tensor
    /// Class index of each image.
    public let labels: [Int]
    /// The dataset's id of each image (`DataRecord.id`: `train-images-idx3-ubyte#17` for IDX).
    public let ids: [String]

    /// Wraps images and labels; the first axis of `images` must match `labels` and `ids`.
    public init(name: String, images: Tensor, labels: [Int], ids: [String]) {
        precondition(
            images.rank == 4 && images.shape[0] == labels.count && labels.count == ids.count,
            "ImageSplit: images \(images.shape), \(labels.count) labels, \(ids.count) ids")
        self.name = name
        self.images = images
        self.labels = labels
        self.ids = ids
    }

    /// Number of images.
    public var count: Int { labels.count }
    /// `[C, H, W]`.
    public var imageShape: [Int] { Array(images.shape.dropFirst()) }

    /// The images at `indices` as one `[n, C, H, W]` tensor with their labels (no gradient is recorded).
    public func batch(_ indices: [Int]) -> (x: Tensor, labels: [Int]) {
        let x = withoutGrad { images.indexSelect(indices) }
        return (x, indices.map { labels[$0] })
    }

    /// The split restricted to `indices`, in that order (for retraining on a pruned set).
    public func subset(_ indices: [Int]) -> ImageSplit {
        ImageSplit(name: name, images: batch(indices).x, labels: indices.map { labels[$0] }, ids: indices.map { ids[$0] })
    }
}

/// How ``ImageData/load(path:options:)`` reads and normalises images.
public struct ImageDataOptions: Sendable, Equatable {
    /// The training split's name (IDX `train-images-idx3-ubyte` → `train`, JSONL/CSV `train.jsonl` → `train`).
    public var trainSplit = "train"
    /// The test split's name (IDX `t10k-...` → `test`).
    public var testSplit = "test"
    /// `[C, H, W]` of each image; nil infers it from the pixel count: a square is one channel (784 → 1×28×28),
    /// three times a square three channels.
    public var imageShape: [Int]?
    /// Raw pixels are multiplied by this first (1/255 for bytes; 1 for data already in [0, 1]).
    public var pixelScale: Float = 1 / 255
    /// Then each channel is standardised with the training split's mean and standard deviation (applied to both).
    public var standardize = true
    /// The number of classes; nil takes the dataset's (`label.json`, or the largest label + 1). A label outside
    /// 0..<classCount in either split is an error naming the file.
    public var classCount: Int?
    /// Forces the dataset format instead of detecting it.
    public var format: DatasetFormat?

    /// The defaults: `train` and `test`, shape inferred, bytes scaled to [0, 1] and standardised per channel.
    public init() {}
}

/// Errors reading an image dataset; each names the dataset and, where it applies, the file and sample.
public enum ImageDataError: Error, LocalizedError, Equatable, Sendable {
    /// The dataset has no split of this name.
    case missingSplit(path: String, split: String, available: [String])
    /// A record without a label or without pixels.
    case incompleteRecord(file: String, id: String, missing: String)
    /// A label outside 0..<classCount.
    case labelOutOfRange(file: String, id: String, label: Int, classCount: Int)
    /// The pixel count fits no `[C, H, W]` (not the given shape, or no square to infer one from).
    case badImageShape(file: String, id: String, pixels: Int, expected: String)

    public var errorDescription: String? {
        switch self {
        case let .missingSplit(path, split, available):
            return "\(path): no split '\(split)' (splits: \(available.isEmpty ? "none" : available.joined(separator: ", ")))"
        case let .incompleteRecord(file, id, missing):
            return "\(file): id '\(id)': the record has no \(missing)"
        case let .labelOutOfRange(file, id, label, classCount):
            return "\(file): id '\(id)': label \(label) is outside the \(classCount) classes 0…\(classCount - 1)"
        case let .badImageShape(file, id, pixels, expected):
            return "\(file): id '\(id)': \(pixels) pixels do not make \(expected)"
        }
    }
}

/// A train and a test split of images with their class count, read through `Dataset.load` (IDX, JSONL or CSV,
/// from a folder, a file or an archive).
public struct ImageData: Sendable {
    public let train: ImageSplit
    public let test: ImageSplit
    /// Number of classes (every label is below it).
    public let classCount: Int
    /// Class names by index.
    public let classNames: [String]
    /// The per-channel mean and standard deviation subtracted and divided (after `pixelScale`); 0 and 1 when
    /// `standardize` is off.
    public let channelMean: [Float]
    public let channelStd: [Float]
    /// Where the data came from.
    public let sourcePath: String
    /// `Dataset.warnings` of the source: what loaded but is probably not meant.
    public var warnings: [String] = []

    /// Loads `options.trainSplit` and `options.testSplit` of the dataset at `path`. Throws `DataIOError` for
    /// unreadable or inconsistent files (IDX images and labels of different counts, an empty split) and
    /// ``ImageDataError`` for a missing split, a label outside the classes or pixels that make no image.
    public static func load(path: String, options: ImageDataOptions = ImageDataOptions()) throws -> ImageData {
        let dataset = try Dataset.load(path: path, options: DatasetOptions(format: options.format))
        func split(_ name: String) throws -> LabeledSplit {
            guard let split = dataset[split: name] else {
                throw ImageDataError.missingSplit(path: path, split: name, available: dataset.splitNames)
            }
            guard split.count > 0 else { throw DataIOError.emptySplit(file: fileName(path, split.member), split: name) }
            return split
        }
        let trainRecords = try split(options.trainSplit), testRecords = try split(options.testSplit)
        let classCount = options.classCount ?? dataset.classCount
        let shape = try options.imageShape ?? inferShape(trainRecords, path: path)
        var train = try tensor(trainRecords, shape: shape, classCount: classCount, path: path, scale: options.pixelScale)
        var test = try tensor(testRecords, shape: shape, classCount: classCount, path: path, scale: options.pixelScale)
        var mean = [Float](repeating: 0, count: shape[0]), std = [Float](repeating: 1, count: shape[0])
        if options.standardize {
            (mean, std) = channelStatistics(train.images)
            standardizeInPlace(&train.images, mean: mean, std: std)
            standardizeInPlace(&test.images, mean: mean, std: std)
        }
        let names = dataset.classNames.count == classCount ? dataset.classNames : (0..<classCount).map(String.init)
        var data = ImageData(
            train: ImageSplit(name: trainRecords.name, images: train.images, labels: train.labels, ids: trainRecords.ids),
            test: ImageSplit(name: testRecords.name, images: test.images, labels: test.labels, ids: testRecords.ids),
            classCount: classCount, classNames: names, channelMean: mean, channelStd: std, sourcePath: path)
        data.warnings = dataset.warnings
        return data
    }

    /// Wraps splits built elsewhere (tests, synthetic data).
    public init(
        train: ImageSplit, test: ImageSplit, classCount: Int, classNames: [String]? = nil,
        channelMean: [Float] = [], channelStd: [Float] = [], sourcePath: String = ""
    ) {
        self.train = train
        self.test = test
        self.classCount = classCount
        self.classNames = classNames ?? (0..<classCount).map(String.init)
        self.channelMean = channelMean
        self.channelStd = channelStd
        self.sourcePath = sourcePath
    }

    private static func fileName(_ path: String, _ member: String) -> String {
        member == path || member.isEmpty ? path : "\(path):\(member)"
    }

    /// `[C, H, W]` from the first record's pixel count: s² → 1×s×s, 3·s² → 3×s×s.
    private static func inferShape(_ split: LabeledSplit, path: String) throws -> [Int] {
        guard let first = split.records.first else { throw DataIOError.emptySplit(file: path, split: split.name) }
        let pixels = first.features?.count ?? 0
        for channels in [1, 3] where pixels % channels == 0 {
            let side = Int(Double(pixels / channels).squareRoot().rounded())
            if side > 0, side * side * channels == pixels { return [channels, side, side] }
        }
        throw ImageDataError.badImageShape(
            file: fileName(path, split.member), id: first.id, pixels: pixels,
            expected: "a square image with 1 or 3 channels (set imageShape)")
    }

    private static func tensor(
        _ split: LabeledSplit, shape: [Int], classCount: Int, path: String,
        scale: Float
    ) throws -> (images: Tensor, labels: [Int]) {
        let size = shape.reduce(1, *)
        let file = fileName(path, split.member), labelsFile = fileName(path, split.labelsMember ?? split.member)
        var storage = [Float](repeating: 0, count: split.count * size)
        var labels = [Int]()
        labels.reserveCapacity(split.count)
        try storage.withUnsafeMutableBufferPointer { out in
            for (row, record) in split.records.enumerated() {
                guard let pixels = record.features else {
                    throw ImageDataError.incompleteRecord(file: file, id: record.id, missing: "pixels")
                }
                guard let label = record.label else {
                    throw ImageDataError.incompleteRecord(file: labelsFile, id: record.id, missing: "label")
                }
                guard pixels.count == size else {
                    throw ImageDataError.badImageShape(
                        file: file, id: record.id, pixels: pixels.count,
                        expected: shape.map(String.init).joined(separator: "×"))
                }
                guard label >= 0, label < classCount else {
                    throw ImageDataError.labelOutOfRange(file: labelsFile, id: record.id, label: label, classCount: classCount)
                }
                for k in 0..<size { out[row * size + k] = pixels[k] * scale }
                labels.append(label)
            }
        }
        return (Tensor(shape: [split.count] + shape, storage: storage), labels)
    }

    /// Per-channel mean and (population) standard deviation of `[N, C, H, W]` images, accumulated in Double.
    static func channelStatistics(_ images: Tensor) -> (mean: [Float], std: [Float]) {
        let (n, c) = (images.shape[0], images.shape[1])
        let plane = images.shape[2] * images.shape[3]
        var sums = [Double](repeating: 0, count: c), squares = [Double](repeating: 0, count: c)
        images.withUnsafeBufferPointer { x in
            for i in 0..<n {
                for ch in 0..<c {
                    let base = (i * c + ch) * plane
                    var s = 0.0, q = 0.0
                    for k in 0..<plane { let v = Double(x[base + k]); s += v; q += v * v }
                    sums[ch] += s
                    squares[ch] += q
                }
            }
        }
        let total = Double(n * plane)
        let mean = sums.map { $0 / total }
        let std = zip(squares, mean).map { max(($0 / total) - $1 * $1, 0).squareRoot() }
        return (mean.map(Float.init), std.map { Float($0 > 1e-12 ? $0 : 1) })
    }

    private static func standardizeInPlace(_ images: inout Tensor, mean: [Float], std: [Float]) {
        let (n, c) = (images.shape[0], images.shape[1])
        let plane = images.shape[2] * images.shape[3]
        images.withUnsafeMutableBufferPointer { x in
            for i in 0..<n {
                for ch in 0..<c {
                    let base = (i * c + ch) * plane, m = mean[ch], inverse = 1 / std[ch]
                    for k in 0..<plane { x[base + k] = (x[base + k] - m) * inverse }
                }
            }
        }
    }
}
