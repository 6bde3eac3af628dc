import CLLVM
import RISCV

/// Jumps and branches. Targets inside the page are direct LLVM branches; anything
/// else leaves through the shared exit and the host code map.
let branchPredicates: [Opcode: LLVMIntPredicate] = [
    .beq: LLVMIntEQ, .bne: LLVMIntNE, .blt: LLVMIntSLT, .bge: LLVMIntSGE, .bltu: LLVMIntULT, .bgeu: LLVMIntUGE,
]

extension FunctionLifter {
    func liftJump(_ instruction: Instruction) {
        let next = pc &+ UInt64(instruction.size)
        let target: LLVMValueRef
        if instruction.opcode == .jal {
            target = builder.constant(pc &+ UInt64(bitPattern: instruction.imm))
        } else {
            // Computed before rd is written: rd and rs1 may be the same register.
            let sum = builder.add(readX(instruction.rs1), builder.constant(instruction.imm))
            target = builder.and(sum, builder.constant(Int64(-2)), "target")
        }
        writeX(instruction.rd, builder.constant(next))
        switch (instruction.opcode, instruction.linkage) {
        case (.jalr, .return): dispatchInRegion(target, .return(from: pc))
        case (.jalr, _): dispatchInRegion(target, .computedJump)
        default: jump(to: target)
        }
    }

    func liftBranch(_ instruction: Instruction, _ predicate: LLVMIntPredicate) {
        let taken = builder.icmp(predicate, readX(instruction.rs1), readX(instruction.rs2), "taken")
        let target = pc &+ UInt64(bitPattern: instruction.imm)
        let next = pc &+ UInt64(instruction.size)
        // A counted loop ends by itself: its back edge does not poll for signals, so that LLVM
        // can still vectorize it (an exit in the loop forbids that); the code around it polls.
        let counted = profile == nil && closesCountedLoop(instruction, from: target)
        let branch = builder.condBr(taken, block(continuingAt: target, polling: !counted), block(continuingAt: next))
        if counted { builder.markLoopMustProgress(branch) }
    }

    /// Whether `branch` goes back to `header` at the end of a straight-line loop body that steps
    /// one of the compared registers by a constant and leaves the other alone. LLVM may then
    /// assume the loop ends, which it needs to count the iterations of a step other than 1:
    /// `addi a5,a5,8; ...; bne a5,a3` otherwise might never see a5 equal a3 (it would run
    /// 2^61 times, wrapping around), and such a loop is not vectorized. A loop like this of a
    /// program that works does end; a guest stuck in one could now leave it.
    private func closesCountedLoop(_ branch: Instruction, from header: UInt64) -> Bool {
        guard header <= pc, branch.rs1 != branch.rs2 else { return false }
        var stepped = Set<Int>(), otherwiseWritten = Set<Int>(), address = header
        while address < pc {
            guard case .instruction(let instruction)? = page.instructions[address], instruction.opcode.controlFlow == .next else { return false }
            if instruction.opcode == .addi, instruction.rd == instruction.rs1, instruction.imm != 0 {
                stepped.insert(instruction.rd)
            } else if instruction.operands.contains(.rd) {
                otherwiseWritten.insert(instruction.rd)
            }
            address &+= UInt64(instruction.size)
        }
        return [(branch.rs1, branch.rs2), (branch.rs2, branch.rs1)].contains { counter, bound in
            counter != 0 && stepped.contains(counter) && !otherwiseWritten.contains(counter)
                && !stepped.contains(bound) && !otherwiseWritten.contains(bound)
        }
    }

    /// The block for `address`: the page's own, or a new one that leaves for it.
    private func block(continuingAt address: UInt64, polling: Bool = true) -> LLVMBasicBlockRef {
        if blocks[address] != nil { return branchTarget(address, polling: polling) }
        let current = builder.currentBlock
        let leaving = newBlock("to_" + describe(address))
        builder.position(at: leaving)
        jump(to: builder.constant(address))
        builder.position(at: current)
        return leaving
    }
}
