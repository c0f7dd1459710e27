import Foundation
import NeuralNetworks
import Optimizers
import Tensors

/// A program whose data position can be saved and restored (samplers, iterators).
public protocol ResumableProgram: BilevelProgram {
    /// The data position as a JSON-encodable value.
    func dataState() throws -> Data
    /// Restores a position written by `dataState()`.
    func restoreDataState(_ data: Data) throws
    /// Tensors beyond θ, λ and the optimizers that a resumed run needs (BatchNorm running statistics, a model
    /// average), by key; none by default.
    func stateTensors() -> [String: Tensor]
    /// Restores what `stateTensors()` wrote (the checkpoint's `program.*` tensors).
    func restoreStateTensors(_ tensors: [String: Tensor]) throws
}

extension ResumableProgram {
    public func stateTensors() -> [String: Tensor] { [:] }
    public func restoreStateTensors(_ tensors: [String: Tensor]) throws {}
}

/// Errors restoring a program checkpoint; each names the file.
public enum ProgramCheckpointError: Error, LocalizedError, Equatable {
    case notAProgramCheckpoint(String)
    case mismatch(String, String)
    /// With several ranks, a checkpoint must fall on the last micro-step of an accumulation window.
    case insideAccumulationWindow(step: Int, accumulation: Int)

    public var errorDescription: String? {
        switch self {
        case let .notAProgramCheckpoint(path): "\(path): not a Winnow program checkpoint"
        case let .mismatch(path, what): "\(path): checkpoint does not fit this program: \(what)"
        case let .insideAccumulationWindow(step, accumulation):
            "checkpoint at base step \(step) falls inside a gradient-accumulation window of \(accumulation) micro-steps: with several "
                + "ranks, make the checkpoint interval a multiple of \(accumulation)"
        }
    }
}

extension Engine where Program: ResumableProgram {
    static var formatVersion: String { "winnow-program-checkpoint-1" }

    /// Writes θ, λ, both optimizers, the engine's counters, its generator, any partially accumulated
    /// gradient and the program's data position to one safetensors file (atomically).
    public func saveCheckpoint(to url: URL) throws {
        var tensors: [String: Tensor] = [:]
        for (key, t) in program.base.parameters { tensors["base." + key] = t.detached() }
        for (key, t) in program.meta.parameters { tensors["meta." + key] = t.detached() }
        for (key, t) in program.base.optimizer.stateDictionary() { tensors["base_optimizer." + key] = t }
        for (key, t) in program.meta.optimizer.stateDictionary() { tensors["meta_optimizer." + key] = t }
        for (i, t) in (accumulatedGradients ?? []).enumerated() { tensors["accumulated.\(i)"] = t.detached() }
        for (key, t) in program.stateTensors() { tensors["program." + key] = t.detached() }
        let metadata: [String: String] = [
            "format": Self.formatVersion,
            "base_step": String(baseStep), "meta_step": String(metaStep),
            "rng": context.rng.state.map(String.init).joined(separator: ","),
            "method": program.base.name + "/" + configuration.method.description,
            "data": String(decoding: try program.dataState(), as: UTF8.self),
        ]
        try SafeTensors.write(.init(tensors: tensors, metadata: metadata), to: url)
    }

    /// Saves a program checkpoint to `directory/step-<N>.safetensors` every `checkpointInterval` steps.
    /// With several ranks only rank 0 writes (replicas are identical); every rank loads the same file to resume.
    public func enableCheckpoints(directory: URL) {
        checkpoint = { [unowned self] step in
            let url = directory.appendingPathComponent("step-\(step).safetensors")
            if self.communicator.isDistributed && self.accumulatedGradients != nil {
                // Each rank's partial sums differ; rank 0's alone cannot resume the others.
                throw ProgramCheckpointError.insideAccumulationWindow(step: step, accumulation: self.configuration.gradientAccumulation)
            }
            if self.communicator.isRoot { try self.saveCheckpoint(to: url) }
            return url.path
        }
    }

    /// Restores a checkpoint written by `saveCheckpoint(to:)` into this engine and its program.
    public func loadCheckpoint(from url: URL) throws {
        let contents = try SafeTensors.read(url)
        let meta = contents.metadata
        guard meta["format"] == Self.formatVersion, let base = meta["base_step"].flatMap(Int.init),
            let metaSteps = meta["meta_step"].flatMap(Int.init), let rngText = meta["rng"], let data = meta["data"]
        else {
            throw ProgramCheckpointError.notAProgramCheckpoint(url.path)
        }
        let rngWords = rngText.split(separator: ",").compactMap { UInt64($0) }
        guard rngWords.count == 4 else { throw ProgramCheckpointError.notAProgramCheckpoint(url.path) }
        func section(_ prefix: String) -> [String: Tensor] {
            var out: [String: Tensor] = [:]
            for (key, t) in contents.tensors where key.hasPrefix(prefix) { out[String(key.dropFirst(prefix.count))] = t }
            return out
        }
        for (level, prefix) in [(program.base, "base."), (program.meta, "meta.")] {
            let state = section(prefix)
            for (key, t) in level.parameters {
                guard let value = state[key], value.shape == t.shape else {
                    throw ProgramCheckpointError.mismatch(url.path, "parameter '\(prefix)\(key)' missing or of another shape")
                }
                t.assign(value)
            }
        }
        do {
            try program.base.optimizer.loadState(section("base_optimizer."), parameters: program.base.parameters)
            try program.meta.optimizer.loadState(section("meta_optimizer."), parameters: program.meta.parameters)
        } catch let error as OptimizerError {
            throw ProgramCheckpointError.mismatch(url.path, error.description)
        }
        let accumulated = section("accumulated.")
        accumulatedGradients = accumulated.isEmpty ? nil : (0..<accumulated.count).map { accumulated["\($0)"]! }
        try program.restoreDataState(Data(data.utf8))
        try program.restoreStateTensors(section("program."))
        restoreCounters(baseStep: base, metaStep: metaSteps, rng: rngWords)
    }
}
