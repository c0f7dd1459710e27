// Adam's per-element loops with explicit SIMD8: the autovectoriser leaves loops with square roots and
// divisions scalar here (checked in the assembly), and these two run over every parameter every step.
// Concrete SIMD8<Float> code (no generics) so nothing is left to specialise at run time.

@inline(__always) private func load8(_ p: UnsafePointer<Float>, _ i: Int) -> SIMD8<Float> {
    UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always) private func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>, _ i: Int) {
    UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: SIMD8<Float>.self)
}

/// One Adam update in place of θ, m and s. `decay` = 1 − γλ (AdamW) or 1; `l2` = λ (Adam + L2) or 0.
func adamStepKernel(p: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>,
                    s: UnsafeMutablePointer<Float>, count: Int, b1: Float, b2: Float, eps: Float,
                    decay: Float, l2: Float, stepSize: Float, inverseRootC2: Float) {
    var i = 0
    while i + 8 <= count {
        let theta = load8(p, i)
        let gi = load8(g, i) + l2 * theta
        let mi = b1 * load8(m, i) + (1 - b1) * gi
        let si = b2 * load8(s, i) + (1 - b2) * gi * gi
        store8(mi, m, i)
        store8(si, s, i)
        store8(theta * decay - stepSize * mi / (si.squareRoot() * inverseRootC2 + eps), p, i)
        i += 8
    }
    while i < count {
        let theta = p[i]
        let gi = g[i] + l2 * theta
        let mi = b1 * m[i] + (1 - b1) * gi
        let si = b2 * s[i] + (1 - b2) * gi * gi
        m[i] = mi
        s[i] = si
        p[i] = theta * decay - stepSize * mi / (si.squareRoot() * inverseRootC2 + eps)
        i += 1
    }
}

/// ∂u/∂g of Adam's last step: k·[(1−β1)·(√s + ε') − m·(1−β2)·g/√s] / (√s + ε')², branch-free (s = 0
/// only when every gradient so far was 0, where m = g = 0 and the chain term vanishes).
func adamDerivativeKernel(out: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>, m: UnsafePointer<Float>,
                          s: UnsafePointer<Float>, count: Int, k: Float, b1: Float, b2: Float, epsPrime: Float) {
    var i = 0
    while i + 8 <= count {
        let root = load8(s, i).squareRoot(), denominator = root + epsPrime
        let chain = load8(m, i) * (1 - b2) * load8(g, i) / (root + 1e-30)
        store8(k * ((1 - b1) * denominator - chain) / (denominator * denominator), out, i)
        i += 8
    }
    while i < count {
        let root = s[i].squareRoot(), denominator = root + epsPrime
        let chain = m[i] * (1 - b2) * g[i] / (root + 1e-30)
        out[i] = k * ((1 - b1) * denominator - chain) / (denominator * denominator)
        i += 1
    }
}
