// swift-tools-version:6.0
// qqq: W4A8 (QQQ) quantization and CPU inference for LLaMA-family models.
// No package dependencies by design: Foundation, Dispatch and Swift Testing only.
import PackageDescription

let package = Package(
    name: "qqq",
    products: [
        .executable(name: "qqq", targets: ["qqq"]),
        .library(name: "QQQCore", targets: ["QQQCore"]),
        .library(name: "QQQKernels", targets: ["QQQKernels"]),
    ],
    targets: [
        // C SIMD kernels. ISA-specific functions carry per-function target attributes and are
        // chosen at run time, so no -mavx2 flag is needed and the binary runs on any x86-64.
        // -O3 in every configuration: kernel tests stay fast even in debug builds.
        .target(
            name: "CQQQKernels",
            cSettings: [.unsafeFlags(["-O3", "-fno-math-errno"])]
        ),
        // Swift side of the kernels: dispatch, threading, scalar references, weight layouts.
        .target(name: "QQQKernels", dependencies: ["CQQQKernels"]),
        // Checkpoints, tokenizers, model inference, evaluation, quantization. Knows no CLI.
        .target(name: "QQQCore", dependencies: ["QQQKernels"]),
        .executableTarget(name: "qqq", dependencies: ["QQQCore"]),
        .testTarget(name: "QQQKernelsTests", dependencies: ["QQQKernels"]),
        // Fixtures are read by path (#filePath), not bundled.
        .testTarget(name: "QQQCoreTests", dependencies: ["QQQCore"], exclude: ["Fixtures"]),
        .testTarget(name: "QQQCLITests", dependencies: ["QQQCore", "qqq"]),
    ],
    swiftLanguageModes: [.v5]
)
