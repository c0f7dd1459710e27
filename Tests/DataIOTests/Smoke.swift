import Testing
import Foundation
@testable import DataIO

@Test func benchSmoke() throws {
    let r = try JSONBenchmark.run(path: "Datasets/rt-sentiment-weak.tar.gz")
    print(r)
}
