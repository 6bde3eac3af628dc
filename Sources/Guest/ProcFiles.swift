#if canImport(Glibc)
import Glibc
#endif
import CHostSyscall
import RISCV

/// The `/proc` files that would show the translator rather than the guest, made up the way
/// qemu-user makes them: the guest's mappings, auxiliary vector, command line, and a RISC-V CPU.
extension LinuxProcess {
    /// The contents of this process's `/proc/self/NAME` (or `/proc/cpuinfo` for "cpuinfo"), or
    /// nil where the host's file is right.
    func procFile(_ name: String) -> [UInt8]? {
        switch name {
        case "maps", "smaps": return Array(mapsText().utf8)
        case "auxv": return auxiliaryVector
        case "cmdline": return commandLine.flatMap { Array($0.utf8) + [0] }
        case "cpuinfo": return Array(Self.cpuinfo.utf8)
        default: return nil
        }
    }

    /// `/proc/self/maps` as the guest's kernel would print it.
    func mapsText() -> String {
        memory.regions.map { region in
            let permissions = (region.protection & PROT_READ != 0 ? "r" : "-") + (region.protection & PROT_WRITE != 0 ? "w" : "-")
                + (region.protection & PROT_EXEC != 0 ? "x" : "-") + (region.shared ? "s" : "p")
            var offset: UInt64 = 0, device: UInt64 = 0, inode: UInt64 = 0, name = ""
            switch region.source {
            case .anonymous: break
            case .named(let label): name = label
            case .file(let path, let fileOffset, let fileDevice, let fileInode):
                offset = fileOffset; device = fileDevice; inode = fileInode; name = path
            }
            if region.start >= initialBreak, region.end <= programBreak, case .anonymous = region.source { name = "[heap]" }
            let deviceText = hexDigits(UInt64(major(device)), width: 2) + ":" + hexDigits(UInt64(minor(device)), width: 2)
            var line = "\(hexDigits(region.start, width: 8))-\(hexDigits(region.end, width: 8)) \(permissions) \(hexDigits(offset, width: 8)) \(deviceText) \(inode)"
            if !name.isEmpty { line += String(repeating: " ", count: max(1, 73 - line.count)) + name }
            return line + "\n"
        }.joined()
    }

    private func major(_ device: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: ((device >> 32) & 0xffff_f000) | ((device >> 8) & 0xfff)) }
    private func minor(_ device: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: ((device >> 12) & 0xffff_ff00) | (device & 0xff)) }

    static let cpuinfo = """
        processor\t: 0
        hart\t\t: 0
        isa\t\t: rv64imafdc_zicsr_zifencei_zba_zbb_zbs
        mmu\t\t: sv39
        uarch\t\t: pagelift


        """

    /// A descriptor reading `contents` from its start (a memfd, as qemu-user uses).
    static func memoryFile(_ contents: [UInt8], closeOnExec: Bool) -> Int64 {
        let fd = "pagelift-proc".withCString { Int32(truncatingIfNeeded: hostSyscall(SYS_memfd_create, Int(bitPattern: $0), closeOnExec ? 1 : 0)) }  // MFD_CLOEXEC
        guard fd >= 0 else { return -Int64(errno) }
        var written = 0
        while written < contents.count {
            let count = contents.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) }
            guard count > 0 else { close(fd); return -Int64(EIO) }
            written += count
        }
        lseek(fd, 0, SEEK_SET)
        return Int64(fd)
    }
}

