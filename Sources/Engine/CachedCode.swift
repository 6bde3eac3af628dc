#if canImport(Glibc)
import Glibc
#endif
import Guest
import Lifter

/// The disk cache's part in translation: a region's code, first-tier or optimized (and which
/// regions optimized code merged), found by keys of its guest code and the pipeline.
extension Engine {
    /// Installs `region`'s code from the disk cache, optimized if it is there. False on a miss.
    func installFromCache(_ region: Region) throws -> Bool {
        try installMergedFromCache(region) || installFromCache(region, tier: 1)
            || (options.tieringActive && (try installFromCache(region, tier: 0)))
    }

    /// The cache key of `region`'s code at `tier` (1: the run's level and pipeline; 0: the cheap tier, with counting).
    func cacheKey(_ region: Region, tier: Int) -> [UInt8]? {
        // With tiering, optimized code assumes round-to-nearest-even (see `PageLifter.assumesRoundToNearest`).
        let pipeline = (tier == 1 ? optimizedPipeline.text + (options.tieringActive ? " nearest-only" : "")
            : basePipeline.text + " profiled \(options.tiers.hotThreshold)") + " llvm \(options.tiers.llvmOptions)"
            + (tracksFloatFlags ? "" : " flags-unobserved") + (region.logsStores ? " store-log" : "")
        return region.fingerprint.map { CodeCache.key(fingerprint: $0, pipeline: pipeline, level: tier == 1 ? options.optimizationLevel : 0) }
    }

    /// Installs `region`'s code at `tier` from the disk cache. False on a miss.
    func installFromCache(_ region: Region, tier: Int) throws -> Bool {
        // Dumping asks to see code compiled, so it does not read the cache.
        guard let cache, options.dumpIRDirectory == nil, let key = cacheKey(region, tier: tier),
              let (object, stored) = cache.load(key) else { return false }
        var symbol = stored
        let onlyItsEntry = symbol.hasSuffix(Self.onlyItsEntryMark)
        if onlyItsEntry { symbol.removeLast(Self.onlyItsEntryMark.count) }
        // Only a name this region owns: another region's name may already be linked (code that was remapped).
        guard symbol == region.name || symbol == region.name + ".opt" else { return false }
        if onlyItsEntry { region.installsOnlyItsEntry = true }
        var loadClock = Stopwatch()
        let address = try jit.load(object, symbol: symbol)
        let loadSeconds = loadClock.lap()
        if tier == 0 {
            region.counter = try counter(of: region)
            region.generalCode = address
        }
        recordInstalledCode(region, address: address, size: object.codeSize, tier: tier)
        lock.withLock {
            stats.cacheHits += 1
            stats.cacheLoadSeconds += loadSeconds
            if tier == 1 { region.promoted = true }
            install(region, at: address)
        }
        return true
    }

    /// Follows the symbol of a cached region that fills only its entry's slot (`Region.installsOnlyItsEntry`).
    static let onlyItsEntryMark = " only-its-entry"

    func storeInCache(_ region: Region, tier: Int, symbol: String, object: ObjectCode) {
        guard let cache else { return }
        guard let key = cacheKey(region, tier: tier) else { return }
        cache.store(key, symbol: symbol, object: object)
        lock.withLock { stats.cacheStores += 1 }
    }

    /// The optimized code of a merged region `region` was promoted into in an earlier run: the cache
    /// remembers the entries and callees that were merged (by `region`'s key), and the merged code
    /// is found by the key of what those reach now, so a change anywhere in it misses.
    func installMergedFromCache(_ region: Region) throws -> Bool {
        guard let cache, options.tieringActive, options.dumpIRDirectory == nil, let aliasKey = mergeKey(region),
              let (_, list) = cache.load(aliasKey) else { return false }
        let parts = list.split(separator: ";", omittingEmptySubsequences: false)
        func addresses(_ text: Substring) -> [UInt64] { text.split(separator: ",").compactMap { UInt64($0, radix: 16) } }
        guard parts.count == 2 else { return false }
        let entries = Set(addresses(parts[0])), callees = addresses(parts[1])
        guard entries.contains(region.entry) else { return false }
        let merged: Region? = memory.withStableMappings(at: region.entry) { _ in
            guard entries.union(callees).allSatisfy({ memory.isMapped($0, 2, needs: PROT_EXEC) }) else { return nil }
            return lock.withLock { mergedRegion(of: region, page: discoverOptimized(region.page.page, entries: entries, callees: callees)) }
        }
        guard let merged else { return false }
        // The name of the region compiled first, or of one compiled again with more callees (see `promote`).
        guard let key = cacheKey(merged, tier: 1), let (object, symbol) = cache.load(key),
              symbol == region.name + ".opt" || (symbol.hasPrefix(region.name + ".again") && symbol.hasSuffix(".opt")) else {
            lock.withLock { merged.valid = false }
            return false
        }
        var loadClock = Stopwatch()
        let address = try jit.load(object, symbol: symbol)
        let loadSeconds = loadClock.lap()
        recordInstalledCode(merged, address: address, size: object.codeSize, tier: 1)
        lock.withLock {
            stats.cacheHits += 1
            stats.cacheLoadSeconds += loadSeconds
            region.promoted = true
            install(merged, at: address)
        }
        return true
    }

    /// Where the cache keeps which entries and callees `region` was merged with.
    func mergeKey(_ region: Region) -> [UInt8]? {
        region.fingerprint.map { CodeCache.key(fingerprint: $0, pipeline: optimizedPipeline.text + " merged entries", level: options.optimizationLevel) }
    }
}
