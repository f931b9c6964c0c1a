/*
 * asan - PSPF_ASAN is 1 in an AddressSanitizer build.  Free lists, pools
 * and buffers reused between requests hide a use after free from ASan
 * (the memory is never freed); under ASan they step aside and every
 * object gets its own allocation, freed when its use ends.
 */
#ifndef PSPF_ASAN_H
#define PSPF_ASAN_H

#if defined(__SANITIZE_ADDRESS__)
#define PSPF_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PSPF_ASAN 1
#endif
#endif
#ifndef PSPF_ASAN
#define PSPF_ASAN 0
#endif

#endif
