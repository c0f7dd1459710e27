#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Scalar logf from the C library (not in hot loops).
@inline(__always) func logf_(_ x: Float) -> Float { logf(x) }

/// Double log and cos from the C library (random sampling only).
@inline(__always) func _log(_ x: Double) -> Double { log(x) }
@inline(__always) func _cos(_ x: Double) -> Double { cos(x) }
