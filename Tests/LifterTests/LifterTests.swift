import Engine
import Lifter
import RISCV
import TestSupport
import Testing

@Suite struct LifterTests {
    static let page: UInt64 = 0x10000

    /// Random encodings of every straight-line opcode, ending in `ret`.
    static func straightLineCode(seed: UInt64, perOpcode: Int) -> [UInt32] {
        var random = SplitMix(state: seed)
        var words: [UInt32] = []
        for opcode in Opcode.allCases where opcode.controlFlow == .next || opcode == .ecall {
            let template = Decoder.encodingTemplate(for: opcode)!
            var made = 0
            while made < perOpcode {
                var word = template.match | (UInt32(truncatingIfNeeded: random.next()) & ~template.mask)
                if opcode.rawValue.hasPrefix("csr") { word = (word & 0x000f_ffff) | (0x001 << 20) }   // fflags
                guard Decoder.decode(word)?.opcode == opcode else { continue }
                words.append(word)
                made += 1
            }
        }
        return words + [0x0000_8067]   // jalr zero, 0(ra)
    }

    static func discover(_ words: [UInt32], entries: [UInt64] = [page]) -> DiscoveredPage {
        DiscoveredPage.discover(page: page, entries: entries) { address in
            let index = Int(address - page) / 2
            guard index / 2 < words.count else { return nil }
            return UInt16(truncatingIfNeeded: words[index / 2] >> (index % 2 == 0 ? 0 : 16))
        }
    }

    @Test(arguments: [0, 2])
    func everyOpcodeLiftsToIRThatVerifies(level: Int) throws {
        let words = Self.straightLineCode(seed: 2024, perOpcode: 3)
        let page = Self.discover(Array(words.prefix(1024)))
        #expect(page.instructions.count == min(words.count, 1024))
        let module = IRModule(name: "test")
        PageLifter().lift(page, into: module)
        #expect(module.verify() == nil)
        let generator = try CodeGenerator(optimizationLevel: level)
        try PassPipeline(level: level).run(on: module, targetMachine: generator.targetMachine)
        #expect(module.verify() == nil)
    }

    /// Alone in its page, so the region has slots only for the registers the instruction names:
    /// an operand read that the operand list does not declare has no slot and fails here.
    @Test func everyOpcodeLiftsOnItsOwn() throws {
        for word in Self.straightLineCode(seed: 7, perOpcode: 1).dropLast() {
            let module = IRModule(name: "single")
            PageLifter().lift(Self.discover([word, 0x0000_8067]), into: module)
            #expect(module.verify() == nil, "\(Decoder.decode(word)!.text(at: 0))")
        }
    }

    @Test func branchesInsideThePageStayInsideTheFunction() throws {
        // loop: addi a0,a0,-1 ; bne a0,zero,loop ; jalr zero,0(ra)
        let words: [UInt32] = [0xfff5_0513, 0xfe05_1ee3, 0x0000_8067]
        let page = Self.discover(words)
        #expect(page.leaders.contains(Self.page) && page.leaders.contains(Self.page + 8))
        let module = IRModule(name: "loop")
        let name = PageLifter().lift(page, into: module)
        #expect(module.verify() == nil)
        let text = module.text
        #expect(text.contains("define ghccc void @\(name)(ptr noalias writable align 64 dereferenceable(640) %cpu, i64 %entry_pc, i64 %ra.in, i64 %sp.in"))
        #expect(text.contains("musttail call ghccc void"))
        #expect(text.contains(RuntimeSymbols.resolve))
        // The loop's back edge is a branch to the loop block, not a trip through the map; a counted
        // loop's does not poll for signals (it stays vectorizable), the region's entry does.
        #expect(text.contains("br i1 %taken, label %\"0x10000\""))
        #expect(text.contains("asm sideeffect \"movl 568($1), $0\""))  // CPULayout.signalPending
        #expect(text.contains("signal_stop"))
    }

    /// Code lifted for fault replay makes every access through the runtime (state stored first),
    /// never leaves through the map, never polls, and stops at a syscall; it verifies for every opcode.
    @Test func replayedCodeAccessesMemoryOnlyThroughTheRuntime() throws {
        // ld a1,0(a0) ; sd a1,8(a0) ; amoadd.d a2,a1,(a0) ; ecall ; jalr zero,0(ra)
        let words: [UInt32] = [0x0005_3583, 0x00b5_3423, 0x00b5_362f, 0x0000_0073, 0x0000_8067]
        let module = IRModule(name: "replay")
        PageLifter(replaying: true).lift(Self.discover(words), into: module)
        #expect(module.verify() == nil)
        let text = module.text
        #expect(text.components(separatedBy: "call i64 @\(RuntimeSymbols.replayAccess)").count - 1 == 3)
        #expect(!text.contains(RuntimeSymbols.resolve) && !text.contains("musttail") && !text.contains("568($1)"))
        #expect(!text.contains("call i32 @\(RuntimeSymbols.syscall)"))
        #expect(!text.contains("atomicrmw"))

        let every = IRModule(name: "replay_every")
        PageLifter(replaying: true).lift(Self.discover(Array(Self.straightLineCode(seed: 11, perOpcode: 2).prefix(1024))), into: every)
        #expect(every.verify() == nil)
    }

    /// Code that logs stores writes an entry (address, width and lap in one word, the old value
    /// in the other) before each store, after each AMO and SC, checkpoints after those, and
    /// stores its passed registers and the target before a miss; it verifies for every opcode.
    @Test func loggedCodeWritesAnEntryBeforeEachStore() throws {
        // sd a1,8(a0) ; sb a1,1(a0) ; amoadd.d a2,a1,(a0) ; ecall ; jalr zero,0(ra)
        let words: [UInt32] = [0x00b5_3423, 0x00b5_00a3, 0x00b5_362f, 0x0000_0073, 0x0000_8067]
        for profile in [nil, RegionProfile(entry: Self.page, threshold: 100)] {
            let module = IRModule(name: "logged", keepsValueNames: true)
            PageLifter(profile: profile, logsStores: true).lift(Self.discover(words), into: module)
            #expect(module.verify() == nil)
            let text = module.text
            // One load of what each store overwrites, at its width (the AMO's old value is its own).
            let overwrittenLoads = text.split(separator: "\n").filter { $0.contains("%overwritten") && $0.contains("= load") }
            #expect(overwrittenLoads.count == 2)
            #expect(overwrittenLoads.contains { $0.contains("load i64") } && overwrittenLoads.contains { $0.contains("load i8") })
            #expect(text.components(separatedBy: "%log_index").count - 1 >= 3)
            #expect(text.contains(RuntimeSymbols.checkpoint))
            #expect(text.contains(RuntimeSymbols.resolveAtCheckpoint) && !text.contains("@\(RuntimeSymbols.resolve)("))
            let generator = try CodeGenerator(optimizationLevel: 2)
            try PassPipeline(level: 2).run(on: module, targetMachine: generator.targetMachine)
            #expect(module.verify() == nil)
        }
        let plain = IRModule(name: "plain")
        PageLifter().lift(Self.discover(words), into: plain)
        #expect(!plain.text.contains("log_index") && !plain.text.contains(RuntimeSymbols.checkpoint))

        // loop: sd a1,0(a0) ; addi a0,a0,8 ; addi a2,a2,-1 ; bnez a2,loop ; ret
        let loop: [UInt32] = [0x00b5_3023, 0x0085_0513, 0xfff6_0613, 0xfe06_1ae3, 0x0000_8067]
        let loopPage = Self.discover(loop)
        #expect(loopPage.leafLoopBlocks == [Self.page])
        for inLoops in [true, false] {
            let module = IRModule(name: "loop")
            PageLifter(logsStores: true, logsStoresInLoops: inLoops).lift(loopPage, into: module)
            #expect(module.verify() == nil)
            #expect(module.text.contains("log_index") == inLoops)
        }

        let every = IRModule(name: "logged_every")
        PageLifter(logsStores: true).lift(Self.discover(Array(Self.straightLineCode(seed: 12, perOpcode: 2).prefix(1024))), into: every)
        #expect(every.verify() == nil)
    }

    /// Tier-up enters loops at outermost headers only: an entry at an inner loop's header would
    /// give the outer loop a second entry, and LLVM optimizes loops with one.
    @Test func onlyOutermostLoopHeadersBecomeEntries() {
        // li a1,3 ; outer: addi a0,a0,-1 ; inner: addi a1,a1,-1 ; bnez a1,inner ; bnez a0,outer ; ret
        let words: [UInt32] = [0x0030_0593, 0xfff5_0513, 0xfff5_8593, 0xfe05_9ee3, 0xfe05_1ae3, 0x0000_8067]
        let page = DiscoveredPage.discover(page: Self.page, entries: [Self.page], loopHeadersAreEntries: true) { address in
            let index = Int(address - Self.page) / 2
            guard index / 2 < words.count else { return nil }
            return UInt16(truncatingIfNeeded: words[index / 2] >> (index % 2 == 0 ? 0 : 16))
        }
        #expect(page.loopHeaders == [Self.page + 4, Self.page + 8])
        #expect(page.entries == [Self.page, Self.page + 4])
        #expect(page.entryCopies.isEmpty)
    }

    /// Optimized code enters an innermost loop through a copy of the code from its header to the
    /// headers around it: the inner loop and the outer loop's latch, which branches back to the
    /// original outer header or leaves for the original return.
    @Test func innerLoopsAreEnteredThroughACopy() throws {
        // li a1,3 ; outer: addi a0,a0,-1 ; inner: addi a1,a1,-1 ; bnez a1,inner ; bnez a0,outer ; ret
        let words: [UInt32] = [0x0030_0593, 0xfff5_0513, 0xfff5_8593, 0xfe05_9ee3, 0xfe05_1ae3, 0x0000_8067]
        let page = DiscoveredPage.discover(page: Self.page, entries: [Self.page], loopHeadersAreEntries: true, copiesEntriesInLoops: true) { address in
            let index = Int(address - Self.page) / 2
            guard index / 2 < words.count else { return nil }
            return UInt16(truncatingIfNeeded: words[index / 2] >> (index % 2 == 0 ? 0 : 16))
        }
        #expect(page.entries == [Self.page, Self.page + 4])
        #expect(page.entryCopies == [Self.page + 8: [Self.page + 8, Self.page + 0x10]])
        #expect(page.mapEntries == [Self.page, Self.page + 4, Self.page + 8])
        let module = IRModule(name: "nest")
        PageLifter(annotate: false).lift(page, into: module)
        #expect(module.verify() == nil)
        let text = module.text
        #expect(text.contains("i64 65544, label %\"0x10008 entered at 10008\""))
        // The copy's latch goes back to the original outer header, not to a copy of it.
        #expect(text.contains("label %\"0x10004\""))
        #expect(!text.contains("0x10004 entered at"))
        let generator = try CodeGenerator(optimizationLevel: 2)
        try PassPipeline(level: 2).run(on: module, targetMachine: generator.targetMachine)
        #expect(module.verify() == nil)
    }

    /// A loop through a call of a function in the region has a header (the call continues at its
    /// return address), so its return address is a side entry, entered through a copy; a call
    /// that ends its function does not return, and what follows it is not discovered.
    @Test func loopsThroughCallsHaveHeadersAndTheirReturnAddressesCopies() {
        // li a0,10 ; loop: jal ra,f ; addi a0,a0,-1 ; bnez a0,loop ; ret ; f: ret
        let words: [UInt32] = [0x00a0_0513, 0x0100_00ef, 0xfff5_0513, 0xfe05_1ce3, 0x0000_8067, 0x0000_8067]
        func discover(callReturns: @escaping (UInt64, UInt64) -> Bool) -> DiscoveredPage {
            DiscoveredPage.discover(page: Self.page, entries: [Self.page], loopHeadersAreEntries: true, copiesEntriesInLoops: true,
                                    callReturns: callReturns) { address in
                let index = Int(address - Self.page) / 2
                guard index / 2 < words.count else { return nil }
                return UInt16(truncatingIfNeeded: words[index / 2] >> (index % 2 == 0 ? 0 : 16))
            }
        }
        let page = discover { _, _ in true }
        #expect(page.loopHeaders == [Self.page + 4])
        #expect(page.entries == [Self.page, Self.page + 4, Self.page + 8])
        #expect(page.entryCopies == [Self.page + 8: [Self.page + 8]])
        let module = IRModule(name: "calls")
        PageLifter(annotate: false).lift(page, into: module)
        #expect(module.verify() == nil)

        let noReturn = discover { call, _ in call != Self.page + 4 }
        #expect(noReturn.entries == [Self.page])
        #expect(noReturn.instructions[Self.page + 8] == nil && noReturn.loopHeaders.isEmpty)
    }

    /// Atomics keep the ordering their aq/rl bits ask for, and only a fence that orders stores
    /// before loads is a full barrier: x86 keeps every other order by itself.
    @Test func atomicsAndFencesTranslateTheirOrdering() {
        let words: [UInt32] = [
            0x08f7_202f,   // amoswap.w zero,a5,(a4): a relaxed atomic store
            0x0ef7_252f,   // amoswap.w.aqrl a0,a5,(a4)
            0x04b6_352f,   // amoadd.d.aq a0,a1,(a2)
            0x1406_27af,   // lr.w.aq a5,(a2)
            0x1ae6_26af,   // sc.w.rl a3,a4,(a2)
            0x0330_000f,   // fence rw,rw
            0x0230_000f,   // fence r,rw
            0x8330_000f,   // fence.tso
            0x0f50_000f,   // fence iorw,ow
            0x0000_8067,   // ret
        ]
        let module = IRModule(name: "atomics")
        PageLifter().lift(Self.discover(words), into: module)
        #expect(module.verify() == nil)
        let lines = module.text.split(separator: "\n")
        func count(_ parts: String...) -> Int { lines.filter { line in parts.allSatisfy { line.contains($0) } }.count }
        #expect(count("store atomic i32", "monotonic") == 1)
        #expect(count("atomicrmw xchg", "seq_cst") == 1)
        #expect(count("atomicrmw add", "i64", "acquire") == 1)
        #expect(count("load atomic i32", "acquire") == 1)
        #expect(count("cmpxchg", "release monotonic") == 1)
        #expect(count("fence seq_cst") == 1)
        #expect(count("fence acq_rel") == 3)
    }

    /// The configured LLVM options keep SLP vectorization out of optimized code: a prologue's
    /// register saves stay scalar stores of scalar loads, which the store buffer can serve.
    @Test func registerSavesStayScalarInOptimizedCode() throws {
        // sd s2,80(sp) ... sd s9,24(sp) ; ret
        let words: [UInt32] = [0x0521_3823, 0x0531_3423, 0x0541_3023, 0x0351_3c23, 0x0361_3823,
                               0x0371_3423, 0x0381_3023, 0x0191_3c23, 0x0000_8067]
        try LLVMOptions.apply(TierConfiguration().llvmOptions)
        let module = IRModule(name: "saves")
        PageLifter().lift(Self.discover(words), into: module)
        let generator = try CodeGenerator(optimizationLevel: 2)
        try PassPipeline(level: 2).run(on: module, targetMachine: generator.targetMachine)
        #expect(module.verify() == nil)
        #expect(!module.text.contains(" x i64>"))
        #expect(module.text.components(separatedBy: "store i64").count - 1 >= 8)
    }

    /// A pointer bumped before its last use addresses memory through its value before the bump:
    /// the load and the store below go through one masked address, so LLVM sees they are the
    /// same location (which loop vectorization of such code needs).
    @Test func bumpedPointersAddressThroughTheirBase() throws {
        // ld t0,0(a0) ; addi t0,t0,1 ; addi a0,a0,8 ; sd t0,-8(a0) ; ret
        let words: [UInt32] = [0x0005_3283, 0x0012_8293, 0x0085_0513, 0xfe55_3c23, 0x0000_8067]
        let module = IRModule(name: "bumped")
        PageLifter().lift(Self.discover(words), into: module)
        let generator = try CodeGenerator(optimizationLevel: 2)
        try PassPipeline(level: 2).run(on: module, targetMachine: generator.targetMachine)
        #expect(module.verify() == nil)
        let lines = module.text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(lines.filter { $0.contains("and i64") && $0.contains("274877906943") }.count == 1)
        let load = lines.first { $0.contains("= load i64, ptr %") && !$0.contains("ptr %cpu") }
        let pointer = load.map { String($0.split(separator: "ptr ")[1].prefix { $0 != "," }) }
        #expect(pointer != nil && lines.contains { $0.hasPrefix("store i64 %") && $0.contains("ptr \(pointer!),") }, "\(module.text)")
    }

    /// Optimized code may assume that a loop stepping its counter by a constant towards an
    /// unchanged bound ends (so LLVM can count a step of 8); not one that waits for memory.
    @Test func onlyCountedLoopsMayBeAssumedToEnd() {
        func lifted(_ words: [UInt32]) -> String {
            let module = IRModule(name: "loop")
            PageLifter().lift(Self.discover(words), into: module)
            #expect(module.verify() == nil)
            return module.text
        }
        // loop: ld t0,0(a5) ; addi a5,a5,8 ; bne a5,a3,loop ; ret
        #expect(lifted([0x0007_b283, 0x0087_8793, 0xfed7_9ce3, 0x0000_8067]).contains("!\"llvm.loop.mustprogress\""))
        // wait: lw t0,0(a0) ; beqz t0,wait ; ret
        #expect(!lifted([0x0005_2283, 0xfe02_8ee3, 0x0000_8067]).contains("llvm.loop"))
    }

    /// Without flag tracking, arithmetic is LLVM's ordinary instructions: no constrained
    /// intrinsics, no strictfp, nothing accrued by hand.
    @Test func untrackedFlagsLeaveOrdinaryArithmetic() throws {
        // fmadd.d fa0,fa1,fa2,fa3 ; fdiv.d fa0,fa0,fa1 ; fcvt.l.d a0,fa0 ; flt.d a1,fa0,fa1 ; ret
        let words: [UInt32] = [0x6ac5_f543, 0x1ab5_7553, 0xc225_7553, 0xa2b5_15d3, 0x0000_8067]
        for tracked in [true, false] {
            let module = IRModule(name: "plain")
            PageLifter(tracksFloatFlags: tracked).lift(Self.discover(words), into: module)
            #expect(module.verify() == nil)
            #expect(module.text.contains("llvm.experimental.constrained") == tracked)
            #expect(module.text.contains("strictfp") == tracked)
            #expect(module.text.contains("fdiv double") == !tracked)
        }
        // frflags a4 ; flt.d a5,fa4,fa5 ; fsflags a4 ; ret: untracked, the host's flags are not read.
        for tracked in [true, false] {
            let module = IRModule(name: "quiet")
            PageLifter(tracksFloatFlags: tracked).lift(Self.discover([0x0010_2773, 0xa2f7_17d3, 0x0017_1073, 0x0000_8067]), into: module)
            #expect(module.verify() == nil)
            #expect(module.text.contains(RuntimeSymbols.syncFloatFlags) == tracked)
        }
    }

    /// Reads of the accrued flags count, except gcc's save-compare-restore around a quiet comparison.
    @Test func theFlagsScanSkipsOnlyQuietComparisons() {
        // frflags a4 ; flt.d a5,fa4,fa5 ; fsflags a4 ; frflags a0 ; ret
        let words: [UInt32] = [0x0010_2773, 0xa2f7_17d3, 0x0017_1073, 0x0010_2573, 0x0000_8067]
        words.withUnsafeBytes { code in
            #expect(FloatFlagsUse.observingReads(in: [(start: Self.page, bytes: code)]) == [Self.page + 12])
            #expect(FloatFlagsUse.observingReads(in: [(start: Self.page, bytes: UnsafeRawBufferPointer(rebasing: code[..<12]))]).isEmpty)
        }
    }

    /// A result is hardly ever NaN: its canonicalization is marked so, and optimized code tests
    /// with a predicted branch instead of a conditional move the stored value waits for.
    @Test func nanCanonicalizationIsMarkedRare() throws {
        // fadd.d fa0,fa1,fa2,rne ; fsd fa0,0(a0) ; ret  (the last two compressed)
        let words: [UInt32] = [0x02c5_8553, 0x8082_a108]
        let module = IRModule(name: "canonical")
        PageLifter().lift(Self.discover(words), into: module)
        #expect(module.verify() == nil)
        let selects = module.text.split(separator: "\n").filter { $0.contains(" = select i1 ") }
        #expect(!selects.isEmpty && selects.allSatisfy { $0.contains("!prof") })
        let generator = try CodeGenerator(optimizationLevel: 2)
        try PassPipeline(level: 2).run(on: module, targetMachine: generator.targetMachine)
        let assembly = try generator.assembly(for: module)
        #expect(assembly.contains("jp\t") && !assembly.contains("cmovp"))
    }

    @Test func callsMakeTheirReturnAddressAnEntry() {
        // jal ra,+8 ; jalr zero,0(ra) ; jalr zero,0(ra)
        let words: [UInt32] = [0x0080_00ef, 0x0000_8067, 0x0000_8067]
        let page = Self.discover(words)
        #expect(page.entries == [Self.page, Self.page + 4])
    }

    /// Speculation compiles where a region leaves it in the order the code would likely get
    /// there: the calls of the fall-through path in the order they are made, then the out-of-line
    /// side of a branch (where compilers put error handling), whose tail jump counts too.
    @Test func exitsElsewhereComeInTheOrderTheCodeReachesThem() throws {
        let words: [UInt32] = [
            0x0005_0863,    // beqz a0,+0x10 (out of line)
            0x7fd0_20ef,    // jal ra,page+0x3000
            0x7f90_40ef,    // jal ra,page+0x5000
            0x0000_8067,    // ret
            0x7f10_00ef,    // jal ra,page+0x1000 (an error path's call)
            0x7ed0_306f,    // j page+0x4000
        ]
        let region = DiscoveredPage.discover(page: Self.page, entries: [Self.page]) { address in
            let index = Int(address - Self.page) / 4
            guard address >= Self.page, index < words.count else { return nil }
            return UInt16(truncatingIfNeeded: address % 4 == 0 ? words[index] : words[index] >> 16)
        }
        #expect(region.exitsElsewhere(from: [Self.page]) == [0x3000, 0x5000, 0x1000, 0x4000].map { Self.page + $0 })
        #expect(region.directTargetsElsewhere == Set([0x1000, 0x3000, 0x4000, 0x5000].map { Self.page + $0 }))
    }

    /// Optimized code takes in a called function of another page: the call is a branch, the return
    /// a compare against the call site; the function's first instruction is not an entry (its
    /// other callers keep its own code), but return addresses of its calls out are.
    @Test func calleesInOtherPagesJoinTheRegion() throws {
        let callee = Self.page + 0x2000
        let code: [UInt64: [UInt32]] = [
            Self.page: [0x0000_20ef, 0x0000_8067],               // jal ra,callee ; ret
            callee: [0x0015_0513, 0x0000_10ef, 0x0000_8067],     // addi a0,a0,1 ; jal ra,+0x1000 (elsewhere) ; ret
        ]
        let region = DiscoveredPage.discover(page: Self.page, entries: [Self.page], callees: [callee]) { address in
            let page = address & ~0xfff
            guard let words = code[page], Int(address - page) / 4 < words.count else { return nil }
            let word = words[Int(address - page) / 4]
            return UInt16(truncatingIfNeeded: address % 4 == 0 ? word : word >> 16)
        }
        #expect(region.pages == [Self.page, callee])
        #expect(region.instructions.count == 5)
        #expect(region.entries == [Self.page, Self.page + 4, callee + 8])
        #expect(region.directTargetsElsewhere == [callee + 0x1004])
        let module = IRModule(name: "callee")
        PageLifter().lift(region, into: module)
        #expect(module.verify() == nil)
        let text = module.text
        #expect(text.contains("br label %\"0x12000\""))
        #expect(text.contains("i64 65540, label %\"0x10004\""))
    }

    /// `jal rd, offset` (J-type).
    static func jal(_ rd: UInt32, _ offset: Int32) -> UInt32 {
        let imm = UInt32(bitPattern: offset)
        return (imm >> 20 & 1) << 31 | (imm >> 1 & 0x3ff) << 21 | (imm >> 11 & 1) << 20 | (imm >> 12 & 0xff) << 12 | rd << 7 | 0x6f
    }

    /// A return goes back only to the calls of the function it returns from (tail jumps
    /// included), so the call sites of one function are not successors of another's return.
    @Test func returnsDispatchOnlyToTheirFunctionsCallers() throws {
        let ret: UInt32 = 0x0000_8067, nop: UInt32 = 0x0000_0013, increment: UInt32 = 0x0015_0513
        var words = [UInt32](repeating: nop, count: 0x14)
        words[0x0] = Self.jal(1, 0x20)       // 10000: call f (10020)
        words[0x1] = Self.jal(1, 0x2c)       // 10004: call g (10030)
        words[0x2] = Self.jal(1, 0x18)       // 10008: call f
        words[0x3] = ret                     // 1000c: main's return: no caller in the region
        words[0x8] = increment               // 10020: f
        words[0x9] = ret                     // 10024
        words[0xc] = Self.jal(0, 0x10)       // 10030: g: tail jump to h (10040)
        words[0x10] = increment              // 10040: h
        words[0x11] = ret                    // 10044
        let page = Self.discover(words)
        let returns = page.returnAddresses()
        #expect(returns[Self.page + 0x24] == [Self.page + 0x4, Self.page + 0xc])
        #expect(returns[Self.page + 0x44] == [Self.page + 0x8])
        #expect(returns[Self.page + 0xc] == [])
        let module = IRModule(name: "returns")
        PageLifter().lift(page, into: module)
        #expect(module.verify() == nil)
        // Two return dispatches, each a switch over its own function's call sites.
        let dispatches = module.text.split(separator: "\n").filter { $0.hasPrefix("return_dispatch") }
        #expect(dispatches.count == 2)
    }

    @Test func undecodableBytesBecomeAnIllegalInstructionStop() {
        let page = Self.discover([0xffff_ffff])
        guard case .illegal = page.instructions[Self.page] else {
            Issue.record("expected an illegal instruction, got \(String(describing: page.instructions[Self.page]))")
            return
        }
        let module = IRModule(name: "illegal")
        PageLifter().lift(page, into: module)
        #expect(module.verify() == nil)
    }
}
