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
        builder.condBr(taken, block(continuingAt: target), block(continuingAt: next))
    }

    /// The block for `address`: the page's own, or a new one that leaves for it.
    private func block(continuingAt address: UInt64) -> LLVMBasicBlockRef {
        if blocks[address] != nil { return branchTarget(address) }
        let current = builder.currentBlock
        let leaving = newBlock("to_" + describe(address))
        builder.position(at: leaving)
        jump(to: builder.constant(address))
        builder.position(at: current)
        return leaving
    }
}
