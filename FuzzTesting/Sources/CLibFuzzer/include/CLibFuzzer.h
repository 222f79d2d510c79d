#ifndef MARIADB_TLS_PROXY_CLIBFUZZER_H
#define MARIADB_TLS_PROXY_CLIBFUZZER_H

#include <stddef.h>
#include <stdint.h>

/// libFuzzer's documented driver entry point (compiler-rt FuzzerInterface.h), linked in by
/// -sanitize=fuzzer. The Swift `main.swift` of each target calls it with its own callback, so the
/// target keeps SwiftPM's `main` symbol (no -parse-as-library needed).
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
