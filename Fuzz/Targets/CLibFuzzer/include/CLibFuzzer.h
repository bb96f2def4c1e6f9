// libFuzzer's driver entry point (compiler-rt, linked in by -sanitize=fuzzer): each fuzz target's `@main`
// hands it the command line and its test function.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
