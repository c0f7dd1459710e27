import Foundation
import Tensors

/// Which samples a score keeps when a fraction of the training split is pruned (`retrain.selection`). Every
/// rule reads scores stored so that higher = more worth keeping, and is applied the same way to every score.
public enum KeptSelection {
    /// The number kept of `count` samples when pruning `ratio`: count − round(ratio·count), at least one.
    public static func keptCount(_ count: Int, ratio: Double) -> Int {
        max(1, count - Int((ratio * Double(count)).rounded()))
    }

    /// The `keptCount` highest scores among `members` (ties to the lower index).
    static func top(_ scores: [Double], _ members: [Int], count: Int) -> [Int] {
        let order = members.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
        return Array(order.prefix(count))
    }

    /// `top`: the highest scores overall. `classBalanced`: the highest within each class, the same fraction of
    /// every class. `stratified`: coverage-centric selection (Zheng et al., ICLR 2023): drop the `hardCutoff`
    /// fraction with the highest scores, split the rest into `strata` equal-width score bins, and fill the
    /// budget from the sparsest bin up, each bin giving at most an equal share of what is left (drawn at random
    /// with `seed`), so easy, middling and hard samples all stay represented. Returns indices in order.
    public static func kept(
        scores: [Double], ratio: Double, labels: [Int], selection: PruningRecipe.Selection, strata: Int = 50,
        hardCutoff: Double = 0, seed: UInt64 = 0
    ) -> [Int] {
        switch selection {
        case .top:
            return top(scores, Array(scores.indices), count: keptCount(scores.count, ratio: ratio)).sorted()
        case .classBalanced:
            let classes = Dictionary(grouping: scores.indices, by: { labels[$0] })
            return classes.keys.sorted().flatMap { label in
                let members = classes[label]!
                return top(scores, members, count: keptCount(members.count, ratio: ratio))
            }.sorted()
        case .stratified:
            return stratified(
                scores: scores, budget: keptCount(scores.count, ratio: ratio), strata: strata,
                hardCutoff: hardCutoff, seed: seed)
        }
    }

    static func stratified(scores: [Double], budget: Int, strata: Int, hardCutoff: Double, seed: UInt64) -> [Int] {
        // The hardest `hardCutoff` fraction goes first, but never so much that the budget cannot be met.
        let dropped = min(Int((hardCutoff * Double(scores.count)).rounded()), scores.count - budget)
        let order = scores.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
        let pool = Array(order.dropFirst(dropped))
        guard let low = pool.map({ scores[$0] }).min(), let high = pool.map({ scores[$0] }).max() else { return [] }
        let width = (high - low) / Double(strata)
        var bins = [[Int]](repeating: [], count: strata)
        for i in pool.sorted() {
            let bin = width > 0 ? min(strata - 1, Int((scores[i] - low) / width)) : 0
            bins[bin].append(i)
        }
        var rng = RandomGenerator(seed: seed)
        var remaining = bins.filter { !$0.isEmpty }.sorted { $0.count < $1.count }
        var left = budget, kept: [Int] = []
        while left > 0, !remaining.isEmpty {
            let bin = remaining.removeFirst()
            let share = min(bin.count, left / (remaining.count + 1) + (left % (remaining.count + 1) > 0 ? 1 : 0))
            kept += rng.permutation(bin.count).prefix(share).map { bin[$0] }
            left -= share
        }
        return kept.sorted()
    }
}
