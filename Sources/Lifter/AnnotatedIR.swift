/// Turns the `!pagelift.insn` attachments in printed IR into comment lines above the
/// instruction they mark: `; 10574: addi sp,sp,-16`. The result is still valid IR.
public enum AnnotatedIR {
    public static func render(_ text: String) -> String {
        var strings: [String: String] = [:]
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for line in lines where line.hasPrefix("!") {
            // !12 = !{!"10574: addi\tsp,sp,-16"}
            guard let equals = line.range(of: " = !{!\""), line.hasSuffix("\"}") else { continue }
            let id = String(line[..<equals.lowerBound])
            strings[id] = String(line[equals.upperBound..<line.index(line.endIndex, offsetBy: -2)]).replacingOccurrences(of: "\\09", with: " ")
        }
        var output: [String] = []
        var lastShown = ""
        for line in lines {
            if line.hasSuffix(":") || line.contains(":  ") && !line.hasPrefix(" ") { lastShown = "" }   // a new block
            if let marker = line.range(of: ", !pagelift.insn ") {
                let rest = line[marker.upperBound...]
                let id = String(rest.prefix { $0 != "," && $0 != " " })
                if let comment = strings[id], id != lastShown {
                    lastShown = id
                    let indent = line.prefix { $0 == " " }
                    output.append("\(indent); \(comment)")
                }
                output.append(String(line[..<marker.lowerBound]) + String(rest.dropFirst(id.count)))
            } else {
                output.append(String(line))
            }
        }
        return output.joined(separator: "\n")
    }
}

extension StringProtocol {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        var result = ""
        var rest = Substring(self)
        while let range = rest.range(of: target) {
            result += rest[..<range.lowerBound] + replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }

    func range(of target: String) -> Range<String.Index>? {
        let text = String(self)
        guard !target.isEmpty, text.count >= target.count else { return nil }
        var index = text.startIndex
        while let candidate = text[index...].firstIndex(of: target.first!) {
            if text[candidate...].hasPrefix(target) {
                let start = self.index(startIndex, offsetBy: text.distance(from: text.startIndex, to: candidate))
                return start..<self.index(start, offsetBy: target.count)
            }
            index = text.index(after: candidate)
        }
        return nil
    }
}
