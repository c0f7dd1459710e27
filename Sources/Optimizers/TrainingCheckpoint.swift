import Foundation
import NeuralNetworks
import Tensors

/// Model and optimizer state in one safetensors file.
///
/// Layout: model tensors under `model.<dotted key>`, optimizer slots under `optimizer.<dotted key>.<slot>`
/// (`exp_avg`, `exp_avg_sq`, `last_grad`, `momentum_buffer`) and `optimizer.__step`; the string metadata
/// (`__metadata__`) carries `format: winnow-checkpoint-1`, the optimizer's learning rate and anything the
/// caller adds (step counters, RNG state). Written atomically (temporary file, then rename).
public enum TrainingCheckpoint {
    public static let formatVersion = "winnow-checkpoint-1"

    /// Saves `model` and `optimizer` with extra `metadata` to `url`.
    public static func save(model: any Module, optimizer: any Optimizer, metadata: [String: String] = [:], to url: URL) throws {
        var tensors: [String: Tensor] = [:]
        for (key, tensor) in model.namedTensors() { tensors["model." + key] = tensor.detached() }
        for (key, tensor) in optimizer.stateDictionary() { tensors["optimizer." + key] = tensor }
        var meta = metadata
        meta["format"] = formatVersion
        meta["learning_rate"] = String(optimizer.learningRate)
        try SafeTensors.write(.init(tensors: tensors, metadata: meta), to: url)
    }

    /// Restores `model` and `optimizer` from `url` and returns the file's metadata.
    @discardableResult
    public static func load(into model: any Module, optimizer: any Optimizer, from url: URL) throws -> [String: String] {
        let contents = try SafeTensors.read(url)
        guard contents.metadata["format"] == formatVersion else {
            throw CheckpointError.notACheckpoint(url.path, found: contents.metadata["format"])
        }
        var modelState: [String: Tensor] = [:], optimizerState: [String: Tensor] = [:]
        for (key, tensor) in contents.tensors {
            if key.hasPrefix("model.") {
                modelState[String(key.dropFirst(6))] = tensor
            } else if key.hasPrefix("optimizer.") {
                optimizerState[String(key.dropFirst(10))] = tensor
            }
        }
        try model.load(modelState, source: url.path)
        do {
            try optimizer.loadState(optimizerState, parameters: model.namedParameters())
        } catch let error as OptimizerError {
            throw CheckpointError.optimizerState(url.path, error.description)
        }
        if let rate = contents.metadata["learning_rate"].flatMap(Float.init) { optimizer.learningRate = rate }
        return contents.metadata
    }
}

/// Errors restoring a checkpoint; each names the file.
public enum CheckpointError: Error, LocalizedError, Equatable {
    case notACheckpoint(String, found: String?)
    case optimizerState(String, String)

    public var errorDescription: String? {
        switch self {
        case let .notACheckpoint(path, found):
            "\(path): not a Winnow checkpoint (format \(found ?? "missing"), expected \(TrainingCheckpoint.formatVersion))"
        case let .optimizerState(path, what): "\(path): \(what)"
        }
    }
}
