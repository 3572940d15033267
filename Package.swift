// swift-tools-version:6.1
// ITR: Issue to Resolution as event-driven microservices over RabbitMQ.
import PackageDescription

let package = Package(
    name: "itr",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "intake", targets: ["intake"]),
        .executable(name: "itr-router", targets: ["itr-router"]),
        .executable(name: "ltc-extractor", targets: ["ltc-extractor"]),
        .executable(name: "ipd-feedback", targets: ["ipd-feedback"]),
        .executable(name: "itrctl", targets: ["itrctl"]),
        .executable(name: "itr-bench", targets: ["itr-bench"]),
        .library(name: "AMQPClient", targets: ["AMQPClient"]),
        .library(name: "ITREvents", targets: ["ITREvents"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
    ],
    targets: [
        // MARK: Shared
        .systemLibrary(
            name: "CRabbitMQ",
            path: "Shared/CRabbitMQ",
            pkgConfig: "librabbitmq",
            providers: [.apt(["librabbitmq-dev"])]
        ),
        .target(
            name: "CRabbitMQShim",
            dependencies: ["CRabbitMQ"],
            path: "Shared/CRabbitMQShim"
        ),
        .target(
            name: "AMQPClient",
            dependencies: [
                "CRabbitMQShim",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Shared/AMQPClient"
        ),
        .target(
            name: "ITREvents",
            dependencies: ["AMQPClient"],
            path: "Shared/ITREvents",
            exclude: ["Schemas", "asyncapi.yaml", "README.md"]
        ),
        .target(name: "TextClassifier", path: "Shared/TextClassifier"),
        .target(
            name: "ITRConfig",
            dependencies: ["ITREvents", "TextClassifier", .product(name: "Yams", package: "Yams")],
            path: "Shared/ITRConfig"
        ),
        .target(
            name: "ServiceKit",
            dependencies: [
                "AMQPClient", "ITREvents", "ITRConfig",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Shared/ServiceKit"
        ),

        // MARK: Services (thin executables over library targets)
        .target(name: "IntakeApp", dependencies: ["ServiceKit"], path: "Services/intake/IntakeApp"),
        .executableTarget(name: "intake", dependencies: ["IntakeApp"], path: "Services/intake/Main"),
        .target(name: "RouterApp", dependencies: ["ServiceKit", "TextClassifier", .product(name: "Metrics", package: "swift-metrics")], path: "Services/itr-router/RouterApp"),
        .executableTarget(name: "itr-router", dependencies: ["RouterApp"], path: "Services/itr-router/Main"),
        .target(name: "LTCApp", dependencies: ["ServiceKit"], path: "Services/ltc-extractor/LTCApp"),
        .executableTarget(name: "ltc-extractor", dependencies: ["LTCApp"], path: "Services/ltc-extractor/Main"),
        .target(name: "IPDApp", dependencies: ["ServiceKit"], path: "Services/ipd-feedback/IPDApp"),
        .executableTarget(name: "ipd-feedback", dependencies: ["IPDApp"], path: "Services/ipd-feedback/Main"),
        .target(
            name: "ITRCtlKit",
            dependencies: [
                "ServiceKit", "IntakeApp", "LTCApp", "IPDApp", "TextClassifier", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Services/itrctl/Kit"
        ),
        .executableTarget(name: "itrctl", dependencies: ["ITRCtlKit"], path: "Services/itrctl/Main"),
        .executableTarget(
            name: "itr-bench",
            dependencies: [
                "AMQPClient", "ITREvents", "RouterApp", "ServiceKit", "TextClassifier",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            path: "Services/itr-bench",
            // The previous release's keyword rules, read at run time by `itr-bench classifier`.
            exclude: ["Baseline"]
        ),

        // MARK: Tests
        .target(name: "ITRTestSupport", dependencies: ["AMQPClient", "ITREvents", "TextClassifier", "ServiceKit"], path: "Tests/TestSupport"),
        .testTarget(name: "AMQPClientTests", dependencies: ["ITRTestSupport", "AMQPClient"], path: "Tests/AMQPClientTests"),
        .testTarget(name: "ITREventsTests", dependencies: ["ITRTestSupport", "ITREvents", "AMQPClient"], path: "Tests/ITREventsTests"),
        .testTarget(name: "ITRConfigTests", dependencies: ["ITRConfig", "TextClassifier"], path: "Tests/ITRConfigTests"),
        .testTarget(name: "TextClassifierTests", dependencies: ["TextClassifier"], path: "Tests/TextClassifierTests"),
        .testTarget(name: "ServiceKitTests", dependencies: ["ITRTestSupport", "ServiceKit", .product(name: "HummingbirdTesting", package: "hummingbird")], path: "Tests/ServiceKitTests"),
        .testTarget(name: "IntakeTests", dependencies: ["ITRTestSupport", "IntakeApp"], path: "Tests/IntakeTests"),
        .testTarget(name: "RouterTests", dependencies: ["ITRTestSupport", "RouterApp", "TextClassifier"], path: "Tests/RouterTests"),
        .testTarget(name: "LTCTests", dependencies: ["ITRTestSupport", "LTCApp"], path: "Tests/LTCTests"),
        .testTarget(name: "IPDTests", dependencies: ["ITRTestSupport", "IPDApp"], path: "Tests/IPDTests"),
        .testTarget(
            name: "ITRCtlTests", dependencies: ["ITRTestSupport", "ITRCtlKit", "ITREvents", "AMQPClient", "TextClassifier", .product(name: "Yams", package: "Yams")],
            path: "Tests/ITRCtlTests"),
        .testTarget(name: "SystemTests", dependencies: ["ITRTestSupport", "ITREvents", "AMQPClient"], path: "Tests/SystemTests"),
    ]
)
