import Foundation
#if canImport(FoundationXML)
    import FoundationXML
#endif
import Plots
import Testing

/// The SVG charts: tick values and scales against hand-computed answers, well-formed documents (parsed back
/// as XML), coordinates of drawn points, histogram counts, the Pareto front, and escaping.
@Suite struct PlotsTests {
    /// Parses `svg` as XML; returns the elements by tag and their attributes.
    static func elements(_ svg: String) throws -> [(tag: String, attributes: [String: String], text: String)] {
        final class Collector: NSObject, XMLParserDelegate {
            var elements: [(tag: String, attributes: [String: String], text: String)] = []
            var open: [Int] = []
            func parser(
                _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]
            ) {
                open.append(elements.count)
                elements.append((name, attributes, ""))
            }
            func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
                open.removeLast()
            }
            func parser(_ parser: XMLParser, foundCharacters string: String) {
                if let index = open.last { elements[index].text += string }
            }
        }
        let parser = XMLParser(data: Data(svg.utf8))
        let collector = Collector()
        parser.delegate = collector
        #expect(parser.parse(), "not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "")")
        return collector.elements
    }

    /// A short title keeps 14 px; a long one shrinks so its estimated width (0.55 em a character) fits 620 px.
    @Test func longTitlesShrinkToFitTheChart() throws {
        func titleSize(_ title: String) throws -> Double {
            let chart = LineChart(title: title, xLabel: "x", yLabel: "y", series: [.init(name: "a", points: [(0, 0), (1, 1)])])
            let text = try Self.elements(chart.svg()).first { $0.tag == "text" && $0.text == title }
            return Double(text?.attributes["font-size"] ?? "") ?? 0
        }
        #expect(try titleSize("Short") == 14)
        let long = String(repeating: "w", count: 100)
        let size = try titleSize(long)
        #expect(abs(size - 620 / 55) < 0.01)
    }

    @Test func ticksAreNiceAndCoverTheDomain() {
        #expect(LinearScale.ticks(0...1) == [0, 0.2, 0.4, 0.6, 0.8, 1])
        #expect(LinearScale.ticks(0...100) == [0, 20, 40, 60, 80, 100])
        #expect(LinearScale.ticks(0.93...0.97, count: 4) == [0.93, 0.94, 0.95, 0.96, 0.97])
        #expect(LinearScale.nice(0.13...0.87) == 0.0...1.0)
        #expect(LinearScale.nice(3...3) == 2.0...4.0, "a single value is widened around it")
        #expect(LinearScale.label(0.25, step: 0.05) == "0.25" && LinearScale.label(40, step: 20) == "40")
    }

    @Test func scaleMapsLinearly() {
        let y = LinearScale(domain: 0...10, range: (300, 100))
        #expect(y(0) == 300 && y(10) == 100 && y(2.5) == 250)
    }

    /// The line chart draws each point where the scales put it, with its error bar, and a legend entry per series.
    @Test func lineChartDrawsThePoints() throws {
        let chart = LineChart(
            title: "relative accuracy", xLabel: "fraction pruned", yLabel: "pruned / full",
            series: [
                .init(name: "random", points: [(0.1, 0.99), (0.5, 0.97)], errors: [0.01, 0.02]),
                .init(name: "sama", points: [(0.1, 1.0), (0.5, 0.99)]),
            ])
        let elements = try Self.elements(chart.svg())
        #expect(elements.first?.tag == "svg")
        let lines = elements.filter { $0.tag == "polyline" }
        #expect(lines.count == 2)
        #expect(elements.filter { $0.tag == "circle" }.count == 4)
        // x domain 0.1…0.5 widens to 0.1…0.5 (step 0.1): x(0.1) = left margin 64, x(0.5) = 640 − 150 = 490.
        let firstPoints = lines[0].attributes["points"]?.split(separator: " ").map { $0.split(separator: ",").map { Double($0)! } }
        #expect(firstPoints?.map { $0[0] } == [64, 490], "\(lines[0].attributes)")
        #expect(elements.contains { $0.tag == "text" && $0.text == "sama" } && elements.contains { $0.text == "relative accuracy" })
        #expect(elements.filter { $0.tag == "line" && $0.attributes["stroke"] == SVGDocument.color(0) }.count == 6, "3 lines per error bar")
    }

    @Test func histogramCountsEveryFiniteValue() throws {
        let chart = HistogramChart(
            title: "weights", xLabel: "weight",
            groups: [("wrong", [0, 0.1, 0.1, 0.9]), ("right", [0.5, 1, .nan])], bins: 2)
        let (edges, counts) = chart.counts()
        #expect(edges == [0, 0.5, 1])
        #expect(counts == [[3, 1], [0, 2]], "the maximum falls in the last bin; NaN is left out")
        let elements = try Self.elements(chart.svg())
        #expect(elements.filter { $0.tag == "rect" && $0.attributes["fill-opacity"] == "0.55" }.count == 3)
    }

    @Test func paretoFrontKeepsTheUndominatedPoints() {
        var chart = ScatterChart(
            title: "", xLabel: "seconds", yLabel: "accuracy",
            points: [
                .init(label: "finetune", x: 10, y: 0.66), .init(label: "sama", x: 14, y: 0.72),
                .init(label: "neumann", x: 40, y: 0.70), .init(label: "cg", x: 45, y: 0.73), .init(label: "slow and bad", x: 50, y: 0.6),
            ])
        #expect(chart.paretoFront().map(\.label) == ["finetune", "sama", "cg"])
        chart.lowerXIsBetter = false
        #expect(chart.paretoFront().map(\.label) == ["cg", "slow and bad"], "higher x better: only x = 50 escapes cg")
    }

    @Test func textIsEscaped() throws {
        let chart = LineChart(title: "a < b & \"c\"", xLabel: "x", yLabel: "y", series: [.init(name: "<s>", points: [(0, 0), (1, 1)])])
        let svg = chart.svg()
        #expect(svg.contains("a &lt; b &amp; &quot;c&quot;") && !svg.contains("<s>"))
        #expect(try Self.elements(svg).contains { $0.text == "a < b & \"c\"" })
    }
}
