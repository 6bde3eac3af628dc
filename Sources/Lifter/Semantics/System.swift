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
        LLVMBuildRetVoid(builder.ref)
        builder.position(at: resume)
    }

    /// Returns false (and stops the guest with SIGILL) for a CSR user mode cannot access.
    func liftCSR(_ instruction: Instruction) -> Bool {
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
        if register != .frm {
            // The flags of native operations accrue in the host; bring them into fcsr first.
            let (type, function) = helper(RuntimeSymbols.foldFloatFlags, returns: types.void, [types.ptr])
            _ = builder.call(type, function, [field])
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
        }
        writeX(instruction.rd, old)
        return true
    }
}
