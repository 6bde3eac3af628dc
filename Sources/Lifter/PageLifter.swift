import CLLVM
import ELF
import Guest
import RISCV

/// Names shared by the lifter (which references them) and the engine (which defines them).
public enum RuntimeSymbols {
    /// Absolute symbol at the host address of guest address 0.
    public static let guestMemory = "pagelift_guest_memory"
    /// Absolute symbol at the host code map: slot for pc at +(pc >> 1) * 8.
    public static let codeMap = "pagelift_code_map"
    /// `ptr resolve(ptr cpu, i64 pc)`: translates on a map miss, returns the code to tail-call.
    public static let resolve = "pagelift_resolve"
    /// The same for code that logs stores, which calls it with the whole state in the CPU state
    /// (cpu.pc the target): the state after a miss, which may compile for long, is a checkpoint.
    public static let resolveAtCheckpoint = "pagelift_resolve_at_checkpoint"
    /// `i32 syscall(ptr cpu)`: nonzero means stop (exit, fatal signal).
    public static let syscall = "pagelift_syscall"
    /// `i64 read_counter(ptr cpu, i32 csr)`: cycle, time, instret.
    public static let readCounter = "pagelift_read_counter"
    /// `preserve_all i64 rounded(i32 operation, i32 double, i32 mode, i64 a, i64 b, i64 c)`: an FP
    /// operation in a rounding mode other than round-to-nearest-even (`RoundedOperation`).
    public static let roundedOperation = "pagelift_rounded_operation"
    /// `preserve_all i32 sync_float_flags(i32 fcsr)`: fcsr with the host's accrued exception flags or'ed in.
    /// Values, not a pointer into the CPU state: a call that may write the CPU state would keep
    /// every guest register of a loop around it in memory.
    public static let syncFloatFlags = "pagelift_sync_float_flags"
    /// `preserve_all void settle_float_flags(i32 fcsr)`: after fcsr's flags were written, drops host flags they lack.
    public static let settleFloatFlags = "pagelift_settle_float_flags"
    /// `void flush_instructions(ptr cpu)`: fence.i: translations of code that may have been written
    /// are dropped, and the guest goes on at the next instruction (cpu.pc), through the dispatcher.
    public static let flushInstructions = "pagelift_flush_instructions"
    /// `void region_hot(ptr cpu, i64 entry)`: the counter of the region entered at `entry` reached the threshold.
    public static let regionHot = "pagelift_region_hot"
    /// `ptr general_code(ptr cpu, i64 pc)`: code for `pc` that honours every rounding mode, for
    /// optimized code that assumes round-to-nearest-even entered under another mode.
    public static let generalCode = "pagelift_general_code"
    /// `i64 replay_access(ptr cpu, i32 kind, i64 address, i32 bytes, i64 value, i64 expected)`:
    /// a guest access of code lifted for fault replay (`PageLifter.replaying`), made by the
    /// runtime on its record of the replay's stores (`ReplayAccess`); it returns the value read.
    public static let replayAccess = "pagelift_replay_access"
    /// `void checkpoint(ptr cpu)`: the CPU state is exact (cpu.pc the next instruction); a fault
    /// from here on is replayed from it (see `PageLifter.logsStores`).
    public static let checkpoint = "pagelift_checkpoint"

    /// The function translating the code of a page reachable from `entry`.
    public static func regionFunction(_ entry: UInt64) -> String { "pc_" + String(entry, radix: 16) }
    /// The execution counter of profiled region function `function`: entries plus loop iterations.
    public static func regionCounter(_ function: String) -> String { function + ".count" }
}

/// What a `RuntimeSymbols.replayAccess` does: a load, a store, a compare-and-exchange (which
/// stores `value` when memory holds `expected` and returns the old value either way), or an
/// AMO (`amo` plus LLVM's `LLVMAtomicRMWBinOp`).
public enum ReplayAccess: Int32, Sendable {
    case load = 0, store = 1, compareExchange = 2, amo = 16
}

/// Execution counting for tier-up: the region (by its first entry) and when it is hot.
/// The counter is a global of the region's own module (`RuntimeSymbols.regionCounter`), so
/// the code depends on nothing of the run that compiled it and can be cached.
public struct RegionProfile: Sendable {
    public var entry: UInt64
    public var threshold: UInt64
    public init(entry: UInt64, threshold: UInt64) { self.entry = entry; self.threshold = threshold }
}

/// Lifts one discovered guest page into one LLVM function of the shared page signature
/// `void (ptr noalias cpu, i64 pc)`: an entry switch on `pc`, the page's blocks, and
/// one shared exit that stores the registers back and tail-calls the next page through the map.
public struct PageLifter {
    public var describe: (UInt64) -> String
    /// When set, the code counts its entries and loop iterations (the cheap tier's job).
    public var profile: RegionProfile?
    /// Attach each guest instruction's disassembly to its IR, for readers of the IR (`lift`,
    /// `--dump-ir`); translation for execution skips the formatting.
    public var annotate: Bool
    /// Translate operations in the dynamic rounding mode for round-to-nearest-even only: the
    /// function checks frm at entry and after instructions that write it, and hands other
    /// modes to code that honours them (`RuntimeSymbols.generalCode`). Programs hardly ever
    /// leave the default mode, and the check per operation (a branch to a helper call in
    /// every FP loop) cost matmul a third of its time.
    public var assumesRoundToNearest: Bool
    /// Keep the accrued floating-point flags exact (constrained intrinsics). Off only for a
    /// program that cannot read them (`FloatFlagsUse`): its arithmetic is then LLVM's ordinary
    /// instructions, which LLVM may fold and vectorize; values and rounding are the same.
    public var tracksFloatFlags: Bool
    /// Lift for fault replay: the code re-runs guest instructions from the last point where
    /// the state was exact up to an access that faulted, on a copy of the CPU state. Each guest
    /// access stores the whole state (pc included) and goes through `RuntimeSymbols.replayAccess`,
    /// so that the state is exact at whichever access faults and the replay's stores only go
    /// to the runtime's record; nothing leaves through the map, polls or calls the runtime.
    public var replaying: Bool
    /// Write the thread's store log (`StoreLogLayout`) before each guest store: what it
    /// overwrites, so that a fault's replay can read memory as it was at the checkpoint (a
    /// guest with a SIGSEGV or SIGBUS handler, which must get the exact state).
    public var logsStores: Bool
    /// With `logsStores`, also stores in innermost loops without calls (see `logsStoresHere`):
    /// code that LLVM will not vectorize.
    public var logsStoresInLoops: Bool

    public init(describe: @escaping (UInt64) -> String = { "0x" + String($0, radix: 16) }, profile: RegionProfile? = nil,
                annotate: Bool = true, assumesRoundToNearest: Bool = false, tracksFloatFlags: Bool = true, replaying: Bool = false,
                logsStores: Bool = false, logsStoresInLoops: Bool = true) {
        self.describe = describe
        self.profile = profile
        self.annotate = annotate
        self.assumesRoundToNearest = assumesRoundToNearest
        self.tracksFloatFlags = tracksFloatFlags
        self.replaying = replaying
        self.logsStores = logsStores && !replaying
        self.logsStoresInLoops = logsStoresInLoops
    }

    /// Adds the page's function to `module`, named `functionName` (default: after the first entry).
    @discardableResult
    public func lift(_ page: DiscoveredPage, into module: IRModule, functionName: String? = nil) -> String {
        let name = functionName ?? RuntimeSymbols.regionFunction(page.entries.first ?? page.page)
        let function = FunctionLifter(page: page, module: module, name: name, describe: describe, profile: profile, annotate: annotate,
                                      assumesRoundToNearest: assumesRoundToNearest, tracksFloatFlags: tracksFloatFlags,
                                      replaying: replaying, logsStores: logsStores, logsStoresInLoops: logsStoresInLoops)
        function.emit()
        return name
    }
}

final class FunctionLifter {
    let page: DiscoveredPage
    let types: IRTypes
    let builder: Builder
    let function: LLVMValueRef
    let cpu: LLVMValueRef
    let entryPC: LLVMValueRef
    let describe: (UInt64) -> String
    let profile: RegionProfile?
    let annotates: Bool
    let replaying: Bool
    let logsStores: Bool
    let logsStoresInLoops: Bool
    let module: LLVMModuleRef
    let context: LLVMContextRef

    var blocks: [UInt64: LLVMBasicBlockRef] = [:]
    /// The blocks of the copy each entry inside a loop is entered through (`DiscoveredPage.entryCopies`),
    /// and those of the copy being emitted, which its branches go to where it has them.
    private var entryCopies: [UInt64: [UInt64: LLVMBasicBlockRef]] = [:]
    private var emittingCopy: [UInt64: LLVMBasicBlockRef]?
    /// Every block that starts a guest block's code, copies included (where an annotation ends).
    private lazy var leaderBlocks = Set((Array(blocks.values) + entryCopies.values.flatMap(\.values)).map { UnsafeMutableRawPointer($0) })
    /// The passed registers (see `RegisterPassing`) live in allocas that mem2reg turns into SSA
    /// values. The other integer registers live in the CPU state: a guest register read is a
    /// load of its field and a write a store, which LLVM's optimizer keeps in host registers
    /// (forwarding, dead-store elimination, promotion out of loops: `cpu` is noalias), loading
    /// each one where it is first read and storing it where it was last written, path by path.
    var passedSlots: [Int: LLVMValueRef] = [:]
    /// FP registers the region uses live in allocas too, loaded at entry and stored at exits
    /// when written: LLVM does not promote a memory location out of a loop that accesses it as
    /// both i64 and double, which is what FP registers (raw bits for moves, NaN-boxing and
    /// memory; doubles for arithmetic) become after instcombine.
    var floatSlots: [Int: LLVMValueRef] = [:]
    let writtenFloats: Set<Int>
    let usedFloats: Set<Int>
    /// FP results as the host computed them, before NaN canonicalization, by register, for the
    /// arithmetic that consumes them later in the same straight line (see `floatOperand`).
    var uncanonicalResults: [Int: (value: LLVMValueRef, precision: Precision)] = [:]
    /// Registers that hold another value plus a constant, as `addi` left them in this straight
    /// line: accesses through one address memory from the other value's masked form (see
    /// `accessPointer`), so a pointer bumped before its last use in a loop body addresses the
    /// same host pointer as before the bump, which LLVM's alias analysis and vectorizer need.
    var displacedRegisters: [Int: (base: LLVMValueRef, displacement: Int64)] = [:]
    /// The integer registers read or written so far in `knownValuesBlock` (the block being
    /// emitted), by value: later reads there use the value instead of loading it again. First-tier
    /// code has no pass that would forward it, and each load is work for FastISel and space in
    /// the code.
    private var knownValues: [Int: LLVMValueRef] = [:]
    private var knownValuesBlock: LLVMBasicBlockRef?
    /// frm, kept like a register: only CSR instructions change it, so dynamic-mode operations
    /// test a value in a register instead of reloading fcsr after every helper call.
    var roundingModeSlot: LLVMValueRef! = nil
    /// Dynamic-mode operations are translated for round-to-nearest-even (see `PageLifter.assumesRoundToNearest`);
    /// only set for regions that have such operations.
    let roundsToNearestOnly: Bool
    /// The shared exit: its phi collects the guest pc to continue at.
    var exitBlock: LLVMBasicBlockRef!
    var exitTarget: LLVMValueRef!

    /// The guest pc of the instruction being lifted.
    var pc: UInt64 = 0
    /// Whether the block being lifted lies in a loop of the page that makes no calls.
    var inLeafLoop = false

    init(page: DiscoveredPage, module: IRModule, name: String, describe: @escaping (UInt64) -> String, profile: RegionProfile?,
         annotate: Bool, assumesRoundToNearest: Bool, tracksFloatFlags: Bool, replaying: Bool, logsStores: Bool, logsStoresInLoops: Bool) {
        self.page = page
        self.replaying = replaying
        self.logsStores = logsStores
        self.logsStoresInLoops = logsStoresInLoops
        roundsToNearestOnly = assumesRoundToNearest && page.instructions.values.contains { fetched in
            guard case .instruction(let instruction) = fetched else { return false }
            return instruction.operands.contains(.roundingMode) && instruction.roundingMode == 7
        }
        self.describe = describe
        self.profile = profile
        self.annotates = annotate
        self.module = module.ref
        self.context = module.context
        types = IRTypes(module.context)
        function = LLVMAddFunction(module.ref, name, types.pageFunction)
        let builderRef = LLVMCreateBuilderInContext(module.context)!
        builder = Builder(ref: builderRef, types: types, module: module.ref, tracksFloatFlags: tracksFloatFlags)
        cpu = LLVMGetParam(function, 0)
        entryPC = LLVMGetParam(function, 1)
        LLVMSetValueName2(cpu, "cpu", 3)
        LLVMSetValueName2(entryPC, "entry_pc", 8)
        LLVMSetFunctionCallConv(function, RegisterPassing.callingConvention)
        for (offset, register) in RegisterPassing.registers.enumerated() {
            let name = integerRegisterNames[register] + ".in"
            LLVMSetValueName2(LLVMGetParam(function, UInt32(2 + offset)), name, name.utf8.count)
        }
        LLVMAddAttributeAtIndex(function, 1, Builder.attribute("noalias", in: module.context))
        // The whole CPU state is there, aligned and writable: LICM may then keep a register a loop
        // writes only on some paths (behind a call merged into the loop, which may leave it) in
        // a host register, loading it before the loop and storing it after, where it would
        // otherwise load and store it on every iteration (strsearch's search loop around memcmp).
        // Only one thread runs a CPU state: with `noalias` and helpers that do not capture it
        // (see `helperDeclaration`), LICM knows; guest memory is shared by the guest's threads.
        LLVMAddAttributeAtIndex(function, 1, Builder.attribute("writable", in: module.context))
        LLVMAddAttributeAtIndex(function, 1, Builder.attribute("dereferenceable", UInt64(CPULayout.size), in: module.context))
        LLVMAddAttributeAtIndex(function, 1, Builder.attribute("align", UInt64(CPUState.alignment), in: module.context))
        // Guest floating-point operations accrue exception flags: see Builder.strict.
        if tracksFloatFlags { LLVMAddAttributeAtIndex(function, UInt32.max, Builder.attribute("strictfp", in: module.context)) }
        var written = Set<Int>(), used = Set<Int>()
        for case .instruction(let instruction) in page.instructions.values {
            for operand in instruction.operands {
                switch operand {
                case .fd: written.insert(instruction.rd)
                case .fs1: used.insert(instruction.rs1)
                case .fs2: used.insert(instruction.rs2)
                case .fs3: used.insert(instruction.rs3)
                default: break
                }
            }
        }
        writtenFloats = written
        usedFloats = used.union(written)
        LLVMAddAttributeAtIndex(function, UInt32.max, Builder.attribute("nounwind", in: module.context))

    }

    deinit { LLVMDisposeBuilder(builder.ref) }

    func newBlock(_ name: String) -> LLVMBasicBlockRef { LLVMAppendBasicBlockInContext(context, function, name) }

    private var entryBlock: LLVMBasicBlockRef!

    func emit() {
        let entry = newBlock("entry")
        entryBlock = entry
        for leader in page.leaders.sorted() where page.instructions[leader] != nil {
            blocks[leader] = newBlock(describe(leader))
        }
        for (entry, copied) in page.entryCopies.sorted(by: { $0.key < $1.key }) {
            let suffix = " entered at " + String(entry, radix: 16)
            entryCopies[entry] = Dictionary(uniqueKeysWithValues: copied.filter { blocks[$0] != nil }.sorted().map {
                ($0, newBlock(describe($0) + suffix))
            })
        }
        exitBlock = newBlock("leave")
        let dispatchDefault = newBlock("not_an_entry")

        builder.position(at: entry)
        for (offset, index) in RegisterPassing.registers.enumerated() {
            let slot = LLVMBuildAlloca(builder.ref, types.i64, integerRegisterNames[index] + ".slot")!
            passedSlots[index] = slot
            builder.store(LLVMGetParam(function, UInt32(2 + offset)), slot, align: 8)
        }
        for index in usedFloats.sorted() {
            let slot = LLVMBuildAlloca(builder.ref, floatSlotType, floatRegisterNames[index] + ".slot")!
            floatSlots[index] = slot
            builder.store(builder.load(floatSlotType, cpuField(CPULayout.f(index)), floatRegisterNames[index], align: 8), slot, align: 8)
        }
        roundingModeSlot = LLVMBuildAlloca(builder.ref, types.i32, "frm.slot")
        reloadRoundingMode()
        // Global addresses, once per function: with the large code model FastISel cannot
        // materialize them and would hand every block that names one to SelectionDAG.
        memoryBase = opaqueAddress(externalGlobal(RuntimeSymbols.guestMemory), "memory")
        codeMap = opaqueAddress(externalGlobal(RuntimeSymbols.codeMap), "code_map")
        if profile != nil { regionCounter = opaqueAddress(counterGlobal, "counter") }
        // The fault handler names the code a guest fault happened in by this pc; only the
        // handler reads it, so it must be volatile or LLVM would sink it to the exits.
        LLVMSetVolatile(builder.store(entryPC, cpuField(CPULayout.pc), align: 8), 1)
        pollSignals(stoppingAt: entryPC)
        _ = countExecution()
        if roundsToNearestOnly { leaveUnlessRoundingToNearest(continuingAt: entryPC) }
        let entries = page.mapEntries.filter { blocks[$0] != nil }
        dispatch(on: entryPC, to: entries, otherwise: dispatchDefault) { self.entryCopies[$0]?[$0] ?? self.blocks[$0]! }

        builder.position(at: dispatchDefault)
        stop(.none, pc: entryPC)

        builder.position(at: exitBlock)
        exitTarget = LLVMBuildPhi(builder.ref, types.i64, "next_pc")
        emitLeave()

        for (leader, block) in blocks.sorted(by: { $0.key < $1.key }) {
            builder.position(at: block)
            emitStraightLine(from: leader)
        }
        for (_, copy) in entryCopies.sorted(by: { $0.key < $1.key }) {
            emittingCopy = copy
            for (leader, block) in copy.sorted(by: { $0.key < $1.key }) {
                builder.position(at: block)
                emitStraightLine(from: leader)
            }
        }
        emittingCopy = nil
        if logsStores { separateStoreLog() }
    }

    /// The store log's entries are written where nothing else reads: in a scope of their own,
    /// which every other load and store of the function is marked not to alias. Without it the
    /// entries, through a pointer loaded from the CPU state, may alias every guest access and
    /// register field, and LLVM kept each loop's registers and loads in memory (matmul 10x
    /// slower). An entry LLVM then moves past a faulting access is only missing, and a byte it
    /// was for is read as when the log is off (see `FaultReplay`).
    private func separateStoreLog() {
        let kindScope = LLVMGetMDKindIDInContext(context, "alias.scope", 11)
        let kindNoAlias = LLVMGetMDKindIDInContext(context, "noalias", 7)
        var domainName: LLVMMetadataRef? = LLVMMDStringInContext2(context, "pagelift.store_log.domain", 25)
        let domain = LLVMMDNodeInContext2(context, &domainName, 1)
        var scopeOperands: [LLVMMetadataRef?] = [LLVMMDStringInContext2(context, "pagelift.store_log", 18), domain]
        var scope: LLVMMetadataRef? = LLVMMDNodeInContext2(context, &scopeOperands, 2)
        let scopeList = LLVMMetadataAsValue(context, LLVMMDNodeInContext2(context, &scope, 1))
        let entries = Set(storeLogEntries.map { UnsafeRawPointer($0) })
        var block = LLVMGetFirstBasicBlock(function)
        while let current = block {
            var instruction = LLVMGetFirstInstruction(current)
            while let value = instruction {
                if LLVMIsALoadInst(value) != nil || LLVMIsAStoreInst(value) != nil {
                    LLVMSetMetadata(value, entries.contains(UnsafeRawPointer(value)) ? kindScope : kindNoAlias, scopeList)
                }
                instruction = LLVMGetNextInstruction(value)
            }
            block = LLVMGetNextBasicBlock(current)
        }
    }

    /// Emits instructions from `start` until control leaves: a terminator, the next leader, or the page end.
    private func emitStraightLine(from start: UInt64) {
        var address = start
        inLeafLoop = page.leafLoopBlocks.contains(start)
        uncanonicalResults = [:]
        displacedRegisters = [:]
        while true {
            pc = address
            guard let fetched = page.instructions[address] else {
                jump(to: builder.constant(address))      // falls through into another page
                return
            }
            switch fetched {
            case .unfetchable:
                stop(.fetchFault, pc: builder.constant(address), detail: builder.constant(address))
                return
            case .illegal(let bits, _):
                stop(.illegalInstruction, pc: builder.constant(address), detail: builder.constant(UInt64(bits)))
                return
            case .instruction(let instruction):
                if let idiom = flagsSavedAroundCompare(at: address) {
                    liftFlagsSavedAroundCompare(idiom)
                    address = idiom.end
                } else {
                    var continues = true
                    annotated(instruction) { continues = lift(instruction) }
                    guard continues else { return }
                    address = address &+ UInt64(instruction.size)
                }
                if blocks[address] != nil {
                    builder.br(branchTarget(address))
                    return
                }
            }
        }
    }

    /// Attaches `!pagelift.insn !{!"<pc>: <disassembly>"}` to the IR a guest instruction produced
    /// (all of it but register-slot traffic, which mem2reg removes), so dumps can show where each
    /// guest instruction's IR starts, before and after optimization.
    /// Emits `instruction` with `body`, then (for dumps) marks where its IR starts.
    func annotated(_ instruction: Instruction, _ body: () -> Void) {
        let before = LLVMGetLastInstruction(builder.currentBlock)
        let start = builder.currentBlock
        body()
        if annotates { annotate(from: before, in: start, with: instruction) }
    }

    private func annotate(from before: LLVMValueRef?, in block: LLVMBasicBlockRef, with instruction: Instruction) {
        let text = "\(String(pc, radix: 16)): \(instruction.text(at: pc))"
        var string: LLVMMetadataRef? = LLVMMDStringInContext2(context, text, text.utf8.count)
        let node = LLVMMetadataAsValue(context, LLVMMDNodeInContext2(context, &string, 1))
        let kind = LLVMGetMDKindIDInContext(context, Self.annotationKind, UInt32(Self.annotationKind.utf8.count))
        let slots = Set((Array(passedSlots.values) + Array(floatSlots.values)).map { UnsafeRawPointer($0) })
        func touchesSlot(_ value: LLVMValueRef) -> Bool {
            let pointer = LLVMIsALoadInst(value) != nil ? LLVMGetOperand(value, 0) : LLVMIsAStoreInst(value) != nil ? LLVMGetOperand(value, 1) : nil
            return pointer.map { slots.contains(UnsafeRawPointer($0)) } ?? false
        }
        // The instructions emitted since `before`, through every block lifting created.
        var current = before.flatMap { LLVMGetNextInstruction($0) } ?? (before == nil ? LLVMGetFirstInstruction(block) : nil)
        var currentBlock: LLVMBasicBlockRef? = block
        while let blockRef = currentBlock {
            while let value = current {
                if !touchesSlot(value) { LLVMSetMetadata(value, kind, node) }
                current = LLVMGetNextInstruction(value)
            }
            currentBlock = LLVMGetNextBasicBlock(blockRef)
            current = currentBlock.flatMap { LLVMGetFirstInstruction($0) }
            if currentBlock == nil || currentBlock == exitBlock || leaderBlocks.contains(UnsafeMutableRawPointer(currentBlock!)) { break }
        }
    }

    static let annotationKind = "pagelift.insn"

    // MARK: - The vocabulary instructions are written in

    func cpuField(_ offset: Int) -> LLVMValueRef { builder.gep(cpu, byteOffset: offset) }

    func readX(_ index: Int) -> LLVMValueRef {
        guard index != 0 else { return builder.constant(Int64(0)) }
        if knownValuesBlock == builder.currentBlock, let value = knownValues[index] { return value }
        let value = builder.load(types.i64, passedSlots[index] ?? cpuField(CPULayout.x(index)), integerRegisterNames[index], align: 8)
        know(index, value)
        return value
    }

    func writeX(_ index: Int, _ value: LLVMValueRef) {
        guard index != 0 else { return }
        displacedRegisters[index] = nil
        nameAfterRegister(value, integerRegisterNames[index])
        builder.store(value, passedSlots[index] ?? cpuField(CPULayout.x(index)), align: 8)
        know(index, value)
    }

    private func know(_ index: Int, _ value: LLVMValueRef) {
        let block = builder.currentBlock
        if knownValuesBlock != block {
            knownValues = [:]
            knownValuesBlock = block
        }
        knownValues[index] = value
    }

    /// The raw 64 bits of an FP register.
    func readFBits(_ index: Int) -> LLVMValueRef {
        let value = builder.load(floatSlotType, floatSlots[index]!, floatRegisterNames[index], align: 8)
        return floatSlotType == types.i64 ? value : builder.bitcast(value, types.i64)
    }

    /// Optimized code keeps FP registers as doubles, so that where paths meet (a loop's header,
    /// the join after a slow path) their values meet in XMM registers; as integers, instcombine
    /// keeps a phi of raw bits wherever one path brings them from memory, and the value goes
    /// through a general register on every iteration (nbody's j loop: vmovq there and back).
    /// First-tier code has no instcombine to fold the casts, so it keeps the bits.
    private var floatSlotType: LLVMTypeRef { profile == nil ? types.double : types.i64 }

    func writeFBits(_ index: Int, _ value: LLVMValueRef) {
        uncanonicalResults[index] = nil
        nameAfterRegister(value, floatRegisterNames[index])
        builder.store(floatSlotType == types.i64 ? value : builder.bitcast(value, floatSlotType), floatSlots[index]!, align: 8)
    }

    private func nameAfterRegister(_ value: LLVMValueRef, _ name: String) {
        guard LLVMIsAInstruction(value) != nil else { return }
        var length = 0
        if let existing = LLVMGetValueName2(value, &length), length > 0, existing.pointee != 0 { return }
        LLVMSetValueName2(value, name, name.utf8.count)
    }

    /// Host pointer for a guest address: base + (address & mask); the mask keeps every access inside the region.
    func guestPointer(_ address: LLVMValueRef) -> LLVMValueRef {
        let masked = builder.and(address, builder.constant(GuestMemory.addressMask))
        return builder.gep(memoryBase, byteOffset: masked)
    }

    /// Host pointer for a load's or store's guest address `register + offset`: the offset is added
    /// after the mask (the guards of `GuestMemory` catch the ends), so accesses through one
    /// register share its masked value and x86 folds the offset into the addressing mode.
    func guestPointer(register: LLVMValueRef, offset: Int64) -> LLVMValueRef {
        let pointer = guestPointer(register)
        return offset == 0 ? pointer : builder.gep(pointer, byteOffset: builder.constant(offset))
    }

    var memoryBase: LLVMValueRef! = nil
    var codeMap: LLVMValueRef! = nil
    var regionCounter: LLVMValueRef! = nil

    /// The global's address as a value the entry block computes (launder.invariant.group only hides
    /// that it is a constant, so later blocks use a register instead of re-materializing it).
    private func opaqueAddress(_ global: LLVMValueRef, _ name: String) -> LLVMValueRef {
        let value = builder.intrinsic("llvm.launder.invariant.group", [types.ptr], [global])
        LLVMSetValueName2(value, name, name.utf8.count)
        return value
    }

    private func externalGlobal(_ name: String) -> LLVMValueRef {
        if let existing = LLVMGetNamedGlobal(module, name) { return existing }
        let global = LLVMAddGlobal(module, types.i8, name)!
        LLVMSetLinkage(global, LLVMExternalLinkage)
        return global
    }

    /// A runtime helper's type and the value to call. Profiled code calls through the helper's
    /// address computed once in the entry block: with the large code model FastISel cannot call
    /// a symbol, and every block with a call (a counter's notification, a map miss) went to
    /// SelectionDAG. Optimized code calls the declaration, whose attributes LLVM then sees.
    func helper(_ name: String, returns: LLVMTypeRef, _ parameters: [LLVMTypeRef]) -> (LLVMTypeRef, LLVMValueRef) {
        let (type, function) = helperDeclaration(name, returns: returns, parameters)
        guard profile != nil else { return (type, function) }
        if let address = helperAddresses[name] { return (type, address) }
        let address = inEntryBlock { opaqueAddress(function, name + ".address") }
        helperAddresses[name] = address
        return (type, address)
    }

    private var helperAddresses: [String: LLVMValueRef] = [:]

    func helperDeclaration(_ name: String, returns: LLVMTypeRef, _ parameters: [LLVMTypeRef]) -> (LLVMTypeRef, LLVMValueRef) {
        var parameters = parameters.map { Optional($0) }
        let type = LLVMFunctionType(returns, &parameters, UInt32(parameters.count), 0)!
        if let existing = LLVMGetNamedFunction(module, name) { return (type, existing) }
        let function = LLVMAddFunction(module, name, type)!
        // Nothing unwinds through translated code; knowing it lets LLVM move register stores out of loops.
        LLVMAddAttributeAtIndex(function, UInt32.max, Builder.attribute("nounwind", in: context))
        // A helper given the CPU state keeps no copy of the pointer another thread could use: the
        // state stays this thread's, so LICM may keep a register a loop writes on some paths
        // (behind a call merged into the loop) in a host register across the loop.
        if parameters.first == types.ptr { LLVMAddAttributeAtIndex(function, 1, Builder.attribute("nocapture", in: context)) }
        return (type, function)
    }

    /// Emits `body` at the end of the entry block (before its terminator once it has one), then
    /// continues where the builder was.
    private func inEntryBlock<T>(_ body: () -> T) -> T {
        let current = builder.currentBlock
        if let terminator = LLVMGetBasicBlockTerminator(entryBlock) {
            LLVMPositionBuilderBefore(builder.ref, terminator)
        } else {
            builder.position(at: entryBlock)
        }
        defer { builder.position(at: current) }
        return body()
    }

    /// Calls a runtime stub with LLVM's preserve_all convention (see `RuntimeStubs`): it keeps every
    /// register, so the guest values translated code holds, XMM ones included, need no spills.
    /// The stubs touch only the host's floating-point state (they take values, not pointers);
    /// saying so lets LLVM keep guest registers out of memory across the calls.
    func callPreservingAll(_ name: String, returns: LLVMTypeRef, _ parameters: [LLVMTypeRef], _ arguments: [LLVMValueRef]) -> LLVMValueRef {
        let (_, declaration) = helperDeclaration(name, returns: returns, parameters)
        LLVMSetFunctionCallConv(declaration, LLVMPreserveAllCallConv.rawValue)
        let (type, function) = helper(name, returns: returns, parameters)
        // LLVM's MemoryEffects encoding, two bits (read, write) per location: argument memory, then
        // inaccessible memory (here: reads and writes only that).
        let inaccessibleMemoryOnly: UInt64 = 0b11_00
        LLVMAddAttributeAtIndex(declaration, UInt32.max,
                                LLVMCreateEnumAttribute(context, LLVMGetEnumAttributeKindForName("memory", 6), inaccessibleMemoryOnly))
        let call = builder.call(type, function, arguments)
        LLVMSetInstructionCallConv(call, LLVMPreserveAllCallConv.rawValue)
        return call
    }

    /// Stores the registers held in allocas into the CPU state (the others are always there);
    /// the passed ones only for code that reads the whole state (the runtime, or the dispatcher
    /// after a stop), since region functions receive them as arguments.
    func writeBackRegisters(includingPassed: Bool) {
        if includingPassed {
            for (index, slot) in passedSlots.sorted(by: { $0.key < $1.key }) {
                builder.store(builder.load(types.i64, slot, align: 8), cpuField(CPULayout.x(index)), align: 8)
            }
        }
        for index in writtenFloats.sorted() {
            builder.store(builder.load(floatSlotType, floatSlots[index]!, align: 8), cpuField(CPULayout.f(index)), align: 8)
        }
    }

    func reloadRoundingMode() {
        let fcsr = builder.load(types.i32, cpuField(CPULayout.fcsr), "fcsr", align: 4)
        let frm = builder.and(builder.lshr(fcsr, builder.constant(Int64(5), types.i32)), builder.constant(Int64(7), types.i32), "frm")
        builder.store(frm, roundingModeSlot, align: 4)
    }

    var roundingMode: LLVMValueRef {
        roundsToNearestOnly ? builder.constant(Int64(0), types.i32) : builder.load(types.i32, roundingModeSlot, "frm", align: 4)
    }

    /// After an instruction that may have written frm: keep the slot current or, in code for
    /// round-to-nearest-even only, leave for the map at the next instruction when it changed.
    func roundingModeWritten(next: UInt64) {
        guard roundsToNearestOnly else {
            reloadRoundingMode()
            return
        }
        let nearest = roundingToNearest()
        let leaving = newBlock("rounding_mode_changed"), staying = newBlock("still_nearest")
        builder.condBr(nearest, staying, leaving)
        builder.position(at: leaving)
        jumpThroughMap(to: builder.constant(next))
        builder.position(at: staying)
    }

    /// Whether fcsr's frm (bits 7:5) is round-to-nearest-even, as the CPU state holds it now.
    private func roundingToNearest() -> LLVMValueRef {
        let fcsr = builder.load(types.i32, cpuField(CPULayout.fcsr), "fcsr", align: 4)
        return builder.icmp(LLVMIntEQ, builder.and(fcsr, builder.constant(Int64(0xe0), types.i32)), builder.constant(Int64(0), types.i32))
    }

    /// At entry of code for round-to-nearest-even only: under any other mode, continue in the
    /// runtime's general code for `pc` (which the passed registers go to unchanged).
    private func leaveUnlessRoundingToNearest(continuingAt pc: LLVMValueRef) {
        let nearest = roundingToNearest()
        let general = newBlock("other_rounding_mode"), staying = newBlock("rounding_to_nearest")
        builder.condBr(builder.intrinsic("llvm.expect", [types.i1], [nearest, builder.constant(UInt64(1), types.i1)]), staying, general)
        builder.position(at: general)
        let (type, helperFunction) = helper(RuntimeSymbols.generalCode, returns: types.ptr, [types.ptr, types.i64])
        tailCall(builder.call(type, helperFunction, [cpu, pc], "general_code"), at: pc)
        builder.position(at: staying)
    }

    /// After a helper that may have changed any register: those held in allocas, and frm, come back from the CPU state.
    func reloadRegisters() {
        reloadRoundingMode()
        uncanonicalResults = [:]
        displacedRegisters = [:]
        knownValues = [:]
        for (index, slot) in passedSlots.sorted(by: { $0.key < $1.key }) {
            builder.store(builder.load(types.i64, cpuField(CPULayout.x(index)), integerRegisterNames[index], align: 8), slot, align: 8)
        }
        for (index, slot) in floatSlots.sorted(by: { $0.key < $1.key }) {
            builder.store(builder.load(floatSlotType, cpuField(CPULayout.f(index)), floatRegisterNames[index], align: 8), slot, align: 8)
        }
    }

    /// Continues at guest address `target`: a direct branch if it is a block of this page,
    /// otherwise through the shared exit and the host code map.
    func jump(to target: LLVMValueRef) {
        if LLVMIsAConstantInt(target) != nil {
            let address = LLVMConstIntGetZExtValue(target)
            if blocks[address] != nil {
                builder.br(branchTarget(address))
                return
            }
        }
        jumpThroughMap(to: target)
    }

    /// Where a computed jump may go without leaving the function.
    enum Dispatch: Equatable {
        /// A switch table, a call through a pointer: any entry of the region.
        case computedJump
        /// The return at `from`: the return addresses of the region's calls of the functions it may
        /// return from (see `DiscoveredPage.returnAddresses()`).
        case `return`(from: UInt64)
    }

    /// A computed target that is one of `kind`'s candidates stays in the function: registers stay
    /// in SSA values and there is no map lookup; any other leaves through the map. Jumps with the
    /// same candidates share one dispatch block, so each candidate gets one more predecessor rather
    /// than one per jump. A return only considers the calls of the functions it returns from: with
    /// one dispatch for every return, a function's return also led to the call sites of every other
    /// function of the region, so LLVM saw one loop through all of them (strsearch's search loop,
    /// which calls memcmp, ran inside main's loop around it, its registers kept in memory); with
    /// every entry as a candidate, one loop spanned the whole region, which took LLVM seconds to
    /// optimize for malloc.
    func dispatchInRegion(_ target: LLVMValueRef, _ kind: Dispatch) {
        // A return whose callers are all elsewhere still goes through a (candidate-less) dispatch,
        // counted like any other, so how hot a function looks to callee merging does not depend on
        // whether its callers are in its region.
        let candidates = dispatchCandidates(kind)
        if dispatchBlocks[candidates] == nil { emitDispatch(kind, to: candidates) }
        let (block, phi) = dispatchBlocks[candidates]!
        var incoming: [LLVMValueRef?] = [target]
        var from: [LLVMBasicBlockRef?] = [builder.currentBlock]
        LLVMAddIncoming(phi, &incoming, &from, 1)
        builder.br(block)
    }

    private func dispatchCandidates(_ kind: Dispatch) -> [UInt64] {
        switch kind {
        case .computedJump: page.entries.filter { blocks[$0] != nil }
        case .return(let address): (returnAddresses[address] ?? []).filter { blocks[$0] != nil }
        }
    }

    private lazy var returnAddresses = page.returnAddresses()

    /// The switch behind `kind`'s computed jumps. Profiled code counts it like a loop iteration
    /// (an interpreter loop or a recursion goes round through it).
    private func emitDispatch(_ kind: Dispatch, to candidates: [UInt64]) {
        let current = builder.currentBlock
        let dispatchBlock = newBlock(kind == .computedJump ? "indirect_dispatch" : candidates.isEmpty ? "return_elsewhere" : "return_dispatch")
        builder.position(at: dispatchBlock)
        let target = LLVMBuildPhi(builder.ref, types.i64, "dispatch_target")!
        dispatchBlocks[candidates] = (dispatchBlock, target)
        // A computed jump or return inside the region may be how the guest loops (an interpreter's dispatch).
        pollSignals(stoppingAt: target)
        let leaving = newBlock("dispatch_via_map")
        if profile != nil {
            let hot = countExecution()
            let switching = newBlock("dispatch_switch")
            builder.condBr(hot, leaving, switching)
            builder.position(at: switching)
        }
        dispatch(on: target, to: candidates, otherwise: leaving)
        builder.position(at: leaving)
        jumpThroughMap(to: target)
        builder.position(at: current)
    }

    /// Dispatch blocks by their candidates.
    private var dispatchBlocks: [[UInt64]: (block: LLVMBasicBlockRef, target: LLVMValueRef)] = [:]

    /// Branches on guest address `target` to the block of each of `candidates`, otherwise to
    /// `fallback`. Optimized code goes through a table of block addresses when the candidates
    /// are close enough together: one indexed indirect jump, which the host predicts like the
    /// native code's own switch or return, where a switch over scattered pcs becomes a tree of
    /// compares (six deep for a function returned to from 50 call sites). Profiled code keeps
    /// the switch, which FastISel compiles. Loop headers stay behind a switch: LLVM cannot give
    /// a loop whose header an indirect jump enters a preheader, and without one it keeps the
    /// loop's registers in memory (sha256's rounds ran at half speed).
    func dispatch(on target: LLVMValueRef, to candidates: [UInt64], otherwise fallback: LLVMBasicBlockRef,
                  blockFor: ((UInt64) -> LLVMBasicBlockRef)? = nil) {
        let blocks = blockFor ?? { self.blocks[$0]! }
        func switchOver(_ candidates: [UInt64], otherwise fallback: LLVMBasicBlockRef) {
            guard profile == nil else {
                compareTree(on: target, candidates.sorted()[...], otherwise: fallback, blocks: blocks)
                return
            }
            let instruction = LLVMBuildSwitch(builder.ref, target, fallback, UInt32(candidates.count))
            for address in candidates { LLVMAddCase(instruction, builder.constant(address), blocks(address)) }
        }
        let headers = candidates.filter { page.loopHeaders.contains($0) }
        let direct = candidates.filter { !page.loopHeaders.contains($0) }
        let low = direct.min() ?? 0, high = direct.max() ?? 0
        let slots = (high &- low) / 2 + 1
        guard profile == nil, direct.count >= Self.tableDispatchMinimum, slots <= Self.tableDispatchSlots else {
            switchOver(candidates, otherwise: fallback)
            return
        }
        let current = builder.currentBlock
        var notDirect = fallback
        if !headers.isEmpty {
            notDirect = newBlock("dispatch_loop_header")
            builder.position(at: notDirect)
            switchOver(headers, otherwise: fallback)
            builder.position(at: current)
        }
        let candidates = direct, fallback = notDirect
        let table = LLVMAddGlobal(module, LLVMArrayType2(types.ptr, slots), "dispatch_table")!
        let candidateSet = Set(candidates)
        var addresses: [LLVMValueRef?] = (0..<slots).map { slot in
            let address = low &+ slot * 2
            return LLVMBlockAddress(function, candidateSet.contains(address) ? blocks(address) : fallback)
        }
        LLVMSetInitializer(table, LLVMConstArray2(types.ptr, &addresses, slots))
        LLVMSetGlobalConstant(table, 1)
        LLVMSetLinkage(table, LLVMPrivateLinkage)
        LLVMSetUnnamedAddress(table, LLVMGlobalUnnamedAddr)
        // The slot is the offset rotated right by one: an odd offset lands far beyond the table.
        let offset = builder.sub(target, builder.constant(low))
        let slot = builder.intrinsic("llvm.fshr", [types.i64], [offset, offset, builder.constant(Int64(1))])
        let lookup = newBlock("dispatch_table_lookup")
        builder.condBr(builder.icmp(LLVMIntULT, slot, builder.constant(slots)), lookup, fallback)
        builder.position(at: lookup)
        let code = builder.load(types.ptr, builder.gep(table, byteOffset: builder.shl(slot, builder.constant(Int64(3)))), "block", align: 8)
        let jump = LLVMBuildIndirectBr(builder.ref, code, UInt32(candidates.count + 1))!
        for address in candidates { LLVMAddDestination(jump, blocks(address)) }
        LLVMAddDestination(jump, fallback)
    }

    /// A switch as a balanced tree of compares and branches, which FastISel compiles (it hands
    /// every block with a switch to SelectionDAG).
    private func compareTree(on target: LLVMValueRef, _ candidates: ArraySlice<UInt64>, otherwise fallback: LLVMBasicBlockRef,
                             blocks: (UInt64) -> LLVMBasicBlockRef) {
        guard candidates.count > 3 else {
            if candidates.isEmpty { builder.br(fallback) }
            for (index, address) in candidates.enumerated() {
                let next = index == candidates.count - 1 ? fallback : newBlock("dispatch_next")
                builder.condBr(builder.icmp(LLVMIntEQ, target, builder.constant(address)), blocks(address), next)
                if next != fallback { builder.position(at: next) }
            }
            return
        }
        let middle = candidates.startIndex + candidates.count / 2
        let low = newBlock("dispatch_low"), high = newBlock("dispatch_high")
        builder.condBr(builder.icmp(LLVMIntULT, target, builder.constant(candidates[middle])), low, high)
        builder.position(at: low)
        compareTree(on: target, candidates[..<middle], otherwise: fallback, blocks: blocks)
        builder.position(at: high)
        compareTree(on: target, candidates[middle...], otherwise: fallback, blocks: blocks)
    }

    /// Table dispatch needs this many candidates (a few compares are as fast, and predicted better when the
    /// target is random) and at most this many slots (8 bytes each).
    static let tableDispatchMinimum = 8
    static let tableDispatchSlots: UInt64 = 2048

    /// The block control going to in-page `address` continues in. In profiled code an edge into a
    /// loop header counts an iteration first and, once the region is hot, continues through the
    /// map if other code serves the header, so that recompiled code takes over the running loop.
    /// Recompiled code serves outermost loops' headers and, through a copy of the code entered
    /// there, innermost ones (see `DiscoveredPage.entryCopies`); a loop between them runs on
    /// here until it comes round to one. In a copy, a branch to a block the copy has goes there.
    func branchTarget(_ address: UInt64, polling: Bool = true) -> LLVMBasicBlockRef {
        let target = emittingCopy?[address] ?? countedTarget(address)
        guard polling, !replaying, page.loopHeaders.contains(address) else { return target }
        // Where the guest loops, it polls for signals, so that one spinning here gets them. One
        // poll per header, shared by the edges into it (a poll on each edge measured the same).
        if let polling = headerPolling[target] { return polling }
        let current = builder.currentBlock
        let polling = newBlock("loop_poll")
        builder.position(at: polling)
        pollSignals(stoppingAt: builder.constant(address))
        builder.br(target)
        builder.position(at: current)
        headerPolling[target] = polling
        return polling
    }

    /// The polling block in front of each loop header (or its copy), shared by the edges into it.
    private var headerPolling: [LLVMBasicBlockRef: LLVMBasicBlockRef] = [:]

    /// Ends the current block in a branch on `CPULayout.signalPending`: set, the guest stops at
    /// `pc` (an instruction boundary, with every register stored) for the dispatcher to deliver
    /// the signal; clear, code goes on in a new current block.
    func pollSignals(stoppingAt pc: LLVMValueRef) {
        guard !replaying else { return }
        let flag = readSignalPending()
        let going = newBlock("no_signal")
        let pending = builder.icmp(LLVMIntNE, flag, builder.constant(UInt64(0), types.i32))
        guard profile == nil else {
            // First-tier code keeps every register in memory or an alloca, so all its polls share
            // one stop, as its returns share one return: each stop writes back every register.
            let (block, stopPC) = sharedSignalStop
            var incoming: [LLVMValueRef?] = [pc]
            var from: [LLVMBasicBlockRef?] = [builder.currentBlock]
            LLVMAddIncoming(stopPC, &incoming, &from, 1)
            _ = builder.condBr(pending, block, going)
            builder.position(at: going)
            return
        }
        let stopping = newBlock("signal_stop")
        _ = builder.condBr(pending, stopping, going)
        builder.position(at: stopping)
        stop(.none, pc: pc)
        builder.position(at: going)
    }

    /// First-tier code's one stop for a signal, and the phi of the pc it stops at.
    private lazy var sharedSignalStop: (block: LLVMBasicBlockRef, pc: LLVMValueRef) = {
        let current = builder.currentBlock
        let block = newBlock("signal_stop")
        builder.position(at: block)
        let pc = LLVMBuildPhi(builder.ref, types.i64, "stop_pc")!
        stop(.none, pc: pc)
        builder.position(at: current)
        return (block, pc)
    }()

    /// The poll's load, as an inline-assembly `mov` that LLVM is told touches only memory it
    /// cannot see and keeps no copy of the CPU pointer: it may neither hoist it out of a loop
    /// (a signal handler on this thread sets the word) nor assume it clobbers guest registers
    /// or guest memory. A volatile load, the obvious form, is an ordered access LLVM treats as a
    /// write to all memory: every loop kept its registers in memory (matmul 1.28 -> 7.3 s).
    private func readSignalPending() -> LLVMValueRef {
        var parameters: [LLVMTypeRef?] = [types.ptr]
        let type = LLVMFunctionType(types.i32, &parameters, 1, 0)!
        let text = "movl \(CPULayout.signalPending)($1), $0", constraints = "=r,r"
        let load = LLVMGetInlineAsm(type, text, text.utf8.count, constraints, constraints.utf8.count, 1, 0, LLVMInlineAsmDialectATT, 0)!
        let call = builder.call(type, load, [cpu], "signal_pending")
        let inaccessibleMemoryOnly: UInt64 = 0b11_00  // see `callPreservingAll`
        LLVMAddCallSiteAttribute(call, UInt32.max,
                                 LLVMCreateEnumAttribute(context, LLVMGetEnumAttributeKindForName("memory", 6), inaccessibleMemoryOnly))
        // It returns: without saying so, LICM may not sink a register's store out of a loop it
        // polls in (the store would no longer be sure to run before the loop could stop), and
        // keeps registers in memory (sha256 2.2 -> 3.9 s).
        for attribute in ["nounwind", "willreturn"] { LLVMAddCallSiteAttribute(call, UInt32.max, Builder.attribute(attribute, in: context)) }
        LLVMAddCallSiteAttribute(call, 1, Builder.attribute("nocapture", in: context))
        return call
    }

    /// The block a branch to `address` goes to before any poll: in profiled code, a loop
    /// header's counting block.
    private func countedTarget(_ address: UInt64) -> LLVMBasicBlockRef {
        let block = blocks[address]!
        guard profile != nil, page.loopHeaders.contains(address) else { return block }
        // Every edge into the header shares one: first-tier code is compiled for every region,
        // and a counting block per edge was about a third of hello world's counting code.
        if let counting = headerCounting[address] { return counting }
        let current = builder.currentBlock
        let counting = newBlock("loop_count")
        builder.position(at: counting)
        let hot = countExecution()
        let lookup = newBlock("loop_other_code"), viaMap = newBlock("loop_via_map")
        builder.condBr(hot, lookup, block)
        builder.position(at: lookup)
        let code = builder.load(types.ptr, mapSlot(builder.constant(address)), "code", align: 8)
        let elsewhere = builder.and(builder.icmp(LLVMIntNE, code, ownAddress), builder.icmp(LLVMIntNE, code, LLVMConstNull(types.ptr)))
        builder.condBr(elsewhere, viaMap, block)
        builder.position(at: viaMap)
        jumpThroughMap(to: builder.constant(address))
        builder.position(at: current)
        headerCounting[address] = counting
        return counting
    }

    /// The counting block in front of each loop header, in profiled code.
    private var headerCounting: [UInt64: LLVMBasicBlockRef] = [:]

    /// The function's own address, to tell whether the map sends a loop header elsewhere.
    private lazy var ownAddress: LLVMValueRef = inEntryBlock { opaqueAddress(function, "own_address") }

    /// Increments the region's counter, tells the runtime once when it reaches the threshold,
    /// and returns whether it has (an i1). Only in profiled code.
    private func countExecution() -> LLVMValueRef {
        guard let profile else { return builder.constant(UInt64(0), types.i1) }
        let slot: LLVMValueRef = regionCounter
        let count = builder.add(builder.load(types.i64, slot, "count", align: 8), builder.constant(Int64(1)))
        builder.store(count, slot, align: 8)
        let reached = builder.icmp(LLVMIntEQ, count, builder.constant(profile.threshold))
        let notify = newBlock("became_hot"), after = newBlock("counted")
        builder.condBr(reached, notify, after)
        builder.position(at: notify)
        let (type, function) = helper(RuntimeSymbols.regionHot, returns: types.void, [types.ptr, types.i64])
        builder.call(type, function, [cpu, builder.constant(profile.entry)])
        builder.br(after)
        builder.position(at: after)
        return builder.icmp(LLVMIntUGE, count, builder.constant(profile.threshold), "hot")
    }

    /// Exported (named after the function) so the runtime can read how hot the region is.
    lazy var counterGlobal: LLVMValueRef = {
        var length = 0
        let name = String(cString: LLVMGetValueName2(function, &length))
        let counter = LLVMAddGlobal(module, types.i64, RuntimeSymbols.regionCounter(name))!
        LLVMSetInitializer(counter, builder.constant(Int64(0)))
        return counter
    }()

    /// Leaves through the shared exit even when `target` is a block of this page.
    private func jumpThroughMap(to target: LLVMValueRef) {
        var incoming: [LLVMValueRef?] = [target]
        var from: [LLVMBasicBlockRef?] = [builder.currentBlock]
        LLVMAddIncoming(exitTarget, &incoming, &from, 1)
        builder.br(exitBlock)
    }

    /// The shared exit: write back, look up the slot, tail-call it; on a miss, ask the runtime.
    /// Profiled code has one tail call for both: FastISel lowers neither a tail call nor a
    /// GHC-convention return, so each block ending in one goes to SelectionDAG, the expensive
    /// part of first-tier code generation (hello world's 79 regions: 122 -> 110 ms). Optimized
    /// code keeps a tail call on each path (one behind a phi made calls 0.63 -> 0.70 s).
    private func emitLeave() {
        guard !replaying else {
            // The replay goes on at the next pc from the runtime, which runs the code for it.
            writeBackRegisters(includingPassed: true)
            builder.store(exitTarget, cpuField(CPULayout.pc), align: 8)
            LLVMBuildRetVoid(builder.ref)
            return
        }
        writeBackRegisters(includingPassed: false)
        let index = builder.lshr(exitTarget, builder.constant(Int64(1)))
        let inRange = builder.icmp(LLVMIntULT, index, builder.constant(Int64(1) << (GuestLimits.addressBits - 1)))
        let lookup = newBlock("map_lookup"), hit = newBlock("map_hit"), miss = newBlock("map_miss")
        builder.condBr(inRange, lookup, miss)

        builder.position(at: lookup)
        let code = builder.load(types.ptr, mapSlot(index: index), "code", align: 8)
        let present = builder.icmp(LLVMIntNE, code, LLVMConstNull(types.ptr))
        builder.condBr(present, hit, miss)

        builder.position(at: miss)
        if logsStores {
            for (index, slot) in passedSlots.sorted(by: { $0.key < $1.key }) {
                builder.store(builder.load(types.i64, slot, align: 8), cpuField(CPULayout.x(index)), align: 8)
            }
            builder.store(exitTarget, cpuField(CPULayout.pc), align: 8)
        }
        let (resolveType, resolve) = helper(logsStores ? RuntimeSymbols.resolveAtCheckpoint : RuntimeSymbols.resolve,
                                            returns: types.ptr, [types.ptr, types.i64])
        let resolved = builder.call(resolveType, resolve, [cpu, exitTarget], "resolved")
        guard profile != nil else {
            tailCall(resolved)
            builder.position(at: hit)
            tailCall(code)
            return
        }
        builder.br(hit)
        builder.position(at: hit)
        let next = LLVMBuildPhi(builder.ref, types.ptr, "next_code")!
        var values: [LLVMValueRef?] = [code, resolved]
        var from: [LLVMBasicBlockRef?] = [lookup, miss]
        LLVMAddIncoming(next, &values, &from, 2)
        tailCall(next)
    }

    /// The code map's slot for guest `pc` (see `RuntimeSymbols.codeMap`).
    private func mapSlot(_ pc: LLVMValueRef) -> LLVMValueRef {
        mapSlot(index: builder.lshr(pc, builder.constant(Int64(1))))
    }

    /// The code map's slot at `index` (a pc halved), for code that range-checked the index first.
    private func mapSlot(index: LLVMValueRef) -> LLVMValueRef {
        builder.gep(codeMap, byteOffset: builder.shl(index, builder.constant(Int64(3))), "slot")
    }

    /// Continues in region code `code` at guest `target`, passing the passed registers on.
    private func tailCall(_ code: LLVMValueRef, at target: LLVMValueRef? = nil) {
        let passed = RegisterPassing.registers.map { builder.load(types.i64, passedSlots[$0]!, integerRegisterNames[$0], align: 8) }
        let call = builder.call(types.pageFunction, code, [cpu, target ?? exitTarget] + passed)
        LLVMSetInstructionCallConv(call, RegisterPassing.callingConvention)
        LLVMSetTailCallKind(call, LLVMTailCallKindMustTail)
        LLVMBuildRetVoid(builder.ref)
    }

    /// Returns to the dispatcher with a reason for it to act on.
    func stop(_ reason: StopReason, pc: LLVMValueRef, detail: LLVMValueRef? = nil) {
        writeBackRegisters(includingPassed: true)
        builder.store(pc, cpuField(CPULayout.pc), align: 8)
        builder.store(builder.constant(UInt64(reason.rawValue), types.i32), cpuField(CPULayout.stopReason), align: 4)
        builder.store(detail ?? builder.constant(Int64(0)), cpuField(CPULayout.stopDetail), align: 8)
        returnToDispatcher()
    }

    /// Ends the block in a return to the dispatcher, in profiled code the function's only one
    /// (see `emitLeave` for why).
    func returnToDispatcher() {
        guard profile != nil else {
            LLVMBuildRetVoid(builder.ref)
            return
        }
        if returnBlock == nil {
            let current = builder.currentBlock
            returnBlock = newBlock("return_to_dispatcher")
            builder.position(at: returnBlock!)
            LLVMBuildRetVoid(builder.ref)
            builder.position(at: current)
        }
        builder.br(returnBlock!)
    }

    private var returnBlock: LLVMBasicBlockRef?
    /// The stores that write store log entries (see `separateStoreLog`).
    var storeLogEntries: [LLVMValueRef] = []

    /// Calls a runtime helper that may read or change any register: state goes to memory and comes back.
    func callRuntime(_ name: String, returns: LLVMTypeRef, _ parameterTypes: [LLVMTypeRef], _ arguments: [LLVMValueRef]) -> LLVMValueRef {
        guard !replaying else {
            // A replay ends at the last syscall or runtime call: one here means it went astray.
            stop(.unreplayable, pc: builder.constant(pc))
            builder.position(at: newBlock("unreplayable"))
            return LLVMGetUndef(returns == types.void ? types.i32 : returns)
        }
        writeBackRegisters(includingPassed: true)
        builder.store(builder.constant(pc), cpuField(CPULayout.pc), align: 8)
        let (type, function) = helper(name, returns: returns, parameterTypes)
        let result = builder.call(type, function, arguments, "")
        reloadRegisters()
        return result
    }

}
