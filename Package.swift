// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "shopbulk",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "shopbulk", targets: ["shopbulk"]),
        .executable(name: "shopify-sim", targets: ["shopify-sim"]),
        .library(name: "ShopifySimulator", targets: ["ShopifySimulator"]),
        .library(name: "JSONL", targets: ["JSONL"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/GraphQLSwift/GraphQL", from: "4.3.0"),
        .package(url: "https://github.com/swhitty/FlyingFox", from: "0.27.1"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        // C libraries: one system-library target each, reached only through its wrapper module.
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),

        // Wrappers: threads for blocking calls, HTTP over libcurl, PostgreSQL over libpq, the JSONL parser.
        .target(name: "Blocking"),
        .target(name: "HTTP", dependencies: ["CCurl", "Blocking", .product(name: "Logging", package: "swift-log")]),
        .target(name: "Postgres", dependencies: ["CLibPQ"]),
        .target(name: "JSONL"),
        .target(name: "Failpoints"),
        .target(name: "TrustedFiles"),

        // The flow, in order: talk to Shopify; read and check query files; load results; run imports.
        .target(name: "ShopifyAdmin", dependencies: ["HTTP", "JSONL", .product(name: "Logging", package: "swift-log")]),
        .target(
            name: "BulkQueries",
            dependencies: [
                "Loader", "JSONL", "TrustedFiles", "ShopifyAdmin", .product(name: "GraphQL", package: "GraphQL"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(name: "Loader", dependencies: ["JSONL", "Postgres", "Failpoints", .product(name: "Logging", package: "swift-log")]),
        .target(
            name: "Migrations",
            dependencies: ["Postgres", .product(name: "Crypto", package: "swift-crypto"), .product(name: "Logging", package: "swift-log")]),
        .target(name: "EmbeddedPostgres", dependencies: ["Postgres", "TrustedFiles", .product(name: "Logging", package: "swift-log")]),
        .target(
            name: "Importer",
            dependencies: [
                "Blocking", "HTTP", "Postgres", "JSONL", "ShopifyAdmin", "BulkQueries", "Loader", "Failpoints",
                .product(name: "Logging", package: "swift-log"), .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),

        // What service desks read: the lookups, and the HTTP server that serves them.
        .target(name: "ServiceDesk", dependencies: ["Importer", "Loader", "Postgres", "JSONL"]),
        .target(
            name: "ServiceDeskServer",
            dependencies: [
                "Importer", "ServiceDesk", "Postgres", "Blocking", "Migrations",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),

        // The Shopify stand-in for the demo and the tests (never linked into shopbulk).
        .target(
            name: "ShopifySimulator",
            dependencies: [
                .product(name: "FlyingFox", package: "FlyingFox"),
                .product(name: "FlyingSocks", package: "FlyingFox"),
                .product(name: "GraphQL", package: "GraphQL"),
            ]
        ),

        // Executables.
        .executableTarget(
            name: "shopbulk",
            dependencies: [
                "Importer", "BulkQueries", "Loader", "ServiceDesk", "ServiceDeskServer", "EmbeddedPostgres", "TrustedFiles", "Migrations",
                "ShopifyAdmin", "HTTP", "Postgres", "JSONL",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "shopify-sim",
            dependencies: ["ShopifySimulator", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(name: "jsonl-bench", dependencies: ["JSONL"]),

        // Test support and tests.
        .target(name: "TestSupport", dependencies: ["Postgres"]),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "TestSupport"]),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP", "TestSupport"]),
        .testTarget(name: "MigrationsTests", dependencies: ["Migrations", "Postgres", "TestSupport"]),
        .testTarget(
            name: "JSONLTests",
            dependencies: ["JSONL", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(name: "ShopifySimulatorTests", dependencies: ["ShopifySimulator", "HTTP", "TestSupport"]),
        .testTarget(
            name: "ShopifyAdminTests",
            dependencies: ["ShopifyAdmin", "ShopifySimulator", "HTTP", .product(name: "Logging", package: "swift-log")]),
        .testTarget(
            name: "ImporterTests",
            dependencies: [
                "Importer", "BulkQueries", "Loader", "ServiceDesk", "EmbeddedPostgres", "TrustedFiles", "Failpoints", "Migrations",
                "ShopifyAdmin", "ShopifySimulator", "Blocking", "HTTP", "Postgres", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "ServiceDeskServerTests",
            dependencies: [
                "ServiceDeskServer", "ServiceDesk", "Importer", "Migrations", "ShopifySimulator", "HTTP", "Postgres", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
