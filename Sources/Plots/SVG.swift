import Foundation

/// A small SVG writer: elements appended as text, attribute values and text escaped, numbers written with
/// two decimals. The document is self-contained (no fonts, scripts or links outside it).
public struct SVGDocument: Sendable {
    public let width: Double
    public let height: Double
    private var body: [String] = []

    public init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    /// `<tag attributes/>`, or with `text` as its content.
    public mutating func element(_ tag: String, _ attributes: [(String, String)], text: String? = nil) {
        let attributeText = attributes.map { " \($0.0)=\"\(Self.escape($0.1))\"" }.joined()
        if let text {
            body.append("<\(tag)\(attributeText)>\(Self.escape(text))</\(tag)>")
        } else {
            body.append("<\(tag)\(attributeText)/>")
        }
    }

    public mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String = "#444", width: Double = 1) {
        element(
            "line",
            [
                ("x1", Self.number(x1)), ("y1", Self.number(y1)), ("x2", Self.number(x2)), ("y2", Self.number(y2)),
                ("stroke", stroke), ("stroke-width", Self.number(width)),
            ])
    }

    public mutating func text(
        _ x: Double, _ y: Double, _ content: String, anchor: String = "middle", size: Double = 12,
        rotate: Double? = nil
    ) {
        var attributes = [
            ("x", Self.number(x)), ("y", Self.number(y)), ("text-anchor", anchor), ("font-size", Self.number(size)),
            ("font-family", "sans-serif"), ("fill", "#222"),
        ]
        if let rotate { attributes.append(("transform", "rotate(\(Self.number(rotate)) \(Self.number(x)) \(Self.number(y)))")) }
        element("text", attributes, text: content)
    }

    public mutating func polyline(_ points: [(Double, Double)], stroke: String, width: Double = 2, dashed: Bool = false) {
        var attributes = [
            ("points", points.map { "\(Self.number($0.0)),\(Self.number($0.1))" }.joined(separator: " ")),
            ("fill", "none"), ("stroke", stroke), ("stroke-width", Self.number(width)),
        ]
        if dashed { attributes.append(("stroke-dasharray", "5 3")) }
        element("polyline", attributes)
    }

    public mutating func rect(_ x: Double, _ y: Double, _ width: Double, _ height: Double, fill: String, opacity: Double = 1) {
        element(
            "rect",
            [
                ("x", Self.number(x)), ("y", Self.number(y)), ("width", Self.number(width)), ("height", Self.number(height)),
                ("fill", fill), ("fill-opacity", Self.number(opacity)),
            ])
    }

    public mutating func circle(_ x: Double, _ y: Double, radius: Double, fill: String) {
        element("circle", [("cx", Self.number(x)), ("cy", Self.number(y)), ("r", Self.number(radius)), ("fill", fill)])
    }

    /// The document as text.
    public var text: String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Self.number(width))\" height=\"\(Self.number(height))\" "
            + "viewBox=\"0 0 \(Self.number(width)) \(Self.number(height))\">\n"
            + "<rect x=\"0\" y=\"0\" width=\"\(Self.number(width))\" height=\"\(Self.number(height))\" fill=\"white\"/>\n"
            + body.joined(separator: "\n") + "\n</svg>\n"
    }

    /// XML-escaped text (`&`, `<`, `>`, `"`, `'`).
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    /// A coordinate with at most two decimals and no trailing zeros.
    public static func number(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        var text = String(format: "%.2f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text == "-0" ? "0" : text
    }

    /// A qualitative palette (colour-blind friendly), cycled by series index.
    public static func color(_ index: Int) -> String {
        let palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
        return palette[((index % palette.count) + palette.count) % palette.count]
    }
}
