import Engine
import Foundation
import Lifter
import Testing

@Suite struct CodeCacheTests {
    static let loop: [UInt32] = [0xfff5_0513, 0xfe05_1ee3, 0x0000_8067]

    func key(_ words: [UInt32] = loop, entries: [UInt64] = [LifterTests.page], entry: UInt64 = LifterTests.page,
             pipeline: String = "default<O2>", level: Int = 2, loops: Bool = true) -> [UInt8] {
        CodeCache.key(for: LifterTests.discover(words, entries: entries), entry: entry, pipeline: pipeline, level: level,
                      loopHeadersAreEntries: loops)
    }

    @Test func theKeyChangesWithEveryInput() {
        let base = key()
        #expect(key() == base)
        #expect(key([0xffe5_0513] + Self.loop.dropFirst()) != base)          // one guest instruction differs
        #expect(key(entries: [LifterTests.page, LifterTests.page + 4]) != base)
        // The same code translated from another of its entries is linked under another name.
        #expect(key(entries: [LifterTests.page, LifterTests.page + 4], entry: LifterTests.page + 4)
                != key(entries: [LifterTests.page, LifterTests.page + 4]))
        #expect(key(pipeline: "default<O3>") != base)
        #expect(key(level: 0) != base)
        #expect(key(loops: false) != base)
        let text = String(decoding: base, as: UTF8.self)
        #expect(text.contains(CodeCache.translatorVersion) && text.contains("llvm 19."))
    }

    @Test func damagedStaleOrCollidingEntriesAreNeverReturned() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pagelift-cache-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cache = try CodeCache(directory: directory)
        let object = ObjectCode(bytes: Array(0..<200).map { UInt8($0) })
        let first = key(), second = key(level: 1)
        cache.store(first, symbol: "pc_10000", object: object)
        #expect(cache.load(first)?.object == object)
        #expect(cache.load(first)?.symbol == "pc_10000")
        #expect(cache.load(second) == nil)

        let files = try FileManager.default.contentsOfDirectory(atPath: directory)
        let path = directory + "/" + files[0]
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count / 2] ^= 0x40                                        // a flipped bit
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(cache.load(first) == nil)
        try Data(bytes.prefix(40)).write(to: URL(fileURLWithPath: path))     // truncated
        #expect(cache.load(first) == nil)
        try Data().write(to: URL(fileURLWithPath: path))                      // empty
        #expect(cache.load(first) == nil)

        cache.store(second, symbol: "pc_10000.opt", object: object)          // an entry for another key under first's name
        let secondPath = try FileManager.default.contentsOfDirectory(atPath: directory).map { directory + "/" + $0 }.first { $0 != path }!
        try FileManager.default.removeItem(atPath: path)
        try FileManager.default.moveItem(atPath: secondPath, toPath: path)
        #expect(cache.load(first) == nil)

        cache.store(first, symbol: "pc_10000", object: object)               // a store replaces what was there
        #expect(cache.load(first)?.object == object)
    }
}
