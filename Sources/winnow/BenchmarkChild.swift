import ArgumentParser
import Foundation

/// Runs a benchmark child process to its end and decodes the last line of its standard output, where the
/// `--child` modes of the bench commands print their JSON result. `what` names the child in the error.
func runBenchmarkChild<Result: Decodable>(_ process: Process, what: String, as type: Result.Type) throws -> Result {
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0, let line = String(decoding: output, as: UTF8.self).split(separator: "\n").last else {
        throw ValidationError("\(what) exited with status \(process.terminationStatus)")
    }
    return try JSONDecoder().decode(Result.self, from: Data(line.utf8))
}
