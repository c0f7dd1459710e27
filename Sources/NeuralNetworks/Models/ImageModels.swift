import Tensors

/// A multilayer perceptron: Linear → activation → ... → Linear (`layers.N.*`).
public final class MLP: Module {
    public let layers: [Linear]
    public let activation: Activation
    public let dropout: Dropout

    /// - Parameter widths: input, hidden..., output sizes (at least two).
    public init(widths: [Int], activation: Activation = .relu, dropout: Float = 0, rng: inout RandomGenerator) {
        precondition(widths.count >= 2, "MLP needs at least input and output widths, got \(widths)")
        layers = zip(widths, widths.dropFirst()).map { Linear($0, $1, rng: &rng) }
        self.activation = activation
        self.dropout = Dropout(dropout)
    }

    public var children: [(String, any Module)] { layers.enumerated().map { ("layers.\($0.offset)", $0.element as any Module) } }

    /// The last hidden activation (penultimate feature) and the output.
    public func features(_ x: Tensor, _ context: ForwardContext) -> (feature: Tensor, logits: Tensor) {
        var h = x.rank > 2 ? x.flattenedBatch() : x
        for layer in layers.dropLast() { h = dropout(activation(layer(h)), context) }
        return (h, layers[layers.count - 1](h))
    }

    public func callAsFunction(_ x: Tensor, _ context: ForwardContext) -> Tensor { features(x, context).logits }
}

/// A small CNN for 1-channel images: two conv(3×3)–BN–ReLU–maxpool(2) stages, then a linear head.
public final class SmallCNN: Module {
    public let conv1: Conv2d, norm1: BatchNorm, conv2: Conv2d, norm2: BatchNorm
    public let head: Linear

    public init(inChannels: Int = 1, imageSize: Int = 28, channels: (Int, Int) = (16, 32), classes: Int = 10, rng: inout RandomGenerator) {
        conv1 = Conv2d(inChannels, channels.0, kernel: 3, padding: 1, bias: false, rng: &rng)
        norm1 = BatchNorm(channels.0)
        conv2 = Conv2d(channels.0, channels.1, kernel: 3, padding: 1, bias: false, rng: &rng)
        norm2 = BatchNorm(channels.1)
        head = Linear(channels.1 * (imageSize / 4) * (imageSize / 4), classes, rng: &rng)
    }

    public var children: [(String, any Module)] {
        [("conv1", conv1), ("bn1", norm1), ("conv2", conv2), ("bn2", norm2), ("fc", head)]
    }

    public func features(_ x: Tensor, _ context: ForwardContext) -> (feature: Tensor, logits: Tensor) {
        var h = norm1(conv1(x), context).relu().maxPool2d(kernel: 2)
        h = norm2(conv2(h), context).relu().maxPool2d(kernel: 2).flattenedBatch()
        return (h, head(h))
    }

    public func callAsFunction(_ x: Tensor, _ context: ForwardContext) -> Tensor { features(x, context).logits }
}

/// A ResNet basic block: conv–BN–ReLU–conv–BN plus a (projected when needed) shortcut, then ReLU.
public final class BasicBlock: Module {
    public let conv1: Conv2d, bn1: BatchNorm, conv2: Conv2d, bn2: BatchNorm
    public let shortcut: (conv: Conv2d, bn: BatchNorm)?

    public init(_ inChannels: Int, _ outChannels: Int, stride: Int, rng: inout RandomGenerator) {
        conv1 = Conv2d(inChannels, outChannels, kernel: 3, stride: stride, padding: 1, bias: false, rng: &rng)
        bn1 = BatchNorm(outChannels)
        conv2 = Conv2d(outChannels, outChannels, kernel: 3, padding: 1, bias: false, rng: &rng)
        bn2 = BatchNorm(outChannels)
        shortcut =
            (stride != 1 || inChannels != outChannels)
            ? (Conv2d(inChannels, outChannels, kernel: 1, stride: stride, bias: false, rng: &rng), BatchNorm(outChannels)) : nil
    }

    public var children: [(String, any Module)] {
        var c: [(String, any Module)] = [("conv1", conv1), ("bn1", bn1), ("conv2", conv2), ("bn2", bn2)]
        if let shortcut { c += [("shortcut.0", shortcut.conv), ("shortcut.1", shortcut.bn)] }
        return c
    }

    public func callAsFunction(_ x: Tensor, _ context: ForwardContext) -> Tensor {
        let h = bn2(conv2(bn1(conv1(x), context).relu()), context)
        let skip = shortcut.map { $0.bn($0.conv(x), context) } ?? x
        return (h + skip).relu()
    }
}

/// A ResNet-style CNN: stem conv–BN–ReLU, stages of basic blocks (the first of each later stage strides
/// by 2), global average pooling, linear head.
public final class ResNet: Module {
    public let stem: Conv2d, stemNorm: BatchNorm
    public let blocks: [BasicBlock]
    public let head: Linear

    /// - Parameters:
    ///   - widths: channels per stage (e.g. `[16, 32, 64]`); `blocksPerStage` blocks each.
    public init(inChannels: Int = 1, widths: [Int] = [16, 32, 64], blocksPerStage: Int = 1, classes: Int = 10, rng: inout RandomGenerator) {
        stem = Conv2d(inChannels, widths[0], kernel: 3, padding: 1, bias: false, rng: &rng)
        stemNorm = BatchNorm(widths[0])
        var blocks: [BasicBlock] = []
        var channels = widths[0]
        for (stage, width) in widths.enumerated() {
            for index in 0..<blocksPerStage {
                blocks.append(BasicBlock(channels, width, stride: stage > 0 && index == 0 ? 2 : 1, rng: &rng))
                channels = width
            }
        }
        self.blocks = blocks
        head = Linear(channels, classes, rng: &rng)
    }

    public var children: [(String, any Module)] {
        [("conv1", stem), ("bn1", stemNorm)] + blocks.enumerated().map { ("blocks.\($0.offset)", $0.element as any Module) } + [
            ("fc", head)
        ]
    }

    public func features(_ x: Tensor, _ context: ForwardContext) -> (feature: Tensor, logits: Tensor) {
        var h = stemNorm(stem(x), context).relu()
        for block in blocks { h = block(h, context) }
        let pooled = h.globalAvgPool2d()
        return (pooled, head(pooled))
    }

    public func callAsFunction(_ x: Tensor, _ context: ForwardContext) -> Tensor { features(x, context).logits }
}
