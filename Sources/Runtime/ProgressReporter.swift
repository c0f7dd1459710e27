import Foundation
import Recipes

/// Progress on stderr: a redrawn bar with ETA and running metrics on a terminal, plain periodic lines when
/// stderr is a file or pipe, nothing at all with `--json`.
public final class ProgressReporter {
    public enum Style: Sendable, Equatable {
        case bar, lines, silent

        /// `bar` when stderr is a terminal, else `lines`; `silent` when asked.
        public static func automatic(silent: Bool) -> Style {
            if silent { return .silent }
            return isatty(STDERR_FILENO) != 0 ? .bar : .lines
        }
    }

    public let style: Style
    private let write: (String) -> Void
    private let now: () -> Double
    private var label = ""
    private var total: Int?
    private var completed = 0
    private var metrics: [String: Double] = [:]
    private var startTime = 0.0
    private var lastDraw = -Double.infinity
    private var barVisible = false
    /// Seconds between plain progress lines.
    public var lineInterval = 5.0

    public init(style: Style, write: ((String) -> Void)? = nil, now: (() -> Double)? = nil) {
        self.style = style
        self.write = write ?? { text in FileHandle.standardError.write(Data(text.utf8)) }
        self.now = now ?? { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
    }

    /// Begins a phase of `total` steps (nil when unknown).
    public func start(_ label: String, total: Int?) {
        finishBar()
        self.label = label
        self.total = total
        completed = 0
        metrics = [:]
        startTime = now()
        lastDraw = -Double.infinity
    }

    /// Reports `completed` steps done (nil: unchanged) and the latest metrics.
    public func update(completed: Int?, metrics: [String: Double] = [:]) {
        if let completed { self.completed = completed }
        self.metrics.merge(metrics) { $1 }
        let time = now()
        let done = total.map { self.completed >= $0 } ?? false
        switch style {
        case .silent: return
        case .bar:
            guard time - lastDraw >= 0.1 || done else { return }
            lastDraw = time
            write("\r\u{1B}[2K" + Self.fitted(statusText(time: time)))
            barVisible = true
        case .lines:
            guard time - lastDraw >= lineInterval || done else { return }
            lastDraw = time
            write(statusText(time: time) + "\n")
        }
    }

    /// Prints a line above the bar.
    public func log(_ message: String) {
        guard style != .silent else { return }
        if style == .bar, barVisible { write("\r\u{1B}[2K") }
        write(message + "\n")
        if style == .bar, barVisible { lastDraw = -Double.infinity }
    }

    /// Ends the current phase, leaving the final state on screen.
    public func finish() {
        if style == .lines, total != nil, completed < total!, completed > 0 { write(statusText(time: now()) + "\n") }
        finishBar()
    }

    private func finishBar() {
        if style == .bar, barVisible {
            write("\r\u{1B}[2K" + statusText(time: now()) + "\n")
            barVisible = false
        }
    }

    func statusText(time: Double) -> String {
        let elapsed = time - startTime
        var parts: [String] = []
        if !label.isEmpty { parts.append(label) }
        if let total, total > 0 {
            let fraction = min(1, Double(completed) / Double(total))
            if style == .bar {
                let width = 24, filled = Int(fraction * Double(width))
                parts.append("[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "]")
            }
            parts.append("\(completed)/\(total) \(Int(fraction * 100))%")
            if completed > 0, completed < total {
                parts.append("ETA " + Self.duration(elapsed / Double(completed) * Double(total - completed)))
            } else if completed >= total {
                parts.append("in " + Self.duration(elapsed))
            }
        } else {
            parts.append("\(completed) steps, " + Self.duration(elapsed))
        }
        if !metrics.isEmpty { parts.append(Self.format(metrics)) }
        return parts.joined(separator: "  ")
    }

    /// Cuts a bar line to the terminal width so redrawing with \r never wraps.
    static func fitted(_ line: String) -> String {
        var size = winsize()
        let columns = ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 ? Int(size.ws_col) : 120
        return line.count < columns ? line : String(line.prefix(columns - 2)) + "…"
    }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }

    public static func format(_ metrics: [String: Double]) -> String {
        metrics.keys.sorted().map { "\($0) \(String(format: "%.4g", metrics[$0]!))" }.joined(separator: "  ")
    }
}
