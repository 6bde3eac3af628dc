#if canImport(Glibc)
import Glibc
#endif

/// Tier thresholds, from `Configs/tiers.conf`.
public struct TierConfiguration: Sendable, Equatable {
    /// Executions (entries plus loop iterations) after which a region is recompiled optimized.
    public var hotThreshold: UInt64 = 2000

    public init() {}

    /// Parses `key = value` lines; `#` starts a comment.
    public init(parsing text: String) throws {
        for rawLine in text.split(separator: "\n") {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
            guard !line.allSatisfy({ $0 == " " || $0 == "\t" }) else { continue }
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: " \t") }
            guard parts.count == 2 else { throw ConfigurationError("expected 'key = value', got '\(rawLine)'") }
            switch parts[0] {
            case "hot_threshold":
                guard let value = UInt64(parts[1]), value > 0 else { throw ConfigurationError("hot_threshold must be a positive integer") }
                hotThreshold = value
            default: throw ConfigurationError("unknown setting '\(parts[0])'")
            }
        }
    }

    /// `$PAGELIFT_CONFIG`, else `Configs/tiers.conf` above the executable (a source checkout), else the defaults.
    public static func load(executablePath: String) throws -> TierConfiguration {
        var candidates: [String] = []
        if let path = getenv("PAGELIFT_CONFIG") { candidates.append(String(cString: path)) }
        var directory = executablePath
        for _ in 0..<5 {
            directory = String(directory[..<(directory.lastIndex(of: "/") ?? directory.startIndex)])
            if directory.isEmpty { break }
            candidates.append(directory + "/Configs/tiers.conf")
        }
        for path in candidates {
            guard let file = fopen(path, "r") else { continue }
            defer { fclose(file) }
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while case let count = fread(&buffer, 1, buffer.count, file), count > 0 { bytes += buffer[..<count] }
            let text = String(decoding: bytes, as: UTF8.self)
            do { return try TierConfiguration(parsing: text) } catch { throw ConfigurationError("\(path): \(error)") }
        }
        return TierConfiguration()
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
