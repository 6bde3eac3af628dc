/// Address-to-name lookup for dumps and messages (`main+0x1c`).
public struct SymbolTable: Sendable {
    private let sorted: [ELFFile.Symbol]

    public init(_ symbols: [ELFFile.Symbol], bias: UInt64 = 0) {
        sorted = symbols.filter { $0.isFunction || $0.size > 0 }
            .map { var s = $0; s.address &+= bias; return s }
            .sorted { ($0.address, $1.isFunction ? 1 : 0) < ($1.address, $0.isFunction ? 1 : 0) }
    }

    public func address(of name: String) -> ELFFile.Symbol? { sorted.first { $0.name == name } }

    /// The symbol containing `address`, or nil when none does.
    public func symbol(containing address: UInt64) -> ELFFile.Symbol? {
        var low = 0, high = sorted.count
        while low < high {
            let mid = (low + high) / 2
            if sorted[mid].address <= address { low = mid + 1 } else { high = mid }
        }
        var index = low - 1
        while index >= 0 {
            let symbol = sorted[index]
            if address < symbol.address + max(symbol.size, 1) { return symbol }
            if symbol.isFunction { return nil }
            index -= 1
        }
        return nil
    }

    /// Whether the call at `call` may return to `returnAddress`: not if that is past the end of
    /// the function making the call, as far as the symbols (with sizes) tell. Compilers end a
    /// function with a call of a function that does not return (`abort`, `__stack_chk_fail`).
    public func callMayReturn(_ call: UInt64, to returnAddress: UInt64) -> Bool {
        guard let symbol = symbol(containing: call), symbol.isFunction, symbol.size > 0 else { return true }
        return returnAddress < symbol.address + symbol.size
    }

    /// `name` or `name+0x1c`, or the bare hex address when no symbol covers it.
    public func describe(_ address: UInt64) -> String {
        guard let symbol = symbol(containing: address) else { return "0x" + String(address, radix: 16) }
        let offset = address - symbol.address
        return offset == 0 ? symbol.name : "\(symbol.name)+0x\(String(offset, radix: 16))"
    }
}
