import Foundation
import Recipes
import ResultStore
import Runtime

/// One data-pruning run: loads the images, lays out the stages' units of work on the run's steps, resumes
/// after the last finished one, and runs the rest.
///
/// Steps: the score stage's epochs are steps 1…E (its checkpoints are the engine's); after it, every unit of
/// work (one baseline computation, one retraining) is the next step, followed by a small JSON checkpoint
/// holding the retraining results so far. A resumed run skips every step up to its checkpoint.
struct PruningRun {
    let config: DataPruningApplication.Config
    let context: RunContext

    func run() throws -> RunSummary {
        let data = try loadData()
        context.progress.log(
            "data-pruning: \(data.train.count) train / \(data.test.count) test images \(data.train.imageShape), "
                + "\(data.classCount) classes, stage \(config.stage.rawValue)")
        if context.size > 1, config.stage != .score {
            throw InvalidSetting("stage", "only the score stage runs on several ranks; run '\(config.stage.rawValue)' in one process")
        }
        try context.recorder.registerSamples(keys: data.train.ids, split: config.dataset.trainSplit)
        let sources = try ScoreSources(config: config, context: context)
        let plan = PruningPlan(config: config, retrainScores: sources.names)
        let resume = try PruningResume(context: context, scoringEpochs: plan.scoringEpochs)
        var metrics: [String: Double] = [:]
        if plan.scoringEpochs > 0, resume.completedStep < plan.scoringEpochs {
            metrics.merge(try MetaScoringStage(config: config, context: context).run(data: data)) { $1 }
            try saveProgress(PruningProgress(), step: plan.scoringEpochs)
        } else if plan.scoringEpochs > 0, context.isRoot {
            metrics.merge(try MetaScoringStage.summary(store: context.recorder.store, run: context.runID)) { $1 }
        }
        var progress = resume.progress
        let remaining = plan.units.filter { $0.step > resume.completedStep }
        if !remaining.isEmpty {
            context.progress.start("\(config.stage.rawValue): \(plan.units.count) units of work", total: plan.units.count)
        }
        let baselines = BaselineStage(config: config, context: context, data: data)
        var retrain: RetrainStage?
        for unit in remaining {
            switch unit.work {
            case .baseline(let kind):
                try baselines.run(kind, step: unit.step)
            case .retrain(let job):
                if retrain == nil { retrain = try RetrainStage(config: config, context: context, data: data, sources: sources) }
                let result = try retrain!.run(job)
                progress.results.append(result)
                try context.recorder.recordMetrics(result.metrics, step: unit.step)
            }
            try context.checkInjectedFault(step: unit.step)
            try saveProgress(progress, step: unit.step)
            context.progress.update(completed: plan.units.firstIndex { $0.step == unit.step }.map { $0 + 1 }, metrics: [:])
        }
        context.progress.finish()
        var notes: [String] = []
        if plan.retrains {
            let table = PruningResultTable(results: progress.results, ratios: config.retrain.ratios)
            metrics.merge(table.summaryMetrics) { $1 }
            notes.append(contentsOf: table.markdown.split(separator: "\n").map(String.init))
            if context.databasePath != ":memory:" {
                let files = try table.write(nextTo: context.databasePath, runID: context.runID)
                notes.append("table: \(files.table)")
                notes.append("plot: \(files.plot)")
            }
        }
        if plan.scores {
            let db = "--db \(context.databasePath)"
            notes.append("scores: \(context.executable) scores --run \(context.runID) \(db)")
            notes.append(
                "keep 70% by \(config.metaScoreName): \(context.executable) export manifest --run \(context.runID) --by "
                    + "\(config.metaScoreName) --prune 0.3 --output Outputs/kept-\(context.runID).jsonl "
                    + "--archive Outputs/kept-\(context.runID).tar.gz \(db)")
        }
        return RunSummary(metrics: metrics, notes: notes)
    }

    /// The dataset's train and test splits, cut to `train_samples` / `test_samples` when set.
    private func loadData() throws -> ImageData {
        let d = config.dataset
        var options = ImageDataOptions()
        options.trainSplit = d.trainSplit
        options.testSplit = d.testSplit
        options.classCount = d.classes > 0 ? d.classes : nil
        let full = try ImageData.load(path: ManifestArchive.resolvedDataPath(d.archive, recipePath: context.recipePath), options: options)
        func cut(_ split: ImageSplit, _ count: Int) -> ImageSplit {
            count > 0 && count < split.count ? split.subset(Array(0..<count)) : split
        }
        for warning in full.warnings { context.progress.log("warning: \(warning)") }
        return ImageData(
            train: cut(full.train, d.trainSamples), test: cut(full.test, d.testSamples), classCount: full.classCount,
            classNames: full.classNames, channelMean: full.channelMean, channelStd: full.channelStd, sourcePath: full.sourcePath)
    }

    private func saveProgress(_ progress: PruningProgress, step: Int) throws {
        try context.saveCheckpoint(step: step, fileExtension: "json") { url in
            try JSONEncoder().encode(progress).write(to: url, options: .atomic)
        }
    }
}

/// Where a resumed run picks up: the last step it finished and the retraining results it had by then.
struct PruningResume {
    var completedStep = 0
    var progress = PruningProgress()

    init(context: RunContext, scoringEpochs: Int) throws {
        guard let checkpoint = context.resumeFrom else { return }
        completedStep = checkpoint.step
        guard let path = checkpoint.path, path.hasSuffix(".json") else {
            // An engine checkpoint: the score stage resumes from it itself.
            guard checkpoint.step < scoringEpochs else {
                throw RunNotResumable(runID: context.runID, reason: "its checkpoint at step \(checkpoint.step) is not a data-pruning one")
            }
            return
        }
        do {
            progress = try JSONDecoder().decode(PruningProgress.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw RunNotResumable(runID: context.runID, reason: "its checkpoint \(path) is unreadable: \(error.localizedDescription)")
        }
    }
}

/// What a run has finished after its score stage, saved as its JSON checkpoint after every unit of work.
struct PruningProgress: Codable, Sendable, Equatable {
    var results: [RetrainResult] = []
}
