import DataIO
import Distributed
import Foundation
import MetaLearning
import NeuralNetworks
import Optimizers
import Recipes
import ResultStore
import Runtime
import Tensors

/// One run of the noisy-label application: data, model, engine, per-epoch evaluation and recording,
/// and the final report.
struct NoisyLabelRun {
    let config: NoisyLabelsApplication.Config
    let context: RunContext

    func run() throws -> RunSummary {
        let seed = context.seed
        let (data, tokenizer) = try NoisyLabelData.load(
            config.dataset, model: config.model, seed: seed, appendMetaSplit: config.trainsOnCleanSamples,
            sentenceEmbeddingsForLabelNet: config.correctsLabels && config.meta.labelNetInput == .sentenceEmbedding,
            cacheDirectory: context.cacheDirectory, log: context.progress.log)
        let report = data.weakReport
        context.progress.log(
            String(
                format:
                    "noisy-labels: %d train (%@ labels, %d dropped), %d clean meta, %d test samples; weak-label coverage %.1f%%, "
                    + "majority-vote accuracy %.1f%%; vocabulary %d",
                data.train.count, config.dataset.trainLabels.rawValue, data.droppedCount, data.clean.count,
                data.test.count, report.coverage * 100, (report.accuracy ?? .nan) * 100, tokenizer.vocabularySize))
        try context.recorder.registerSamples(keys: data.train.keys, split: config.dataset.trainSplit)

        var rng = RandomGenerator(seed: seed &+ 11)
        let model = try config.model.makeClassifier(tokenizer: tokenizer, classes: data.train.classCount, rng: &rng)
        let metaNets = NoisyLabelMetaNets(
            reweight: config.learnsWeights, correct: config.correctsLabels, gated: config.meta.gate,
            featureWidth: data.labelFeatures?.train.shape[1] ?? model.featureWidth, classes: data.train.classCount, rng: &rng)
        let labelNetFit = try fitLabelNet(metaNets.labelNet, data: data)
        // A fitted net's held-out corrections decide, before training, where its corrections replace the weak targets.
        let plan = labelNetFit.map {
            CorrectionPlan(
                heldOut: $0.heldOutLabels, weakTargets: data.cleanWeakTargets, weakLabels: data.cleanWeakLabels,
                gold: data.clean.hardLabels)
        }
        if let plan { context.progress.log("noisy-labels: " + plan.description) }
        let t = config.training
        try Sharding.checkEqualShards(batchSize: t.batchSize, ranks: context.size)
        if context.size > 1 { context.progress.log("noisy-labels: \(context.size) ranks, global batch \(t.batchSize)") }
        // Weak-then-clean runs draw their first phase from the weak rows only, each epoch as long as a weak one.
        let firstPhaseRows = config.dataset.trainOnMetaSplit ? data.train.count : data.weakCount
        let stepsPerEpoch = max(1, firstPhaseRows / min(t.batchSize, firstPhaseRows))
        let totalSteps = t.epochs * stepsPerEpoch
        let baseOptimizer: any Optimizer =
            t.weightDecay > 0
            ? Adam.adamW(learningRate: t.learningRate, weightDecay: t.weightDecay) : Adam(learningRate: t.learningRate)
        let program = NoisyLabelProgram(
            model: model, metaNets: metaNets, train: data.train, clean: data.clean, baseOptimizer: baseOptimizer,
            baseSchedule: .cosine(totalSteps: totalSteps, warmupSteps: Int(Double(totalSteps) * t.warmupFraction)),
            metaOptimizer: Adam(learningRate: config.meta.learningRate), batchSize: t.batchSize,
            metaBatchSize: config.meta.batchSize, normalization: config.meta.normalization, seed: seed &+ 12,
            rank: context.rank, worldSize: context.size, rowMultipliers: cleanRowMultipliers(data),
            labelFeatures: data.labelFeatures, correctionMask: plan?.mask(weakLabels: data.weakLabels, weakCount: data.weakCount),
            phases: t.cleanEpochs > 0
                ? (firstPhaseRows, data.cleanTrainRows, (t.epochs - t.cleanEpochs) * stepsPerEpoch) : nil)
        let loop = BilevelRun(
            program: program, configuration: config.engineConfiguration(seed: seed), context: context,
            epochs: t.epochs, stepsPerEpoch: stepsPerEpoch)
        var weights = SampleMeans(count: data.train.count)
        loop.engine.observe { event in
            if case .baseStep = event, let (indices, values) = program.lastWeights { weights.add(indices: indices, values: values) }
        }
        var lastEpochWeights: [Float]?
        var labelQuality = LabelQualityTracker()
        let metrics = try loop.run(title: "\(config.meta.method.rawValue) \(config.model.kind.rawValue)") { epoch in
            let valid = try shardedEvaluation(program, on: data.clean), test = try shardedEvaluation(program, on: data.test)
            var metrics = [
                "valid_accuracy": valid.accuracy, "valid_loss": valid.loss,
                "test_accuracy": test.accuracy, "test_loss": test.loss,
            ]
            // How separable wrong weak labels are by the current loss at all (the signal MWN reads).
            let block = Sharding.block(count: data.train.count, rank: context.rank, size: context.size)
            let fit = program.currentFit(rows: block)
            let losses = try context.gatherSamples(indices: Array(block), values: fit.losses)?.map(\.value)
            let agreement = try context.gatherSamples(indices: Array(block), values: fit.agreement)?.map(\.value)
            if let losses, let agreement {
                let lossSeparation = NoiseDetection.separation(weights: losses.map { -$0 }, weak: data.weakLabels, gold: data.goldLabels)
                if let auc = lossSeparation.auc { metrics["loss_auc"] = auc }
                let quality = try labelQuality.add(agreement: agreement, epoch: epoch, context: context)
                let issueSeparation = NoiseDetection.separation(weights: quality, weak: data.weakLabels, gold: data.goldLabels)
                if let auc = issueSeparation.auc { metrics["label_issue_auc"] = auc }
            }
            if config.learnsWeights {
                // Each rank saw its own shards this epoch; rank 0 gathers the union.
                if let all = try weights.gather(context) {
                    try context.recorder.recordWeights(all.map(\.value), step: epoch, sampleIDs: all.map(\.index))
                    // Samples no base batch drew this epoch (the last partial batch) get the weight of their
                    // current loss, so every training sample has a weight.
                    var full = losses.flatMap { program.weights(forLosses: $0) } ?? [Float](repeating: .nan, count: data.train.count)
                    for (i, w) in all { full[i] = w }
                    let unseen = Set(0..<data.train.count).subtracting(all.map(\.index)).sorted()
                    if !unseen.isEmpty, losses != nil {
                        try context.recorder.recordWeights(unseen.map { full[$0] }, step: epoch, sampleIDs: unseen)
                    }
                    let separation = NoiseDetection.separation(weights: full, weak: data.weakLabels, gold: data.goldLabels)
                    if let auc = separation.auc, !auc.isNaN { metrics["weight_auc"] = auc }
                    lastEpochWeights = full
                }
                weights.reset()
            }
            return metrics
        }
        return try summarize(
            program: program, engine: loop.engine, data: data, lastEpoch: metrics, weights: lastEpochWeights, labelNetFit: labelNetFit,
            plan: plan)
    }

    /// Fits the label net to the clean split when `meta.label_net_fit_epochs` asks for it (nil otherwise). Every rank
    /// fits the same net from the same seed; a resumed run fits again and the checkpoint then restores the net.
    private func fitLabelNet(_ net: LabelCorrectionNet?, data: NoisyLabelData) throws -> LabelNetFit.Outcome? {
        guard let net, config.meta.labelNetFitEpochs > 0, let features = data.labelFeatures?.clean else { return nil }
        let k = data.clean.classCount
        let fit = try LabelNetFit(
            features: features, weakTargets: Tensor(shape: [data.clean.count, k], storage: data.cleanWeakTargets),
            gold: data.clean.hardLabels, maxEpochs: config.meta.labelNetFitEpochs, learningRate: config.meta.learningRate)
        let outcome = fit.fit(net, seed: context.seed &+ 14) { rng in
            LabelCorrectionNet(featureWidth: features.shape[1], classes: k, gated: config.meta.gate, rng: &rng)
        }
        let accuracy = Loss.accuracy(predictions: outcome.heldOutLabels, labels: data.clean.hardLabels)
        context.progress.log(
            String(
                format: "noisy-labels: label net fitted to the %d clean samples for %d epochs (5-fold cross-validation: "
                    + "held-out loss %.3f, accuracy %.1f%%)",
                data.clean.count, outcome.epochs, outcome.heldOutLoss[outcome.epochs - 1], accuracy * 100))
        return outcome
    }

    /// Each training row's loss multiplier: 1 for the weak rows, `dataset.meta_split_weight` for the clean ones
    /// (nil when no clean row trains or the weight is 1).
    private func cleanRowMultipliers(_ data: NoisyLabelData) -> [Float]? {
        let rows = data.cleanTrainRows
        let weight = config.dataset.metaSplitWeight.multiplier(weakCount: data.weakCount, cleanCount: rows.count)
        guard !rows.isEmpty, weight != 1 else { return nil }
        context.progress.log(String(format: "noisy-labels: each of the %d clean training samples counts %.3g times", rows.count, weight))
        var multipliers = [Float](repeating: 1, count: data.train.count)
        for i in rows { multipliers[i] = weight }
        return multipliers
    }

    /// Records every training sample's suggested label distribution (row-major) and its argmax.
    private func recordSuggestions(_ rows: [Float], labels: [Int], data: NoisyLabelData) throws {
        let k = data.train.classCount
        try context.recorder.recordLabels(
            (0..<data.train.count).map { i in
                CorrectedLabel(
                    sampleID: i, originalLabel: data.weakLabels[i], correctedLabel: labels[i],
                    distribution: Array(rows[(i * k)..<((i + 1) * k)]))
            })
    }

    /// Accuracy and mean loss on `data`, each rank scoring a block and the sums reduced over ranks.
    private func shardedEvaluation(_ program: NoisyLabelProgram, on data: TextClassificationData) throws -> (accuracy: Double, loss: Double)
    {
        let sums = try context.shardedSum(count: data.count) { program.evaluationSums(on: data, rows: $0) }
        return sums[2] == 0 ? (0, 0) : (sums[0] / sums[2], sums[1] / sums[2])
    }

    /// Final decisions recorded and measured against the train split's gold labels.
    private func summarize(
        program: NoisyLabelProgram, engine: Engine<NoisyLabelProgram>, data: NoisyLabelData,
        lastEpoch: [String: Double], weights: [Float]?, labelNetFit: LabelNetFit.Outcome?, plan: CorrectionPlan?
    ) throws -> RunSummary {
        var metrics = lastEpoch
        metrics["train_samples"] = Double(data.train.count)
        metrics["weak_label_accuracy"] = data.weakReport.accuracy ?? .nan
        metrics["weak_label_coverage"] = data.weakReport.coverage
        metrics["meta_steps"] = Double(engine.metaStep)
        metrics["meta_seconds"] = engine.metaSeconds
        var notes: [String] = []
        // Label correction is used only where it fixes more weak labels than it breaks on the clean meta set.
        var fromCorrection = false
        if let fit = labelNetFit {
            metrics["label_net_fit_epochs"] = Double(fit.epochs)
            metrics["label_net_held_out_loss"] = fit.heldOutLoss[fit.epochs - 1]
            metrics["label_net_held_out_accuracy"] = Loss.accuracy(predictions: fit.heldOutLabels, labels: data.clean.hardLabels)
        }
        // A label net fitted to the clean split has seen its labels: its held-out corrections from the
        // cross-validation are the check, made before training (the plan).
        let metaLabels = plan == nil ? program.metaSetCorrections(weakTargets: data.cleanWeakTargets) : nil
        if let check = plan?.check
            ?? metaLabels.map({ NoiseDetection.correction(corrected: $0, weak: data.cleanWeakLabels, gold: data.clean.hardLabels) })
        {
            fromCorrection = check.fixed > check.broken
            metrics["meta_set_corrections_fixed"] = Double(check.fixed)
            metrics["meta_set_corrections_broken"] = Double(check.broken)
            metrics["correction_on"] = fromCorrection ? 1 : 0
            let instead = fromCorrection ? "" : " (suggested labels are the model's predictions instead)"
            if let plan {
                metrics["correction_on_unvoted"] = plan.correctsUnvoted ? 1 : 0
                notes.append(plan.description + instead)
            } else {
                notes.append(
                    "label correction is \(fromCorrection ? "on" : "off"): on the clean meta set it fixes \(check.fixed) of "
                        + "\(check.wrongCount) wrong weak labels and breaks \(check.broken) of \(check.rightCount) right ones" + instead)
            }
        }
        // MLC's corrected labels (when learned) and, unless correction is on, the model's predictions as the
        // suggested labels. Each rank decides a block of the training set, rank 0 gathers them in order.
        context.progress.log("noisy-labels: suggesting labels for \(data.train.count) training samples")
        let block = Sharding.block(count: data.train.count, rank: context.rank, size: context.size)
        var sources: [(name: String, what: String, rows: [Float])] = []
        if let corrected = program.currentDecisions(rows: block).corrected {
            sources.append(("labels", "corrections (MLC)", corrected))
        }
        if !fromCorrection {
            sources.append(("suggestions", "suggested labels (the model's prediction)", program.currentPredictions(rows: block)))
        }
        let gathered = try sources.map { try context.communicator.gather($0.rows, root: 0).map { Array($0.joined()) } }
        guard context.isRoot else { return RunSummary(metrics: metrics, notes: []) }
        if let weights {
            let s = NoiseDetection.separation(weights: weights, weak: data.weakLabels, gold: data.goldLabels)
            metrics["weight_mean_wrong"] = s.meanWeightWrong
            metrics["weight_mean_right"] = s.meanWeightRight
            metrics["weight_auc"] = s.auc ?? .nan
            notes.append(
                String(
                    format: "weights (mean over the last epoch): wrong weak labels %.3f, right ones %.3f, ROC-AUC %.3f",
                    s.meanWeightWrong, s.meanWeightRight, s.auc ?? .nan))
        }
        let weakRows = 0..<data.weakCount  // the clean rows that train with their gold labels are not weakly labeled
        for (source, rows) in zip(sources, gathered) {
            guard let rows else { continue }
            let labels = Tensor(shape: [rows.count / data.train.classCount, data.train.classCount], storage: rows).argmaxLastAxis()
            // The suggestions users see: the last source (the predictions when correction is off).
            if source.name == sources.last?.name { try recordSuggestions(rows, labels: labels, data: data) }
            let c = NoiseDetection.correction(
                corrected: Array(labels[weakRows]), weak: Array(data.weakLabels[weakRows]), gold: Array(data.goldLabels[weakRows]))
            metrics["\(source.name)_fixed"] = c.wrongCount > 0 ? Double(c.fixed) / Double(c.wrongCount) : .nan
            metrics["\(source.name)_broken"] = c.rightCount > 0 ? Double(c.broken) / Double(c.rightCount) : .nan
            metrics["\(source.name)_fixed_count"] = Double(c.fixed)
            metrics["\(source.name)_broken_count"] = Double(c.broken)
            metrics["\(source.name == "labels" ? "corrected" : "suggested")_label_accuracy"] = c.correctedAccuracy
            notes.append(
                "\(source.what): \(c.fixed) of \(c.wrongCount) wrong weak labels fixed, \(c.broken) of \(c.rightCount) right ones "
                    + "broken, \(c.tiesResolved) of \(c.tieCount) tied or unlabeled samples given their gold label")
        }
        if let gate = program.metaNets.labelNet?.gateValue { metrics["gate"] = Double(gate) }
        if let issueAUC = metrics["label_issue_auc"] {
            notes.append(String(format: "label-issue score (1 − label_quality) flags wrong weak labels with ROC-AUC %.3f", issueAUC))
        }
        let db = "--db \(context.databasePath)"
        let winnow = context.executable
        if weights != nil { notes.append("lowest weights: \(winnow) weights --run \(context.runID) --bottom 20 \(db)") }
        // The label-quality score, not the weight, is what ranks right labels above wrong ones as measured.
        notes.append(
            "keep the 80% likeliest right labels in every class: \(winnow) export manifest --run \(context.runID) --by label_quality "
                + "--keep 0.8 --per-class --output Outputs/kept-\(context.runID).jsonl --archive Outputs/kept-\(context.runID).tar.gz \(db)"
        )
        notes.append("likely wrong labels: \(winnow) labels --run \(context.runID) --issues --top 20 \(db)")
        return RunSummary(metrics: metrics, notes: notes)
    }
}
