import ArgumentParser
import Foundation
import ResultStore

/// `winnow report --run N [--output FILE]`: the run as one self-contained HTML page (`RunPage`).
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write one run as a self-contained HTML page: facts, final metrics, curves, weights, pruning curves, recipe.")

    @Option(name: .customLong("run"), help: "The run id.") var runID: Int64
    @Option(help: "The HTML file to write (default report-<run>.html next to the database).") var output: String?
    @Flag(help: "Replace an existing output file.") var force = false
    @OptionGroup var store: StoreOptions

    func validate() throws {
        if runID < 1 { throw ValidationError("--run must be a run id (≥ 1), got \(runID)") }
    }

    func run() throws {
        let db = try store.openForQueries()
        let page = try RunPage.html(store: db, run: runID)
        let target =
            output
            ?? URL(fileURLWithPath: db.path).deletingLastPathComponent().appendingPathComponent("report-\(runID).html").path
        let resolved = URL(fileURLWithPath: target).standardizedFileURL.path
        if resolved == URL(fileURLWithPath: db.path).standardizedFileURL.path {
            throw ValidationError("--output \(target) is the database; name another file")
        }
        if FileManager.default.fileExists(atPath: target), !force {
            throw ValidationError("\(target) exists; pass --force to replace it")
        }
        try Data(page.utf8).write(to: URL(fileURLWithPath: target), options: .atomic)
        printOut("wrote \(target)\n")
    }
}
