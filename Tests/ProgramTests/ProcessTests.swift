import Foundation
import Testing

/// Processes and the command line: what only pagelift can run (a riscv64 child started by
/// execve, which qemu-user cannot follow without binfmt_misc) is checked against expected
/// output; the rest against qemu-riscv64.
@Suite struct ProcessTests {
    static func spawning(_ name: String) -> GuestProgram {
        GuestProgram(source: GuestProgram.directory.appendingPathComponent("Spawning/\(name).c"))
    }

    @Test func startsRiscVChildrenThroughExecveAndScripts() throws {
        let program = Self.spawning("exec_self")
        let result = try Execution.run([Tools.pagelift, "--no-cache"] + program.rootArguments + [try program.binary().path])
        let lines = result.standardOutput.split(separator: "\n").map(String.init)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(lines.contains("child: argv0=renamed-child [one] [two words] env=inherited"))
        #expect(lines.contains("fork+execv exit 44"))
        #expect(lines.contains("child: argv0=spawned [three] env=inherited"))
        #expect(lines.contains("posix_spawn error 0 exit 43"))
        #expect(lines.contains { $0.hasPrefix("interpreter: script pagelift-script-") && $0.hasSuffix(", arguments [first] [second]") })
        #expect(lines.contains("script exit 3"))
        #expect(lines.contains("child: argv0=at [execveat] env=inherited"))
        #expect(lines.contains("execveat exit 43"))
        #expect(lines.contains("missing program: -1 No such file or directory"))
        #expect(lines.contains("not executable: -1 Permission denied"))
        #expect(result.standardError.isEmpty)
    }

    @Test func anUnsupportedSyscallIsSaidOnceAndReturnsENOSYS() throws {
        let binary = try Self.spawning("unsupported_syscall").binary()
        let expected = try Execution.run([Tools.qemu, binary.path])
        let said = try Execution.run([Tools.pagelift, "--no-cache", binary.path])
        #expect(said.standardOutput == expected.standardOutput && said.status == expected.status)
        #expect(said.standardError == "pagelift: unsupported syscall syscall_244 (244), returned ENOSYS\n")
        let quiet = try Execution.run([Tools.pagelift, "--no-cache", "--quiet-unsupported", binary.path])
        #expect(quiet.standardOutput == expected.standardOutput && quiet.standardError.isEmpty)
    }

    /// The stack is as large as RLIMIT_STACK says: 150 MB of frames fit under `ulimit -s 204800`
    /// and not under 8 MB, under qemu and pagelift alike.
    @Test(arguments: [204800, 8192])
    func theStackFollowsRLIMIT_STACK(kilobytes: Int) throws {
        let binary = try Self.spawning("stack_limit").binary()
        func run(_ command: [String]) throws -> Execution {
            try Execution.run(["/bin/sh", "-c", "ulimit -s \(kilobytes) && exec \"$@\"", "sh"] + command)
        }
        let expected = try run([Tools.qemu, binary.path])
        let actual = try run([Tools.pagelift, "--no-cache", binary.path])
        #expect(actual.standardOutput == expected.standardOutput && actual.status == expected.status)
        #expect(actual.status == (kilobytes > 150 * 1024 ? 0 : 139))
    }

    /// -E, -U and -0 do what qemu-user's do; so do their environment counterparts.
    @Test func environmentAndArgumentOptionsMatchQemu() throws {
        let binary = try Self.spawning("environment").binary()
        var environment = ProcessInfo.processInfo.environment
        environment["PAGELIFT_UNSET"] = "present"
        environment["PAGELIFT_KEPT"] = "kept"
        let options = ["-E", "PAGELIFT_SET=one", "-U", "PAGELIFT_UNSET", "-0", "custom-argv0"]
        let expected = try Execution.run([Tools.qemu] + options + [binary.path, "x"], environment: environment)
        let actual = try Execution.run([Tools.pagelift, "--no-cache", "-strace"] + options + [binary.path, "x"], environment: environment)
        #expect(actual.standardOutput == expected.standardOutput)
        #expect(actual.standardOutput.contains("argv0 custom-argv0 argc 2"))
        #expect(actual.standardError.contains("write(0x1,"), "-strace logs syscalls")
        environment["PAGELIFT_SET_ENV"] = "PAGELIFT_SET=one"
        environment["PAGELIFT_UNSET_ENV"] = "PAGELIFT_UNSET"
        let byEnvironment = try Execution.run([Tools.pagelift, "--no-cache", "-0", "custom-argv0", binary.path, "x"], environment: environment)
        #expect(byEnvironment.standardOutput == expected.standardOutput)
    }

    @Test func procCPUInfoAndUnameDescribeARiscVMachine() throws {
        let result = try Execution.run([Tools.pagelift, "--no-cache", try Self.spawning("cpuinfo").binary().path])
        #expect(result.standardOutput == "isa\t\t: rv64imafdc_zicsr_zifencei_zba_zbb_zbs\nmachine riscv64\n")
    }

    @Test func versionCPUAndBinfmtLine() throws {
        let version = try Execution.run([Tools.pagelift, "--version"])
        #expect(version.status == 0 && version.standardOutput.hasPrefix("pagelift "))
        let cpus = try Execution.run([Tools.pagelift, "-cpu", "help", "unused"])
        #expect(cpus.status == 0 && cpus.standardOutput.contains("rv64"))
        let badCPU = try Execution.run([Tools.pagelift, "-cpu", "pentium", "unused"])
        #expect(badCPU.status == 1 && badCPU.standardError.contains("unknown CPU"))
        let binfmt = try Execution.run([Tools.pagelift, "binfmt"])
        let line = binfmt.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(line.hasPrefix(":pagelift-riscv64:M::\\x7fELF\\x02\\x01\\x01"))
        #expect(line.contains("\\x02\\x00\\xf3\\x00:") && line.hasSuffix(":F"))
        let missingRoot = try Execution.run([Tools.pagelift, "-L", "/nonexistent-root", "unused"])
        #expect(missingRoot.status == 1 && missingRoot.standardError.contains("not a directory"))
    }

    /// A dynamic program without its root says what is missing and how to give it.
    @Test func aDynamicProgramWithoutItsRootIsAClearError() throws {
        let program = try #require(GuestProgram.all.first { $0.name == "dynamic_libm" })
        let result = try Execution.run([Tools.pagelift, "--no-cache", try program.binary().path])
        #expect(result.status == 1)
        #expect(result.standardError.contains("cannot load its interpreter /lib/ld-linux-riscv64-lp64d.so.1; give the guest's root file system with -L ROOT"))
    }

    /// Shared libraries' code is named after their own symbols.
    @Test func sharedLibraryCodeIsNamedAfterItsSymbols() throws {
        let program = try #require(GuestProgram.all.first { $0.name == "dynamic_libm" })
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("pagelift-dump-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let result = try Execution.run([Tools.pagelift, "--no-cache", "--no-tiering", "-O0", "--dump-ir", scratch.path]
                                       + program.rootArguments + [try program.binary().path])
        #expect(result.status == 7)
        let index = try String(contentsOf: scratch.appendingPathComponent("index.tsv"), encoding: .utf8)
        let symbols = Set(index.split(separator: "\n").dropFirst().map { $0.split(separator: "\t")[1] })
        // The stripped loader's own functions have no symbols: they are named after its file.
        #expect(symbols.contains { $0.hasPrefix("ld-linux-riscv64-lp64d.so.1+0x") })
        for name in ["__libc_start_main", "printf", "main"] {
            #expect(symbols.contains { $0 == name || $0.hasPrefix(name + "+") }, "no region named after \(name)")
        }
        // --strace names the code that made each call: the loader's by its file, libc's by its symbols.
        let traced = try Execution.run([Tools.pagelift, "--no-cache", "--strace"] + program.rootArguments + [try program.binary().path])
        let lines = traced.standardError.split(separator: "\n")
        #expect(lines.contains { $0.contains(" brk(") && $0.hasSuffix(">") && $0.contains("<ld-linux-riscv64-lp64d.so.1+0x") })
        #expect(lines.contains { $0.contains(" write(0x1,") && $0.hasSuffix("<write+0x14>") })
    }
}

/// Program headers that a loader must take as they are: an execute-only text segment (its code
/// runs, and its bytes cannot be loaded, as under qemu), and a segment so large that it reaches
/// the mmap area, refused at once rather than after mapping it page by page.
@Suite struct SegmentTests {
    /// A copy of a static program with its program headers changed by `edit(type, flags, header offset, bytes)`.
    static func patched(_ name: String, _ edit: (UInt32, UInt32, Int, inout [UInt8]) -> Void) throws -> URL {
        let original = try ProcessTests.spawning("stack_limit").binary()
        var bytes = [UInt8](try Data(contentsOf: original))
        func u64(_ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(bytes[at + $1]) << (8 * UInt64($1)) } }
        func u32(_ at: Int) -> UInt32 { UInt32(truncatingIfNeeded: u64(at)) }
        let headers = Int(u64(32)), count = Int(bytes[56]) | Int(bytes[57]) << 8
        for index in 0..<count {
            let at = headers + index * 56
            edit(u32(at), u32(at + 4), at, &bytes)
        }
        let output = original.deletingLastPathComponent().appendingPathComponent(name)
        try Data(bytes).write(to: output)
        chmod(output.path, 0o755)
        return output
    }

    static func put(_ value: UInt64, at offset: Int, width: Int, in bytes: inout [UInt8]) {
        for index in 0..<width { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(index))) }
    }

    @Test func anExecuteOnlyTextSegmentRunsAndCannotBeRead() throws {
        let program = try Self.patched("stack_limit_execute_only") { type, flags, at, bytes in
            if type == 1 && flags & 1 != 0 { SegmentTests.put(1, at: at + 4, width: 4, in: &bytes) }  // PF_X alone
        }
        let expected = try Execution.run([Tools.qemu, program.path])
        let actual = try Execution.run([Tools.pagelift, "--no-cache", program.path])
        // glibc reads its own program headers from that segment: both runs fault there.
        #expect(actual.status == expected.status && actual.standardOutput == expected.standardOutput)
        #expect(actual.standardError.hasPrefix("pagelift: guest SIGSEGV"), "\(actual.standardError)")
    }

    @Test func aSegmentReachingTheMmapAreaIsRefusedAtOnce() throws {
        let program = try Self.patched("stack_limit_huge_bss") { type, flags, at, bytes in
            guard type == 1 && flags & 2 != 0 else { return }
            let address = (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[at + 16 + $1]) << (8 * UInt64($1)) }
            SegmentTests.put(0x30_0000_0000 - address, at: at + 40, width: 8, in: &bytes)  // p_memsz up to 192 GiB
        }
        let result = try Execution.run([Tools.pagelift, "--no-cache", program.path], timeout: 30)
        #expect(result.status == 1)
        #expect(result.standardError.contains("segments reach into the stack or mmap area"), "\(result.standardError)")
    }
}
