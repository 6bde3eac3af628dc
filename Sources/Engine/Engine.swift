#if canImport(Glibc)
import Glibc
#endif
import CHostFloat
import CHostSyscall
import CLLVM
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
    /// When translated code logs its stores (`PageLifter.logsStores`), which makes the state of a
    /// fault a guest handler gets exact where a replay alone cannot tell it.
    public var storeLog = StoreLogMode.automatic
    public init() {}

    var tieringActive: Bool { tiering && (optimizationLevel > 0 || pipeline != nil) }
}

/// When translated code keeps a store log (see `PageLifter.logsStores`).
public enum StoreLogMode: String, Sendable, CaseIterable {
    /// From the first SIGSEGV or SIGBUS handler the guest installs (Go's and Rust's runtimes do,
    /// at start-up): only a program that can see a fault's state pays for it.
    case automatic = "auto"
    case always
    case never
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

/// Runs one guest program, the translator all its threads share: resolves guest pcs to host
/// code through the code map, translating a page whenever a slot is empty. Each guest thread
/// runs its own dispatcher loop (`GuestThread`).
public final class Engine: @unchecked Sendable {
    public let memory: GuestMemory
    public let process: LinuxProcess
    /// The program's first thread, which `run` runs on the calling host thread.
    var mainThread: GuestThread!
    /// Guest threads started by `clone` that have not ended.
    var otherThreads = 0
    /// Every guest thread, for stopping the others while one replays a fault (see `stopOtherThreads`).
    var guestThreads: [ObjectIdentifier: GuestThread] = [:]
    /// The pcs guest threads are translating (another thread missing on one waits for it).
    var translating = Set<UInt64>()
    /// Guest threads inside `usingLLVM`, which a fork waits for (LLVM's locks must be free).
    var guestCompilations = 0
    /// What ends the process, once (see `run`).
    var processEnd: (@Sendable (GuestTermination) -> Never)?
    var processEnding = false
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
    var stats = EngineStatistics()
    let jit: JIT
    let codeMap: CodeMap
    /// The pipeline and code generator of the first compilation, and of the hot recompilation.
    let basePipeline: PassPipeline, optimizedPipeline: PassPipeline
    let baseGenerator: CodeGenerator
    /// The tier-up thread's.
    var tierUpGenerators: CodeGenerators
    /// Regions by page for invalidation, and by entry for tier-up.
    var regionsByPage: [UInt64: [Region]] = [:]
    var regionsByEntry: [UInt64: Region] = [:]
    /// Optimized regions (and the region they promoted) by the functions outside them they jump or
    /// call to directly, while those are not optimized themselves.
    var optimizedCallers: [UInt64: [(promoted: Region, merged: Region)]] = [:]
    var namesUsed: [String: Int] = [:]
    let lock = Lock()
    let cache: CodeCache?
    /// The JIT'd entry into translated code, and the region function that returns from it.
    var enterStub: pagelift_enter_function! = nil
    var returnStub: UInt64 = 0
    /// Optimized recompilations waiting for the tier-up thread.
    var tierUpQueue: [() -> Void] = []
    var tierUpStarted = false
    /// Optimized recompilations queued or running; the speculation thread waits for them.
    var tierUpJobs = 0
    /// A fork is under way: the background threads finish their job and wait (see `prepareFork`).
    var forkPending = false
    var speculationBusy = false
    /// Whether the tier-up thread is inside a job (the jobs counted are queued or running).
    var tierUpBusy: Bool { tierUpJobs > tierUpQueue.count }
    var speculation = Speculation()
    /// Code lifted for fault replay, by entry pc (see `replayCode(at:on:)`).
    var replayCode: [UInt64: UInt64] = [:]
    var replayFunctions = 0
    /// Code lifted from now on logs its stores; set before the code that did not is dropped.
    var liftsStoreLog = false
    /// All code a thread can reach logs its stores (set after that code was dropped): a thread
    /// that enters code after reading this has a complete log from that point on.
    private(set) var storeLogActive = false

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
            RuntimeSymbols.resolveAtCheckpoint: unsafeBitCast(resolveAtCheckpointHelper, to: UInt64.self),
            RuntimeSymbols.syscall: unsafeBitCast(syscallHelper, to: UInt64.self),
            RuntimeSymbols.readCounter: unsafeBitCast(readCounterHelper, to: UInt64.self),
            RuntimeSymbols.generalCode: unsafeBitCast(generalCodeHelper, to: UInt64.self),
            RuntimeSymbols.flushInstructions: unsafeBitCast(flushInstructionsHelper, to: UInt64.self),
            RuntimeStubs.roundedOperationImplementation: unsafeBitCast(roundedOperationHelper, to: UInt64.self),
            RuntimeSymbols.replayAccess: unsafeBitCast(replayAccessEntry, to: UInt64.self),
            RuntimeSymbols.checkpoint: unsafeBitCast(checkpointHelper, to: UInt64.self),
        ])
        pagelift_set_replay_function(replayAccessCallback)
        let stubs = IRModule(name: "pagelift_runtime")
        RuntimeStubs.emit(into: stubs)
        let stubObject = try baseGenerator.object(for: stubs)
        let stubAddresses = try jit.load(stubObject, symbols: [RuntimeStubs.enter, RuntimeStubs.returnToDispatcher])
        enterStub = unsafeBitCast(stubAddresses[0], to: pagelift_enter_function.self)
        returnStub = stubAddresses[1]
        if let directory = options.dumpIRDirectory {
            writeFile("\(directory)/index.tsv", "address\tsymbol\ttier\tcompile_ms\tcode_bytes\tfunction\n")
        }
        if options.perfMap { writeFile("/tmp/perf-\(getpid()).map", "") }
        let cpu = CPUState(thread: process.initialThread)
        cpu.pc = program.entry
        cpu[x: 2] = program.stackPointer
        mainThread = GuestThread(cpu: cpu, engine: self, generators: CodeGenerators(options: options, base: baseGenerator))
        guestThreads[ObjectIdentifier(mainThread)] = mainThread
        memory.onInvalidate = { [unowned self] start, end in self.invalidate(start, end) }
        var hooks = ProcessHooks()
        hooks.prepareFork = { [unowned self] in self.prepareFork() }
        hooks.afterFork = { [unowned self] inChild in self.afterFork(inChild: inChild) }
        hooks.startThread = { [unowned self] cpu, started in self.startThread(cpu, started: started) }
        hooks.translatorPath = options.translatorPath
        hooks.translatorOptions = options.translatorOptions
        switch options.storeLog {
        case .always: (liftsStoreLog, storeLogActive) = (true, true)
        case .automatic: hooks.faultHandlerInstalled = { [unowned self] in self.startStoreLog() }
        case .never: break
        }
        process.hooks = hooks
    }

    /// From now on translated code logs its stores: code that does not is dropped, and each
    /// thread goes on in code that does at its next dispatcher entry (see `syscallHelper`).
    func startStoreLog() {
        guard !lock.withLock({ liftsStoreLog }) else { return }
        // Every thread has its ring before any can reach code that logs (through a miss).
        lock.withLock {
            liftsStoreLog = true
            for thread in guestThreads.values { thread.prepareStoreLog() }
        }
        invalidate(0, GuestLimits.addressSpaceSize)
        lock.withLock { storeLogActive = true }
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
                let forking = pagelift_current_cpu()
                guestThreads = guestThreads.filter { $0.value.cpu.base == forking }
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
    func endProcess(_ termination: GuestTermination, runSeconds: Double? = nil) -> Never {
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
        lock.withLock {
            otherThreads += 1
            guestThreads[ObjectIdentifier(thread)] = thread
            // Checkpoints after atomics are taken from now on (see `checkpointAfterSynchronization`).
            for other in guestThreads.values { other.cpu.base.storeBytes(of: UInt32(1), toByteOffset: CPULayout.otherThreads, as: UInt32.self) }
        }
        let result = BackgroundThread.start(runsGuest: true) {
            let own = hostThreadID()
            started(own)
            handshake.give(own)
            FaultHandler.installAlternateStack()
            self.runThread(thread)
        }
        guard result == 0 else {
            lock.withLock {
                otherThreads -= 1
                guestThreads[ObjectIdentifier(thread)] = nil
            }
            return -result
        }
        return handshake.take()
    }

    /// A cloned thread's life on its host thread.
    func runThread(_ thread: GuestThread) {
        switch thread.run() {
        case .process(let termination): endProcess(termination)
        case .thread:
            process.endThread(thread.cpu.thread)
            lock.withLock {
                otherThreads -= 1
                guestThreads[ObjectIdentifier(thread)] = nil
                lock.broadcast()
            }
        }
    }

    /// Stops the other guest threads: returns once none runs translated code, each having left
    /// it at its next safe point (the poll that sees its signal word set) or being in a syscall
    /// or the runtime; none goes back into it until `resumeOtherThreads`. While `thread`
    /// replays a fault, no other thread changes memory the replay reads (Go's runtime marks a
    /// goroutine for preemption while the replay compiles).
    func stopOtherThreads(except thread: GuestThread) {
        lock.withLock {
            pagelift_add_world_stops(1)
            for (_, other) in guestThreads where other !== thread { pagelift_set_signal_bits(other.cpu.signalPendingFlag, 2) }
            while guestThreads.values.contains(where: { $0 !== thread && pagelift_runs_guest_code($0.cpu.base) != 0 }) { lock.wait() }
        }
    }

    /// `thread` goes into translated code (from the dispatcher, or back from a syscall or a
    /// miss), once no replay wants the world stopped. Without a replay, two atomic accesses
    /// and no lock (the lock cost 40 ns a syscall).
    func enterGuestCode(_ thread: GuestThread) {
        while pagelift_try_enter_guest_code(thread.cpu.base) == 0 {
            waitWhileOtherThreadsStopped()
        }
    }

    /// `thread` left translated code for the dispatcher, a syscall or a miss.
    func leaveGuestCode(_ thread: GuestThread) {
        if pagelift_leave_guest_code(thread.cpu.base) != 0 { lock.withLock { lock.broadcast() } }
    }

    func resumeOtherThreads() {
        lock.withLock {
            pagelift_add_world_stops(-1)
            lock.broadcast()
        }
    }

    /// At a safe point of `thread`: waits while another thread replays a fault. (The count of
    /// stops changes under the lock, which broadcasts.)
    func waitWhileOtherThreadsStopped() {
        lock.withLock { while pagelift_world_stops() > 0 { lock.wait() } }
    }

    /// Runs translated code `code` for `pc` on `cpu`. Returns false when a host fault in guest
    /// memory left it (see `GuestThread.recoverFault`).
    func enter(_ cpu: CPUState, _ pc: UInt64, _ code: UInt64) -> Bool { enterGuarded(cpu, pc, code) == 0 }

    /// `pagelift_enter_guarded`'s answer: 0 returned, 1 left by a fault, 2 left by a replay's end.
    func enterGuarded(_ cpu: CPUState, _ pc: UInt64, _ code: UInt64) -> Int32 {
        pagelift_enter_guarded(enterStub, cpu.base, pc, code)
    }

    /// The guest pages whose code the regions entered at `entry` hold (nil when none is left):
    /// where a fault in their code was.
    func codePages(ofRegionEnteredAt entry: UInt64) -> Set<UInt64>? {
        lock.withLock {
            let regions = (regionsByPage[DiscoveredPage.pageOf(entry)] ?? []).filter { $0.page.entries.contains(entry) || $0.page.entryCopies[entry] != nil }
            return regions.isEmpty ? nil : Set(regions.flatMap { $0.page.pages })
        }
    }

    /// Code for `pc` lifted for fault replay (`PageLifter.replaying`), compiled on first use.
    func replayCode(at pc: UInt64, on thread: GuestThread) throws -> UInt64? {
        if let code = lock.withLock({ replayCode[pc] }) { return code }
        guard pc & 1 == 0, memory.isMapped(pc, 2, needs: PROT_EXEC) else { return nil }
        let page = memory.withStableMappings(at: pc) { _ in discover(at: pc) }
        let name = lock.withLock {
            replayFunctions += 1
            return "replay_\(String(pc, radix: 16))_\(replayFunctions)"
        }
        let code = try usingLLVM {
            let generator = try thread.generators.firstTier()
            let module = IRModule(name: name, keepsValueNames: false)
            PageLifter(profile: nil, annotate: false, tracksFloatFlags: tracksFloatFlags, replaying: true).lift(page, into: module, functionName: name)
            try basePipeline.run(on: module, targetMachine: generator.targetMachine)
            return try jit.load(generator.object(for: module), symbol: name)
        }
        lock.withLock { replayCode[pc] = code }
        return code
    }

    /// Runs `body`, in which a guest thread compiles or links code, once no fork waits; a fork
    /// waits for every such body to end (see `prepareFork`). Every compilation on a guest thread
    /// goes through here: a miss, code for a rounding mode, a synchronous tier-up.
    func usingLLVM<T>(_ body: () throws -> T) rethrows -> T {
        lock.withLock {
            while forkPending { lock.wait() }
            guestCompilations += 1
        }
        defer {
            lock.withLock {
                guestCompilations -= 1
                lock.broadcast()
            }
        }
        return try body()
    }

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
            while translating.contains(pc) { lock.wait() }
            if codeMap[pc] == 0, let code = enteredCodeCompiledAhead(for: pc) { codeMap[pc] = code }
            if codeMap[pc] == 0 { translating.insert(pc) }
            return codeMap[pc]
        }
        if ready != 0 { return ready }
        defer {
            lock.withLock {
                translating.remove(pc)
                lock.broadcast()
            }
        }
        do {
            try usingLLVM { try translateRegion(at: pc, generator: thread.generators.firstTier()) }
        } catch {
            FaultHandler.die(signal: SIGABRT, message: "pagelift: internal error translating page 0x\(String(pc & ~0xfff, radix: 16)): \(error)")
        }
        let code = codeMap[pc]
        // Dropped while it compiled (another thread unmapped it, or started the store log): again.
        return code != 0 ? code : resolve(pc, on: thread)
    }

    /// Translates the code reachable from `pc` within its page into one region and
    /// installs every entry it contains. Code of the page translated earlier keeps its
    /// slots, so each miss costs only the code it newly reaches.
    func translateRegion(at pc: UInt64, generator: CodeGenerator) throws {
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
    func registerRegion(at pc: UInt64, page discovered: DiscoveredPage) -> Region {
        let region = newRegion(at: pc, page: discovered, name: RuntimeSymbols.regionFunction(pc),
                               fingerprint: cache.map { _ in CodeCache.fingerprint(of: discovered, entry: pc, loopHeadersAreEntries: options.tieringActive) })
        regionsByEntry[pc] = region
        return region
    }

    /// Compiles `region` with `generator`, stores it in the disk cache and installs it.
    func compileAndInstall(_ region: Region, generator: CodeGenerator) throws {
        let (address, object) = try compileFirstTier(region, generator: generator)
        storeInCache(region, tier: options.tieringActive ? 0 : 1,
                     symbol: region.name + (region.installsOnlyItsEntry ? Self.onlyItsEntryMark : ""), object: object)
        lock.withLock {
            install(region, at: address)
        }
    }

    /// Points the slots `region`'s code fills at `address`, unless the code was invalidated
    /// meanwhile. Under the lock.
    func install(_ region: Region, at address: UInt64) {
        guard region.valid else { return }
        for entry in region.installedEntries { codeMap[entry] = address }
    }

    /// Code compiled ahead of the guest that has `pc` among its entries and that the guest has
    /// entered (at the one entry it filled, see `Region.installsOnlyItsEntry`): a run that loads
    /// it from the cache has entered it by then too, and finds it the same way. Under the lock.
    func enteredCodeCompiledAhead(for pc: UInt64) -> UInt64? {
        regionsByPage[DiscoveredPage.pageOf(pc)]?.last {
            $0.valid && $0.installsOnlyItsEntry && ($0.counter?.pointee ?? 0) > 0 && $0.page.entries.contains(pc)
        }?.generalCode
    }

    /// The code reachable from `pc` in its page, as the first tier translates it. It reads guest
    /// memory, so it runs inside `GuestMemory.withStableMappings`.
    func discover(at pc: UInt64) -> DiscoveredPage {
        DiscoveredPage.discover(page: pc & ~(DiscoveredPage.pageSize - 1), entries: [pc], loopHeadersAreEntries: options.tieringActive,
                                callReturns: symbols.callMayReturn, fetch: memory.instructionParcel(at:))
    }

    /// Compiles `region` cheaply (profiled, with tiering; else at the run's level) with `generator`,
    /// the guest thread's or the speculation thread's.
    func compileFirstTier(_ region: Region, generator: CodeGenerator) throws -> (UInt64, ObjectCode) {
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
    func uniqueName(_ name: String) -> String {
        let uses = namesUsed[name, default: 0]
        namesUsed[name] = uses + 1
        return uses == 0 ? name : "\(name).\(uses)"
    }

    /// A region named `name` (see `uniqueName`), registered for invalidation. Under the lock.
    func newRegion(at pc: UInt64, page: DiscoveredPage, name: String, fingerprint: [UInt8]?) -> Region {
        let region = Region(entry: pc, page: page, name: uniqueName(name), fingerprint: fingerprint, logsStores: liftsStoreLog)
        regionsByPage[page.page, default: []].append(region)
        return region
    }

    /// Lifts, optimizes, generates and links one region; returns its host address.
    func compile(_ region: Region, name: String, tier: Int, profile: RegionProfile?, pipeline: PassPipeline,
                         generator: CodeGenerator, timing: inout TierStatistics) throws -> (UInt64, ObjectCode) {
        var clock = Stopwatch()
        // Dumps are read: their IR carries names and disassembly; code only compiled has neither.
        let shown = options.dumpIRDirectory != nil
        let module = IRModule(name: name, keepsValueNames: shown)
        let symbols = self.symbols
        // Only optimized code that has a first compilation to fall back on assumes round-to-nearest.
        PageLifter(describe: { symbols.describe($0) }, profile: profile, annotate: shown,
                   assumesRoundToNearest: tier == 1 && options.tieringActive, tracksFloatFlags: tracksFloatFlags,
                   logsStores: region.logsStores, logsStoresInLoops: profile != nil || options.optimizationLevel == 0)
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
    func recordInstalledCode(_ region: Region, address: UInt64, size: UInt64, tier: Int) {
        guard options.perfMap else { return }
        let line = "\(String(address, radix: 16)) \(String(size, radix: 16)) \(symbols.describe(region.entry)) [tier \(tier)]"
        lock.withLock { appendLine(to: "/tmp/perf-\(getpid()).map", line) }
    }

    /// The linked address of a profiled region's counter (its object, linked, defines it).
    func counter(of region: Region) throws -> UnsafeMutablePointer<UInt64>? {
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
            return try usingLLVM { try compileFirstTier(region, generator: thread.generators.firstTier()).0 }
        } catch {
            FaultHandler.die(signal: SIGABRT, message: "pagelift: internal error translating 0x\(String(pc, radix: 16)) for a rounding mode: \(error)")
        }
    }

    func dump(_ module: IRModule, name: String, stage: String) {
        guard let directory = options.dumpIRDirectory else { return }
        writeFile("\(directory)/\(name).\(stage).ll", AnnotatedIR.render(module.text))
    }

    /// Guest memory at [start, end) changed: its translated code must not run again.
    func invalidate(_ start: UInt64, _ end: UInt64) { invalidate([(start, end)]) }

    /// The same for several ranges, in one pass over the translated pages.
    func invalidate(_ ranges: [(start: UInt64, end: UInt64)]) {
        lock.withLock {
            for (page, pageRegions) in regionsByPage where ranges.contains(where: { page + DiscoveredPage.pageSize > $0.start && page < $0.end }) {
                for region in pageRegions {
                    region.valid = false
                    for entry in region.page.mapEntries { codeMap[entry] = 0 }
                }
                regionsByPage[page] = nil
            }
            replayCode = replayCode.filter { pc, _ in !ranges.contains { pc >= $0.start && pc < $0.end } }
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


/// One value handed from one thread to another that waits for it.
private final class Handshake: @unchecked Sendable {
    private let lock = Lock()
    private var value: Int32?
    func give(_ given: Int32) { lock.withLock { value = given; lock.broadcast() } }
    func take() -> Int32 { lock.withLock { while value == nil { lock.wait() }; return value! } }
}
