#!/bin/sh
# Runs every fuzz target (built by `make fuzz-build` into .build-fuzz) for SECONDS seconds each, one after another.
# New inputs go to .build-fuzz/corpus/<target> (Fuzz/corpus/<target>, the committed seeds, is only read); a crash,
# leak, timeout or sanitizer report leaves its input in .build-fuzz/artifacts/ and fails the run. The last line of
# each run (executions, cov, ft) is printed and kept in .build-fuzz/fuzz-summary.txt.
# Usage: Fuzz/run.sh SECONDS TARGET... (the Makefile's FUZZ_TARGETS)
set -u
seconds=${1:?usage: Fuzz/run.sh SECONDS TARGET...}
shift
targets=${*:?usage: Fuzz/run.sh SECONDS TARGET...}
bin=.build-fuzz/release
mkdir -p .build-fuzz/artifacts .build-fuzz/logs
summary=.build-fuzz/fuzz-summary.txt
: >"$summary"
failed=""
for target in $targets; do
    mkdir -p ".build-fuzz/corpus/$target"
    log=".build-fuzz/logs/$target.log"
    # Swift's own crash handler would read memory ASan watches; libFuzzer prints the stack instead.
    SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
        "$bin/$target" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -max_len=65536 -print_final_stats=1 \
        -artifact_prefix=".build-fuzz/artifacts/$target-" ".build-fuzz/corpus/$target" "Fuzz/corpus/$target" >"$log" 2>&1
    status=$?
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
    execs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
    line="$target: status $status, $execs executions; $last"
    echo "$line" | tee -a "$summary"
    if [ "$status" -ne 0 ]; then
        failed="$failed $target"
        grep -E 'ERROR|Fatal error|SUMMARY|Test unit written' "$log" | head -8 | cut -c1-400
    fi
done
if [ -n "$failed" ]; then
    echo "fuzzing failed:$failed (logs in .build-fuzz/logs, inputs in .build-fuzz/artifacts)"
    exit 1
fi
