import Benchmarks
import Classification
import NoisyLabels
import Recipes
import Runtime
import ArgumentParser
import ResultStore

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the application a recipe names and record its results.",
        discussion: "Recipe errors (unknown keys, wrong types, bad --set) are reported before anything runs.")

    @Argument(help: ArgumentHelp("The recipe YAML file (not with --resume).", valueName: "recipe"))
    var recipe: String?

    @Option(help: ArgumentHelp("Resume this failed run from its latest checkpoint, with the recipe it recorded.", valueName: "run"))
    var resume: Int64?

    @Flag(help: "With --resume: also resume a run still marked running (its process died without marking it failed).")
    var force = false

    @Option(
        name: .customLong("set"),
        help: ArgumentHelp("Override a recipe key, e.g. --set training.epochs=5 (repeatable).", valueName: "key=value"))
    var overrides: [String] = []

    @OptionGroup var store: StoreOptions

    func validate() throws {
        switch (recipe, resume) {
        case (nil, nil): throw ValidationError("give a recipe file, or --resume RUN")
        case (.some, .some): throw ValidationError("--resume continues a run with the recipe it recorded; give no recipe file")
        default: break
        }
        if force && resume == nil { throw ValidationError("--force only applies with --resume") }
        try OptionBounds.checkRun(resume, option: "--resume")
        for text in overrides {
            do { _ = try RecipeOverride(parsing: text) } catch { throw ValidationError(ExitStatus.describe(error)) }
        }
    }

    func run() throws {
        // The database file is created if needed, its folder never: a mistyped --db is reported, not made.
        try store.requireFolder()
        var request = RunRequest(
            recipePath: recipe ?? "", overrides: overrides, databasePath: store.database,
            progress: .automatic(silent: store.json))
        request.resumeRunID = resume
        request.forceResume = force
        request.communicator = World.communicator
        let interrupts = InterruptGuard(databasePath: store.database)
        request.onRunStarted = { runID in interrupts.arm(runID: runID) }
        defer { interrupts.disarm() }
        let outcome: RunOutcome
        do {
            outcome = try ApplicationRunner.run(request, registry: .builtIn)
        } catch let failure as ApplicationFailure {
            if store.json && World.communicator.isRoot { printOut(RunReport.json(failure: failure) + "\n") }
            throw failure
        }
        guard World.communicator.isRoot else { return }
        if store.json {
            printOut(RunReport.json(outcome) + "\n")
        } else {
            printOut(RunReport.text(outcome))
        }
    }
}
