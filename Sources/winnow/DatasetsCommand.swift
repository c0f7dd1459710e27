import ArgumentParser
import DataIO
import Foundation

struct DatasetsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "datasets",
        abstract: "Look at dataset archives, files and folders.",
        subcommands: [DatasetsInspectCommand.self])
}

struct DatasetsInspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Summarise a dataset: members, format, splits, counts, classes, weak-label coverage and accuracy.",
        discussion: "Reads archives (tar, tar.gz/xz/zst, zip), single files and folders; see docs/dataio.md.")

    @Argument(help: ArgumentHelp("The dataset archive, file or folder.", valueName: "path"))
    var path: String

    @Flag(name: .long, help: "Print the report as JSON.")
    var json = false

    func run() throws {
        let report = try DatasetInspector.inspect(path: path)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            printOut(String(decoding: try encoder.encode(report), as: UTF8.self) + "\n")
        } else {
            printOut(report.description + "\n")
        }
    }
}
