// swift-tools-version:6.0
import PackageDescription

// LLVM's C headers include <llvm/Config/llvm-config.h>, so every target that
// imports CLLVM, even transitively, needs the llvm-19 include folder.
let llvmInclude: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-I/usr/lib/llvm-19/include"])]

let package = Package(
    name: "PageLift",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "pagelift", targets: ["pagelift"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CLLVM", path: "Sources/CLLVM"),
        .target(name: "RISCV"),
        .target(name: "ELF"),
        .target(name: "CHostSyscall"),
        .target(name: "CHostFloat"),
        .target(name: "Guest", dependencies: ["ELF", "RISCV", "CHostSyscall"]),
        .target(name: "Lifter", dependencies: ["CLLVM", "RISCV", "ELF", "Guest"], swiftSettings: llvmInclude),
        .target(name: "Engine", dependencies: ["CLLVM", "RISCV", "ELF", "Guest", "Lifter", "CHostFloat"], swiftSettings: llvmInclude),
        .executableTarget(
            name: "pagelift",
            dependencies: ["Engine", "Guest", "ELF", "RISCV", "Lifter", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: llvmInclude),
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "RISCVTests", dependencies: ["RISCV"]),
        .testTarget(name: "ELFTests", dependencies: ["ELF"]),
        .testTarget(name: "LifterTests", dependencies: ["Lifter", "Engine", "RISCV", "Guest", "TestSupport"], swiftSettings: llvmInclude),
        .testTarget(name: "ProgramTests", dependencies: ["pagelift", "RISCV", "TestSupport"], exclude: ["Programs"]),
    ]
)
