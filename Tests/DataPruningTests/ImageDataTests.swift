import DataIO
import Foundation
import Tensors
import Testing
@testable import DataPruning

/// A temporary folder removed when the value goes away.
final class Folder {
    let path: String
    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("winnow-pruning-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }

    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let file = path + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        return file
    }

    func write(_ name: String, _ text: String) throws { try write(name, Array(text.utf8)) }

    /// Writes an IDX images file (`count` images of `side`×`side`) and a labels file, gzip-compressed when `gz`.
    func writeIDX(prefix: String, images: [[UInt8]], side: Int, labels: [UInt8], gz: Bool = false) throws {
        let imageArray = IDXArray(dims: [images.count, side, side], data: images.flatMap { $0 })
        let labelArray = IDXArray(dims: [labels.count], data: labels)
        let imagesName = "\(prefix)-images-idx3-ubyte", labelsName = "\(prefix)-labels-idx1-ubyte"
        try write(imagesName, IDXFormat.encode(imageArray))
        try write(labelsName, IDXFormat.encode(labelArray))
        if gz {
            let gzip = Process()
            gzip.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            gzip.arguments = ["gzip", "-f", path + "/" + imagesName, path + "/" + labelsName]
            try gzip.run()
            gzip.waitUntilExit()
            #expect(gzip.terminationStatus == 0)
        }
    }
}

@Suite struct ImageDataTests {
    /// Four 2×2 training images and two test images with known pixels.
    func smallIDX(gz: Bool) throws -> Folder {
        let folder = try Folder()
        try folder.writeIDX(
            prefix: "train", images: [[0, 0, 0, 0], [255, 255, 255, 255], [0, 255, 0, 255], [255, 0, 255, 0]],
            side: 2, labels: [0, 1, 2, 1], gz: gz)
        try folder.writeIDX(prefix: "t10k", images: [[0, 0, 255, 255], [255, 255, 0, 0]], side: 2, labels: [2, 0], gz: gz)
        return folder
    }

    @Test(arguments: [false, true]) func loadsIDXFoldersPlainOrGzip(gz: Bool) throws {
        let folder = try smallIDX(gz: gz)
        let data = try ImageData.load(path: folder.path)
        #expect(data.train.images.shape == [4, 1, 2, 2] && data.test.images.shape == [2, 1, 2, 2])
        #expect(data.train.labels == [0, 1, 2, 1] && data.test.labels == [2, 0])
        #expect(data.classCount == 3)
        #expect(data.train.ids.first == "train-images-idx3-ubyte#0")
        // Pixels /255 have mean 0.5 and standard deviation 0.5 over the training split: 0 → −1, 255 → 1.
        #expect(data.channelMean == [0.5] && data.channelStd == [0.5])
        #expect(data.train.images.scalars == [-1, -1, -1, -1, 1, 1, 1, 1, -1, 1, -1, 1, 1, -1, 1, -1])
        #expect(data.test.images.scalars == [-1, -1, 1, 1, 1, 1, -1, -1])
        var raw = ImageDataOptions()
        raw.standardize = false
        #expect(try ImageData.load(path: folder.path, options: raw).test.images.scalars == [0, 0, 1, 1, 1, 1, 0, 0])
    }

    @Test func loadsJSONLAndCSV() throws {
        let folder = try Folder()
        try folder.write(
            "train.jsonl",
            """
            {"id": "a", "pixels": [0, 0, 0, 0], "label": 0}
            {"id": "b", "pixels": [255, 255, 255, 255], "label": 1}
            """ + "\n")
        try folder.write("test.jsonl", "{\"id\": \"c\", \"pixels\": [255, 0, 255, 0], \"label\": 1}\n")
        let jsonl = try ImageData.load(path: folder.path)
        #expect(jsonl.train.images.shape == [2, 1, 2, 2] && jsonl.train.ids == ["a", "b"] && jsonl.test.labels == [1])
        #expect(jsonl.test.images.scalars == [1, -1, 1, -1])

        let csv = try Folder()
        try csv.write("train.csv", "id,label,p0,p1,p2,p3\na,0,0,0,0,0\nb,1,255,255,255,255\n")
        try csv.write("test.csv", "id,label,p0,p1,p2,p3\nc,1,255,0,255,0\n")
        let table = try ImageData.load(path: csv.path)
        #expect(table.train.images.shape == [2, 1, 2, 2] && table.test.images.scalars == [1, -1, 1, -1])
        #expect(table.classCount == 2)
    }

    @Test func badInputNamesTheFile() throws {
        // Images and labels of different counts.
        let mismatch = try Folder()
        try mismatch.writeIDX(prefix: "train", images: [[0, 0, 0, 0], [1, 1, 1, 1]], side: 2, labels: [0])
        try mismatch.writeIDX(prefix: "t10k", images: [[0, 0, 0, 0]], side: 2, labels: [0])
        let countError = try #require(throws: DataIOError.self) { try ImageData.load(path: mismatch.path) }
        #expect(countError.localizedDescription == "train-images-idx3-ubyte has 2 images but train-labels-idx1-ubyte has 1 labels")

        // A label outside the classes.
        let outside = try smallIDX(gz: false)
        var twoClasses = ImageDataOptions()
        twoClasses.classCount = 2
        #expect(
            throws: ImageDataError.labelOutOfRange(
                file: "\(outside.path):train-labels-idx1-ubyte", id: "train-images-idx3-ubyte#2",
                label: 2, classCount: 2)
        ) {
            try ImageData.load(path: outside.path, options: twoClasses)
        }

        // An empty split.
        let empty = try Folder()
        try empty.writeIDX(prefix: "train", images: [[0, 0, 0, 0]], side: 2, labels: [0])
        try empty.writeIDX(prefix: "t10k", images: [], side: 2, labels: [])
        let emptyError = try #require(throws: DataIOError.self) { try ImageData.load(path: empty.path) }
        #expect(emptyError == .emptySplit(file: "t10k-images-idx3-ubyte", split: "test"))

        // A missing split.
        let missing = try Folder()
        try missing.writeIDX(prefix: "train", images: [[0, 0, 0, 0]], side: 2, labels: [0])
        #expect(throws: ImageDataError.missingSplit(path: missing.path, split: "test", available: ["train"])) {
            try ImageData.load(path: missing.path)
        }
        #expect(
            ImageDataError.missingSplit(path: "d", split: "test", available: ["train"]).localizedDescription
                == "d: no split 'test' (splits: train)")

        // Pixels that make no square image, and a shape that does not fit.
        let odd = try Folder()
        try odd.write("train.jsonl", "{\"id\": \"a\", \"pixels\": [0, 0, 0, 0, 0], \"label\": 0}\n")
        try odd.write("test.jsonl", "{\"id\": \"b\", \"pixels\": [0, 0, 0, 0, 0], \"label\": 0}\n")
        let shapeError = try #require(throws: ImageDataError.self) { try ImageData.load(path: odd.path) }
        #expect(shapeError.localizedDescription.hasPrefix("\(odd.path):train.jsonl: id 'a': 5 pixels do not make a square image"))
        var fixed = ImageDataOptions()
        fixed.imageShape = [1, 2, 2]
        #expect(throws: ImageDataError.badImageShape(file: "\(odd.path):train.jsonl", id: "a", pixels: 5, expected: "1×2×2")) {
            try ImageData.load(path: odd.path, options: fixed)
        }
    }

    @Test(.tags(.fashionMNIST)) func fashionMNISTLoads() throws {
        let path = "/usr/share/datasets/fashion-mnist"
        guard FileManager.default.fileExists(atPath: path + "/train-images-idx3-ubyte.gz") else {
            print("skipped: Fashion-MNIST is not installed at \(path)")
            return
        }
        let data = try ImageData.load(path: path)
        #expect(data.train.count == 60_000 && data.test.count == 10_000)
        #expect(data.train.images.shape == [60_000, 1, 28, 28] && data.classCount == 10)
        #expect(Set(data.train.labels) == Set(0..<10))
        // Fashion-MNIST's training pixel mean and standard deviation (0.2860, 0.3530, as usually quoted).
        #expect(abs(data.channelMean[0] - 0.2860) < 1e-3 && abs(data.channelStd[0] - 0.3530) < 1e-3)
    }
}

extension Tag {
    /// Reads the 60,000-image Fashion-MNIST set (a few seconds); skipped with a message when it is not installed.
    @Tag static var fashionMNIST: Self
}
