// swift-tools-version:6.0
import PackageDescription

/// Numeric targets: plain -O in release (preconditions on shapes stay on; hot loops use unsafe buffers).
let numericSettings: [SwiftSetting] = []

let package = Package(
    name: "Winnow",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "winnow", targets: ["winnow"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // System libraries.
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),
        .target(name: "CRuntime"),
        // Per-element optimizer kernels that Swift does not vectorise (square roots); convolution and pooling loops.
        .target(name: "CKernels"),

        // Numerical core.
        .target(name: "Tensors", dependencies: ["CBLAS", "CKernels"], swiftSettings: numericSettings),
        .target(name: "NeuralNetworks", dependencies: ["Tensors"], swiftSettings: numericSettings),
        .target(name: "Optimizers", dependencies: ["Tensors", "NeuralNetworks", "CKernels"], swiftSettings: numericSettings),

        .target(
            name: "MetaLearning", dependencies: ["Tensors", "NeuralNetworks", "Optimizers", "Distributed"],
            swiftSettings: numericSettings),

        // Data parallelism: the communicator protocol with its in-process ranks, and Open MPI (the only target linking MPI).
        .target(name: "Distributed", dependencies: ["Tensors"], swiftSettings: numericSettings),
        .target(name: "DistributedMPI", dependencies: ["Distributed", "CMPI"]),

        // Data and results.
        .target(name: "DataIO", dependencies: ["CArchive"]),
        .target(name: "ResultStore", dependencies: ["CSQLite"]),

        // Self-contained SVG charts (lines with error bars, histograms, scatter with a Pareto front).
        .target(name: "Plots"),

        // Recipes, the runtime every application shares, the applications, and the benchmarks.
        .target(name: "Recipes", dependencies: [.product(name: "Yams", package: "Yams")]),
        .target(name: "Runtime", dependencies: [
            "Recipes", "MetaLearning", "Distributed", "DataIO", "ResultStore", "Tensors",
        ]),
        .target(name: "NoisyLabels", dependencies: [
            "Runtime", "Recipes", "MetaLearning", "Distributed", "DataIO", "ResultStore", "NeuralNetworks", "Optimizers", "Tensors",
        ]),
        .target(name: "Classification", dependencies: [
            "Runtime", "Recipes", "Distributed", "DataIO", "NeuralNetworks", "Optimizers", "Tensors",
        ]),
        // Application 3's foundation: image data, plain training, the classical pruning scores.
        .target(name: "DataPruning", dependencies: [
            "Runtime", "Recipes", "ResultStore", "Plots", "MetaLearning", "Distributed", "DataIO", "NeuralNetworks", "Optimizers",
            "Tensors",
        ], swiftSettings: numericSettings),
        // Application 2, `continued-pretraining`: task fine-tuning with an auxiliary MLM loss, tokens meta-reweighted.
        .target(name: "ContinuedPretraining", dependencies: [
            "Runtime", "Recipes", "ResultStore", "MetaLearning", "DataIO", "NeuralNetworks", "Optimizers", "Tensors",
        ]),
        .target(name: "Benchmarks", dependencies: [
            "NoisyLabels", "Runtime", "MetaLearning", "Distributed", "DataIO", "NeuralNetworks", "Optimizers", "Tensors", "CRuntime",
            "Plots",
        ]),
        // The command line and the registry of built-in applications.
        .executableTarget(name: "winnow", dependencies: [
            "Runtime", "Recipes", "NoisyLabels", "Classification", "Benchmarks", "DataPruning", "ContinuedPretraining",
            "MetaLearning", "Distributed", "DistributedMPI", "Tensors", "NeuralNetworks", "Optimizers", "DataIO", "ResultStore",
            "Plots", "CRuntime",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Tests.
        .target(name: "WinnowTestSupport", dependencies: ["Tensors", "NeuralNetworks"], path: "Tests/Support"),
        .testTarget(name: "TensorsTests", dependencies: ["Tensors", "WinnowTestSupport", "CRuntime"]),
        .testTarget(name: "NeuralNetworksTests", dependencies: ["NeuralNetworks", "Tensors", "WinnowTestSupport"]),
        .testTarget(name: "OptimizersTests", dependencies: ["Optimizers", "NeuralNetworks", "Tensors"],
                    exclude: ["reference_optimizers.py"]),
        .testTarget(name: "MetaLearningTests", dependencies: [
            "MetaLearning", "Optimizers", "NeuralNetworks", "Tensors", "WinnowTestSupport",
        ]),
        .testTarget(name: "DistributedTests", dependencies: ["Distributed", "MetaLearning", "Optimizers", "NeuralNetworks", "Tensors"]),
        .testTarget(name: "DataIOTests", dependencies: ["DataIO"]),
        .testTarget(name: "ApplicationsTests", dependencies: [
            "Runtime", "Recipes", "NoisyLabels", "Classification", "DataPruning", "ContinuedPretraining", "Benchmarks",
            "MetaLearning", "Distributed", "DataIO", "NeuralNetworks", "Optimizers", "ResultStore", "Tensors", "WinnowTestSupport",
        ]),
        .testTarget(name: "ResultStoreTests", dependencies: ["ResultStore"]),
        .testTarget(name: "PlotsTests", dependencies: ["Plots"]),
        .testTarget(name: "DataPruningTests", dependencies: [
            "DataPruning", "DataIO", "NeuralNetworks", "Optimizers", "Tensors", "Runtime", "Recipes", "ResultStore",
            "WinnowTestSupport",
        ]),
        .testTarget(name: "WinnowCLITests", dependencies: [
            "Runtime", "Recipes", "DataIO", "ResultStore", "WinnowTestSupport",
        ]),
    ],
    swiftLanguageModes: [.v6]
)
