#if canImport(Glibc)
import Glibc
#endif
import CLLVM
import Lifter
import RISCV

/// Compiled regions on disk, so a second run of a program skips translation.
///
/// An entry is named by a hash of its key and holds the key itself, the object code and a
/// checksum of both: a stale, colliding or damaged entry fails the comparison and is
/// ignored (and overwritten by the next store), never run. The key covers everything the
/// code depends on: the guest instructions and their addresses, the entries, the pipeline
/// and codegen level, the host CPU, and the versions of PageLift and LLVM.
///
/// Cached code is executed, so the directory must be the user's own: one another user or
/// group can write is refused, and entries are written owner-only. The cache is bounded:
/// loading an entry marks it used (its modification time), and a process that stored entries
/// removes the least recently used ones at exit once the total passes `maximumSize`.
public final class CodeCache: @unchecked Sendable {
    public let directory: String
    /// Bytes the entries may take in all (`--cache-max-size`, like ccache's max_size).
    public let maximumSize: UInt64
    public static let defaultMaximumSize: UInt64 = 2 << 30
    static let magic: [UInt8] = Array("PLCACHE1".utf8)
    /// This build of the translator: a rebuilt pagelift may translate the same guest code
    /// differently, so entries are tied to the executable's size and modification time.
    public static let translatorVersion: String = {
        var status = stat()
        guard stat("/proc/self/exe", &status) == 0 else { return "pagelift-unknown-build" }
        return "pagelift \(status.st_size) \(status.st_mtim.tv_sec).\(status.st_mtim.tv_nsec)"
    }()

    public init(directory: String, maximumSize: UInt64 = CodeCache.defaultMaximumSize) throws {
        self.directory = directory
        self.maximumSize = maximumSize
        var path = ""
        for component in directory.split(separator: "/") {
            path += "/" + component
            guard mkdir(path, 0o700) == 0 || errno == EEXIST else {
                throw ConfigurationError("cannot create the code cache \(directory): \(String(cString: strerror(errno)))")
            }
        }
        var status = stat()
        guard lstat(directory, &status) == 0, status.st_mode & S_IFMT == S_IFDIR else {
            throw ConfigurationError("the code cache \(directory) is not a directory")
        }
        guard status.st_uid == geteuid(), status.st_mode & 0o022 == 0 else {
            throw ConfigurationError("refusing the code cache \(directory): cached code is executed, and this directory is "
                                     + (status.st_uid != geteuid() ? "owned by another user" : "writable by its group or others"))
        }
    }

    /// `$XDG_CACHE_HOME/pagelift`, else `$HOME/.cache/pagelift`.
    public static var defaultDirectory: String? {
        if let xdg = getenv("XDG_CACHE_HOME"), xdg.pointee != 0 { return String(cString: xdg) + "/pagelift" }
        if let home = getenv("HOME"), home.pointee != 0 { return String(cString: home) + "/.cache/pagelift" }
        return nil
    }

    /// The key of a region entered at `entry` compiled with `pipeline` at codegen `level`.
    public static func key(for page: DiscoveredPage, entry: UInt64, pipeline: String, level: Int, loopHeadersAreEntries: Bool) -> [UInt8] {
        key(fingerprint: fingerprint(of: page, entry: entry, loopHeadersAreEntries: loopHeadersAreEntries), pipeline: pipeline, level: level)
    }

    public static func key(fingerprint: [UInt8], pipeline: String, level: Int) -> [UInt8] {
        Array("\(translatorVersion)|llvm \(llvmVersion)|\(hostCPU)|\(pipeline)|O\(level)|".utf8) + fingerprint
    }

    /// What the code depends on of the guest: its instructions, their addresses and the entries.
    /// The entry the region was translated from names its code, so two regions with the same
    /// code and entries translated from different ones are different entries.
    public static func fingerprint(of page: DiscoveredPage, entry: UInt64, loopHeadersAreEntries: Bool) -> [UInt8] {
        var key = Array("loops \(loopHeadersAreEntries)|".utf8)
        func append(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { key += $0 } }
        append(entry)
        append(UInt64(page.entries.count))
        page.entries.forEach(append)
        append(UInt64(page.callees.count))
        page.callees.forEach(append)
        for (pc, fetched) in page.instructions.sorted(by: { $0.key < $1.key }) {
            append(pc)
            switch fetched {
            case .instruction(let instruction): append(UInt64(instruction.bits) | UInt64(instruction.size) << 32)
            case .illegal(let bits, let size): append(UInt64(bits) | UInt64(size) << 32 | 1 << 40)
            case .unfetchable: append(1 << 41)
            }
        }
        return key
    }

    static let llvmVersion: String = {
        var major: UInt32 = 0, minor: UInt32 = 0, patch: UInt32 = 0
        LLVMGetVersion(&major, &minor, &patch)
        return "\(major).\(minor).\(patch)"
    }()

    static let hostCPU: String = {
        let cpu = LLVMGetHostCPUName()!, features = LLVMGetHostCPUFeatures()!
        defer { LLVMDisposeMessage(cpu); LLVMDisposeMessage(features) }
        return String(cString: cpu) + " " + String(cString: features)
    }()

    func path(for key: [UInt8]) -> String {
        directory + "/" + hexDigits(fnv1a(key, seed: 0xcbf2_9ce4_8422_2325), width: 16) + hexDigits(fnv1a(key, seed: 0x6c62_272e_07bb_0142), width: 16) + ".o"
    }

    /// The cached object and its function name for `key`, or nil when absent, stale or damaged.
    public func load(_ key: [UInt8]) -> (object: ObjectCode, symbol: String)? {
        let file = path(for: key)
        guard let bytes = readAll(file) else { return nil }
        var reader = EntryReader(bytes: bytes)
        guard reader.take(Self.magic.count) == Self.magic,
              let storedKey = reader.takeBlock(), storedKey == key,
              let symbol = reader.takeBlock(), let object = reader.takeBlock(),
              let checksum = reader.take(8), reader.atEnd,
              checksum == Self.checksum(Array(bytes.dropLast(8))) else { return nil }
        // Used now: the last to be evicted.
        utimensat(AT_FDCWD, file, nil, 0)
        return (ObjectCode(bytes: object), String(decoding: symbol, as: UTF8.self))
    }

    /// Writes an entry atomically (a temporary file renamed into place).
    public func store(_ key: [UInt8], symbol: String, object: ObjectCode) {
        var bytes = Self.magic
        for block in [key, Array(symbol.utf8), object.bytes] {
            withUnsafeBytes(of: UInt64(block.count).littleEndian) { bytes += $0 }
            bytes += block
        }
        bytes += Self.checksum(bytes)
        let final = path(for: key), temporary = final + ".\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) }
            guard count > 0 else { break }
            written += count
        }
        close(fd)
        if written == bytes.count { rename(temporary, final) } else { unlink(temporary) }
    }

    /// Removes the least recently used entries until they take at most 90% of `maximumSize`,
    /// if they take more than all of it now. Returns the number of entries removed.
    @discardableResult
    public func trim() -> Int {
        guard let listing = opendir(directory) else { return 0 }
        var entries: [(path: String, size: UInt64, used: Int)] = []
        var total: UInt64 = 0
        while let entry = readdir(listing) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name.hasSuffix(".o") else { continue }
            var status = stat()
            let path = directory + "/" + name
            guard stat(path, &status) == 0 else { continue }
            entries.append((path, UInt64(status.st_size), status.st_mtim.tv_sec))
            total += UInt64(status.st_size)
        }
        closedir(listing)
        guard total > maximumSize else { return 0 }
        var removed = 0
        for entry in entries.sorted(by: { $0.used < $1.used }) where total > maximumSize / 10 * 9 {
            if unlink(entry.path) == 0 { total -= entry.size; removed += 1 }
        }
        return removed
    }

    static func checksum(_ bytes: [UInt8]) -> [UInt8] {
        withUnsafeBytes(of: fnv1a(bytes, seed: 0x1234_5678_9abc_def1).littleEndian) { Array($0) }
    }

    private func readAll(_ path: String) -> [UInt8]? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while case let count = fread(&buffer, 1, buffer.count, file), count > 0 { bytes += buffer[..<count] }
        return bytes
    }
}

func fnv1a(_ bytes: [UInt8], seed: UInt64) -> UInt64 {
    var hash = seed
    for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
    return hash
}

private struct EntryReader {
    let bytes: [UInt8]
    var offset = 0
    var atEnd: Bool { offset == bytes.count }

    mutating func take(_ count: Int) -> [UInt8]? {
        guard count >= 0, offset + count <= bytes.count else { return nil }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    mutating func takeBlock() -> [UInt8]? {
        guard let length = take(8) else { return nil }
        let count = length.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << UInt64(8 * $1.offset) }
        guard count <= UInt64(bytes.count) else { return nil }
        return take(Int(count))
    }
}
