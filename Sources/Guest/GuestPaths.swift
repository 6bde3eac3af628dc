#if canImport(Glibc)
import Glibc
#endif

/// How the guest's file names reach the host, as under `qemu-riscv64 -L ROOT`: an absolute
/// path is looked up in the guest root first and on the host otherwise, except the host's own
/// `/proc`, `/dev`, `/sys` and `/tmp`; relative paths are the host's (the current directory is
/// the host's). `/proc/self/exe` names the guest program, not the translator.
public struct GuestPaths: Sendable {
    /// The guest root (`-L`), absolute, without a trailing slash; nil: paths are the host's.
    public let root: String?
    /// The guest program, as `/proc/self/exe` shows it.
    public let executable: String

    static let hostOnly = ["/proc", "/dev", "/sys", "/tmp"]

    public init(root: String?, executable: String) {
        self.root = root.map { $0.count > 1 && $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.executable = executable
    }

    /// The host path for guest path `path`.
    public func host(_ path: String) -> String {
        if isOwnExecutable(path) { return executable }
        guard let root, path.hasPrefix("/"), root != "/" else { return path }
        for kept in Self.hostOnly where path == kept || path.hasPrefix(kept + "/") { return path }
        let candidate = root + path
        var status = stat()
        return lstat(candidate, &status) == 0 ? candidate : path
    }

    /// `/proc/self/exe` or `/proc/PID/exe` of this process.
    public func isOwnExecutable(_ path: String) -> Bool { ownProcFile(path) == "exe" }

    /// The `/proc` file of this process that `path` names (`maps` for `/proc/self/maps`), if any.
    public func ownProcFile(_ path: String) -> String? {
        for prefix in ["/proc/self/", "/proc/\(getpid())/", "/proc/thread-self/"] where path.hasPrefix(prefix) {
            return String(path.dropFirst(prefix.count))
        }
        return nil
    }
}
