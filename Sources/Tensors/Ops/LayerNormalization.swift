// Layer normalisation over the last axis as one op: one pass per row forward and backward (plus one over the columns
// for the weight and bias gradients), instead of the nine broadcast operations (and their backward) of the composed
// formula.

extension Tensor {
    /// (x − mean) / √(var + ε) · weight + bias over the last axis, with the biased variance; `weight` and `bias`
    /// have the last axis's extent. The backward is fused for plain gradients; when the backward itself is
    /// recorded (double backward) it is the same formula written in differentiable ops.
    public func layerNormalized(weight: Tensor, bias: Tensor, epsilon: Float) -> Tensor {
        let width = shape.last ?? 1
        precondition(
            rank >= 1 && weight.shape == [width] && bias.shape == [width],
            "layerNormalized: input \(shape), weight \(weight.shape), bias \(bias.shape) (both must be [\(width)])")
        let rows = width > 0 ? count / width : 0
        var inverseDeviations = [Float](repeating: 0, count: rows)
        // One pass per row (rows split over the kernel threads): the statistics, then x̂ and x̂·w + b together.
        var normalizedValues = [Float](repeating: 0, count: count)
        let result = Tensor(shape: shape) { out in
            withUnsafeBufferPointer { x in
                weight.withUnsafeBufferPointer { w in
                    bias.withUnsafeBufferPointer { b in
                        normalizedValues.withUnsafeMutableBufferPointer { n in
                            inverseDeviations.withUnsafeMutableBufferPointer { inverse in
                                KernelThreads.forEachRange(rows, elementsPerItem: width) { rowRange in
                                    for row in rowRange {
                                        let base = row * width
                                        let values = UnsafeBufferPointer(rebasing: x[base..<(base + width)])
                                        let mean = sumAll(values) / Float(width)
                                        var squares: Float = 0
                                        for j in 0..<width {
                                            let centred = values[j] - mean
                                            squares += centred * centred
                                        }
                                        let rstd = 1 / (squares / Float(width) + epsilon).squareRoot()
                                        inverse[row] = rstd
                                        for j in 0..<width {
                                            let normalized = (values[j] - mean) * rstd
                                            n[base + j] = normalized
                                            out[base + j] = normalized * w[j] + b[j]
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        let normalized = Tensor(shape: shape, storage: normalizedValues)
        return result.recorded("layerNorm", [self, weight, bias]) { g, _ in
            if GradMode.isEnabled {
                return Tensor.layerNormBackwardRecorded(self, weight: weight, bias: bias, epsilon: epsilon, gradient: g)
            }
            return Tensor.layerNormBackward(
                normalized: normalized, inverseDeviations: inverseDeviations, weight: weight, gradient: g,
                needs: (self.requiresGrad, weight.requiresGrad, bias.requiresGrad))
        }
    }

    /// The fused backward: dx = rstd·(g·w − mean(g·w) − x̂·mean(g·w·x̂)) per row, dw = Σ g·x̂, db = Σ g.
    private static func layerNormBackward(
        normalized: Tensor, inverseDeviations: [Float], weight: Tensor, gradient: Tensor, needs: (Bool, Bool, Bool)
    ) -> [Tensor?] {
        let width = weight.count, rows = inverseDeviations.count
        var weightGradient = [Float](repeating: 0, count: width), biasGradient = [Float](repeating: 0, count: width)
        let inputGradient = Tensor(shape: gradient.shape) { dx in
            gradient.withUnsafeBufferPointer { g in
                normalized.withUnsafeBufferPointer { n in
                    weight.withUnsafeBufferPointer { w in
                        // dx row by row, rows split over the kernel threads.
                        KernelThreads.forEachRange(rows, elementsPerItem: width) { rowRange in
                            for row in rowRange {
                                let base = row * width
                                var sumGW: Float = 0, sumGWN: Float = 0
                                for j in 0..<width {
                                    let gw = g[base + j] * w[j]
                                    sumGW += gw
                                    sumGWN += gw * n[base + j]
                                }
                                let meanGW = sumGW / Float(width), meanGWN = sumGWN / Float(width)
                                let rstd = inverseDeviations[row]
                                for j in 0..<width {
                                    dx[base + j] = rstd * (g[base + j] * w[j] - meanGW - n[base + j] * meanGWN)
                                }
                            }
                        }
                        // dw and db column by column (columns split), each summed over the rows in order.
                        weightGradient.withUnsafeMutableBufferPointer { dw in
                            biasGradient.withUnsafeMutableBufferPointer { db in
                                KernelThreads.forEachRange(width, elementsPerItem: rows) { columns in
                                    for row in 0..<rows {
                                        let base = row * width
                                        for j in columns {
                                            dw[j] += g[base + j] * n[base + j]
                                            db[j] += g[base + j]
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return [
            needs.0 ? inputGradient : nil,
            needs.1 ? Tensor(shape: [width], storage: weightGradient) : nil,
            needs.2 ? Tensor(shape: [width], storage: biasGradient) : nil,
        ]
    }

    /// The same backward in differentiable ops (recorded when the backward is, for double backward).
    private static func layerNormBackwardRecorded(
        _ x: Tensor, weight: Tensor, bias: Tensor, epsilon: Float, gradient g: Tensor
    ) -> [Tensor?] {
        let centred = x - x.mean(axes: [-1], keepDims: true)
        let rstd = ((centred * centred).mean(axes: [-1], keepDims: true) + epsilon).rsqrt()
        let normalized = centred * rstd
        let gw = g * weight
        let dx = rstd * (gw - gw.mean(axes: [-1], keepDims: true) - normalized * (gw * normalized).mean(axes: [-1], keepDims: true))
        let width = weight.shape
        return [
            x.requiresGrad ? dx : nil,
            weight.requiresGrad ? (g * normalized).sumTo(width) : nil,
            bias.requiresGrad ? g.sumTo(width) : nil,
        ]
    }
}
