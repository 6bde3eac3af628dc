import CLLVM
import Guest
import RISCV

/// Loads and stores (integer and FP) and the A extension. A guest access is one host
/// access at base + (register & mask) + offset (see `GuestMemory`); misaligned accesses
/// are allowed, as on Linux.
struct MemoryForm {
    let bytes: Int
    let signed: Bool
    let float: Bool
}

let loadForms: [Opcode: MemoryForm] = [
    .lb: MemoryForm(bytes: 1, signed: true, float: false), .lbu: MemoryForm(bytes: 1, signed: false, float: false),
    .lh: MemoryForm(bytes: 2, signed: true, float: false), .lhu: MemoryForm(bytes: 2, signed: false, float: false),
    .lw: MemoryForm(bytes: 4, signed: true, float: false), .lwu: MemoryForm(bytes: 4, signed: false, float: false),
    .ld: MemoryForm(bytes: 8, signed: false, float: false),
    .flw: MemoryForm(bytes: 4, signed: false, float: true), .fld: MemoryForm(bytes: 8, signed: false, float: true),
]

let storeForms: [Opcode: MemoryForm] = [
    .sb: MemoryForm(bytes: 1, signed: false, float: false), .sh: MemoryForm(bytes: 2, signed: false, float: false),
    .sw: MemoryForm(bytes: 4, signed: false, float: false), .sd: MemoryForm(bytes: 8, signed: false, float: false),
    .fsw: MemoryForm(bytes: 4, signed: false, float: true), .fsd: MemoryForm(bytes: 8, signed: false, float: true),
]

/// AMOs: the LLVM read-modify-write operation and the width.
let atomicForms: [Opcode: (LLVMAtomicRMWBinOp, Int)] = [
    .amoswap_w: (LLVMAtomicRMWBinOpXchg, 32), .amoadd_w: (LLVMAtomicRMWBinOpAdd, 32),
    .amoxor_w: (LLVMAtomicRMWBinOpXor, 32), .amoand_w: (LLVMAtomicRMWBinOpAnd, 32),
    .amoor_w: (LLVMAtomicRMWBinOpOr, 32), .amomin_w: (LLVMAtomicRMWBinOpMin, 32),
    .amomax_w: (LLVMAtomicRMWBinOpMax, 32), .amominu_w: (LLVMAtomicRMWBinOpUMin, 32),
    .amomaxu_w: (LLVMAtomicRMWBinOpUMax, 32),
    .amoswap_d: (LLVMAtomicRMWBinOpXchg, 64), .amoadd_d: (LLVMAtomicRMWBinOpAdd, 64),
    .amoxor_d: (LLVMAtomicRMWBinOpXor, 64), .amoand_d: (LLVMAtomicRMWBinOpAnd, 64),
    .amoor_d: (LLVMAtomicRMWBinOpOr, 64), .amomin_d: (LLVMAtomicRMWBinOpMin, 64),
    .amomax_d: (LLVMAtomicRMWBinOpMax, 64), .amominu_d: (LLVMAtomicRMWBinOpUMin, 64),
    .amomaxu_d: (LLVMAtomicRMWBinOpUMax, 64),
]

extension FunctionLifter {
    /// The host pointer of a load's or store's guest address. When rs1 is another value plus a
    /// constant (`displacedRegisters`), the access goes through that value's mask instead: the
    /// same guest address unless rs1 crossed an end of the address space, where the guards
    /// fault instead of the mask wrapping around, as a guest address outside it would.
    func accessPointer(_ instruction: Instruction) -> LLVMValueRef {
        if let displaced = displacedRegisters[instruction.rs1] {
            let offset = displaced.displacement &+ instruction.imm
            if offset.magnitude <= GuestMemory.maximumDisplacement.magnitude { return guestPointer(register: displaced.base, offset: offset) }
        }
        return guestPointer(register: readX(instruction.rs1), offset: instruction.imm)
    }

    /// The guest address `rs1 + imm`, for code lifted for replay.
    private func accessAddress(_ instruction: Instruction) -> LLVMValueRef {
        builder.add(readX(instruction.rs1), builder.constant(instruction.imm))
    }

    /// A guest access in code lifted for fault replay (see `PageLifter.replaying`): the state as
    /// it stands before the access goes to memory, then the runtime makes the access. Returns
    /// the value read, `bytes` wide.
    private func replayAccess(_ kind: ReplayAccess, operation: LLVMAtomicRMWBinOp? = nil, address: LLVMValueRef, bytes: Int,
                              value: LLVMValueRef? = nil, expected: LLVMValueRef? = nil) -> LLVMValueRef {
        writeBackRegisters(includingPassed: true)
        builder.store(builder.constant(pc), cpuField(CPULayout.pc), align: 8)
        let (type, function) = helper(RuntimeSymbols.replayAccess, returns: types.i64, [types.ptr, types.i32, types.i64, types.i32, types.i64, types.i64])
        func wide(_ value: LLVMValueRef?) -> LLVMValueRef {
            guard let value else { return builder.constant(Int64(0)) }
            return bytes == 8 ? value : builder.zext(value, types.i64)
        }
        let code = kind.rawValue + Int32(operation?.rawValue ?? 0)
        let result = builder.call(type, function, [cpu, builder.constant(Int64(code), types.i32), address,
                                                   builder.constant(Int64(bytes), types.i32), wide(value), wide(expected)])
        return bytes == 8 ? result : builder.trunc(result, types.integer(bits: bytes * 8))
    }

    func liftLoad(_ instruction: Instruction, _ form: MemoryForm) {
        let type = types.integer(bits: form.bytes * 8)
        let value = replaying ? replayAccess(.load, address: accessAddress(instruction), bytes: form.bytes)
                              : builder.load(type, accessPointer(instruction))
        // A load into x0 is a probe (Go's nil checks are `lb zero, 0(rX)`): it must fault where
        // its address does, though nothing reads its value, which LLVM would otherwise drop.
        if !form.float && instruction.rd == 0 && !replaying { LLVMSetVolatile(value, 1) }
        if form.float {
            writeFBits(instruction.rd, form.bytes == 4 ? boxSingle(value) : value)
        } else if form.bytes == 8 {
            writeX(instruction.rd, value)
        } else {
            writeX(instruction.rd, form.signed ? builder.sext(value, types.i64) : builder.zext(value, types.i64))
        }
    }

    func liftStore(_ instruction: Instruction, _ form: MemoryForm) {
        let type = types.integer(bits: form.bytes * 8)
        let source = form.float ? readFBits(instruction.rs2) : readX(instruction.rs2)
        let value = form.bytes == 8 ? source : builder.trunc(source, type)
        if replaying {
            _ = replayAccess(.store, address: accessAddress(instruction), bytes: form.bytes, value: value)
            return
        }
        let pointer = accessPointer(instruction)
        if logsStoresHere(instruction) { logStore(at: pointer, bytes: form.bytes) }
        builder.store(value, pointer)
    }

    /// With `logsStores`, a checkpoint after an AMO or SC. What a thread reads after it
    /// synchronized with others (taking a lock, a queue's slot) they leave alone until it
    /// synchronizes again, in a program without data races: a fault's replay from here reads what
    /// the run read, where one from before would read what other threads wrote meanwhile (Go's
    /// scheduler, which runs goroutines between syscalls, took another path in such replays).
    /// A process with one thread skips it: the call costs malloc's atomics more than the log.
    func checkpointAfterSynchronization(_ instruction: Instruction) {
        guard logsStores else { return }
        let threads = builder.load(types.i32, cpuField(CPULayout.otherThreads), "other_threads", align: 4)
        let checkpoint = newBlock("checkpoint"), after = newBlock("after_checkpoint")
        builder.condBr(builder.icmp(LLVMIntNE, threads, builder.constant(Int64(0), types.i32)), checkpoint, after)
        builder.position(at: checkpoint)
        writeBackRegisters(includingPassed: true)
        builder.store(builder.constant(pc &+ UInt64(instruction.size)), cpuField(CPULayout.pc), align: 8)
        let (type, function) = helper(RuntimeSymbols.checkpoint, returns: types.void, [types.ptr])
        builder.call(type, function, [cpu], "")
        reloadRegisters()
        builder.br(after)
        builder.position(at: after)
    }

    /// Whether the log has an entry for `store`: not in optimized code's innermost loops without
    /// calls, whose entries kept LLVM from vectorizing (matmul 8x slower). A byte such a store overwrote is read as
    /// without a log, and the replay's passes refuse a state that depends on it. (Leaving out
    /// stores through sp too made calls 1.27x -> 1.03x and bintrees 1.7x -> 1.2x slower than
    /// without a log, but Go's replays then lost the registers asyncPreempt saves on the stack.)
    private func logsStoresHere(_ store: Instruction) -> Bool {
        logsStores && (logsStoresInLoops || !inLeafLoop)
    }

    /// With `logsStores`, the store log's entry for a store of `bytes` at `pointer` that
    /// overwrites `old` (loaded here when nil), written before the store (see `StoreLogLayout`).
    private func logStore(at pointer: LLVMValueRef, bytes: Int, old: LLVMValueRef? = nil) {
        guard logsStores else { return }
        let overwritten = old ?? builder.load(types.integer(bits: bytes * 8), pointer, "overwritten")
        let index = builder.load(types.i64, cpuField(CPULayout.storeLogIndex), "log_index", align: 8)
        let log = builder.load(types.ptr, cpuField(CPULayout.storeLog), "log", align: 8)
        let slotOffset = builder.shl(builder.and(index, builder.constant(StoreLogLayout.capacity - 1)),
                                     builder.constant(Int64(StoreLogLayout.entryBytes.trailingZeroBitCount)))
        let slot = builder.gep(log, byteOffset: slotOffset)
        let lap = builder.shl(builder.and(index, builder.constant(StoreLogLayout.capacity)),
                              builder.constant(StoreLogLayout.lapShift - UInt64(StoreLogLayout.capacityBits)))
        let width = builder.constant(UInt64(bytes.trailingZeroBitCount) << StoreLogLayout.widthShift)
        let word = builder.or(builder.or(LLVMBuildPtrToInt(builder.ref, pointer, types.i64, "")!, width), lap)
        storeLogEntries.append(builder.store(word, slot, align: 8))
        storeLogEntries.append(builder.store(bytes == 8 ? overwritten : builder.zext(overwritten, types.i64),
                                             builder.gep(slot, byteOffset: builder.constant(Int64(8))), align: 8))
        builder.store(builder.add(index, builder.constant(Int64(1))), cpuField(CPULayout.storeLogIndex), align: 8)
    }

    private func atomicPointer(_ instruction: Instruction) -> LLVMValueRef { guestPointer(readX(instruction.rs1)) }

    private func widen(_ value: LLVMValueRef, bits: Int) -> LLVMValueRef {
        bits == 64 ? value : builder.sext(value, types.i64)
    }

    private func narrow(_ value: LLVMValueRef, bits: Int) -> LLVMValueRef {
        bits == 64 ? value : builder.trunc(value, types.i32)
    }

    /// RVWMO's ordering annotations as LLVM orderings: an AMO without aq or rl is relaxed
    /// (x86 then needs no barrier beyond the locked instruction itself), aq and rl together
    /// make it sequentially consistent.
    private func ordering(of instruction: Instruction) -> LLVMAtomicOrdering {
        switch (instruction.acquires, instruction.releases) {
        case (false, false): LLVMAtomicOrderingMonotonic
        case (true, false): LLVMAtomicOrderingAcquire
        case (false, true): LLVMAtomicOrderingRelease
        case (true, true): LLVMAtomicOrderingSequentiallyConsistent
        }
    }

    func liftAtomic(_ instruction: Instruction, _ operation: LLVMAtomicRMWBinOp, bits: Int) {
        if replaying {
            let old = replayAccess(.amo, operation: operation, address: readX(instruction.rs1), bytes: bits / 8,
                                   value: narrow(readX(instruction.rs2), bits: bits))
            writeX(instruction.rd, widen(old, bits: bits))
            return
        }
        let pointer = atomicPointer(instruction)
        let operand = narrow(readX(instruction.rs2), bits: bits)
        let ordering = ordering(of: instruction)
        // A swap whose old value nobody reads is an atomic store (glibc's relaxed stores are
        // `amoswap zero`), which x86 does with a plain move instead of a locked exchange.
        if operation == LLVMAtomicRMWBinOpXchg, instruction.rd == 0, !instruction.acquires {
            logStore(at: pointer, bytes: bits / 8)
            let store = builder.store(operand, pointer, align: UInt32(bits / 8))
            LLVMSetOrdering(store, ordering)
            return
        }
        let old = LLVMBuildAtomicRMW(builder.ref, operation, pointer, operand, ordering, 0)!
        LLVMSetAlignment(old, UInt32(bits / 8))
        logStore(at: pointer, bytes: bits / 8, old: old)
        writeX(instruction.rd, widen(old, bits: bits))
    }

    /// Only a fence that orders earlier stores before later loads needs a barrier on x86
    /// (TSO keeps every other order); the others still keep LLVM from moving accesses across.
    func liftFence(_ instruction: Instruction) {
        let predecessors = instruction.imm >> 4 & 0xf, successors = instruction.imm & 0xf
        let read: Int64 = 0b0010, write: Int64 = 0b0001
        guard (predecessors | successors) & (read | write) != 0 else { return }
        let storeBeforeLoad = predecessors & write != 0 && successors & read != 0 && !instruction.isTotalStoreOrderFence
        LLVMBuildFence(builder.ref, storeBeforeLoad ? LLVMAtomicOrderingSequentiallyConsistent
                                                    : LLVMAtomicOrderingAcquireRelease, 0, "")
    }

    /// LR records the address and the value it saw; SC succeeds if the reservation is for
    /// this address and memory still holds that value (a compare-and-swap, as qemu does).
    func liftLoadReserved(_ instruction: Instruction, bits: Int) {
        let address = readX(instruction.rs1)
        let value: LLVMValueRef
        if replaying {
            value = replayAccess(.load, address: address, bytes: bits / 8)
        } else {
            value = builder.load(types.integer(bits: bits), guestPointer(address), align: UInt32(bits / 8))
            // A load cannot be a release in LLVM; lr.rl (which the ISA discourages) is made sequentially consistent.
            LLVMSetOrdering(value, instruction.releases ? LLVMAtomicOrderingSequentiallyConsistent
                                                        : instruction.acquires ? LLVMAtomicOrderingAcquire
                                                                               : LLVMAtomicOrderingMonotonic)
        }
        let widened = widen(value, bits: bits)
        builder.store(address, cpuField(CPULayout.reservationAddress), align: 8)
        builder.store(widened, cpuField(CPULayout.reservationValue), align: 8)
        writeX(instruction.rd, widened)
    }

    func liftStoreConditional(_ instruction: Instruction, bits: Int) {
        let address = readX(instruction.rs1)
        let reserved = builder.load(types.i64, cpuField(CPULayout.reservationAddress), align: 8)
        let expected = builder.load(types.i64, cpuField(CPULayout.reservationValue), align: 8)
        let matches = builder.icmp(LLVMIntEQ, reserved, address)
        let attempt = newBlock("sc_attempt"), done = newBlock("sc_done")
        let before = builder.currentBlock
        builder.condBr(matches, attempt, done)

        builder.position(at: attempt)
        let succeeded: LLVMValueRef
        if replaying {
            let old = replayAccess(.compareExchange, address: address, bytes: bits / 8, value: narrow(readX(instruction.rs2), bits: bits),
                                   expected: narrow(expected, bits: bits))
            succeeded = builder.icmp(LLVMIntEQ, old, narrow(expected, bits: bits))
        } else {
            let pointer = guestPointer(address)
            let exchange = LLVMBuildAtomicCmpXchg(builder.ref, pointer, narrow(expected, bits: bits),
                                                  narrow(readX(instruction.rs2), bits: bits),
                                                  ordering(of: instruction),
                                                  instruction.acquires ? LLVMAtomicOrderingAcquire : LLVMAtomicOrderingMonotonic, 0)!
            LLVMSetAlignment(exchange, UInt32(bits / 8))
            // Logged whether or not it stored: a failed one overwrote nothing, so its entry holds memory's value.
            logStore(at: pointer, bytes: bits / 8, old: LLVMBuildExtractValue(builder.ref, exchange, 0, "sc_seen")!)
            succeeded = LLVMBuildExtractValue(builder.ref, exchange, 1, "sc_ok")!
        }
        let failedAttempt = builder.xor(succeeded, builder.constant(UInt64(1), types.i1))
        let attemptEnd = builder.currentBlock
        builder.br(done)

        builder.position(at: done)
        let failed = LLVMBuildPhi(builder.ref, types.i1, "sc_failed")!
        var values: [LLVMValueRef?] = [builder.constant(UInt64(1), types.i1), failedAttempt]
        var blocks: [LLVMBasicBlockRef?] = [before, attemptEnd]
        LLVMAddIncoming(failed, &values, &blocks, 2)
        builder.store(builder.constant(Int64(-1)), cpuField(CPULayout.reservationAddress), align: 8)
        writeX(instruction.rd, builder.zext(failed, types.i64))
    }
}
