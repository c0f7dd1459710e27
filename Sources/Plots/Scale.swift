import Foundation

/// A linear map from data values to SVG coordinates, with "nice" tick values (1, 2 or 5 times a power of ten).
public struct LinearScale: Sendable, Equatable {
    /// The data range shown (already widened to whole ticks by `nice`).
    public var domain: ClosedRange<Double>
    /// The SVG coordinates the domain maps to (for a y axis, bottom to top: a decreasing range is fine).
    public var range: (start: Double, end: Double)

    public init(domain: ClosedRange<Double>, range: (start: Double, end: Double)) {
        self.domain = domain
        self.range = range
    }

    public static func == (a: LinearScale, b: LinearScale) -> Bool {
        a.domain == b.domain && a.range.start == b.range.start && a.range.end == b.range.end
    }

    /// The SVG coordinate of `value`.
    public func callAsFunction(_ value: Double) -> Double {
        let span = domain.upperBound - domain.lowerBound
        let t = span == 0 ? 0.5 : (value - domain.lowerBound) / span
        return range.start + t * (range.end - range.start)
    }

    /// About `count` tick values covering `domain`, at multiples of a 1/2/5 step.
    public static func ticks(_ domain: ClosedRange<Double>, count: Int = 5) -> [Double] {
        let step = niceStep(domain, count: count)
        let first = (domain.lowerBound / step).rounded(.up), last = (domain.upperBound / step).rounded(.down)
        guard first <= last else { return [domain.lowerBound] }
        return stride(from: first, through: last, by: 1).map { ($0 * step * 1e12).rounded() / 1e12 }
    }

    /// `domain` widened to whole steps of its ticks (a degenerate domain is widened around its value).
    public static func nice(_ domain: ClosedRange<Double>, count: Int = 5) -> ClosedRange<Double> {
        var domain = domain
        if domain.lowerBound == domain.upperBound {
            let pad = Swift.max(abs(domain.lowerBound) * 0.1, 1)
            domain = (domain.lowerBound - pad)...(domain.upperBound + pad)
        }
        let step = niceStep(domain, count: count)
        return ((domain.lowerBound / step).rounded(.down) * step)...((domain.upperBound / step).rounded(.up) * step)
    }

    static func niceStep(_ domain: ClosedRange<Double>, count: Int) -> Double {
        let span = Swift.max(domain.upperBound - domain.lowerBound, 1e-12)
        let raw = span / Double(Swift.max(count, 1))
        let power = pow(10, (log10(raw)).rounded(.down))
        let fraction = raw / power
        let nice: Double = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10
        return nice * power
    }

    /// A tick label: as few digits as tell the ticks apart.
    public static func label(_ value: Double, step: Double) -> String {
        let decimals = Swift.max(0, Int((-log10(step)).rounded(.up)))
        return String(format: "%.\(Swift.min(decimals, 6))f", value == 0 ? 0 : value)
    }
}
