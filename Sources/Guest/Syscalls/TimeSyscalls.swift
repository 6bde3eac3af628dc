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
        // A timer's signal reaches the guest's handler like any other (struct sigevent has one layout on both;
        // SIGEV_THREAD is glibc's helper thread, which needs guest threads).
        t.passthrough(.getitimer, SYS_getitimer, [.value, .pointer])
        t.passthrough(.setitimer, SYS_setitimer, [.value, .pointer, .pointer])
        t.passthrough(.timer_create, SYS_timer_create, [.value, .pointer, .pointer])
        t.passthrough(.timer_settime, SYS_timer_settime, [.value, .value, .pointer, .pointer])
        t.passthrough(.timer_gettime, SYS_timer_gettime, [.value, .pointer])
        t.passthrough(.timer_getoverrun, SYS_timer_getoverrun, [.value])
        t.passthrough(.timer_delete, SYS_timer_delete, [.value])
    }
}
