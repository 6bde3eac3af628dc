#if canImport(Glibc)
import Glibc
#endif
import CHostSyscall

/// Clocks, sleeps and interval timers: timespec, timeval, itimerval and struct tms have one
/// layout on both.
extension LinuxProcess {
    static func defineTimeCalls(_ t: inout Table) {
        t.passthrough(.clock_gettime, SYS_clock_gettime, [.value, .pointer])
        t.passthrough(.clock_getres, SYS_clock_getres, [.value, .pointer])
        t.passthrough(.clock_nanosleep, SYS_clock_nanosleep, [.value, .value, .pointer, .pointer])
        t.passthrough(.nanosleep, SYS_nanosleep, [.pointer, .pointer])
        t.passthrough(.gettimeofday, SYS_gettimeofday, [.pointer, .pointer])
        t.passthrough(.times, SYS_times, [.pointer])
        // A timer's signal takes its default action (a guest handler is not delivered yet).
        t.passthrough(.getitimer, SYS_getitimer, [.value, .pointer])
        t.passthrough(.setitimer, SYS_setitimer, [.value, .pointer, .pointer])
        for number in [SyscallNumber.timer_create, .timer_settime, .timer_gettime, .timer_getoverrun, .timer_delete] {
            t.define(number, 4) { p, c in p.unsupported(c, "POSIX timers need signal delivery, which is not implemented yet") }
        }
    }
}
