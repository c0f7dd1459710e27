import ArgumentParser
import Foundation
import ResultStore
import Runtime

/// `winnow report --run N [--output FILE]`: the run as one self-contained HTML page (`RunPage`);
/// `winnow report --compare N M [K ...]`: runs side by side (`ComparePage`).
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write one run, or runs side by side, as a self-contained HTML page with their metrics, curves and recipes.",
        discussion: """
            --run N: facts, environment, final metrics, curves, weights, pruning curves, recipe (default report-N.html).
            --compare N M [K ...]: the runs' facts, shared final metrics with differences to the first run, recipe keys \
            that differ, and shared per-step metrics with one line per run (default compare-N-M.html).
            """)

    @Option(name: .customLong("run"), help: "The run id.") var runID: Int64?
    @Option(name: .customLong("compare"), parsing: .upToNextOption, help: "Two or more run ids to put side by side.")
    var compareIDs: [Int64] = []
    @Option(help: "The HTML file to write (default report-<run>.html or compare-<runs>.html next to the database).")
    var output: String?
    @Flag(help: "Replace an existing output file.") var force = false
    @OptionGroup var store: StoreOptions

    func validate() throws {
        switch (runID, compareIDs.isEmpty) {
        case (nil, true): throw ValidationError("give --run N, or --compare N M [K ...]")
        case (.some, false): throw ValidationError("--run and --compare exclude each other")
        default: break
        }
        try OptionBounds.checkRun(runID)
        for id in compareIDs { try OptionBounds.checkRun(id, option: "--compare") }
        if !compareIDs.isEmpty, compareIDs.count < 2 {
            throw ValidationError("--compare needs at least 2 run ids, got \(compareIDs.count)")
        }
        if let repeated = compareIDs.first(where: { id in compareIDs.filter { $0 == id }.count > 1 }) {
            throw ValidationError("--compare lists run \(repeated) twice")
        }
    }

    func run() throws {
        let db = try store.openForQueries()
        let page: String
        let name: String
        if let runID {
            page = try RunPage.html(store: db, run: runID)
            name = "report-\(runID).html"
        } else {
            page = ComparePage.html(try RunComparison(store: db, runs: compareIDs, registry: .builtIn))
            name = "compare-" + compareIDs.map(String.init).joined(separator: "-") + ".html"
        }
        let target = output ?? URL(fileURLWithPath: db.path).deletingLastPathComponent().appendingPathComponent(name).path
        let resolved = URL(fileURLWithPath: target).standardizedFileURL.path
        if ResultStore.databaseFiles(of: db.path).contains(where: { URL(fileURLWithPath: $0).standardizedFileURL.path == resolved }) {
            throw ValidationError("--output \(target) is the database; name another file")
        }
        if FileManager.default.fileExists(atPath: target), !force {
            throw ValidationError("\(target) exists; pass --force to replace it")
        }
        // Written to a temporary file next to the target, then renamed over it.
        try Data(page.utf8).write(to: URL(fileURLWithPath: target), options: .atomic)
        printOut("wrote \(target)\n")
    }
}
