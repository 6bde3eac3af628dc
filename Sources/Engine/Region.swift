import Lifter

/// Code translated from one entry: what was discovered, and whether it may still run.
final class Region: @unchecked Sendable {
    let entry: UInt64
    let page: DiscoveredPage
    /// Unique in the run; the region's code is linked as `name` (first compile) and `name.opt`.
    let name: String
    /// The guest code part of the region's cache keys, when there is a cache.
    let fingerprint: [UInt8]?
    var valid = true
    var promoted = false
    /// The profiled code's execution counter, once that code is loaded.
    var counter: UnsafeMutablePointer<UInt64>?
    /// The first (cheap) compilation, which honours every rounding mode (see `Engine.generalCode`).
    var generalCode: UInt64?
    /// An optimized region compiled again with more callees; only the newest is compiled again.
    var successor: Region?
    /// Compiled ahead of the guest, by the speculation thread.
    var speculative = false
    /// Whether installing the region's code fills only the slot of `entry`: so for code compiled
    /// ahead of the guest, also when it comes from the disk cache. Its other entries get slots
    /// once the guest has entered it (see `Engine.enteredCodeCompiledAhead`): filled before, they
    /// would save the guest misses that a second run, which loads the region only when the guest
    /// reaches `entry`, then has without the code (and compiles it).
    var installsOnlyItsEntry = false
    /// The code map slots installing the region's code fills.
    var installedEntries: [UInt64] { installsOnlyItsEntry ? [entry] : page.mapEntries }
    /// Whether the region ran often enough to be worth optimizing with a hot region of its page.
    func isWarm(threshold: UInt64) -> Bool { promoted || (counter?.pointee ?? 0) >= threshold / 8 }
    /// Whether its code logs stores (`PageLifter.logsStores`), fixed when it is made: code made
    /// before the store log started is dropped with the region (see `Engine.startStoreLog`).
    let logsStores: Bool
    init(entry: UInt64, page: DiscoveredPage, name: String, fingerprint: [UInt8]?, logsStores: Bool) {
        self.entry = entry; self.page = page; self.name = name; self.fingerprint = fingerprint; self.logsStores = logsStores
    }
}
