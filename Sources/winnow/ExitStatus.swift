import Benchmarks
import Classification
import NoisyLabels
import Recipes
import Runtime
import ArgumentParser
import Foundation
import ResultStore

/// Exit codes: 0 ok, 1 runtime failure, 2 usage or validation error (recipe errors included).
/// Errors print as `error: <message>` on stderr.
enum ExitStatus {
    static let success: Int32 = 0
    static let failure: Int32 = 1
    static let usage: Int32 = 2

    static func run(_ root: Winnow.Type, arguments: [String]) -> Int32 {
        var command: ParsableCommand
        do {
            command = try root.parseAsRoot(arguments)
        } catch {
            // Help and version requests are "errors" that exit 0 and print to stdout.
            if root.exitCode(for: error) == .success {
                print(root.fullMessage(for: error))
                return success
            }
            var message = root.fullMessage(for: error)
            if message.hasPrefix("Error: ") { message = "error: " + message.dropFirst("Error: ".count) }
            printError(message.hasPrefix("error: ") ? message : "error: " + message)
            return usage
        }
        do {
            try command.run()
            return success
        } catch let exit as ExitCode {
            return exit.rawValue
        } catch  where root.exitCode(for: error) == .success {
            // The root command without a subcommand asks for help this way.
            print(root.fullMessage(for: error))
            return success
        } catch {
            printError("error: " + World.errorPrefix + describe(error))
            return code(for: error)
        }
    }

    static func code(for error: Error) -> Int32 {
        switch error {
        case is RecipeError, is ValidationError: return usage
        case StoreError.invalidArgument: return usage
        default: return failure
        }
    }

    static func describe(_ error: Error) -> String {
        if let localized = error as? LocalizedError, let description = localized.errorDescription { return description }
        if let validation = error as? ValidationError { return validation.message }
        return String(describing: error)
    }
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
}

/// Writes to stdout without buffering surprises when mixed with stderr.
func printOut(_ text: String) {
    FileHandle.standardOutput.write(Data(text.utf8))
}
