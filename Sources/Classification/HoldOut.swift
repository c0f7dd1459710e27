import Recipes
import Runtime
/// A deterministic train/test split by sample id: the same id always lands on the same side, whatever
/// the order or subset of the data (FNV-1a hash of the id, salted by a seed).
public struct HoldOutSplit: Sendable {
    public let fraction: Double
    public let seed: UInt64

    public init(fraction: Double, seed: UInt64 = 0) {
        precondition(fraction > 0 && fraction < 1, "hold-out fraction must be in (0, 1), got \(fraction)")
        self.fraction = fraction
        self.seed = seed
    }

    /// Whether the sample with this id is held out.
    public func isHeldOut(_ id: String) -> Bool {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325 ^ seed
        for byte in id.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        // Finalise (SplitMix64) so neighbouring ids spread uniformly.
        hash = (hash ^ (hash >> 30)) &* 0xBF58_476D_1CE4_E5B9
        hash = (hash ^ (hash >> 27)) &* 0x94D0_49BB_1331_11EB
        hash ^= hash >> 31
        return Double(hash >> 11) / Double(1 << 53) < fraction
    }
}
