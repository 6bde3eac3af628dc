#if canImport(Glibc)
import Glibc
#endif
import ELF

/// execve and execveat: a RISC-V program starts under this translator again, with the same
/// options and guest root, without binfmt_misc (which qemu-user needs for this); a `#!` script
/// whose interpreter is a RISC-V program runs that interpreter the same way; anything else is
/// the host's to run.
extension LinuxProcess {
    func execve(_ pathAddress: UInt64, argv: UInt64, envp: UInt64, directory: Int32?, flags: Int32) -> Int64 {
        guard let guestPath = string(pathAddress), let arguments = stringArray(argv), let environment = stringArray(envp) else {
            return Self.efault
        }
        let atEmptyPath: Int32 = 0x1000
        let hostPath: String
        // A descriptor is named by the file it is open on: the new process may not have it (O_CLOEXEC).
        if let directory, guestPath.isEmpty, flags & atEmptyPath != 0 {
            hostPath = GuestMemory.pathOfDescriptor(directory)
        } else if let directory, directory != AT_FDCWD, !guestPath.hasPrefix("/") {
            hostPath = GuestMemory.pathOfDescriptor(directory) + "/" + guestPath
        } else {
            guard !guestPath.isEmpty else { return -Int64(ENOENT) }
            hostPath = paths.host(guestPath)
        }
        // What the kernel checks before it looks inside.
        var status = stat()
        guard stat(hostPath, &status) == 0 else { return -Int64(errno) }
        guard status.st_mode & S_IFMT == S_IFREG else { return -Int64(EACCES) }
        guard access(hostPath, X_OK) == 0 else { return -Int64(errno) }

        let (program, hostArguments) = launch(hostPath, guestPath: guestPath, arguments: arguments, depth: 0)
        var argumentPointers = hostArguments.map { strdup($0) } + [nil]
        var environmentPointers = environment.map { strdup($0) } + [nil]
        defer { (argumentPointers + environmentPointers).forEach { free($0) } }
        Glibc.execve(program, &argumentPointers, &environmentPointers)
        return -Int64(errno)
    }

    /// The host program and arguments that run `hostPath` as the guest's execve would.
    func launch(_ hostPath: String, guestPath: String, arguments: [String], depth: Int) -> (String, [String]) {
        let head = Self.fileHead(hostPath)
        if head.count >= 20, head[0] == 0x7f, head[1] == 0x45, head[2] == 0x4c, head[3] == 0x46,
           UInt16(head[18]) | UInt16(head[19]) << 8 == ELFFile.machineRISCV, !hooks.translatorPath.isEmpty {
            let argv0 = arguments.first ?? guestPath
            let program = hostPath.hasPrefix("-") ? "./" + hostPath : hostPath
            return (hooks.translatorPath, [hooks.translatorPath] + hooks.translatorOptions + ["--argv0", argv0, program] + arguments.dropFirst())
        }
        if head.starts(with: Array("#!".utf8)), depth < 4 {
            let line = String(decoding: head.dropFirst(2).prefix { $0 != 0x0a }, as: UTF8.self).trimmingCharacters(in: " \t\r")
            let interpreter = String(line.prefix { $0 != " " && $0 != "\t" })
            let argument = line.dropFirst(interpreter.count).trimmingCharacters(in: " \t")
            if !interpreter.isEmpty {
                let scriptArguments = [interpreter] + (argument.isEmpty ? [] : [argument]) + [guestPath] + arguments.dropFirst()
                let inner = launch(paths.host(interpreter), guestPath: interpreter, arguments: scriptArguments, depth: depth + 1)
                if inner.0 == hooks.translatorPath { return inner }
            }
        }
        return (hostPath, arguments)
    }

    /// The first bytes of a file: enough for an ELF header or a `#!` line.
    static func fileHead(_ path: String) -> [UInt8] {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 256)
        let count = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        return count > 0 ? Array(bytes[0..<count]) : []
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        let characters = Set(set)
        var view = Substring(self)
        while let first = view.first, characters.contains(first) { view.removeFirst() }
        while let last = view.last, characters.contains(last) { view.removeLast() }
        return String(view)
    }
}

extension Substring {
    func trimmingCharacters(in set: String) -> String { String(self).trimmingCharacters(in: set) }
}
