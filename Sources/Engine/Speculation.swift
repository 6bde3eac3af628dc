#if canImport(Glibc)
import Glibc
#endif
import ELF
import Guest
import Lifter

/// Compiling ahead of the guest, on the speculation thread: the code where a region just
/// translated leaves for other pages, before a guest thread gets there.
extension Engine {
    /// Has the speculation thread compile, before the guest gets there, the code where `page`
    /// (entered at `pc`) leaves for other pages: translation is most of a short run, the guest
    /// thread can only compile what it reached, and the second core is idle until something gets
    /// hot. `distance` counts the translations between that code and code the guest reached.
    /// The thread itself finds the exits, off the guest thread.
    func speculate(beyond page: DiscoveredPage, from pc: UInt64, distance: Int) {
        guard distance <= options.tiers.speculationDistance else { return }
        lock.withLock {
            speculation.regionsToLookBeyond.append((page, pc, distance))
            if !speculation.started {
                speculation.started = true
                BackgroundThread.start { self.speculateForever() }
            }
            lock.broadcast()
        }
    }

    /// The speculation thread: queues the exits of regions as they are translated, and compiles
    /// the queued candidates while no optimized recompilation waits.
    func speculateForever() {
        let generator: CodeGenerator
        do { generator = try CodeGenerator(optimizationLevel: options.tieringActive ? 0 : options.optimizationLevel) } catch {
            FaultHandler.die(signal: SIGABRT, message: "pagelift: internal error starting the speculation thread: \(error)")
        }
        while true {
            let work = lock.withLock {
                while (speculation.candidates.isEmpty && speculation.regionsToLookBeyond.isEmpty) || tierUpJobs > 0 || forkPending { lock.wait() }
                speculationBusy = true
                defer { speculation.regionsToLookBeyond = [] }
                return speculation.regionsToLookBeyond
            }
            defer {
                lock.withLock {
                    speculationBusy = false
                    lock.broadcast()
                }
            }
            for (page, pc, distance) in work {
                let exits = page.exitsElsewhere(from: [pc]).filter { $0 < GuestLimits.addressSpaceSize }
                lock.withLock { queueCandidates(exits, distance: distance) }
            }
            let next: (pc: UInt64, distance: Int)? = lock.withLock { speculation.candidates.isEmpty ? nil : speculation.candidates.removeFirst() }
            if let next { speculativelyTranslate(next.pc, distance: next.distance, generator: generator) }
        }
    }

    /// Queues the `exits` that have no code yet: those of what the guest just reached first, and
    /// only the newest `Speculation.queueLength`. Under the lock.
    func queueCandidates(_ exits: [UInt64], distance: Int) {
        let fresh = exits.filter { codeMap[$0] == 0 && regionsByEntry[$0] == nil }.map { (pc: $0, distance: distance) }
        if distance == 1 {
            speculation.candidates.insert(contentsOf: fresh, at: 0)
        } else {
            speculation.candidates.append(contentsOf: fresh)
        }
        if speculation.candidates.count > Speculation.queueLength {
            speculation.candidates.removeLast(speculation.candidates.count - Speculation.queueLength)
        }
    }

    /// Translates the region the guest would translate on reaching `pc`, if `pc` is still
    /// untranslated read-only code; the guest waits for it on reaching `pc`.
    func speculativelyTranslate(_ pc: UInt64, distance: Int, generator: CodeGenerator) {
        func unclaimed() -> Bool { codeMap[pc] == 0 && regionsByEntry[pc] == nil && !translating.contains(pc) }
        // Discovered and registered while the mappings cannot change, so that an unmapping of the
        // code afterwards finds the region to invalidate.
        let claimed: Region? = memory.withStableMappings(at: pc) { readOnlyCode in
            guard readOnlyCode, lock.withLock(unclaimed) else { return nil }
            let discovered = discover(at: pc)
            return lock.withLock {
                guard unclaimed() else { return nil }
                let region = registerRegion(at: pc, page: discovered)
                region.speculative = true
                region.installsOnlyItsEntry = true
                speculation.compiling.insert(pc)
                return region
            }
        }
        guard let region = claimed else { return }
        var compiled = false
        do {
            if try !installFromCache(region) {
                try compileAndInstall(region, generator: generator)
                compiled = true
            }
        } catch {
            FaultHandler.die(signal: SIGABRT, message: "pagelift: internal error translating 0x\(String(pc, radix: 16)) ahead of the guest: \(error)")
        }
        lock.withLock {
            speculation.compiling.remove(pc)
            lock.broadcast()
        }
        if compiled { speculate(beyond: region.page, from: pc, distance: distance + 1) }
    }
}

/// The speculation thread's work, and the entries of what it is compiling.
struct Speculation {
    /// Candidates kept: the guest moves on, and older ones are less likely to be needed soon.
    static let queueLength = 16
    var candidates: [(pc: UInt64, distance: Int)] = []
    /// Regions translated (and where they were entered) whose exits are not queued yet.
    var regionsToLookBeyond: [(page: DiscoveredPage, pc: UInt64, distance: Int)] = []
    /// The entries of the regions being compiled (each fills only its entry's slot).
    var compiling = Set<UInt64>()
    var started = false
}
