#if canImport(Glibc)
import Glibc
#endif
import Guest
import Lifter

/// Tier-up: a region whose counter reached the threshold is compiled again, optimized, with the
/// warm regions of its page and the warm functions it calls, on the tier-up thread (or the
/// guest thread's own with `synchronousTierUp`), and swapped into the code map.
extension Engine {
    /// The counter of the region entered at `entry` reached the threshold: recompile it optimized, once,
    /// together with the other warm regions of its page and the warm functions they call in other
    /// pages. Tier 0 translates from each entry the map missed on, so a page's code is spread over
    /// regions that reach each other only through the map (the cases of a switch, functions called
    /// through pointers); the optimized region holds the ones that run, and computed jumps between
    /// them stay inside it (cold ones would only add compile time before the optimized code
    /// arrives). Runs on the guest thread whose code got hot, with the mappings held still:
    /// discovery reads guest memory.
    func promote(entry: UInt64, on thread: GuestThread) {
        let work: [(region: Region, merged: Region)] = memory.withStableMappings(at: entry) { _ in lock.withLock {
            guard let region = regionsByEntry[entry], !region.promoted, region.valid else { return [] }
            let threshold = options.tiers.hotThreshold
            let pageRegions = (regionsByPage[region.page.page] ?? []).filter {
                $0.valid && $0.page.page == region.page.page && $0.isWarm(threshold: threshold)
            }
            pageRegions.forEach { $0.promoted = true }
            region.promoted = true
            let entries = Set(pageRegions.flatMap(\.page.entries)).union(region.page.entries)
            var work = [(region, optimizedRegion(promoting: region, entries: entries))]
            // Optimized code that calls this region through the map (it was not warm yet when that
            // code was compiled) is compiled again with it.
            for caller in optimizedCallers.removeValue(forKey: entry) ?? [] where caller.merged.valid && caller.merged.successor == nil {
                let merged = optimizedRegion(promoting: caller.promoted, entries: Set(caller.merged.page.entries), replacing: caller.merged)
                if merged.page.callees != caller.merged.page.callees { work.append((caller.promoted, merged)) }
            }
            return work
        } }
        for (region, merged) in work {
            if options.synchronousTierUp {
                do { try usingLLVM { try recompileOptimized(merged, promoting: region, generator: thread.generators.optimizing()) } } catch {
                    FaultHandler.die(signal: SIGABRT, message: "pagelift: internal error optimizing region at 0x\(String(region.entry, radix: 16)): \(error)")
                }
            } else {
                lock.withLock {
                    tierUpJobs += 1
                    tierUpQueue.append {
                        do { try self.recompileOptimized(merged, promoting: region, generator: self.tierUpGenerators.optimizing()) } catch {
                            FaultHandler.die(signal: SIGABRT, message: "pagelift: internal error optimizing region at 0x\(String(region.entry, radix: 16)): \(error)")
                        }
                    }
                    if !tierUpStarted { startTierUpThread() }
                    lock.broadcast()
                }
            }
        }
    }

    /// Starts the thread that runs optimized recompilations one after another. Under the lock.
    func startTierUpThread() {
        tierUpStarted = true
        BackgroundThread.start {
            while true {
                let job = self.lock.withLock {
                    while self.tierUpQueue.isEmpty || self.forkPending { self.lock.wait() }
                    return self.tierUpQueue.removeFirst()
                }
                job()
                self.lock.withLock {
                    self.tierUpJobs -= 1
                    self.lock.broadcast()
                }
            }
        }
    }

    /// The region optimized code for `promoted` translates: `entries` of its page and the warm
    /// functions they call; the functions it calls that are still cold are noted, so that it is
    /// compiled again when one of them gets hot. Under the lock.
    func optimizedRegion(promoting promoted: Region, entries: Set<UInt64>, replacing previous: Region? = nil) -> Region {
        let merged = mergedRegion(of: promoted, page: withWarmCallees(promoted.page.page, entries: entries),
                                  name: previous.map { _ in uniqueName(promoted.name + ".again") })
        previous?.successor = merged
        for target in merged.page.directTargetsElsewhere {
            optimizedCallers[target, default: []].append((promoted, merged))
        }
        return merged
    }

    /// The code of `page` reachable from `entries`, with the functions in other pages it jumps or
    /// calls to directly that ran often enough themselves (their first compilation is warm),
    /// hottest first, then what those call in turn, up to `tiers.calleePages` more pages and
    /// `tiers.calleeInstructions` more instructions. In optimized code such a call is a branch
    /// and its return a compare against the call site, where each used to cost a map lookup, an
    /// indirect jump and the callee's entry dispatch, with every register the region holds stored
    /// and reloaded around it. Under the lock.
    func withWarmCallees(_ page: UInt64, entries: Set<UInt64>) -> DiscoveredPage {
        let threshold = options.tiers.hotThreshold
        var callees: [UInt64] = []
        var discovered = discoverOptimized(page, entries: entries, callees: [])
        let home = discovered.instructions.count
        while discovered.pages.count <= options.tiers.calleePages {
            let warm = discovered.directTargetsElsewhere.compactMap { target -> (UInt64, UInt64)? in
                guard let callee = regionsByEntry[target], callee.valid, callee.isWarm(threshold: threshold) else { return nil }
                return (target, callee.counter?.pointee ?? threshold)
            }
            // The highest count; of equal ones, the lowest address.
            guard let hottest = warm.max(by: { ($0.1, $1.0) < ($1.1, $0.0) })?.0 else { break }
            let grown = discoverOptimized(page, entries: entries, callees: callees + [hottest])
            // Passing over one that does not fit, for smaller ones, added callees and recompilations
            // (bintrees: 14 optimized compilations instead of 11, 0.3 s more of them, and once 10 s
            // instead of 3 s).
            guard grown.instructions.count - home <= options.tiers.calleeInstructions else { break }
            callees.append(hottest)
            discovered = grown
        }
        return discovered
    }

    /// What optimized code for `entries` of `page` and `callees` translates (loop headers are entries, for tier-up).
    func discoverOptimized(_ page: UInt64, entries: Set<UInt64>, callees: [UInt64]) -> DiscoveredPage {
        DiscoveredPage.discover(page: page, entries: entries.sorted(), callees: callees, loopHeadersAreEntries: true,
                                copiesEntriesInLoops: true, callReturns: symbols.callMayReturn, fetch: memory.instructionParcel(at:))
    }

    /// A region for the optimized code of `page` (see `discoverOptimized`), registered for
    /// invalidation in every page it holds code of, named after `region` unless `name` is given.
    func mergedRegion(of region: Region, page: DiscoveredPage, name: String? = nil) -> Region {
        let merged = Region(entry: region.entry, page: page, name: name ?? region.name,
                            fingerprint: cache.map { _ in CodeCache.fingerprint(of: page, entry: region.entry, loopHeadersAreEntries: true) },
                            logsStores: liftsStoreLog)
        merged.promoted = true
        for codePage in page.pages { regionsByPage[codePage, default: []].append(merged) }
        return merged
    }

    func recompileOptimized(_ region: Region, promoting promoted: Region, generator: CodeGenerator) throws {
        var timing = TierStatistics()
        let (address, object) = try compile(region, name: region.name + ".opt", tier: 1, profile: nil, pipeline: optimizedPipeline,
                                            generator: generator, timing: &timing)
        storeInCache(region, tier: 1, symbol: region.name + ".opt", object: object)
        if let cache, let key = mergeKey(promoted) {
            func list(_ addresses: [UInt64]) -> String { addresses.map { String($0, radix: 16) }.joined(separator: ",") }
            cache.store(key, symbol: list(region.page.entries) + ";" + list(region.page.callees), object: ObjectCode(bytes: []))
        }
        // Installed only if the guest bytes are still the ones translated; the old code may still be
        // running (it is never freed) and continues into the new code at its next map lookup.
        lock.withLock {
            stats.optimized.add(timing)
            install(region, at: address)
        }
    }
}
