import DataIO
import Dispatch
import Foundation

/// While `export manifest` writes, Ctrl-C (SIGINT) or SIGTERM removes what the export wrote so far before
/// exiting: the temporary files beside each output (both writers name them `.<name>.tmp-<pid>…`, see
/// `ArchiveWriter.temporaryPrefix(for:)`) and any output this command created. So an interrupted export
/// leaves nothing behind; a file it was told to replace (`--force`) is either the old one or the new one.
final class ExportCleanup: @unchecked Sendable {
    private let outputs: [String]
    private let lock = NSLock()
    private var created: [String] = []
    private let handlers = SignalHandlers()

    init(outputs: [String]) {
        self.outputs = outputs
    }

    /// Installs the signal handlers.
    func arm() {
        handlers.arm { [self] signalNumber in
            lock.lock()
            removeTemporaries()
            for path in created { unlink(path) }
            printError("error: interrupted by \(signalNumber == SIGINT ? "SIGINT" : "SIGTERM"); the export wrote nothing")
            SignalHandlers.exit(after: signalNumber)
        }
    }

    /// Records an output this command created (removed again if the export is interrupted before it ends).
    func markCreated(_ path: String) {
        lock.lock()
        defer { lock.unlock() }
        created.append(path)
    }

    /// Removes this process's temporary files beside every output.
    func removeTemporaries() {
        for output in outputs {
            let (folder, _) = ArchiveWriter.folderAndName(of: output)
            let prefix = ArchiveWriter.temporaryPrefix(for: output)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            where name == prefix || name.hasPrefix(prefix + "-") {
                unlink(folder + "/" + name)
            }
        }
    }

    /// Removes the temporary files an earlier export left beside `outputs` when it was killed (SIGKILL cannot be
    /// caught): `.<name>.tmp-<pid>…` whose process no longer exists. Returns their names.
    static func removeStaleTemporaries(outputs: [String]) -> [String] {
        var removed: [String] = []
        for output in outputs {
            let (folder, name) = ArchiveWriter.folderAndName(of: output)
            let prefix = ".\(name).tmp-"
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where entry.hasPrefix(prefix) {
                let digits = entry.dropFirst(prefix.count).prefix { $0.isNumber }
                guard let pid = pid_t(digits), pid != getpid(), kill(pid, 0) == -1, errno == ESRCH else { continue }
                if unlink(folder + "/" + entry) == 0 { removed.append(folder + "/" + entry) }
            }
        }
        return removed
    }

    /// Restores the default signal handling (the export is complete or has failed and cleaned up).
    func disarm() { handlers.disarm() }
}
