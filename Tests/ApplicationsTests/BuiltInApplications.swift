import Classification
import ContinuedPretraining
import DataPruning
import NoisyLabels
import Runtime

extension ApplicationRegistry {
    /// The applications the `winnow` executable registers (its `BuiltInApplications.swift`), for tests that run
    /// recipes without the executable.
    static var builtIn: ApplicationRegistry {
        ApplicationRegistry([
            ClassifyApplication.self, ContinuedPretrainingApplication.self, DataPruningApplication.self,
            NoisyLabelsApplication.self,
        ])
    }
}
