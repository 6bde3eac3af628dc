#if canImport(Glibc)
import Glibc
#endif
import ELF

/// The ELF images mapped into the guest (the program, its interpreter, shared libraries mapped
/// executable), so that messages, dumps and profiles name guest code after the symbols of the
/// file it came from. A library's symbols are read when first asked for. Shared by the guest
/// thread and the translator's threads.
public final class GuestImages: @unchecked Sendable {
    public struct Image: Sendable {
        public var path: String
        /// The address the image's virtual address 0 is mapped at.
        public var bias: UInt64
        public var start: UInt64
        public var end: UInt64
        public var name: String { path.split(separator: "/").last.map(String.init) ?? path }
    }

    private let lock = Lock()
    private var images: [Image] = []
    private var tables: [String: SymbolTable] = [:]

    public init() {}

    /// In a forked child, where no other thread is left to hold the lock.
    public func reinitializeAfterFork() { lock.reinitialize() }

    /// Adds an image whose symbols are already known (the program and its interpreter).
    public func add(path: String, bias: UInt64, start: UInt64, end: UInt64, symbols: [ELFFile.Symbol]) {
        lock.withLock {
            tables[Self.key(path, bias)] = SymbolTable(symbols, bias: bias)
            insert(Image(path: path, bias: bias, start: start, end: end))
        }
    }

    /// Notes an executable file mapping: `address` holds the file's bytes from `offset`.
    public func noteExecutableMapping(path: String, address: UInt64, length: UInt64, offset: UInt64) {
        let bias = address &- offset
        lock.withLock {
            if let index = images.firstIndex(where: { $0.path == path && $0.bias == bias }) {
                images[index].start = min(images[index].start, address)
                images[index].end = max(images[index].end, address + length)
            } else {
                insert(Image(path: path, bias: bias, start: address, end: address + length))
            }
        }
    }

    /// Forgets images wholly inside an unmapped range.
    public func unmapped(_ start: UInt64, _ end: UInt64) {
        lock.withLock { images.removeAll { $0.start >= start && $0.end <= end } }
    }

    private func insert(_ image: Image) {
        images.removeAll { $0.start < image.end && $0.end > image.start && $0.path != image.path }
        images.append(image)
        images.sort { $0.start < $1.start }
    }

    public func image(containing address: UInt64) -> Image? {
        lock.withLock { images.last { address >= $0.start && address < $0.end } }
    }

    public var all: [Image] { lock.withLock { images } }

    /// The symbols of the image holding `address`, read from its file the first time.
    private func table(for image: Image) -> SymbolTable {
        let key = Self.key(image.path, image.bias)
        if let known = lock.withLock({ tables[key] }) { return known }
        var symbols: [ELFFile.Symbol] = []
        if let bytes = try? readWholeFile(image.path), let elf = try? ELFFile(bytes: bytes) { symbols = elf.symbols }
        let table = SymbolTable(symbols, bias: image.bias)
        lock.withLock { tables[key] = table }
        return table
    }

    private static func key(_ path: String, _ bias: UInt64) -> String { "\(path)@\(bias)" }

    /// `name+0x1c`, or `libc.so.6+0x1234` where no symbol covers `address`, or the bare address.
    public func describe(_ address: UInt64) -> String {
        guard let image = image(containing: address) else { return "0x" + String(address, radix: 16) }
        let table = table(for: image)
        if table.symbol(containing: address) != nil { return table.describe(address) }
        return "\(image.name)+0x\(String(address &- image.bias, radix: 16))"
    }

    public func symbol(containing address: UInt64) -> ELFFile.Symbol? {
        image(containing: address).flatMap { table(for: $0).symbol(containing: address) }
    }

    /// See `SymbolTable.callMayReturn`.
    public func callMayReturn(_ call: UInt64, to returnAddress: UInt64) -> Bool {
        guard let image = image(containing: call) else { return true }
        return table(for: image).callMayReturn(call, to: returnAddress)
    }
}

/// What the symbolic link at `path` points to, or nil.
public func linkTarget(_ path: String) -> String? {
    var buffer = [CChar](repeating: 0, count: 4096)
    let count = readlink(path, &buffer, buffer.count - 1)
    return count > 0 ? String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self) : nil
}

/// A whole file's bytes.
public func readWholeFile(_ path: String) throws(GuestError) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw .hostErrno(errno) }
    defer { close(fd) }
    var status = stat()
    guard fstat(fd, &status) == 0 else { throw .hostErrno(errno) }
    guard status.st_mode & S_IFMT == S_IFREG else { throw .load("not a regular file") }
    var bytes = [UInt8](repeating: 0, count: Int(status.st_size))
    var done = 0
    while done < bytes.count {
        let count = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + done, $0.count - done) }
        guard count > 0 else { throw count == 0 ? .load("the file shrank while it was read") : .hostErrno(errno) }
        done += count
    }
    return bytes
}
