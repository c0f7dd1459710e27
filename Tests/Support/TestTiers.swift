import Foundation
import NeuralNetworks
import Testing

extension Tag {
    /// Suites that train for many steps (tens of seconds or more on 2 cores). `WINNOW_TESTS=fast` skips them.
    @Tag public static var slow: Self
    /// Suites that need the all-MiniLM-L6-v2 model (`bash scripts/install-minilm.sh`); skipped when it is missing.
    @Tag public static var miniLM: Self
}

/// The test tiers: `swift test` runs everything; `WINNOW_TESTS=fast swift test` skips the suites tagged
/// `.slow` and says so for each. Suites tagged `.miniLM` skip with a message when the model is not installed.
public enum TestTier {
    /// Whether only the fast tier runs (`WINNOW_TESTS=fast`).
    public static var fastOnly: Bool { ProcessInfo.processInfo.environment["WINNOW_TESTS"] == "fast" }

    /// Whether the all-MiniLM-L6-v2 directory the loaders use exists.
    public static var miniLMInstalled: Bool { (try? PretrainedBert.miniLMDirectory()) != nil }
}

extension Trait where Self == ConditionTrait {
    /// A slow suite: runs unless `WINNOW_TESTS=fast`.
    public static var slowTier: Self {
        .enabled(if: !TestTier.fastOnly, "slow suite: skipped because WINNOW_TESTS=fast")
    }

    /// Needs the all-MiniLM-L6-v2 model.
    public static var needsMiniLM: Self {
        .enabled(if: TestTier.miniLMInstalled, "all-MiniLM-L6-v2 is not installed: run `bash scripts/install-minilm.sh`")
    }
}
