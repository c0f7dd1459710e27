import Foundation

/// The frame every chart shares: a plot area with margins, x and y scales with nice ticks, grid lines, axis
/// labels, a title and a legend.
struct ChartFrame {
    static let width = 640.0, height = 400.0
    static let left = 64.0, right = 150.0, top = 36.0, bottom = 52.0
    let x: LinearScale
    let y: LinearScale
    let xTicks: [Double]
    let yTicks: [Double]

    init(xDomain: ClosedRange<Double>, yDomain: ClosedRange<Double>) {
        let xNice = LinearScale.nice(xDomain), yNice = LinearScale.nice(yDomain)
        x = LinearScale(domain: xNice, range: (Self.left, Self.width - Self.right))
        y = LinearScale(domain: yNice, range: (Self.height - Self.bottom, Self.top))
        xTicks = LinearScale.ticks(xNice)
        yTicks = LinearScale.ticks(yNice)
    }

    /// Axes, ticks, grid, labels and title.
    func draw(into svg: inout SVGDocument, title: String, xLabel: String, yLabel: String) {
        let x0 = Self.left, x1 = Self.width - Self.right, y0 = Self.height - Self.bottom, y1 = Self.top
        let xStep = xTicks.count > 1 ? xTicks[1] - xTicks[0] : 1, yStep = yTicks.count > 1 ? yTicks[1] - yTicks[0] : 1
        for t in yTicks {
            svg.line(x0, y(t), x1, y(t), stroke: "#e5e5e5")
            svg.text(x0 - 6, y(t) + 4, LinearScale.label(t, step: yStep), anchor: "end", size: 11)
        }
        for t in xTicks {
            svg.line(x(t), y0, x(t), y1, stroke: "#e5e5e5")
            svg.text(x(t), y0 + 16, LinearScale.label(t, step: xStep), size: 11)
        }
        svg.line(x0, y0, x1, y0)
        svg.line(x0, y0, x0, y1)
        svg.text((x0 + x1) / 2, Self.height - 12, xLabel)
        svg.text(16, (y0 + y1) / 2, yLabel, rotate: -90)
        svg.text(Self.width / 2, 20, title, size: Self.titleSize(title))
    }

    /// 14 px, or smaller so a long title fits the chart's width (a sans-serif character is about 0.55 em wide).
    static func titleSize(_ title: String) -> Double {
        min(14, (width - 20) / (0.55 * Double(max(title.count, 1))))
    }

    /// A legend entry per name, in the right margin.
    func legend(into svg: inout SVGDocument, _ names: [String]) {
        for (i, name) in names.enumerated() {
            let yPosition = Self.top + 16 + Double(i) * 18
            svg.rect(Self.width - Self.right + 14, yPosition - 9, 12, 12, fill: SVGDocument.color(i))
            svg.text(Self.width - Self.right + 32, yPosition + 1, name, anchor: "start", size: 11)
        }
    }
}

/// Lines of (x, y) points, optionally with ± error bars (for example mean ± sd over seeds).
public struct LineChart: Sendable {
    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]
        /// Half-heights of error bars, one per point (empty: none).
        public var errors: [Double]
        public init(name: String, points: [(x: Double, y: Double)], errors: [Double] = []) {
            precondition(errors.isEmpty || errors.count == points.count, "LineChart: \(errors.count) error bars for \(points.count) points")
            self.name = name
            self.points = points
            self.errors = errors
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]

    public init(title: String, xLabel: String, yLabel: String, series: [Series]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
    }

    /// The chart as a self-contained SVG document (non-finite points are left out).
    public func svg() -> String {
        let finite = series.flatMap { s in s.points.indices.map { (s.points[$0], s.errors.isEmpty ? 0 : s.errors[$0]) } }
            .filter { $0.0.x.isFinite && $0.0.y.isFinite && $0.1.isFinite }
        let xs = finite.map(\.0.x), lows = finite.map { $0.0.y - $0.1 }, highs = finite.map { $0.0.y + $0.1 }
        let frame = ChartFrame(xDomain: (xs.min() ?? 0)...(xs.max() ?? 1), yDomain: (lows.min() ?? 0)...(highs.max() ?? 1))
        var svg = SVGDocument(width: ChartFrame.width, height: ChartFrame.height)
        frame.draw(into: &svg, title: title, xLabel: xLabel, yLabel: yLabel)
        for (i, s) in series.enumerated() {
            let color = SVGDocument.color(i)
            let points = s.points.indices.filter { s.points[$0].x.isFinite && s.points[$0].y.isFinite }
            svg.polyline(points.map { (frame.x(s.points[$0].x), frame.y(s.points[$0].y)) }, stroke: color)
            for p in points {
                let (px, py) = (frame.x(s.points[p].x), frame.y(s.points[p].y))
                if !s.errors.isEmpty, s.errors[p] > 0, s.errors[p].isFinite {
                    let low = frame.y(s.points[p].y - s.errors[p]), high = frame.y(s.points[p].y + s.errors[p])
                    svg.line(px, low, px, high, stroke: color, width: 1.5)
                    svg.line(px - 4, low, px + 4, low, stroke: color, width: 1.5)
                    svg.line(px - 4, high, px + 4, high, stroke: color, width: 1.5)
                }
                svg.circle(px, py, radius: 3, fill: color)
            }
        }
        frame.legend(into: &svg, series.map(\.name))
        return svg.text
    }
}

/// Histograms of one or more groups of values over shared bins (for example weights of samples whose weak label
/// is wrong and of those whose label is right), drawn as overlaid translucent bars.
public struct HistogramChart: Sendable {
    public var title: String
    public var xLabel: String
    public var groups: [(name: String, values: [Double])]
    public var bins: Int

    public init(title: String, xLabel: String, groups: [(name: String, values: [Double])], bins: Int = 30) {
        precondition(bins >= 1, "HistogramChart needs at least one bin")
        self.title = title
        self.xLabel = xLabel
        self.groups = groups
        self.bins = bins
    }

    /// Bin edges over the finite values of every group, and each group's counts per bin (the last bin is closed).
    public func counts() -> (edges: [Double], counts: [[Int]]) {
        let all = groups.flatMap(\.values).filter(\.isFinite)
        var low = all.min() ?? 0, high = all.max() ?? 1
        if low == high { low -= 0.5; high += 0.5 }
        let width = (high - low) / Double(bins)
        let edges = (0...bins).map { low + Double($0) * width }
        let counts = groups.map { group in
            var c = [Int](repeating: 0, count: bins)
            for v in group.values where v.isFinite { c[Swift.min(bins - 1, Int((v - low) / width))] += 1 }
            return c
        }
        return (edges, counts)
    }

    public func svg() -> String {
        let (edges, counts) = counts()
        let top = Double(counts.flatMap { $0 }.max() ?? 1)
        let frame = ChartFrame(xDomain: edges[0]...edges[edges.count - 1], yDomain: 0...Swift.max(top, 1))
        var svg = SVGDocument(width: ChartFrame.width, height: ChartFrame.height)
        frame.draw(into: &svg, title: title, xLabel: xLabel, yLabel: "samples")
        for (g, groupCounts) in counts.enumerated() {
            for (b, count) in groupCounts.enumerated() where count > 0 {
                let x0 = frame.x(edges[b]), x1 = frame.x(edges[b + 1])
                svg.rect(
                    x0, frame.y(Double(count)), Swift.max(x1 - x0 - 0.5, 0.5), frame.y(0) - frame.y(Double(count)),
                    fill: SVGDocument.color(g), opacity: groups.count > 1 ? 0.55 : 0.85)
            }
        }
        frame.legend(into: &svg, groups.map { "\($0.name) (\($0.values.count))" })
        return svg.text
    }
}

/// Labelled points with their Pareto front (for example accuracy against time or memory per method): the points
/// no other point beats on both axes, joined by a dashed line.
public struct ScatterChart: Sendable {
    public struct Point: Sendable, Equatable {
        public var label: String
        public var x: Double
        public var y: Double
        public init(label: String, x: Double, y: Double) {
            self.label = label
            self.x = x
            self.y = y
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var points: [Point]
    /// Whether smaller x is better (time, memory) and larger y is better (accuracy, throughput).
    public var lowerXIsBetter = true
    public var higherYIsBetter = true

    public init(title: String, xLabel: String, yLabel: String, points: [Point]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.points = points
    }

    /// The points no other point dominates (at least as good on both axes, better on one), by x.
    public func paretoFront() -> [Point] {
        func better(_ a: Point, _ b: Point) -> Bool {
            let xAtLeast = lowerXIsBetter ? a.x <= b.x : a.x >= b.x, yAtLeast = higherYIsBetter ? a.y >= b.y : a.y <= b.y
            return xAtLeast && yAtLeast && (a.x != b.x || a.y != b.y)
        }
        let finite = points.filter { $0.x.isFinite && $0.y.isFinite }
        return finite.filter { p in !finite.contains { better($0, p) } }.sorted { $0.x < $1.x }
    }

    public func svg() -> String {
        let finite = points.filter { $0.x.isFinite && $0.y.isFinite }
        let frame = ChartFrame(
            xDomain: (finite.map(\.x).min() ?? 0)...(finite.map(\.x).max() ?? 1),
            yDomain: (finite.map(\.y).min() ?? 0)...(finite.map(\.y).max() ?? 1))
        var svg = SVGDocument(width: ChartFrame.width, height: ChartFrame.height)
        frame.draw(into: &svg, title: title, xLabel: xLabel, yLabel: yLabel)
        svg.polyline(paretoFront().map { (frame.x($0.x), frame.y($0.y)) }, stroke: "#999", width: 1.5, dashed: true)
        for (i, p) in finite.enumerated() {
            svg.circle(frame.x(p.x), frame.y(p.y), radius: 4, fill: SVGDocument.color(i))
            svg.text(frame.x(p.x) + 6, frame.y(p.y) - 6, p.label, anchor: "start", size: 11)
        }
        return svg.text
    }
}
