/*
 * fuzz.h - the libFuzzer entry points every t/fuzz/fuzz_*.c defines (and
 * LLVMFuzzerInitialize, optionally).  Force-included when the targets are
 * built, so -Wmissing-prototypes holds without each target declaring them.
 */
#ifndef PSPF_FUZZ_H
#define PSPF_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#endif
