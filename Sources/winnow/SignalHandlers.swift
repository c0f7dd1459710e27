import Dispatch
import Foundation

/// SIGINT and SIGTERM handled on a dispatch queue while armed: `handler` gets the signal number and must end the
/// process (with `_exit`: the main thread may be inside BLAS, where running atexit handlers can crash).
/// Disarming restores the default handling.
final class SignalHandlers: @unchecked Sendable {
    private let lock = NSLock()
    private var sources: [DispatchSourceSignal] = []

    /// Installs `handler` for SIGINT and SIGTERM (replacing what an earlier `arm` installed).
    func arm(_ handler: @escaping @Sendable (Int32) -> Void) {
        lock.lock()
        defer { lock.unlock() }
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { handler(signalNumber) }
            source.resume()
            sources.append(source)
        }
    }

    /// Restores the default signal handling.
    func disarm() {
        lock.lock()
        defer { lock.unlock() }
        for source in sources { source.cancel() }
        sources.removeAll()
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }

    /// Flushes output and ends the process with 128 + the signal number.
    static func exit(after signalNumber: Int32) -> Never {
        fflush(nil)
        _exit(128 + signalNumber)
    }
}
