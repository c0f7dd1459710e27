import ArgumentParser
import Runtime

/// The version `winnow --version` prints and every run records (bump `WinnowRelease.version` with each release).
let WinnowVersion = WinnowRelease.version

/// The root command. Subcommands are listed here only: adding one (`datasets`, `bench`) is one line.
struct Winnow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "winnow",
        abstract: "Meta-learned data reweighting: learn per-sample weights, corrected labels and pruning scores.",
        discussion: """
            Results go to a SQLite database (default Outputs/winnow.sqlite; see docs/SCHEMA.md).
            Exit status: 0 success, 1 runtime failure, 2 usage or recipe error.
            """,
        version: WinnowVersion,
        subcommands: [
            RunCommand.self,
            RunsCommand.self,
            ShowCommand.self,
            ReportCommand.self,
            WeightsCommand.self,
            ScoresCommand.self,
            LabelsCommand.self,
            ExportCommand.self,
            BenchCommand.self,
            DatasetsCommand.self,
        ]
    )
}
