#!/usr/bin/env python3
"""PageLift's benchmark: each workload natively (gcc -O2, x86-64), under qemu-riscv64 and
under pagelift, in one session; medians of --repeat runs and their ratios.

Usage: python3 Tests/Benchmarks/bench.py [--repeat N] [--levels O2,O0] [--only NAME,...]
Outputs are checked against expected/NAME.txt on every run (a mismatch fails the run)."""
import argparse, math, os, shutil, statistics, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, ".build", "bench")
# Same floating-point results on both architectures: no fused multiply-add contraction.
CFLAGS = ["-O2", "-ffp-contract=off"]


def run(command, check=True):
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if check and result.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}\n{result.stderr}")
    return result


def timed(command):
    start = time.perf_counter()
    result = run(command, check=False)
    return time.perf_counter() - start, result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--levels", default="O2,O0", help="pagelift levels to run, e.g. O2,O0,O3")
    parser.add_argument("--only", default="", help="comma-separated workload names")
    parser.add_argument("--pagelift", default=os.environ.get("PAGELIFT", os.path.join(ROOT, ".build/release/pagelift")))
    args = parser.parse_args()

    if "PAGELIFT" not in os.environ:
        run(["swift", "build", "-c", "release", "--package-path", ROOT])
    os.makedirs(OUT, exist_ok=True)
    names = sorted(f[:-2] for f in os.listdir(HERE) if f.endswith(".c"))
    if args.only:
        names = [n for n in names if n in args.only.split(",")]
    levels = args.levels.split(",")

    hello = os.path.join(ROOT, "Tests/ProgramTests/Programs/hello.c")
    run(["riscv64-linux-gnu-gcc", "-O2", "-static", "-o", os.path.join(OUT, "hello.rv"), hello])

    # Cold: no code cache, every region translated in the run. Warm: a cache primed by one run.
    cache = os.path.join(OUT, "cache")
    shutil.rmtree(cache, ignore_errors=True)
    columns = ["native", "qemu"] + [f"pagelift-{level}" for level in levels] + [f"warm-{level}" for level in levels]
    rows = {}
    for name in names:
        source = os.path.join(HERE, name + ".c")
        native, guest = os.path.join(OUT, name + ".x86"), os.path.join(OUT, name + ".rv")
        run(["gcc", *CFLAGS, "-o", native, source, "-lm"])
        run(["riscv64-linux-gnu-gcc", *CFLAGS, "-static", "-o", guest, source, "-lm"])
        expected = open(os.path.join(HERE, "expected", name + ".txt")).read()
        commands = {"native": [native], "qemu": ["qemu-riscv64", guest]}
        for level in levels:
            commands[f"pagelift-{level}"] = [args.pagelift, "--no-cache", f"-{level}", guest]
            commands[f"warm-{level}"] = [args.pagelift, "--cache-dir", cache, f"-{level}", guest]
            run(commands[f"warm-{level}"])   # primes the cache
        times = {column: [] for column in columns}
        for _ in range(args.repeat):
            for column in columns:
                seconds, result = timed(commands[column])
                if result.returncode != 0 or result.stdout != expected:
                    sys.exit(f"{name} under {column}: wrong output or status {result.returncode}:\n{result.stdout}{result.stderr}")
                times[column].append(seconds)
        rows[name] = {column: statistics.median(values) for column, values in times.items()}
        print(f"ran {name}", file=sys.stderr)

    startup = {"native": 0.0}
    hello_commands = [("qemu", ["qemu-riscv64"])]
    for l in levels:
        hello_commands += [(f"pagelift-{l}", [args.pagelift, "--no-cache", f"-{l}"]), (f"warm-{l}", [args.pagelift, "--cache-dir", cache, f"-{l}"])]
    run(hello_commands[-1][1] + [os.path.join(OUT, "hello.rv")], check=False)
    for column, command in hello_commands:
        startup[column] = statistics.median(timed(command + [os.path.join(OUT, "hello.rv")])[0] for _ in range(args.repeat))

    main_level = f"pagelift-{levels[0]}"
    header = f"{'workload':<12}" + "".join(f"{c:>14}" for c in columns) + f"{'pl/native':>11}{'qemu/pl':>9}"
    print(f"medians of {args.repeat} runs, seconds; pagelift-* runs cold (--no-cache, translation included), warm-* with a primed code cache; ratios use {main_level}")
    print(header)
    for name, row in rows.items():
        print(f"{name:<12}" + "".join(f"{row[c]:>14.3f}" for c in columns)
              + f"{row[main_level] / row['native']:>11.2f}{row['qemu'] / row[main_level]:>9.2f}")
    geo = lambda values: math.exp(sum(math.log(v) for v in values) / len(values))
    print(f"{'geomean':<12}" + "".join(f"{geo([r[c] for r in rows.values()]):>14.3f}" for c in columns)
          + f"{geo([r[main_level] / r['native'] for r in rows.values()]):>11.2f}"
          + f"{geo([r['qemu'] / r[main_level] for r in rows.values()]):>9.2f}")
    print(f"{'hello':<12}{'':>14}" + "".join(f"{startup[c]:>14.3f}" for c in columns[1:]))


if __name__ == "__main__":
    main()
