import RISCV

/// Whether a program can see the floating-point exception flags its operations accrue.
///
/// Exact flags cost speed: they need LLVM's constrained intrinsics, which LLVM may neither
/// fold, move, drop nor vectorize. A program that never reads fflags or fcsr cannot tell what
/// its arithmetic raised, so its code can use LLVM's ordinary arithmetic
/// (`PageLifter.tracksFloatFlags`); rounding and NaN results stay exact either way.
///
/// The scan looks at every 2-byte-aligned word of the executable code, so it also sees what a
/// linear disassembly would miss. One read does not count: gcc's quiet comparison
/// (`FlagsSavedAroundCompare`), which saves the flags, compares and restores them. The saved
/// value is a compiler temporary that is dead after the restore; code that reads the
/// register later (a varargs spill, a callee saving it) reads it as a dead value. Everything
/// else that puts fflags or fcsr into a register (fetestexcept, fegetenv, ...) counts.
public enum FloatFlagsUse {
    /// The addresses of the CSR instructions in `code` whose reads of the accrued flags the
    /// program may see; empty when it sees none. Each buffer holds what lies at guest address
    /// `start`: every parcel is tested in place, and only the few that pass are decoded (a
    /// closure call per parcel cost about 8 ms of hello world's start-up).
    public static func observingReads(in code: [(start: UInt64, bytes: UnsafeRawBufferPointer)]) -> [UInt64] {
        var candidates: [UInt64] = []
        for (start, bytes) in code where bytes.count >= 4 {
            for offset in stride(from: 0, through: bytes.count - 4, by: 2) {
                // SYSTEM with a nonzero funct3 and csr 0x001 or 0x003, before decoding anything.
                let low = bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self)
                guard low & 0x7f == 0x73, low & 0x7000 != 0 else { continue }
                let csr = Int64(bytes.loadUnaligned(fromByteOffset: offset + 2, as: UInt16.self) >> 4)
                if csr == ControlStatusRegister.fflags.rawValue || csr == ControlStatusRegister.fcsr.rawValue {
                    candidates.append(start &+ UInt64(offset))
                }
            }
        }
        return observingReads(at: candidates) { address in
            for (start, bytes) in code where address >= start && address - start + 2 <= UInt64(bytes.count) {
                return bytes.loadUnaligned(fromByteOffset: Int(address - start), as: UInt16.self)
            }
            return nil
        }
    }

    private static func observingReads(at candidates: [UInt64], fetch: (UInt64) -> UInt16?) -> [UInt64] {
        func instruction(at address: UInt64) -> Instruction? { DiscoveredPage.fetchInstruction(at: address, fetch: fetch).instruction }
        return candidates.filter { address in
            guard let read = instruction(at: address), readsAccruedFlags(read) else { return false }
            return FlagsSavedAroundCompare.match(at: address, instruction: instruction) == nil
        }
    }

    /// A CSR instruction that puts fflags or fcsr into a register.
    static func readsAccruedFlags(_ instruction: Instruction) -> Bool {
        [.csrrw, .csrrs, .csrrc, .csrrwi, .csrrsi, .csrrci].contains(instruction.opcode) && instruction.rd != 0
            && [ControlStatusRegister.fflags.rawValue, ControlStatusRegister.fcsr.rawValue].contains(instruction.imm)
    }
}

/// `frflags rX; flt/fle/feq rY, fa, fb; fsflags rX` (gcc's quiet comparison, e.g. around sqrt):
/// the flags the comparison raises are discarded.
struct FlagsSavedAroundCompare {
    let read: Instruction, compare: Instruction, restore: Instruction
    let addresses: (UInt64, UInt64, UInt64)
    let end: UInt64

    /// The idiom at `address`, if the three instructions follow each other there.
    static func match(at address: UInt64, instruction: (UInt64) -> Instruction?) -> FlagsSavedAroundCompare? {
        guard let read = instruction(address), read.opcode == .csrrs, read.imm == ControlStatusRegister.fflags.rawValue,
              read.rs1 == 0, read.rd != 0 else { return nil }
        let second = address &+ UInt64(read.size)
        guard let compare = instruction(second), case .compare? = floatForms[compare.opcode], compare.rd != read.rd else { return nil }
        let third = second &+ UInt64(compare.size)
        guard let restore = instruction(third), restore.opcode == .csrrw, restore.imm == ControlStatusRegister.fflags.rawValue,
              restore.rd == 0, restore.rs1 == read.rd else { return nil }
        return FlagsSavedAroundCompare(read: read, compare: compare, restore: restore,
                                       addresses: (address, second, third), end: third &+ UInt64(restore.size))
    }
}
