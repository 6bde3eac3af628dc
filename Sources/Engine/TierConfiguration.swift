#if canImport(Glibc)
import Glibc
#endif

/// Tier thresholds, from `Configs/tiers.conf`.
public struct TierConfiguration: Sendable, Equatable {
    /// Executions (entries plus loop iterations) after which a region is recompiled optimized.
    public var hotThreshold: UInt64 = 2000
    /// IR passes for the cheap tier before FastISel; nil: LLVM's O0 pipeline (always-inline only).
    public var basePipeline: String? = nil
    /// Optimized code includes the warm functions its code calls in up to this many other pages,
    /// adding at most `calleeInstructions` guest instructions (0 pages: each page alone).
    public var calleePages = 3
    public var calleeInstructions = 800
    /// How many translations away from code the guest reached the speculation thread compiles,
    /// ahead of the guest, the code regions leave to in other pages (0: never).
    public var speculationDistance = 2
    /// LLVM command-line options for every compilation in the process (see `LLVMOptions`).
    public var llvmOptions = ["-vectorize-slp=false", "-disable-x86-domain-reassignment",]

    public init() {}

    /// Parses `key = value` lines; `#` starts a comment.
    public init(parsing text: String) throws {
        for (key, value) in try ConfigFile.settings(text) {
            switch key {
            case "hot_threshold":
                guard let number = UInt64(value), number > 0 else { throw ConfigurationError("hot_threshold must be a positive integer") }
                hotThreshold = number
            case "callee_pages", "callee_instructions":
                guard let number = Int(value), number >= 0 else { throw ConfigurationError("\(key) must be a non-negative integer") }
                if key == "callee_pages" { calleePages = number } else { calleeInstructions = number }
            case "speculation_distance":
                guard let number = Int(value), number >= 0 else { throw ConfigurationError("speculation_distance must be a non-negative integer") }
                speculationDistance = number
            case "llvm_options":
                llvmOptions = value.split(separator: " ").map(String.init)
                if let bad = llvmOptions.first(where: { !$0.hasPrefix("-") }) {
                    throw ConfigurationError("llvm_options: '\(bad)' is not an option (-name or -name=value)")
                }
            case "base_pipeline":
                basePipeline = value == "none" ? nil : value
            default: throw ConfigurationError("unknown setting '\(key)'")
            }
        }
    }

    /// `$PAGELIFT_CONFIG`, else `Configs/tiers.conf` above the executable (a source checkout), else the defaults.
    public static func load(executablePath: String) throws -> TierConfiguration {
        guard let (path, text) = ConfigFile.read("tiers.conf", executablePath: executablePath,
                                                 override: getenv("PAGELIFT_CONFIG").map { String(cString: $0) }) else {
            return TierConfiguration()
        }
        do { return try TierConfiguration(parsing: text) } catch { throw ConfigurationError("\(path): \(error)") }
    }
}

/// Files in the `Configs` folder of the source tree the executable was built in.
public enum ConfigFile {
    public static func read(_ name: String, executablePath: String, override: String? = nil) -> (path: String, text: String)? {
        var candidates: [String] = override.map { [$0] } ?? []
        var directory = executablePath
        for _ in 0..<5 {
            directory = String(directory[..<(directory.lastIndex(of: "/") ?? directory.startIndex)])
            if directory.isEmpty { break }
            candidates.append(directory + "/Configs/" + name)
        }
        for path in candidates {
            guard let file = fopen(path, "r") else { continue }
            defer { fclose(file) }
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while case let count = fread(&buffer, 1, buffer.count, file), count > 0 { bytes += buffer[..<count] }
            return (path, String(decoding: bytes, as: UTF8.self))
        }
        return nil
    }

    /// `key = value` lines; `#` starts a comment.
    public static func settings(_ text: String) throws -> [(key: String, value: String)] {
        var result: [(String, String)] = []
        for rawLine in text.split(separator: "\n") {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
            guard !line.allSatisfy({ $0 == " " || $0 == "\t" }) else { continue }
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: " \t") }
            guard parts.count == 2 else { throw ConfigurationError("expected 'key = value', got '\(rawLine)'") }
            result.append((parts[0], parts[1]))
        }
        return result
    }
}

public struct ConfigurationError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

extension Substring {
    func trimmingCharacters(in set: String) -> String {
        var text = self
        while let first = text.first, set.contains(first) { text = text.dropFirst() }
        while let last = text.last, set.contains(last) { text = text.dropLast() }
        return String(text)
    }
}
