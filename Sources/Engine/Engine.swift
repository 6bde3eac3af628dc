#if canImport(Glibc)
import Glibc
#endif
import CHostFloat
import CLLVM
import Dispatch
import ELF
import Guest
import Lifter
import RISCV

public struct EngineOptions: Sendable {
    public var optimizationLevel = 2
    public var pipeline: PassPipeline? = nil
    public var strace = false
    /// Where to write each compiled region's IR, as lifted and as optimized, with an index.
    public var dumpIRDirectory: String? = nil
    /// Also write each compiled region's host assembly there.
    public var dumpAssembly = false
    /// Write /tmp/perf-PID.map so `perf` names translated code after guest symbols.
    public var perfMap = false
    /// Where compiled regions persist between runs; nil turns the cache off.
    public var cacheDirectory: String? = nil
    /// The most the cache's entries may take (least recently used ones go first).
    public var cacheMaximumSize = CodeCache.defaultMaximumSize
    /// Compile every region cheaply first and only hot ones at `optimizationLevel`.
    public var tiering = true
    public var tiers = TierConfiguration()
    /// Recompile hot regions on the guest's thread instead of the background one (deterministic, for tests).
    public var synchronousTierUp = false
    /// Keep the accrued floating-point flags exact even for a program that cannot read them
    /// (see `FloatFlagsUse`): for one that reads them in code the scan does not see (generated at run time).
    public var exactFloatFlags = false
    /// The guest's root file system (`-L`): its dynamic loader, libraries and files.
    public var sysroot: String? = nil
    /// Do not say on stderr which syscalls the guest made that are not supported.
    public var quietUnsupported = false
    /// What a RISC-V program the guest executes is started with: this translator and these options.
    public var translatorPath = ""
    public var translatorOptions: [String] = []
    public init() {}

    var tieringActive: Bool { tiering && (optimizationLevel > 0 || pipeline != nil) }
}

extension FloatFlagsUse {
    /// The reads of the accrued flags `elf`'s code (loaded at `bias`) may see. From the file's
    /// bytes: an execute-only segment's pages cannot be read in guest memory.
    static func observingReads(of elf: ELFFile, bias: UInt64) -> [UInt64] {
        elf.bytes.withUnsafeBytes { file in
            let code = elf.loadSegments.filter(\.executable).map { segment in
                (start: segment.virtualAddress &+ bias,
                 bytes: UnsafeRawBufferPointer(rebasing: file[Int(segment.fileOffset)..<Int(segment.fileOffset + segment.fileSize)]))
            }
            return observingReads(in: code)
        }
    }
}

/// How the guest ended.
public enum GuestTermination: Equatable, Sendable {
    case exited(Int32)
    case killed(signal: Int32, reason: String)
}

/// Where translation time went, for one tier.
public struct TierStatistics: Sendable {
    public var regions = 0
    public var guestInstructions = 0
    public var liftSeconds = 0.0
    public var optimizeSeconds = 0.0
    public var codegenSeconds = 0.0
    public var codeBytes = 0
    public var totalSeconds: Double { liftSeconds + optimizeSeconds + codegenSeconds }
}

public struct EngineStatistics: Sendable {
    /// Tier 0: every region's first compilation (the only one without tiering).
    public var base = TierStatistics()
    /// Tier 1: hot regions recompiled at the run's optimization level.
    public var optimized = TierStatistics()
    public var mapMisses = 0
    public var syscalls = 0
    public var runSeconds = 0.0
    /// Regions whose optimized code came from the disk cache, and entries written to it.
    public var cacheHits = 0
    public var cacheStores = 0
    /// Linking the code of cache hits into the JIT.
    public var cacheLoadSeconds = 0.0
    /// The part of `base` compiled ahead of the guest by the speculation thread (see
    /// `Engine.speculate`), and how many of those regions the guest entered.
    public var speculated = TierStatistics()
    public var speculatedRegionsEntered = 0
    public var speculationWaitSeconds = 0.0
    public var speculationWaits = 0
    /// Entries and loop iterations first-tier code counted (of the regions still valid): how much
    /// of the run stayed in the cheap tier.
    public var firstTierExecutions: UInt64 = 0
    /// Whether translated code kept the accrued floating-point flags exact (see `FloatFlagsUse`).
    public var floatFlagsExact = true
}

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
    init(entry: UInt64, page: DiscoveredPage, name: String, fingerprint: [UInt8]?) {
        self.entry = entry; self.page = page; self.name = name; self.fingerprint = fingerprint
    }
}

/// Runs one guest program, the translator all its threads share: resolves guest pcs to host
/// code through the code map, translating a page whenever a slot is empty. Each guest thread
/// runs its own dispatcher loop (`GuestThread`).
public final class Engine: @unchecked Sendable {
    public let memory: GuestMemory
    public let process: LinuxProcess
    /// The program's first thread, which `run` runs on the calling host thread.
    private var mainThread: GuestThread!
    /// Guest threads started by `clone` that have not ended.
    private var otherThreads = 0
    /// The pcs guest threads are translating (another thread missing on one waits for it).
    private var translating = Set<UInt64>()
    /// Guest threads inside a compilation, which a fork waits for (LLVM's locks must be free).
    private var guestCompilations = 0
    /// What ends the process, once (see `run`).
    private var processEnd: (@Sendable (GuestTermination) -> Never)?
    private var processEnding = false
    /// The symbols of every ELF image mapped into the guest.
    public let symbols: GuestImages
    public let options: EngineOptions
    /// Whether translated code keeps the accrued floating-point flags exact (see `FloatFlagsUse`).
    public let tracksFloatFlags: Bool
    public var statistics: EngineStatistics {
        lock.withLock {
            var statistics = stats
            let regions = regionsByPage.values.joined()
            statistics.speculatedRegionsEntered = regions.count { $0.speculative && ($0.counter?.pointee ?? 0) > 0 }
            // Only first-tier regions have counters, and each is listed under its one page.
            statistics.firstTierExecutions = regions.reduce(0) { $0 + ($1.counter?.pointee ?? 0) }
            return statistics
        }
    }
    private var stats = EngineStatistics()
    let jit: JIT
    let codeMap: CodeMap
    /// The pipeline and code generator of the first compilation, and of the hot recompilation.
    let basePipeline: PassPipeline, optimizedPipeline: PassPipeline
    let baseGenerator: CodeGenerator
    /// The tier-up thread's.
    private var tierUpGenerators: CodeGenerators
    /// Regions by page for invalidation, and by entry for tier-up.
    private var regionsByPage: [UInt64: [Region]] = [:]
    private var regionsByEntry: [UInt64: Region] = [:]
    /// Optimized regions (and the region they promoted) by the functions outside them they jump or
    /// call to directly, while those are not optimized themselves.
    private var optimizedCallers: [UInt64: [(promoted: Region, merged: Region)]] = [:]
    private var namesUsed: [String: Int] = [:]
    private let lock = Lock()
    private let cache: CodeCache?
    /// The JIT'd entry into translated code, and the region function that returns from it.
    private var enterStub: EnterFunction! = nil
    private var returnStub: UInt64 = 0
    /// Optimized recompilations waiting for the tier-up thread.
    private var tierUpQueue: [() -> Void] = []
    private var tierUpStarted = false
    /// Optimized recompilations queued or running; the speculation thread waits for them.
    private var tierUpJobs = 0
    /// A fork is under way: the background threads finish their job and wait (see `prepareFork`).
    private var forkPending = false
    private var speculationBusy = false
    /// Whether the tier-up thread is inside a job (the jobs counted are queued or running).
    private var tierUpBusy: Bool { tierUpJobs > tierUpQueue.count }
    private var speculation = Speculation()

    public init(elf: ELFFile, path: String, arguments: [String], environment: [String], options: EngineOptions) throws {
        self.options = options
        try LLVMOptions.apply(options.tiers.llvmOptions)
        memory = try GuestMemory()
        symbols = GuestImages()
        let paths = GuestPaths(root: options.sysroot, executable: path)
        let program = try Loader.load(elf, path: path, arguments: arguments, environment: environment, paths: paths, images: symbols, into: memory)
        process = LinuxProcess(memory: memory, program: program, paths: paths, images: symbols)
        process.strace = options.strace
        process.quietUnsupported = options.quietUnsupported
        // A dynamic program's libraries are not there to scan yet (libm's fetestexcept reads
        // the flags): it keeps them exact.
        tracksFloatFlags = options.exactFloatFlags || program.interpreter != nil
            || !FloatFlagsUse.observingReads(of: elf, bias: program.loadBias).isEmpty
        stats.floatFlagsExact = tracksFloatFlags
        codeMap = try CodeMap()
        jit = try JIT()
        let chosen = options.pipeline ?? PassPipeline(level: options.optimizationLevel)
        if options.tieringActive {
            basePipeline = options.tiers.basePipeline.map(PassPipeline.init(text:)) ?? PassPipeline(level: 0)
            baseGenerator = try CodeGenerator(optimizationLevel: 0)
        } else {
            basePipeline = chosen
            baseGenerator = try CodeGenerator(optimizationLevel: options.optimizationLevel)
        }
        optimizedPipeline = chosen
        tierUpGenerators = CodeGenerators(options: options)
        var cache: CodeCache? = nil
        if let directory = options.cacheDirectory {
            // A cache that cannot be used costs speed, not the run.
            do { cache = try CodeCache(directory: directory, maximumSize: options.cacheMaximumSize) } catch {
                FaultHandler.writeError("pagelift: warning: \(error); running without the code cache\n")
            }
        }
        self.cache = cache
        try jit.defineAbsolute([
            RuntimeSymbols.regionHot: unsafeBitCast(regionHotHelper, to: UInt64.self),
            RuntimeSymbols.guestMemory: memory.baseAddress,
            RuntimeSymbols.codeMap: codeMap.baseAddress,
            RuntimeSymbols.resolve: unsafeBitCast(resolveHelper, to: UInt64.self),
            RuntimeSymbols.syscall: unsafeBitCast(syscallHelper, to: UInt64.self),
            RuntimeSymbols.readCounter: unsafeBitCast(readCounterHelper, to: UInt64.self),
            RuntimeSymbols.generalCode: unsafeBitCast(generalCodeHelper, to: UInt64.self),
            RuntimeSymbols.flushInstructions: unsafeBitCast(flushInstructionsHelper, to: UInt64.self),
            RuntimeStubs.roundedOperationImplementation: unsafeBitCast(roundedOperationHelper, to: UInt64.self),
        ])
        let stubs = IRModule(name: "pagelift_runtime")
        RuntimeStubs.emit(into: stubs)
        let stubObject = try baseGenerator.object(for: stubs)
        let stubAddresses = try jit.load(stubObject, symbols: [RuntimeStubs.enter, RuntimeStubs.returnToDispatcher])
        enterStub = unsafeBitCast(stubAddresses[0], to: EnterFunction.self)
        returnStub = stubAddresses[1]
        if let directory = options.dumpIRDirectory {
            writeFile("\(directory)/index.tsv", "address\tsymbol\ttier\tcompile_ms\tcode_bytes\tfunction\n")
        }
        if options.perfMap { writeFile("/tmp/perf-\(getpid()).map", "") }
        let cpu = CPUState(thread: process.initialThread)
        cpu.pc = program.entry
        cpu[x: 2] = program.stackPointer
        mainThread = GuestThread(cpu: cpu, engine: self, generators: CodeGenerators(options: options, base: baseGenerator))
        memory.onInvalidate = { [unowned self] start, end in self.invalidate(start, end) }
        var hooks = ProcessHooks()
        hooks.prepareFork = { [unowned self] in self.prepareFork() }
        hooks.afterFork = { [unowned self] inChild in self.afterFork(inChild: inChild) }
        hooks.startThread = { [unowned self] cpu, started in self.startThread(cpu, started: started) }
        hooks.translatorPath = options.translatorPath
        hooks.translatorOptions = options.translatorOptions
        process.hooks = hooks
    }

    /// Before the guest forks: the background threads finish the job they are in and wait, so
    /// that none holds a lock (the engine's, LLVM's, the allocator's) the child would inherit held.
    func prepareFork() {
        lock.withLock {
            forkPending = true
            while tierUpBusy || speculationBusy || guestCompilations > 0 { lock.wait() }
        }
    }

    /// After the fork: the parent's threads go on; the child has none, and starts them again
    /// when it has work for them (queued work is the child's too).
    func afterFork(inChild: Bool) {
        if inChild {
            lock.reinitialize()
            lock.withLock {
                // Only the thread that forked goes on in the child.
                otherThreads = 0
                translating = []
                tierUpStarted = false
                speculation.started = false
                speculation.compiling = []
                if !tierUpQueue.isEmpty { startTierUpThread() }
            }
        }
        lock.withLock {
            forkPending = false
            lock.broadcast()
        }
    }

    /// At the guest's end: keeps the code cache within its size, if this process added to it.
    public func finish() {
        if let cache, lock.withLock({ stats.cacheStores }) > 0 { cache.trim() }
    }

    /// Runs the guest until its process ends, then calls `end` with how (on whichever thread
    /// ended it: `exit_group` or a fatal signal in any thread, or the last thread's `exit`).
    public func run(then end: @escaping @Sendable (GuestTermination) -> Never) -> Never {
        FaultHandler.install()
        let symbols = self.symbols
        FaultHandler.describe = { symbols.describe($0) }
        lock.withLock { processEnd = end }
        var clock = Stopwatch()
        switch mainThread.run() {
        case .process(let termination):
            endProcess(termination, runSeconds: clock.lap())
        case .thread(let status):
            // The main thread's exit ends the process only with its last thread, as its status.
            process.endThread(mainThread.cpu.thread)
            lock.withLock { while otherThreads > 0 { lock.wait() } }
            endProcess(.exited(status), runSeconds: clock.lap())
        }
    }

    /// Ends the process, once: a thread that ends it while another does waits for the end.
    private func endProcess(_ termination: GuestTermination, runSeconds: Double? = nil) -> Never {
        let end: (@Sendable (GuestTermination) -> Never)? = lock.withLock {
            guard !processEnding else { return nil }
            processEnding = true
            if let runSeconds { stats.runSeconds = runSeconds }
            return processEnd
        }
        guard let end else { while true { pause() } }
        end(termination)
    }

    /// clone of a thread: `cpu` runs on a new host thread. Returns its tid once `started` ran
    /// with it there, or -errno.
    func startThread(_ cpu: CPUState, started: @escaping @Sendable (Int32) -> Void) -> Int32 {
        let thread = GuestThread(cpu: cpu, engine: self, generators: CodeGenerators(options: options))
        let handshake = Handshake()
        lock.withLock { otherThreads += 1 }
        let result = BackgroundThread.start(runsGuest: true) {
            let own = hostThreadID()
            started(own)
            handshake.give(own)
            FaultHandler.installAlternateStack()
            self.runThread(thread)
        }
        guard result == 0 else {
            lock.withLock { otherThreads -= 1 }
            return -result
        }
        return handshake.take()
    }

    /// A cloned thread's life on its host thread.
    private func runThread(_ thread: GuestThread) {
        switch thread.run() {
        case .process(let termination): endProcess(termination)
        case .thread:
            process.endThread(thread.cpu.thread)
            lock.withLock {
                otherThreads -= 1
                lock.broadcast()
            }
        }
    }

    func enter(_ cpu: CPUState, _ pc: UInt64, _ code: UInt64) { enterStub(cpu.base, pc, code) }

    func countSyscall() { lock.withLock { stats.syscalls += 1 } }

    /// The host code for `pc`, translating its page if the slot is empty. On a guest
    /// fault, records the stop in the CPU state and returns code that just returns.
    func resolve(_ pc: UInt64, on thread: GuestThread) -> UInt64 {
        if pc < GuestLimits.addressSpaceSize {
            let slot = codeMap[pc]
            if slot != 0 { return slot }
        }
        lock.withLock { stats.mapMisses += 1 }
        guard pc < GuestLimits.addressSpaceSize, pc & 1 == 0, memory.isMapped(pc, 2, needs: PROT_EXEC) else {
            thread.cpu.pc = pc
            thread.cpu.stop(.fetchFault, detail: pc)
            return returnStub
        }
        // The speculation thread or another guest thread may be compiling it; else it is this
        // thread's to translate. No compilation starts while a fork waits.
        var waitClock = Stopwatch()
        let ready = lock.withLock {
            if speculation.compiling.contains(pc) {
                while speculation.compiling.contains(pc) { lock.wait() }
                stats.speculationWaits += 1
                stats.speculationWaitSeconds += waitClock.lap()
            }
            while translating.contains(pc) || forkPending { lock.wait() }
            if codeMap[pc] == 0, let code = enteredCodeCompiledAhead(for: pc) { codeMap[pc] = code }
            if codeMap[pc] == 0 {
                translating.insert(pc)
                guestCompilations += 1
            }
            return codeMap[pc]
        }
        if ready != 0 { return ready }
        defer {
            lock.withLock {
                translating.remove(pc)
                guestCompilations -= 1
                lock.broadcast()
            }
        }
        do {
            try translateRegion(at: pc, generator: thread.generators.firstTier())
        } catch {
            FaultHandler.die(signal: SIGABRT, message: "pagelift: internal error translating page 0x\(String(pc & ~0xfff, radix: 16)): \(error)")
        }
        return codeMap[pc]
    }

    /// Translates the code reachable from `pc` within its page into one region and
    /// installs every entry it contains. Code of the page translated earlier keeps its
    /// slots, so each miss costs only the code it newly reaches.
    private func translateRegion(at pc: UInt64, generator: CodeGenerator) throws {
        // Discovered and registered while the mappings cannot change (another guest thread may
        // unmap the code), so that an unmapping afterwards finds the region to invalidate.
        let (discovered, region) = memory.withStableMappings(at: pc) { _ in
            let discovered = discover(at: pc)
            return (discovered, lock.withLock { registerRegion(at: pc, page: discovered) })
        }
        // A run the cache serves needs no guessing (and must not compile what it guessed).
        if try installFromCache(region) { return }
        speculate(beyond: discovered, from: pc, distance: 1)
        try compileAndInstall(region, generator: generator)
    }

    /// A new region for the code discovered from `pc`, the one tier-up finds there. Under the lock.
    private func registerRegion(at pc: UInt64, page discovered: DiscoveredPage) -> Region {
        let region = newRegion(at: pc, page: discovered, name: RuntimeSymbols.regionFunction(pc),
                               fingerprint: cache.map { _ in CodeCache.fingerprint(of: discovered, entry: pc, loopHeadersAreEntries: options.tieringActive) })
        regionsByEntry[pc] = region
        return region
    }

    /// Installs `region`'s code from the disk cache, optimized if it is there. False on a miss.
    private func installFromCache(_ region: Region) throws -> Bool {
        try installMergedFromCache(region) || installFromCache(region, tier: 1)
            || (options.tieringActive && (try installFromCache(region, tier: 0)))
    }

    /// Compiles `region` with `generator`, stores it in the disk cache and installs it.
    private func compileAndInstall(_ region: Region, generator: CodeGenerator) throws {
        let (address, object) = try compileFirstTier(region, generator: generator)
        storeInCache(region, tier: options.tieringActive ? 0 : 1,
                     symbol: region.name + (region.installsOnlyItsEntry ? Self.onlyItsEntryMark : ""), object: object)
        lock.withLock {
            install(region, at: address)
        }
    }

    /// Points the slots `region`'s code fills at `address`, unless the code was invalidated
    /// meanwhile. Under the lock.
    private func install(_ region: Region, at address: UInt64) {
        guard region.valid else { return }
        for entry in region.installedEntries { codeMap[entry] = address }
    }

    /// Code compiled ahead of the guest that has `pc` among its entries and that the guest has
    /// entered (at the one entry it filled, see `Region.installsOnlyItsEntry`): a run that loads
    /// it from the cache has entered it by then too, and finds it the same way. Under the lock.
    private func enteredCodeCompiledAhead(for pc: UInt64) -> UInt64? {
        regionsByPage[DiscoveredPage.pageOf(pc)]?.last {
            $0.valid && $0.installsOnlyItsEntry && ($0.counter?.pointee ?? 0) > 0 && $0.page.entries.contains(pc)
        }?.generalCode
    }

    /// Has the speculation thread compile, before the guest gets there, the code where `page`
    /// (entered at `pc`) leaves for other pages: translation is most of a short run, the guest
    /// thread can only compile what it reached, and the second core is idle until something gets
    /// hot. `distance` counts the translations between that code and code the guest reached.
    /// The thread itself finds the exits, off the guest thread.
    private func speculate(beyond page: DiscoveredPage, from pc: UInt64, distance: Int) {
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
    private func speculateForever() {
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
    private func queueCandidates(_ exits: [UInt64], distance: Int) {
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
    private func speculativelyTranslate(_ pc: UInt64, distance: Int, generator: CodeGenerator) {
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

    /// The code reachable from `pc` in its page, as the first tier translates it. It reads guest
    /// memory, so it runs inside `GuestMemory.withStableMappings`.
    private func discover(at pc: UInt64) -> DiscoveredPage {
        DiscoveredPage.discover(page: pc & ~(DiscoveredPage.pageSize - 1), entries: [pc], loopHeadersAreEntries: options.tieringActive,
                                callReturns: symbols.callMayReturn, fetch: memory.instructionParcel(at:))
    }

    /// Compiles `region` cheaply (profiled, with tiering; else at the run's level) with `generator`,
    /// the guest thread's or the speculation thread's.
    private func compileFirstTier(_ region: Region, generator: CodeGenerator) throws -> (UInt64, ObjectCode) {
        let profile = options.tieringActive ? RegionProfile(entry: region.entry, threshold: options.tiers.hotThreshold) : nil
        var timing = TierStatistics()
        let (address, object) = try compile(region, name: region.name, tier: 0, profile: profile, pipeline: basePipeline,
                                            generator: generator, timing: &timing)
        if profile != nil { region.counter = try counter(of: region) }
        region.generalCode = address
        lock.withLock {
            stats.base.add(timing)
            if region.speculative { stats.speculated.add(timing) }
        }
        return (address, object)
    }

    /// `name`, numbered when it was used before (code of a remapped page, a region compiled again). Under the lock.
    private func uniqueName(_ name: String) -> String {
        let uses = namesUsed[name, default: 0]
        namesUsed[name] = uses + 1
        return uses == 0 ? name : "\(name).\(uses)"
    }

    /// A region named `name` (see `uniqueName`), registered for invalidation. Under the lock.
    private func newRegion(at pc: UInt64, page: DiscoveredPage, name: String, fingerprint: [UInt8]?) -> Region {
        let region = Region(entry: pc, page: page, name: uniqueName(name), fingerprint: fingerprint)
        regionsByPage[page.page, default: []].append(region)
        return region
    }

    /// Lifts, optimizes, generates and links one region; returns its host address.
    private func compile(_ region: Region, name: String, tier: Int, profile: RegionProfile?, pipeline: PassPipeline,
                         generator: CodeGenerator, timing: inout TierStatistics) throws -> (UInt64, ObjectCode) {
        var clock = Stopwatch()
        // Dumps are read: their IR carries names and disassembly; code only compiled has neither.
        let shown = options.dumpIRDirectory != nil
        let module = IRModule(name: name, keepsValueNames: shown)
        let symbols = self.symbols
        // Only optimized code that has a first compilation to fall back on assumes round-to-nearest.
        PageLifter(describe: { symbols.describe($0) }, profile: profile, annotate: shown,
                   assumesRoundToNearest: tier == 1 && options.tieringActive, tracksFloatFlags: tracksFloatFlags)
            .lift(region.page, into: module, functionName: name)
        timing.liftSeconds += clock.lap()
        dump(module, name: name, stage: "lifted")
        try pipeline.run(on: module, targetMachine: generator.targetMachine)
        timing.optimizeSeconds += clock.lap()
        dump(module, name: name, stage: "optimized")
        let assembly = options.dumpAssembly && options.dumpIRDirectory != nil ? try generator.assembly(for: module) : nil
        let object = try generator.object(for: module)
        let address = try jit.load(object, symbol: name)
        timing.codegenSeconds += clock.lap()
        if options.perfMap || options.dumpIRDirectory != nil {
            let size = object.codeSize
            let symbol = symbols.describe(region.entry)
            recordInstalledCode(region, address: address, size: size, tier: tier)
            lock.withLock {
                if let directory = options.dumpIRDirectory {
                    if let assembly { writeFile("\(directory)/\(name).s", assembly) }
                    let milliseconds = Int(((timing.liftSeconds + timing.optimizeSeconds + timing.codegenSeconds) * 1000).rounded())
                    appendLine(to: "\(directory)/index.tsv", [hexDigits(region.entry, width: 1), symbol, String(tier),
                                                              String(milliseconds), String(size), name].joined(separator: "\t"))
                }
            }
        }
        timing.regions += 1
        timing.guestInstructions += region.page.instructions.count
        timing.codeBytes += object.bytes.count
        return (address, object)
    }

    /// Names installed code for perf: `/tmp/perf-PID.map` lines of address, size and guest symbol.
    private func recordInstalledCode(_ region: Region, address: UInt64, size: UInt64, tier: Int) {
        guard options.perfMap else { return }
        let line = "\(String(address, radix: 16)) \(String(size, radix: 16)) \(symbols.describe(region.entry)) [tier \(tier)]"
        lock.withLock { appendLine(to: "/tmp/perf-\(getpid()).map", line) }
    }

    /// The cache key of `region`'s code at `tier` (1: the run's level and pipeline; 0: the cheap tier, with counting).
    private func cacheKey(_ region: Region, tier: Int) -> [UInt8]? {
        // With tiering, optimized code assumes round-to-nearest-even (see `PageLifter.assumesRoundToNearest`).
        let pipeline = (tier == 1 ? optimizedPipeline.text + (options.tieringActive ? " nearest-only" : "")
            : basePipeline.text + " profiled \(options.tiers.hotThreshold)") + " llvm \(options.tiers.llvmOptions)"
            + (tracksFloatFlags ? "" : " flags-unobserved")
        return region.fingerprint.map { CodeCache.key(fingerprint: $0, pipeline: pipeline, level: tier == 1 ? options.optimizationLevel : 0) }
    }

    /// Installs `region`'s code at `tier` from the disk cache. False on a miss.
    private func installFromCache(_ region: Region, tier: Int) throws -> Bool {
        // Dumping asks to see code compiled, so it does not read the cache.
        guard let cache, options.dumpIRDirectory == nil, let key = cacheKey(region, tier: tier),
              var (object, symbol) = cache.load(key) else { return false }
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
    private static let onlyItsEntryMark = " only-its-entry"

    private func storeInCache(_ region: Region, tier: Int, symbol: String, object: ObjectCode) {
        guard let cache else { return }
        guard let key = cacheKey(region, tier: tier) else { return }
        cache.store(key, symbol: symbol, object: object)
        lock.withLock { stats.cacheStores += 1 }
    }

    /// The linked address of a profiled region's counter (its object, linked, defines it).
    private func counter(of region: Region) throws -> UnsafeMutablePointer<UInt64>? {
        UnsafeMutablePointer(bitPattern: UInt(try jit.lookup(RuntimeSymbols.regionCounter(region.name))))
    }

    /// Code for `pc` that honours every rounding mode, for optimized code (which assumes
    /// round-to-nearest-even, see `PageLifter.assumesRoundToNearest`) entered under another:
    /// the first compilation of a region with that entry, or one compiled now (the optimized code
    /// may have come from the cache). Its counter restarts, so its loops run a while before they
    /// look for optimized code again.
    func generalCode(_ pc: UInt64, on thread: GuestThread) -> UInt64 {
        let page = pc & ~(DiscoveredPage.pageSize - 1)
        let known: Region? = lock.withLock {
            regionsByPage[page]?.last { $0.valid && $0.generalCode != nil && $0.page.entries.contains(pc) }
        }
        if let known, let code = known.generalCode {
            known.counter?.pointee = 0
            return code
        }
        do {
            let region: Region = memory.withStableMappings(at: pc) { _ in
                let discovered = discover(at: pc)
                return lock.withLock {
                    let region = newRegion(at: pc, page: discovered, name: RuntimeSymbols.regionFunction(pc) + ".general", fingerprint: nil)
                    region.promoted = true
                    return region
                }
            }
            return try compileFirstTier(region, generator: thread.generators.firstTier()).0
        } catch {
            FaultHandler.die(signal: SIGABRT, message: "pagelift: internal error translating 0x\(String(pc, radix: 16)) for a rounding mode: \(error)")
        }
    }

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
                do { try recompileOptimized(merged, promoting: region, generator: thread.generators.optimizing()) } catch {
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
    private func startTierUpThread() {
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
    private func optimizedRegion(promoting promoted: Region, entries: Set<UInt64>, replacing previous: Region? = nil) -> Region {
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
    private func withWarmCallees(_ page: UInt64, entries: Set<UInt64>) -> DiscoveredPage {
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
    private func discoverOptimized(_ page: UInt64, entries: Set<UInt64>, callees: [UInt64]) -> DiscoveredPage {
        DiscoveredPage.discover(page: page, entries: entries.sorted(), callees: callees, loopHeadersAreEntries: true,
                                copiesEntriesInLoops: true, callReturns: symbols.callMayReturn, fetch: memory.instructionParcel(at:))
    }

    /// A region for the optimized code of `page` (see `discoverOptimized`), registered for
    /// invalidation in every page it holds code of, named after `region` unless `name` is given.
    private func mergedRegion(of region: Region, page: DiscoveredPage, name: String? = nil) -> Region {
        let merged = Region(entry: region.entry, page: page, name: name ?? region.name,
                            fingerprint: cache.map { _ in CodeCache.fingerprint(of: page, entry: region.entry, loopHeadersAreEntries: true) })
        merged.promoted = true
        for codePage in page.pages { regionsByPage[codePage, default: []].append(merged) }
        return merged
    }

    /// The optimized code of a merged region `region` was promoted into in an earlier run: the cache
    /// remembers the entries and callees that were merged (by `region`'s key), and the merged code
    /// is found by the key of what those reach now, so a change anywhere in it misses.
    private func installMergedFromCache(_ region: Region) throws -> Bool {
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
    private func mergeKey(_ region: Region) -> [UInt8]? {
        region.fingerprint.map { CodeCache.key(fingerprint: $0, pipeline: optimizedPipeline.text + " merged entries", level: options.optimizationLevel) }
    }

    private func recompileOptimized(_ region: Region, promoting promoted: Region, generator: CodeGenerator) throws {
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

    private func dump(_ module: IRModule, name: String, stage: String) {
        guard let directory = options.dumpIRDirectory else { return }
        writeFile("\(directory)/\(name).\(stage).ll", AnnotatedIR.render(module.text))
    }

    /// Guest memory at [start, end) changed: its translated code must not run again.
    private func invalidate(_ start: UInt64, _ end: UInt64) { invalidate([(start, end)]) }

    /// The same for several ranges, in one pass over the translated pages.
    private func invalidate(_ ranges: [(start: UInt64, end: UInt64)]) {
        lock.withLock {
            for (page, pageRegions) in regionsByPage where ranges.contains(where: { page + DiscoveredPage.pageSize > $0.start && page < $0.end }) {
                for region in pageRegions {
                    region.valid = false
                    for entry in region.page.mapEntries { codeMap[entry] = 0 }
                }
                regionsByPage[page] = nil
            }
        }
    }

    /// fence.i: the code in mappings that can change without a mapping call (writable ones, and
    /// shared ones another mapping may write) is translated again when next reached; the guest
    /// goes on after the fence. One pass over the translated pages, however many mappings.
    func flushInstructions(on thread: GuestThread) {
        invalidate(memory.regions.filter { $0.protection & PROT_WRITE != 0 || $0.shared }.map { ($0.start, $0.end) })
        thread.cpu.pc &+= 4
    }

    func readCounter(_ csr: Int32) -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
    }
}

typealias EnterFunction = @convention(c) (UnsafeMutableRawPointer, UInt64, UInt64) -> Void

private func guestThread(_ cpu: UnsafeMutableRawPointer) -> GuestThread {
    Unmanaged<GuestThread>.fromOpaque(cpu.load(fromByteOffset: CPULayout.runtime, as: UnsafeMutableRawPointer.self)).takeUnretainedValue()
}

// Runtime entries keep the guest's accrued floating-point flags (host MXCSR) out of reach
// of whatever arithmetic the runtime and LLVM do on this thread.
private let resolveHelper: @convention(c) (UnsafeMutableRawPointer, UInt64) -> UInt64 = { cpu, pc in
    GuestFloatFlags.preserved { let thread = guestThread(cpu); return thread.engine.resolve(pc, on: thread) }
}
private let syscallHelper: @convention(c) (UnsafeMutableRawPointer) -> Int32 = { cpu in
    GuestFloatFlags.preserved { guestThread(cpu).syscall() }
}
private let regionHotHelper: @convention(c) (UnsafeMutableRawPointer, UInt64) -> Void = { cpu, entry in
    GuestFloatFlags.preserved { let thread = guestThread(cpu); thread.engine.promote(entry: entry, on: thread) }
}
private let flushInstructionsHelper: @convention(c) (UnsafeMutableRawPointer) -> Void = { cpu in
    GuestFloatFlags.preserved { let thread = guestThread(cpu); thread.engine.flushInstructions(on: thread) }
}
private let readCounterHelper: @convention(c) (UnsafeMutableRawPointer, Int32) -> UInt64 = { cpu, csr in
    GuestFloatFlags.preserved { guestThread(cpu).engine.readCounter(csr) }
}
private let generalCodeHelper: @convention(c) (UnsafeMutableRawPointer, UInt64) -> UInt64 = { cpu, pc in
    GuestFloatFlags.preserved { let thread = guestThread(cpu); return thread.engine.generalCode(pc, on: thread) }
}

/// While translated code runs, the guest's floating-point exception flags accrue in the host's
/// (MXCSR); fcsr holds the rest. Runtime code in between must neither add to them nor lose them.
enum GuestFloatFlags {
    static func preserved<T>(_ body: () -> T) -> T {
        let flags = pagelift_host_float_flags()
        defer { pagelift_set_host_float_flags(flags) }
        return body()
    }
}

private func writeFile(_ path: String, _ text: String) {
    guard let file = fopen(path, "w") else {
        FaultHandler.die(signal: SIGABRT, message: "pagelift: cannot write \(path): \(String(cString: strerror(errno)))")
    }
    fputs(text, file)
    fclose(file)
}

private func appendLine(to path: String, _ line: String) {
    guard let file = fopen(path, "a") else {
        FaultHandler.die(signal: SIGABRT, message: "pagelift: cannot write \(path): \(String(cString: strerror(errno)))")
    }
    fputs(line + "\n", file)
    fclose(file)
}

extension TierStatistics {
    mutating func add(_ other: TierStatistics) {
        regions += other.regions
        guestInstructions += other.guestInstructions
        liftSeconds += other.liftSeconds
        optimizeSeconds += other.optimizeSeconds
        codegenSeconds += other.codegenSeconds
        codeBytes += other.codeBytes
    }
}

struct Stopwatch {
    private var last = Stopwatch.now()
    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
    mutating func lap() -> Double {
        let current = Self.now()
        defer { last = current }
        return current - last
    }
}

/// The speculation thread's work, and the entries of what it is compiling.
private struct Speculation {
    /// Candidates kept: the guest moves on, and older ones are less likely to be needed soon.
    static let queueLength = 16
    var candidates: [(pc: UInt64, distance: Int)] = []
    /// Regions translated (and where they were entered) whose exits are not queued yet.
    var regionsToLookBeyond: [(page: DiscoveredPage, pc: UInt64, distance: Int)] = []
    /// The entries of the regions being compiled (each fills only its entry's slot).
    var compiling = Set<UInt64>()
    var started = false
}

/// One value handed from one thread to another that waits for it.
private final class Handshake: @unchecked Sendable {
    private let lock = Lock()
    private var value: Int32?
    func give(_ given: Int32) { lock.withLock { value = given; lock.broadcast() } }
    func take() -> Int32 { lock.withLock { while value == nil { lock.wait() }; return value! } }
}
