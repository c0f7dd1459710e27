import DataIO
import Foundation
import MetaLearning
import NeuralNetworks
import Optimizers
import Recipes
import ResultStore
import Runtime
import Tensors

/// One run of the continued-pretraining application: tokenizer, data and encoder, the MLM head and its
/// warm-up, DAPT's MLM stage, then the main stage through `BilevelRun` (resume, checkpoints, per-epoch metrics)
/// and the report.
struct ContinuedPretrainingRun {
    typealias Application = ContinuedPretrainingApplication
    let config: Application.Config
    let context: RunContext

    /// Texts per forward pass when evaluating.
    static let evaluationBatch = 64
    /// Corpus documents of the fixed MLM probe (`mlm_loss`).
    static let probeDocuments = 64

    func run() throws -> RunSummary {
        guard context.size == 1 else { throw ContinuedPretrainingError.multipleRanks(context.size) }
        let seed = context.seed, t = config.training
        let directory = try PretrainedBert.miniLMDirectory()
        let tokenizer = try WordPieceTokenizer(
            vocabularyFile: directory.appendingPathComponent("vocab.txt"), defaultMaxLength: config.model.maxLength)
        guard let maskID = tokenizer.id(of: "[MASK]") else {
            throw ContinuedPretrainingError.noMaskToken(path: directory.appendingPathComponent("vocab.txt").path)
        }
        let data = try ContinuedPretrainingData.load(
            config.dataset, tokenizer: tokenizer, maxLength: config.model.maxLength, seed: seed, log: context.progress.log)
        context.progress.log(
            "continued-pretraining (\(config.method.rawValue), \(config.model.encoder.rawValue)): \(data.train.count) train, "
                + "\(data.valid.count) valid, \(data.test.count) test texts, \(data.train.classCount) classes; "
                + "\(data.documents.count) corpus documents")
        let masking = MaskedLanguageModeling(
            specialIDs: [tokenizer.classID, tokenizer.separatorID, tokenizer.paddingID, tokenizer.unknownID], maskID: maskID,
            vocabularySize: tokenizer.vocabularySize)
        try checkCorpus(data, masking: masking)
        if config.trainsMLM { try context.recorder.registerSamples(keys: data.documentKeys, split: "corpus") }

        var rng = RandomGenerator(seed: seed &+ 11)
        let classifier = try makeClassifier(tokenizer: tokenizer, classes: data.train.classCount, rng: &rng)
        let encoder = classifier.model.encoder
        let head = MaskedLanguageModelHead(tiedTo: encoder, rng: &rng)
        let weightNet = MetaWeightNet(inputs: 1, hidden: config.meta.hiddenWidth, scale: 2, zeroInitialisedOutput: true, rng: &rng)
        let mlm = MLMBatches(documents: data.documents, masking: masking, paddingID: tokenizer.paddingID)

        // A resumed run's checkpoint holds θ after these stages: they ran before its first epoch.
        if context.resumeFrom?.path == nil {
            var before: [String: Double] = [:]
            if config.method != .finetune, t.headWarmupSteps > 0 {
                before.merge(try warmUpHead(head, encoder: encoder, mlm: mlm)) { $1 }
            }
            if config.method == .dapt { before.merge(try adaptToDomain(head, encoder: encoder, mlm: mlm)) { $1 } }
            // A run resumed before its first checkpoint did these stages (the same way) and kept their step-0 rows.
            let recorded = Set(try context.recorder.store.metrics(run: context.runID).filter { $0.step == 0 }.map(\.name))
            before = before.filter { !recorded.contains($0.key) }
            if !before.isEmpty { try context.recorder.recordMetrics(before, step: 0) }
        }

        let stepsPerEpoch = max(1, data.train.count / min(t.batchSize, data.train.count))
        let totalSteps = t.epochs * stepsPerEpoch
        let program = AuxiliaryTokenReweightingProgram(
            model: classifier, head: head, weightNet: weightNet, task: data.train, metaTask: data.train,
            documents: data.documents, masking: masking, paddingID: tokenizer.paddingID,
            baseOptimizer: makeAdamW(), baseSchedule: schedule(totalSteps: totalSteps),
            metaOptimizer: Adam(learningRate: config.meta.learningRate), batchSize: t.batchSize,
            metaBatchSize: config.meta.batchSize, auxiliaryBatchSize: t.auxiliaryBatchSize,
            auxiliaryWeight: config.trainsMLM ? t.auxiliaryWeight : 0, seed: seed &+ 12,
            taskLogits: { tokens, forward in classifier(tokens, forward) },
            hiddenStates: { ids, mask, forward in encoder(ids, mask: mask, forward) })
        program.uniformWeights = config.method == .tartanMT
        let loop = BilevelRun(
            program: program,
            configuration: config.effectiveMeta.engineConfiguration(
                seed: seed &+ 13, clipNorm: t.clipNorm > 0 ? t.clipNorm : nil, for: AuxiliaryTokenReweightingProgram.self),
            context: context, epochs: t.epochs, stepsPerEpoch: stepsPerEpoch)

        // Per base step: the masked tokens' weights by document and by vocabulary token, their MLM losses, the
        // task part of the loss.
        var weights = SampleMeans(count: data.documents.count)
        var tokenWeights = SampleMeans(count: tokenizer.vocabularySize)
        var epoch = EpochSums()
        var previous: AuxiliaryTokenReweightingProgram.TokenWeights?
        loop.engine.observe { event in
            guard case let .baseStep(_, loss, _) = event else { return }
            var taskLoss = Double(loss)
            if config.trainsMLM, let tokens = program.lastTokenWeights, tokens != previous, !tokens.weights.isEmpty {
                previous = tokens
                weights.add(indices: tokens.documents, values: tokens.weights)
                tokenWeights.add(indices: tokens.tokens, values: tokens.weights)
                let weighted = zip(tokens.weights, tokens.losses).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                taskLoss -= Double(program.auxiliaryWeight) * weighted / Double(tokens.weights.count)
                epoch.mlm += tokens.losses.reduce(0.0) { $0 + Double($1) }
                epoch.tokens += tokens.losses.count
            }
            epoch.task += taskLoss
            epoch.steps += 1
        }
        let probe = mlm.probe(count: Self.probeDocuments, seed: seed &+ 41)
        try loop.run(title: "\(config.method.rawValue) \(config.model.encoder.rawValue)") { epochIndex in
            var metrics: [String: Double] = ["meta_steps": Double(loop.engine.metaStep)]
            if epoch.steps > 0 { metrics["task_train_loss"] = epoch.task / Double(epoch.steps) }
            if epoch.tokens > 0 { metrics["train_mlm_loss"] = epoch.mlm / Double(epoch.tokens) }
            for (name, split) in [("valid", data.valid), ("test", data.test)] {
                let scores = Self.evaluate(classifier, on: split)
                metrics["\(name)_accuracy"] = scores.accuracy
                metrics["\(name)_macro_f1"] = scores.macroF1
            }
            if config.method != .finetune { metrics["mlm_loss"] = Self.mlmLoss(head, encoder: encoder, batch: probe) }
            if config.trainsMLM, let all = try weights.gather(context), !all.isEmpty {
                let values = all.map(\.value)
                try context.recorder.recordWeights(values, step: epochIndex, sampleIDs: all.map(\.index))
                let mean = values.reduce(0.0) { $0 + Double($1) } / Double(values.count)
                let variance = values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(values.count)
                metrics["weight_mean"] = mean
                metrics["weight_sd"] = variance.squareRoot()
                metrics["documents_seen"] = Double(values.count)
                let (ids, means, counts) = tokenWeights.seenWithCounts
                try context.recorder.recordTokenWeights(
                    ids.indices.map {
                        TokenWeight(
                            step: epochIndex, tokenID: ids[$0], token: tokenizer.tokens[ids[$0]], count: counts[$0],
                            weight: Double(means[$0]))
                    })
            }
            weights.reset()
            tokenWeights.reset()
            epoch = EpochSums()
            return metrics
        }
        return try summarize(data, masking: masking)
    }

    /// Throws when the corpus has nothing MLM can mask (and the method uses MLM); warns about documents that
    /// have nothing, and about documents and task texts cut to `model.max_length`.
    private func checkCorpus(_ data: ContinuedPretrainingData, masking: MaskedLanguageModeling) throws {
        let log = context.progress.log, corpus = corpusPath
        let unmaskable = data.unmaskableDocuments(masking), length = config.model.maxLength
        if unmaskable == data.documents.count, config.method != .finetune {
            throw ContinuedPretrainingError.noMaskableTokens(path: corpus, documents: data.documents.count)
        }
        if unmaskable > 0 {
            log(
                "warning: \(corpus): \(unmaskable) of \(data.documents.count) corpus documents have no token MLM can mask "
                    + "([UNK] and special tokens only); they take no part in the MLM loss")
        }
        if data.documentsCut > 0 {
            log(
                "warning: \(corpus): \(data.documentsCut) of \(data.documents.count) corpus documents are longer than "
                    + "model.max_length (\(length) WordPiece ids) and were cut to it")
        }
        if data.taskTextsCut > 0 {
            log(
                "warning: \(config.dataset.archive): \(data.taskTextsCut) task texts are longer than model.max_length "
                    + "(\(length) WordPiece ids) and were cut to it")
        }
    }

    /// The corpus as the recipe names it (the task archive for `corpus: task`).
    private var corpusPath: String { config.dataset.corpus == "task" ? config.dataset.archive : config.dataset.corpus }

    private struct EpochSums {
        var task = 0.0, steps = 0, mlm = 0.0, tokens = 0
    }

    // MARK: - Model

    /// The task classifier: MiniLM with its pretrained encoder or a tiny random BERT, over `tokenizer`'s ids.
    private func makeClassifier(
        tokenizer: WordPieceTokenizer, classes: Int, rng: inout RandomGenerator
    ) throws -> TransformerTextClassifier {
        let m = config.model
        switch m.encoder {
        case .tiny:
            let c = BertConfiguration(
                layers: 2, hidden: 64, heads: 2, intermediate: 128, vocabularySize: tokenizer.vocabularySize,
                maxPositions: m.maxLength, dropout: m.dropout)
            return TransformerTextClassifier(c, classes: classes, rng: &rng)
        case .minilm:
            let directory = try PretrainedBert.miniLMDirectory()
            let file = directory.appendingPathComponent("config.json")
            var c = try PretrainedBert.configuration(from: file)
            guard tokenizer.vocabularySize <= c.vocabularySize else {
                throw ContinuedPretrainingError.vocabularyMismatch(tokens: tokenizer.vocabularySize, embeddings: c.vocabularySize)
            }
            guard m.maxLength <= c.maxPositions else {
                throw InvalidSetting("model.max_length", "must be at most the encoder's \(c.maxPositions) positions (\(file.path))")
            }
            c.dropout = m.dropout
            let classifier = TransformerTextClassifier(c, classes: classes, rng: &rng)
            try PretrainedBert.loadWeights(directory.appendingPathComponent("model.safetensors"), into: classifier.model.encoder)
            return classifier
        }
    }

    private func makeAdamW() -> Adam {
        let t = config.training
        return Adam.adamW(
            learningRate: t.learningRate, beta1: t.beta1, beta2: t.beta2, epsilon: t.epsilon, weightDecay: t.weightDecay)
    }

    private func schedule(totalSteps: Int) -> LearningRateSchedule {
        .linear(totalSteps: totalSteps, warmupSteps: Int(Double(totalSteps) * config.training.warmupFraction))
    }

    // MARK: - Stages before the main one

    /// Trains the new MLM head alone on the corpus (encoder frozen); returns the MLM loss at the start and the
    /// mean of the last 25 steps.
    private func warmUpHead(_ head: MaskedLanguageModelHead, encoder: BertEncoder, mlm: MLMBatches) throws -> [String: Double] {
        let t = config.training
        let parameters = head.namedParameters()
        let optimizer = Adam(learningRate: t.headLearningRate)
        var sampler = EpochSampler(count: mlm.documents.count, batchSize: t.auxiliaryBatchSize, seed: context.seed &+ 51)
        var maskRNG = RandomGenerator(seed: context.seed &+ 52)
        let table = head.wordEmbeddings, wasTrainable = table.requiresGrad
        table.requiresGrad = false  // frozen encoder: no gradient for the tied table
        defer { table.requiresGrad = wasTrainable }
        var losses: [Float] = []
        context.progress.start("MLM head warm-up", total: t.headWarmupSteps)
        for step in 0..<t.headWarmupSteps {
            let batch = mlm.batch(sampler.next(), rng: &maskRNG)
            guard !batch.targets.isEmpty else { continue }
            let hidden = withoutGrad { encoder(batch.ids, mask: batch.mask, .evaluation()) }
            let loss = head.tokenLosses(hidden: hidden, tokens: batch.targets).mean()
            losses.append(loss.item)
            optimizer.step(parameters, gradients: Autodiff.gradients(of: loss, wrt: parameters.map(\.tensor)))
            context.progress.update(completed: step + 1, metrics: ["mlm": Double(losses.last ?? .nan)])
        }
        context.progress.finish()
        guard let first = losses.first else { return [:] }
        let recent = losses.suffix(25)
        let end = recent.reduce(0.0) { $0 + Double($1) } / Double(recent.count)
        context.progress.log(String(format: "MLM head warm-up: loss %.3f → %.3f (mean of the last %d steps)", first, end, recent.count))
        return ["head_warmup_mlm_loss_start": Double(first), "head_warmup_mlm_loss": end]
    }

    /// DAPT: trains the encoder and the MLM head on the corpus for `training.dapt_epochs` (AdamW with the run's
    /// settings, its own linear schedule); returns the last epoch's mean MLM loss.
    private func adaptToDomain(_ head: MaskedLanguageModelHead, encoder: BertEncoder, mlm: MLMBatches) throws -> [String: Double] {
        let t = config.training
        let parameters = (encoder.namedParameters() + head.namedParameters()).sorted { $0.key < $1.key }
        let optimizer = makeAdamW()
        let stepsPerEpoch = max(1, mlm.documents.count / min(t.auxiliaryBatchSize, mlm.documents.count))
        let total = t.daptEpochs * stepsPerEpoch
        let schedule = schedule(totalSteps: total)
        var sampler = EpochSampler(count: mlm.documents.count, batchSize: t.auxiliaryBatchSize, seed: context.seed &+ 61)
        var maskRNG = RandomGenerator(seed: context.seed &+ 62)
        let forward = ForwardContext(training: true, seed: context.seed &+ 63)
        var epochLoss = 0.0, epochSteps = 0
        context.progress.start("DAPT (MLM on the corpus)", total: total)
        for step in 0..<total {
            if step % stepsPerEpoch == 0 { epochLoss = 0; epochSteps = 0 }
            let batch = mlm.batch(sampler.next(), rng: &maskRNG)
            guard !batch.targets.isEmpty else { continue }
            let loss = head.tokenLosses(hidden: encoder(batch.ids, mask: batch.mask, forward), tokens: batch.targets).mean()
            let gradients = Autodiff.gradients(of: loss, wrt: parameters.map(\.tensor))
            if t.clipNorm > 0 { clipGradients(gradients, maxNorm: t.clipNorm) }
            optimizer.learningRate = t.learningRate * schedule.factor(at: step)
            optimizer.step(parameters, gradients: gradients)
            epochLoss += Double(loss.item); epochSteps += 1
            context.progress.update(completed: step + 1, metrics: ["mlm": epochLoss / Double(epochSteps)])
        }
        context.progress.finish()
        return epochSteps > 0 ? ["dapt_mlm_loss": epochLoss / Double(epochSteps)] : [:]
    }

    // MARK: - Evaluation

    /// Accuracy and macro-F1 (over the classes that occur in the labels or the predictions) of the classifier.
    static func evaluate(_ classifier: TransformerTextClassifier, on data: TokenClassificationData) -> (accuracy: Double, macroF1: Double) {
        let k = data.classCount
        var predictions: [Int] = []
        withoutGrad {
            for start in stride(from: 0, to: data.count, by: evaluationBatch) {
                let range = start..<min(start + evaluationBatch, data.count)
                let logits = classifier(Array(data.tokens[range]), .evaluation()).scalars
                for row in 0..<range.count {
                    let scores = logits[(row * k)..<((row + 1) * k)]
                    predictions.append((scores.indices.max { scores[$0] < scores[$1] } ?? row * k) - row * k)
                }
            }
        }
        return (Loss.accuracy(predictions: predictions, labels: data.labels), macroF1(predictions, data.labels, classes: k))
    }

    /// The mean over classes of 2·TP / (2·TP + FP + FN), over the classes present in labels or predictions.
    static func macroF1(_ predictions: [Int], _ labels: [Int], classes: Int) -> Double {
        var tp = [Int](repeating: 0, count: classes), fp = tp, fn = tp
        for (p, y) in zip(predictions, labels) {
            if p == y { tp[y] += 1 } else { fp[p] += 1; fn[y] += 1 }
        }
        let present = (0..<classes).filter { tp[$0] + fp[$0] + fn[$0] > 0 }
        guard !present.isEmpty else { return 0 }
        return present.reduce(0.0) { $0 + 2 * Double(tp[$1]) / Double(2 * tp[$1] + fp[$1] + fn[$1]) } / Double(present.count)
    }

    /// The mean MLM loss of a fixed corrupted batch (evaluation mode).
    static func mlmLoss(_ head: MaskedLanguageModelHead, encoder: BertEncoder, batch: MLMBatches.Batch) -> Double {
        guard !batch.targets.isEmpty else { return .nan }
        return withoutGrad {
            Double(head.tokenLosses(hidden: encoder(batch.ids, mask: batch.mask, .evaluation()), tokens: batch.targets).mean().item)
        }
    }

    // MARK: - Report

    /// Test accuracy and macro-F1 of the epoch with the best valid accuracy (read back from the store, so a
    /// resumed run reports the epochs before its restart too), the last epoch's, and how to query the weights.
    private func summarize(_ data: ContinuedPretrainingData, masking: MaskedLanguageModeling) throws -> RunSummary {
        let store = context.recorder.store, run = context.runID
        func series(_ name: String) throws -> [Int: Double] {
            var values: [Int: Double] = [:]
            for point in try store.metrics(run: run, name: name) { if let v = point.value { values[point.step] = v } }
            return values
        }
        let valid = try series("valid_accuracy")
        var metrics: [String: Double] = [:]
        var notes: [String] = []
        if let best = valid.filter({ $0.key > 0 }).max(by: { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }),
            let last = valid.keys.max()
        {
            metrics["best_epoch"] = Double(best.key)
            metrics["valid_accuracy"] = best.value
            for name in ["test_accuracy", "test_macro_f1", "valid_macro_f1"] {
                let values = try series(name)
                metrics[name] = values[best.key]
                metrics["last_\(name)"] = values[last]
            }
            for name in ["mlm_loss", "train_mlm_loss", "task_train_loss", "weight_mean", "weight_sd", "meta_steps"] {
                if let value = try series(name)[last] { metrics[name] = value }
            }
            notes.append(
                String(
                    format: "epoch %d has the best valid accuracy (%.4f): test accuracy %.4f, macro-F1 %.4f",
                    best.key, best.value, metrics["test_accuracy"] ?? .nan, metrics["test_macro_f1"] ?? .nan))
        }
        for name in ["head_warmup_mlm_loss_start", "head_warmup_mlm_loss", "dapt_mlm_loss"] {
            if let value = try series(name)[0] { metrics[name] = value }
        }
        // What the data lost on the way in: counted in every run, noted when it happened.
        let unmaskable = data.unmaskableDocuments(masking), length = config.model.maxLength
        metrics["corpus_documents_cut"] = Double(data.documentsCut)
        metrics["task_texts_cut"] = Double(data.taskTextsCut)
        metrics["corpus_documents_unmaskable"] = Double(unmaskable)
        if data.documentsCut > 0 {
            notes.append(
                "\(data.documentsCut) of \(data.documents.count) corpus documents were cut to model.max_length (\(length) ids)")
        }
        if data.taskTextsCut > 0 { notes.append("\(data.taskTextsCut) task texts were cut to model.max_length (\(length) ids)") }
        if unmaskable > 0 {
            notes.append("\(unmaskable) of \(data.documents.count) corpus documents have no maskable token and took no part in MLM")
        }
        if config.trainsMLM {
            let db = "--db \(context.databasePath)", winnow = context.executable
            notes.append("corpus documents by mean token weight: \(winnow) weights --run \(run) --bottom 20 \(db)")
            notes.append("vocabulary tokens by mean weight: \(winnow) weights --run \(run) --tokens --bottom 20 --min-count 5 \(db)")
            notes.append(
                "keep the half of the corpus with the highest weight: \(winnow) export manifest --run \(run) --by weight "
                    + "--keep 0.5 --output Outputs/corpus-kept-\(run).jsonl \(db)")
        }
        return RunSummary(metrics: metrics, notes: notes)
    }
}

/// Padded, corrupted MLM batches of corpus documents (for the head warm-up, DAPT and the probe; the main stage
/// draws its own inside `AuxiliaryTokenReweightingProgram`).
struct MLMBatches {
    struct Batch {
        var ids: [[Int]]
        var mask: [[Int]]
        var targets: [MaskedLanguageModeling.Target]
    }

    let documents: [[Int]]
    let masking: MaskedLanguageModeling
    let paddingID: Int

    func batch(_ indices: [Int], rng: inout RandomGenerator) -> Batch {
        let rows = indices.map { documents[$0] }
        let length = rows.map(\.count).max() ?? 0
        let ids = rows.map { $0 + [Int](repeating: paddingID, count: length - $0.count) }
        let mask = rows.map { [Int](repeating: 1, count: $0.count) + [Int](repeating: 0, count: length - $0.count) }
        let corruption = masking.corrupt(ids, attentionMask: mask, rng: &rng)
        return Batch(ids: corruption.ids, mask: mask, targets: corruption.targets)
    }

    /// The first `count` documents with masks drawn from `seed`: the same batch at every evaluation.
    func probe(count: Int, seed: UInt64) -> Batch {
        var rng = RandomGenerator(seed: seed)
        return batch(Array(0..<min(count, documents.count)), rng: &rng)
    }
}
