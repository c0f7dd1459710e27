import ArgumentParser

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export results for use outside winnow.",
        subcommands: [ExportManifestCommand.self])
}
