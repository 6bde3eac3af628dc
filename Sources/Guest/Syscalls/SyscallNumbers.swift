/// RISC-V Linux syscall numbers: the asm-generic table (`include/uapi/asm-generic/unistd.h`),
/// plus the two riscv64 adds. Named here so no handler is written against a bare number.
public enum SyscallNumber: Int, CaseIterable, Sendable {
    case io_setup = 0, io_destroy, io_submit, io_cancel, io_getevents
    case setxattr = 5, lsetxattr, fsetxattr, getxattr, lgetxattr, fgetxattr, listxattr, llistxattr, flistxattr
    case removexattr = 14, lremovexattr, fremovexattr
    case getcwd = 17, lookup_dcookie, eventfd2, epoll_create1, epoll_ctl, epoll_pwait, dup, dup3, fcntl
    case inotify_init1 = 26, inotify_add_watch, inotify_rm_watch, ioctl, ioprio_set, ioprio_get, flock
    case mknodat = 33, mkdirat, unlinkat, symlinkat, linkat, renameat, umount2, mount, pivot_root, nfsservctl
    case statfs = 43, fstatfs, truncate, ftruncate, fallocate, faccessat, chdir, fchdir, chroot, fchmod, fchmodat
    case fchownat = 54, fchown, openat, close, vhangup, pipe2, quotactl, getdents64, lseek, read, write, readv, writev
    case pread64 = 67, pwrite64, preadv, pwritev, sendfile, pselect6, ppoll, signalfd4, vmsplice, splice, tee
    case readlinkat = 78, newfstatat, fstat, sync, fsync, fdatasync, sync_file_range
    case timerfd_create = 85, timerfd_settime, timerfd_gettime, utimensat, acct, capget, capset, personality
    case exit = 93, exit_group, waitid, set_tid_address, unshare, futex, set_robust_list, get_robust_list
    case nanosleep = 101, getitimer, setitimer, kexec_load, init_module, delete_module
    case timer_create = 107, timer_gettime, timer_getoverrun, timer_settime, timer_delete
    case clock_settime = 112, clock_gettime, clock_getres, clock_nanosleep, syslog, ptrace
    case sched_setparam = 118, sched_setscheduler, sched_getscheduler, sched_getparam, sched_setaffinity
    case sched_getaffinity = 123, sched_yield, sched_get_priority_max, sched_get_priority_min, sched_rr_get_interval
    case restart_syscall = 128, kill, tkill, tgkill, sigaltstack, rt_sigsuspend, rt_sigaction, rt_sigprocmask
    case rt_sigpending = 136, rt_sigtimedwait, rt_sigqueueinfo, rt_sigreturn, setpriority, getpriority, reboot
    case setregid = 143, setgid, setreuid, setuid, setresuid, getresuid, setresgid, getresgid, setfsuid, setfsgid
    case times = 153, setpgid, getpgid, getsid, setsid, getgroups, setgroups, uname, sethostname, setdomainname
    case getrlimit = 163, setrlimit, getrusage, umask, prctl, getcpu, gettimeofday, settimeofday, adjtimex
    case getpid = 172, getppid, getuid, geteuid, getgid, getegid, gettid, sysinfo
    case mq_open = 180, mq_unlink, mq_timedsend, mq_timedreceive, mq_notify, mq_getsetattr
    case msgget = 186, msgctl, msgrcv, msgsnd, semget, semctl, semtimedop, semop, shmget, shmctl, shmat, shmdt
    case socket = 198, socketpair, bind, listen, accept, connect, getsockname, getpeername, sendto, recvfrom
    case setsockopt = 208, getsockopt, shutdown, sendmsg, recvmsg, readahead, brk, munmap, mremap
    case add_key = 217, request_key, keyctl, clone, execve, mmap, fadvise64, swapon, swapoff, mprotect, msync
    case mlock = 228, munlock, mlockall, munlockall, mincore, madvise, remap_file_pages, mbind
    case get_mempolicy = 236, set_mempolicy, migrate_pages, move_pages, rt_tgsigqueueinfo, perf_event_open
    case accept4 = 242, recvmmsg
    case riscv_hwprobe = 258, riscv_flush_icache
    case wait4 = 260, prlimit64, fanotify_init, fanotify_mark, name_to_handle_at, open_by_handle_at
    case clock_adjtime = 266, syncfs, setns, sendmmsg, process_vm_readv, process_vm_writev, kcmp, finit_module
    case sched_setattr = 274, sched_getattr, renameat2, seccomp, getrandom, memfd_create, bpf, execveat
    case userfaultfd = 282, membarrier, mlock2, copy_file_range, preadv2, pwritev2
    case pkey_mprotect = 288, pkey_alloc, pkey_free, statx, io_pgetevents, rseq, kexec_file_load
    case pidfd_send_signal = 424, io_uring_setup, io_uring_enter, io_uring_register, open_tree, move_mount
    case fsopen = 430, fsconfig, fsmount, fspick, pidfd_open, clone3, close_range, openat2, pidfd_getfd
    case faccessat2 = 439, process_madvise, epoll_pwait2, mount_setattr, quotactl_fd
    case landlock_create_ruleset = 444, landlock_add_rule, landlock_restrict_self, memfd_secret
    case process_mrelease = 448, futex_waitv, set_mempolicy_home_node

    /// The name strace and the unsupported-syscall message use.
    public var name: String { String(describing: self) }

    public static func name(of number: Int) -> String {
        SyscallNumber(rawValue: number)?.name ?? "syscall_\(number)"
    }
}
