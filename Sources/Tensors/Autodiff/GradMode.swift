/// Whether operations are recorded for reverse-mode differentiation on the current thread or task.
///
/// Recording is on by default but only happens for operations with an input that requires grad, so
/// inference on tensors without `requiresGrad` pays nothing. `withoutGrad` turns it off for a scope.
public enum GradMode {
    @TaskLocal static var enabled: Bool = true

    /// Whether operations are being recorded right now.
    public static var isEnabled: Bool { enabled }

    /// Runs `body` without recording any operation (a no-grad scope).
    public static func withoutGrad<R>(_ body: () throws -> R) rethrows -> R {
        try $enabled.withValue(false, operation: body)
    }

    /// Runs `body` with recording switched to `on`.
    public static func with<R>(recording on: Bool, _ body: () throws -> R) rethrows -> R {
        try $enabled.withValue(on, operation: body)
    }
}

/// Runs `body` without recording any operation (a no-grad scope).
public func withoutGrad<R>(_ body: () throws -> R) rethrows -> R { try GradMode.withoutGrad(body) }
