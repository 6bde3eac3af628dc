import CLLVM
import Guest
import RISCV

/// ecall, ebreak, fences and Zicsr. The CSRs user code can reach are the FP ones
/// (kept in the CPU state's fcsr word, except for flags native operations raise, which
/// accrue in the host until a CSR instruction folds them in) and the read-only counters.
enum ControlStatusRegister: Int64 {
    case fflags = 0x001, frm = 0x002, fcsr = 0x003
    case cycle = 0xc00, time = 0xc01, instret = 0xc02

    var isCounter: Bool { rawValue >= 0xc00 }
}

extension FunctionLifter {
    /// Returns whether control continues after the syscall.
    func liftEcall() {
        let result = callRuntime(RuntimeSymbols.syscall, returns: types.i32, [types.ptr], [cpu])
        let stopping = builder.icmp(LLVMIntNE, result, builder.constant(Int64(0), types.i32))
        let stopBlock = newBlock("syscall_stops"), resume = newBlock("after_syscall")
        builder.condBr(stopping, stopBlock, resume)
        builder.position(at: stopBlock)
        returnToDispatcher()
        builder.position(at: resume)
    }

    /// The quiet-comparison idiom at `address`, when its three instructions are straight-line code here.
    func flagsSavedAroundCompare(at address: UInt64) -> FlagsSavedAroundCompare? {
        guard let idiom = FlagsSavedAroundCompare.match(at: address, instruction: { page.instructions[$0]?.instruction }),
              blocks[idiom.addresses.1] == nil, blocks[idiom.addresses.2] == nil else { return nil }
        return idiom
    }

    /// The same effects without making the host's flags visible twice: the comparison raises nothing
    /// (its flags would be discarded), so after the read the host holds no flag rX lacks and the
    /// restore need not look at them (each look waits for every floating-point operation in flight).
    func liftFlagsSavedAroundCompare(_ idiom: FlagsSavedAroundCompare) {
        guard case .compare(let predicate, _, let p)? = floatForms[idiom.compare.opcode] else { return }
        pc = idiom.addresses.0
        annotated(idiom.read) { _ = liftCSR(idiom.read) }
        pc = idiom.addresses.1
        annotated(idiom.compare) {
            let a = readFloat(idiom.compare.rs1, p), b = readFloat(idiom.compare.rs2, p)
            let unordered = builder.or(isNaN(a), isNaN(b))
            let zero = LLVMConstReal(floatType(p), 0)!
            let holds = builder.strictCompare(predicate, builder.select(unordered, zero, a), builder.select(unordered, zero, b))
            writeX(idiom.compare.rd, builder.zext(builder.and(holds, builder.xor(unordered, builder.constant(UInt64(1), types.i1))), types.i64))
        }
        pc = idiom.addresses.2
        annotated(idiom.restore) { _ = liftCSR(idiom.restore, hostFlagsWithin: true) }
    }

    /// Returns false (and stops the guest with SIGILL) for a CSR user mode cannot access.
    /// `hostFlagsWithin`: the host's accrued flags are known to be a subset of what is written.
    func liftCSR(_ instruction: Instruction, hostFlagsWithin: Bool = false) -> Bool {
        guard let register = ControlStatusRegister(rawValue: instruction.imm) else { return false }
        let immediateForm = [.csrrwi, .csrrsi, .csrrci].contains(instruction.opcode)
        let source = immediateForm ? builder.constant(Int64(instruction.rs1)) : readX(instruction.rs1)
        let kind: Opcode
        switch instruction.opcode {
        case .csrrw, .csrrwi: kind = .csrrw
        case .csrrs, .csrrsi: kind = .csrrs
        default: kind = .csrrc
        }
        // csrrs/csrrc with x0 (or a zero immediate) only read.
        let writes = kind == .csrrw || instruction.rs1 != 0
        if register.isCounter {
            guard !writes else { return false }
            let (type, function) = helper(RuntimeSymbols.readCounter, returns: types.i64, [types.ptr, types.i32])
            writeX(instruction.rd, builder.call(type, function, [cpu, builder.constant(register.rawValue, types.i32)]))
            return true
        }
        let field = cpuField(CPULayout.fcsr)
        // The flags of native operations accrue in the host: bring them into fcsr before a read,
        // including the read of a set or clear (which writes the old value with bits changed).
        // Untracked, fcsr holds only what the program wrote (it reads none back but to restore it).
        let flagsVisible = register != .frm && builder.tracksFloatFlags
        if flagsVisible && (instruction.rd != 0 || (writes && kind != .csrrw)) {
            let synced = callPreservingAll(RuntimeSymbols.syncFloatFlags, returns: types.i32, [types.i32], [builder.load(types.i32, field, "fcsr", align: 4)])
            builder.store(synced, field, align: 4)
        }
        let fcsr = builder.zext(builder.load(types.i32, field, "fcsr", align: 4), types.i64)
        let (shift, mask): (Int64, Int64) = switch register {
        case .fflags: (0, 0x1f)
        case .frm: (5, 0x7)
        default: (0, 0xff)
        }
        let old = builder.and(builder.lshr(fcsr, builder.constant(shift)), builder.constant(mask))
        if writes {
            let updated: LLVMValueRef = switch kind {
            case .csrrw: source
            case .csrrs: builder.or(old, source)
            default: builder.and(old, builder.xor(source, builder.constant(Int64(-1))))
            }
            let placed = builder.shl(builder.and(updated, builder.constant(mask)), builder.constant(shift))
            let kept = builder.and(fcsr, builder.constant(~(mask << shift) & 0xff))
            builder.store(builder.trunc(builder.or(kept, placed), types.i32), field, align: 4)
            if flagsVisible && !hostFlagsWithin {
                _ = callPreservingAll(RuntimeSymbols.settleFloatFlags, returns: types.void, [types.i32], [builder.load(types.i32, field, "fcsr", align: 4)])
            }
            if register != .fflags { roundingModeWritten(next: pc &+ UInt64(instruction.size)) }
        }
        writeX(instruction.rd, old)
        return true
    }
}
