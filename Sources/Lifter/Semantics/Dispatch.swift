import CLLVM
import Guest
import RISCV

extension FunctionLifter {
    /// Emits one guest instruction. Returns whether control falls through to the next one.
    func lift(_ instruction: Instruction) -> Bool {
        let opcode = instruction.opcode
        if let form = integerForms[opcode] { liftInteger(instruction, form); return true }
        if let form = loadForms[opcode] { liftLoad(instruction, form); return true }
        if let form = storeForms[opcode] { liftStore(instruction, form); return true }
        if let (operation, bits) = atomicForms[opcode] {
            liftAtomic(instruction, operation, bits: bits)
            checkpointAfterSynchronization(instruction)
            return true
        }
        if let form = floatForms[opcode] { liftFloat(instruction, form); return true }
        if let predicate = branchPredicates[opcode] { liftBranch(instruction, predicate); return false }
        switch opcode {
        case .lui: writeX(instruction.rd, builder.constant(instruction.imm))
        case .auipc: writeX(instruction.rd, builder.constant(pc &+ UInt64(bitPattern: instruction.imm)))
        case .jal, .jalr: liftJump(instruction); return false
        case .lr_w: liftLoadReserved(instruction, bits: 32)
        case .lr_d: liftLoadReserved(instruction, bits: 64)
        case .sc_w, .sc_d:
            liftStoreConditional(instruction, bits: opcode == .sc_w ? 32 : 64)
            checkpointAfterSynchronization(instruction)
        case .ecall: liftEcall()
        case .ebreak:
            stop(.breakpoint, pc: builder.constant(pc))
            return false
        case .fence: liftFence(instruction)
        case .fence_i:
            // The code after it may be what the guest just wrote: it is looked up afresh.
            _ = callRuntime(RuntimeSymbols.flushInstructions, returns: types.void, [types.ptr], [cpu])
            returnToDispatcher()
            return false
        case .csrrw, .csrrs, .csrrc, .csrrwi, .csrrsi, .csrrci:
            guard liftCSR(instruction) else {
                stop(.illegalInstruction, pc: builder.constant(pc), detail: builder.constant(UInt64(instruction.bits)))
                return false
            }
        default:
            fatalError("no semantics for \(opcode): every decoded opcode must have a family")
        }
        return true
    }
}
