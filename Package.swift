// swift-tools-version: 6.0
//
// TasteGraph — a graph-based music recommendation engine.
//
// Targets follow the layers of the design; dependencies point one way only:
//
//   C system libraries   CSQLite  CBLAS  CIgraph          (module maps, found through pkg-config)
//   safe Swift wrappers  SQLite   BLAS   Igraph           (nothing above these imports C)
//   core values          TasteGraphCore                   (typed indices, id maps, listens, catalog, shared errors,
//                                                          the model-file container; no dependencies)
//   shared utilities     TasteGraphSupport                (seeded RNG, fast line reading, safe outputs, top-k,
//                                                          batched dot-product scoring through BLAS)
//   store                TasteGraphStore                  (schema, migrations, importers, preparation)
//   sample data          TasteGraphSynth                  (planted-genre generator for GraphData/)
//   graph                TasteGraphGraph                  (CSR bipartite graph, explicit splits)
//   metrics              TasteGraphMetrics                (ranking and clustering metrics, pure functions)
//   sessions             TasteGraphSessions               (sessionization, next-item models, next-item evaluation)
//   text encoder         TasteGraphText                   (BERT tokenizer, safetensors, MiniLM sentence encoder)
//   analytics            TasteGraphAnalytics              (related artists by walks, listener segments)
//   command line         TasteGraphCLI → tastegraph       (thin: parse, call one library function, print)
import PackageDescription

let package = Package(
    name: "TasteGraph",
    products: [
        .executable(name: "tastegraph", targets: ["tastegraph"]),
        .library(name: "TasteGraphStore", targets: ["TasteGraphStore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // The HTTP server only (TasteGraphServer, tastegraph-server): nothing else links them.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
    ],
    targets: [
        // MARK: C libraries (Debian: libsqlite3-dev, libopenblas-dev, libigraph-dev)
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CIgraph", pkgConfig: "igraph", providers: [.apt(["libigraph-dev"])]),

        // MARK: Safe wrappers
        .target(name: "SQLite", dependencies: ["CSQLite"]),
        .target(name: "BLAS", dependencies: ["CBLAS"]),
        .target(name: "Igraph", dependencies: ["CIgraph"]),

        // MARK: Engine layers
        .target(name: "TasteGraphCore"),
        .target(name: "TasteGraphSupport", dependencies: ["BLAS", "TasteGraphCore"]),
        .target(
            name: "TasteGraphStore",
            dependencies: ["SQLite", "TasteGraphCore", "TasteGraphSupport", .product(name: "Logging", package: "swift-log")]
        ),
        .target(name: "TasteGraphSynth", dependencies: ["TasteGraphCore", "TasteGraphSupport"]),
        .target(name: "TasteGraphGraph", dependencies: ["TasteGraphCore", "TasteGraphSupport"]),
        .target(name: "TasteGraphMetrics"),
        .target(name: "TasteGraphSessions", dependencies: ["TasteGraphCore", "TasteGraphSupport"]),
        .target(name: "TasteGraphText", dependencies: ["BLAS"]),
        .target(name: "TasteGraphFeatures", dependencies: ["TasteGraphCore", "TasteGraphGraph", "TasteGraphStore", "TasteGraphText"]),
        .target(
            name: "TasteGraphModel",
            dependencies: ["TasteGraphCore", "TasteGraphGraph", "TasteGraphMetrics", "TasteGraphSupport", "BLAS"]
        ),
        .target(
            name: "TasteGraphRecommend",
            dependencies: ["TasteGraphCore", "TasteGraphModel", "TasteGraphFeatures", "TasteGraphGraph", "TasteGraphMetrics", "TasteGraphSupport", "BLAS"]
        ),
        .target(
            name: "TasteGraphAnalytics",
            dependencies: ["TasteGraphCore", "TasteGraphGraph", "TasteGraphStore", "TasteGraphSupport", "Igraph"]
        ),

        // MARK: Serving (one library under every front end: the CLI now, the HTTP server next)
        .target(
            name: "TasteGraphServing",
            dependencies: ["TasteGraphCore", "TasteGraphAnalytics", "TasteGraphFeatures", "TasteGraphGraph", "TasteGraphRecommend", "TasteGraphSessions", "TasteGraphStore", "TasteGraphSupport"]
        ),

        // MARK: Command line
        .target(
            name: "TasteGraphCLI",
            dependencies: [
                "TasteGraphCore", "TasteGraphStore", "TasteGraphSynth", "TasteGraphSupport", "TasteGraphGraph", "TasteGraphAnalytics",
                "TasteGraphFeatures", "TasteGraphModel", "TasteGraphRecommend", "TasteGraphMetrics", "TasteGraphText", "TasteGraphServing", "TasteGraphSessions", "BLAS", "Igraph",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(name: "tastegraph", dependencies: ["TasteGraphCLI"]),

        // MARK: HTTP server (its own targets: the CLI and the engine's tests never wait for Hummingbird)
        .target(
            name: "TasteGraphServer",
            dependencies: [
                "TasteGraphServing", "TasteGraphStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Resources/openapi.json")]
        ),
        .executableTarget(
            name: "tastegraph-server",
            dependencies: [
                "TasteGraphServer", "TasteGraphServing", "TasteGraphSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // MARK: Benchmarks (never run by `swift test`)
        .executableTarget(
            name: "tastegraph-bench-graph",
            dependencies: ["TasteGraphAnalytics", "TasteGraphGraph", "TasteGraphStore", "TasteGraphMetrics", "TasteGraphSupport"],
            path: "Benchmarks/GraphBench"
        ),
        .executableTarget(
            name: "tastegraph-bench-train",
            dependencies: ["TasteGraphCore", "TasteGraphModel", "TasteGraphFeatures", "TasteGraphGraph", "TasteGraphRecommend", "TasteGraphStore", "TasteGraphMetrics", "TasteGraphSupport", "BLAS"],
            path: "Benchmarks/TrainBench"
        ),

        // MARK: Tests (mirror the targets)
        .target(name: "TestSupport", dependencies: ["TasteGraphCore", "TasteGraphSupport", "TasteGraphText"], path: "Tests/Support"),
        .testTarget(name: "WrapperTests", dependencies: ["SQLite", "BLAS", "Igraph", "TestSupport"]),
        .testTarget(name: "TasteGraphCoreTests", dependencies: ["TasteGraphCore"]),
        .testTarget(name: "TasteGraphSupportTests", dependencies: ["TasteGraphCore", "TasteGraphSupport"]),
        .testTarget(name: "TasteGraphStoreTests", dependencies: ["TasteGraphCore", "TasteGraphStore", "TasteGraphSupport", "SQLite", "TestSupport"]),
        .testTarget(name: "TasteGraphSynthTests", dependencies: ["TasteGraphSynth", "TestSupport"]),
        .testTarget(name: "TasteGraphGraphTests", dependencies: ["TasteGraphCore", "TasteGraphGraph", "TasteGraphSupport", "TestSupport"]),
        .testTarget(name: "TasteGraphModelTests", dependencies: ["TasteGraphCore", "TasteGraphModel", "TasteGraphGraph", "TasteGraphSupport", "TestSupport"]),
        .testTarget(name: "TasteGraphMetricsTests", dependencies: ["TasteGraphMetrics"]),
        .testTarget(name: "TasteGraphSessionsTests", dependencies: ["TasteGraphCore", "TasteGraphSessions", "TasteGraphSynth", "TestSupport"]),
        .testTarget(name: "TasteGraphTextTests", dependencies: ["TasteGraphText", "TestSupport"]),
        .testTarget(name: "TasteGraphFeaturesTests", dependencies: ["TasteGraphFeatures", "TasteGraphStore", "TasteGraphText", "TestSupport"]),
        .testTarget(
            name: "TasteGraphRecommendTests",
            dependencies: ["TasteGraphCore", "TasteGraphRecommend", "TasteGraphModel", "TasteGraphGraph", "TasteGraphMetrics", "TasteGraphSupport", "TestSupport"]
        ),
        .testTarget(
            name: "TasteGraphServingTests",
            dependencies: [
                "TasteGraphServing", "TasteGraphAnalytics", "TasteGraphCore", "TasteGraphFeatures", "TasteGraphGraph", "TasteGraphModel",
                "TasteGraphRecommend", "TasteGraphStore", "TasteGraphSynth", "TestSupport",
            ]
        ),
        .testTarget(
            name: "TasteGraphServerTests",
            dependencies: [
                "TasteGraphServer", "TasteGraphServing", "TasteGraphCore", "TasteGraphStore", "TasteGraphRecommend", "TasteGraphAnalytics", "TasteGraphSynth", "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "TasteGraphCLITests", dependencies: ["TasteGraphCLI", "TasteGraphModel", "SQLite", "TestSupport"]),
        .testTarget(
            name: "TasteGraphAnalyticsTests",
            dependencies: ["TasteGraphCore", "TasteGraphAnalytics", "TasteGraphGraph", "TasteGraphStore", "TasteGraphMetrics", "TasteGraphSynth", "TasteGraphSupport", "Igraph", "TestSupport"]
        ),
    ]
)

// MARK: Fuzzing (issue 12, item 8) — declared only for `make fuzz`
//
// `make fuzz` sets TASTEGRAPH_FUZZ=1 and builds this one target into its own scratch folder (.build-fuzz)
// with `-sanitize=fuzzer,address`; plain `swift build` and `swift test` never see it, so they cost nothing
// extra (and could not link it: libFuzzer's runtime comes with the sanitizer flag).
if Context.environment["TASTEGRAPH_FUZZ"] != nil {
    package.targets.append(
        .executableTarget(
            name: "tastegraph-fuzz",
            dependencies: ["TasteGraphCore", "TasteGraphStore", "TasteGraphGraph", "TasteGraphModel", "TasteGraphRecommend"],
            path: "Fuzz/Harness"
        )
    )
}
