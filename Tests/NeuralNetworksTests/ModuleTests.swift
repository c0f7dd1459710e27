import Foundation
import Testing
import Tensors
import WinnowTestSupport
@testable import NeuralNetworks

@Suite struct ModuleTests {
    @Test func dottedKeysFollowBertLayoutAndAreSorted() {
        var rng = RandomGenerator(seed: 1)
        let config = BertConfiguration(layers: 2, hidden: 8, heads: 2, intermediate: 16, vocabularySize: 11, maxPositions: 6)
        let encoder = BertEncoder(config, rng: &rng)
        let keys = encoder.namedParameters().map(\.key)
        #expect(keys == keys.sorted())
        for key in [
            "embeddings.word_embeddings.weight", "embeddings.LayerNorm.bias", "encoder.layer.1.attention.self.query.weight",
            "encoder.layer.0.attention.output.dense.bias", "encoder.layer.0.attention.output.LayerNorm.weight",
            "encoder.layer.1.intermediate.dense.weight", "encoder.layer.1.output.dense.weight", "encoder.layer.1.output.LayerNorm.bias",
        ] {
            #expect(keys.contains(key), "missing \(key)")
        }
        #expect(encoder.namedParameters().first { $0.key == "encoder.layer.0.intermediate.dense.weight" }?.tensor.shape == [16, 8])
        let resnet = ResNet(widths: [4, 8], rng: &rng)
        #expect(resnet.namedTensors().contains { $0.key == "blocks.1.shortcut.1.running_var" })
        #expect(!resnet.namedParameters().contains { $0.key.hasSuffix("running_mean") })
    }

    @Test func batchNormUpdatesRunningStatisticsOnlyWhenAllowed() {
        let bn = BatchNorm(2, momentum: 0.5)
        let x = Tensor(shape: [4, 2], storage: [1, 10, 3, 10, 5, 14, 7, 14])
        _ = bn(x, ForwardContext(training: true, updatesRunningStatistics: false))
        #expect(bn.runningMean.scalars == [0, 0])
        _ = bn(x, ForwardContext(training: true))
        expectClose(bn.runningMean.scalars, [2, 6])  // 0.5·0 + 0.5·mean
        expectClose(bn.runningVariance.scalars, [0.5 + 0.5 * 20 / 3, 0.5 + 0.5 * 16 / 3], tolerance: 1e-4)  // unbiased variance
        let y = bn(x, .evaluation())
        expectClose(
            Array(y.scalars[0..<2]), [(1 - 2) / (0.5 + 10 / 3 + 1e-5).squareRoot(), (10 - 6) / (0.5 + 8 / 3 + 1e-5).squareRoot()],
            tolerance: 1e-4)
    }

    @Test func dropoutReplaysMasksFromRestoredGenerator() {
        let dropout = Dropout(0.5), x = Tensor.ones([1000])
        let context = ForwardContext(training: true, seed: 42)
        let saved = context.rng
        let first = dropout(x, context).scalars
        context.rng = saved
        #expect(dropout(x, context).scalars == first)
        #expect(dropout(x, context).scalars != first)
        let kept = first.filter { $0 != 0 }
        #expect(kept.allSatisfy { $0 == 2 } && abs(Double(kept.count) / 1000 - 0.5) < 0.06)
        #expect(dropout(x, .evaluation()).scalars == x.scalars)
    }

    @Test func safetensorsRoundTripAndStrictLoading() throws {
        var rng = RandomGenerator(seed: 2)
        let model = MLP(widths: [3, 4, 2], rng: &rng)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("winnow-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try SafeTensors.write(.init(tensors: model.stateDictionary(), metadata: ["format": "pt"]), to: url)
        let read = try SafeTensors.read(url)
        #expect(read.metadata["format"] == "pt")
        let copy = MLP(widths: [3, 4, 2], rng: &rng)
        #expect(copy.parameters()[0].scalars != model.parameters()[0].scalars)
        try copy.load(read.tensors, source: url.path)
        for (a, b) in zip(copy.parameters(), model.parameters()) { #expect(a.scalars == b.scalars) }
        var wrong = read.tensors
        wrong["layers.0.weight"] = Tensor.zeros([5, 3])
        #expect(throws: ModuleError.shapeMismatch("layers.0.weight", expected: [4, 3], found: [5, 3], source: "x")) {
            try copy.load(wrong, source: "x")
        }
        wrong = read.tensors; wrong["extra"] = Tensor.zeros([1])
        #expect(throws: ModuleError.unexpectedKey("extra", source: "x")) { try copy.load(wrong, source: "x") }
        wrong = read.tensors; wrong["layers.1.bias"] = nil
        #expect(throws: ModuleError.missingKey("layers.1.bias", source: "x")) { try copy.load(wrong, source: "x") }
    }

    @Test func malformedSafetensorsNameTheFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("winnow-bad-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data([1, 2, 3]).write(to: url)
        #expect { try SafeTensors.read(url) } throws: { ($0 as? LocalizedError)?.errorDescription?.contains(url.path) == true }
        var truncated = Data()
        let header = #"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#.data(using: .utf8)!
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { truncated.append(contentsOf: $0) }
        truncated.append(header); truncated.append(Data(count: 8))
        try truncated.write(to: url)
        #expect { try SafeTensors.read(url) } throws: { "\($0.localizedDescription)".contains("offsets") }
        #expect(throws: SafeTensorsError.self) { try SafeTensors.read(url.appendingPathExtension("missing")) }
    }

    @Test func halfPrecisionTensorsAreConverted() throws {
        var data = Data()
        let header = #"{"h":{"dtype":"F16","shape":[3],"data_offsets":[0,6]},"b":{"dtype":"BF16","shape":[1],"data_offsets":[6,8]}}"#.data(
            using: .utf8)!
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(header)
        // 1, −2, 0.5 in half precision
        for half: UInt16 in [0x3C00, 0xC000, 0x3800] { withUnsafeBytes(of: half.littleEndian) { data.append(contentsOf: $0) } }
        withUnsafeBytes(of: UInt16(0x4040).littleEndian) { data.append(contentsOf: $0) }  // bf16 3.0
        let contents = try SafeTensors.decode(data, source: "mem")
        #expect(contents.tensors["h"]?.scalars == [1, -2, 0.5])
        #expect(contents.tensors["b"]?.scalars == [3])
    }

    @Test func excludedTensorsAreSkippedWhateverTheirType() throws {
        // A Hugging Face BERT checkpoint stores `embeddings.position_ids` as I64: readable once excluded.
        var data = Data()
        let header = #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"ids":{"dtype":"I64","shape":[2],"data_offsets":[8,24]}}"#
            .data(using: .utf8)!
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(header)
        for v: Float in [1.5, -2] { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        for v: Int64 in [0, 1] { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
        #expect(throws: SafeTensorsError.unsupportedType("mem", key: "ids", dtype: "I64")) { try SafeTensors.decode(data, source: "mem") }
        let contents = try SafeTensors.decode(data, source: "mem") { $0 != "ids" }
        #expect(contents.tensors.keys.sorted() == ["w"] && contents.tensors["w"]?.scalars == [1.5, -2])
    }

    /// Headers whose shape or offsets are negative or overflow are errors, not traps (found by Fuzz/SafeTensorsFuzz.swift).
    @Test func overflowingOrNegativeHeadersAreErrors() {
        let headers = [
            #"{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,16]}}"#,
            #"{"a":{"dtype":"F32","shape":[-2,-2],"data_offsets":[0,16]}}"#,
            #"{"a":{"dtype":"F32","shape":[2305843009213693952],"data_offsets":[0,0]}}"#,
            #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[9223372036854775807,-9223372036854775807]}}"#,
            #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[-9223372036854775807,9223372036854775807]}}"#,
        ]
        for header in headers {
            var data = Data()
            withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { data.append(contentsOf: $0) }
            data.append(Data(header.utf8))
            data.append(Data(count: 16))
            #expect(throws: SafeTensorsError.self, "\(header)") { try SafeTensors.decode(data, source: "mem") }
        }
    }
}
