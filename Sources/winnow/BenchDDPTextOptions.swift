import Benchmarks
import Classification
import NoisyLabels
import Recipes
import Runtime
import ArgumentParser

extension DataParallelBenchmark.Model: ExpressibleByArgument {}

/// The transformer options of `winnow bench ddp --model text-transformer` (defaults: `TextSettings`).
struct TextModelOptions: ParsableArguments {
    @Option(help: "WRENCH archive of weakly labeled texts.") var archive = DataParallelBenchmark.TextSettings().archive
    @Option(help: "Transformer layers.") var layers = DataParallelBenchmark.TextSettings().layers
    @Option(help: "Transformer width.") var width = DataParallelBenchmark.TextSettings().width
    @Option(help: "Attention heads (must divide --width).") var heads = DataParallelBenchmark.TextSettings().heads
    @Option(help: "Feed-forward width.") var intermediate = DataParallelBenchmark.TextSettings().intermediate
    @Option(help: "Tokens per text.") var maxLength = DataParallelBenchmark.TextSettings().maxLength
    @Option(help: "Vocabulary words.") var vocabulary = DataParallelBenchmark.TextSettings().vocabularySize
    @Flag(inversion: .prefixedNo, help: "Learn corrected labels (MLC) besides the weights (MWN) in meta methods.")
    var labelCorrection = DataParallelBenchmark.TextSettings().labelCorrection

    func validate() throws {
        for (value, name) in [
            (layers, "--layers"), (width, "--width"), (heads, "--heads"), (intermediate, "--intermediate"), (vocabulary, "--vocabulary"),
        ]
        where value < 1 { throw ValidationError("\(name) must be at least 1, got \(value)") }
        guard maxLength >= 2 else { throw ValidationError("--max-length must be at least 2, got \(maxLength)") }
        guard width % heads == 0 else { throw ValidationError("--heads \(heads) must divide --width \(width)") }
    }

    var settings: DataParallelBenchmark.TextSettings {
        var s = DataParallelBenchmark.TextSettings()
        s.archive = archive; s.layers = layers; s.width = width; s.heads = heads; s.intermediate = intermediate
        s.maxLength = maxLength; s.vocabularySize = vocabulary; s.labelCorrection = labelCorrection
        return s
    }

    var arguments: [String] {
        [
            "--archive", archive, "--layers", String(layers), "--width", String(width), "--heads", String(heads),
            "--intermediate", String(intermediate), "--max-length", String(maxLength), "--vocabulary", String(vocabulary),
            labelCorrection ? "--label-correction" : "--no-label-correction",
        ]
    }
}
