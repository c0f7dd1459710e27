import Classification
import ContinuedPretraining
import DataPruning
import NoisyLabels
import Runtime

extension ApplicationRegistry {
    /// The applications `winnow run` knows, by the recipe's `application:` value. Add new ones here (one line each).
    static var builtIn: ApplicationRegistry {
        ApplicationRegistry([
            ClassifyApplication.self,
            ContinuedPretrainingApplication.self,
            DataPruningApplication.self,
            NoisyLabelsApplication.self,
        ])
    }
}
