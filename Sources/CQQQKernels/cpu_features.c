// CPU feature probe via cpuid/xgetbv (x86-64) so that the OS's support of the YMM/ZMM state is
// checked too, not only the instruction bits.
#include "qqq_cpu.h"

#if defined(__x86_64__)
#include <cpuid.h>

static uint64_t qqq_xgetbv0(void) {
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}

uint32_t qqq_cpu_features(void) {
    uint32_t a, b, c, d;
    uint32_t out = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int osxsave = (c >> 27) & 1, fma = (c >> 12) & 1, f16c = (c >> 29) & 1, avx = (c >> 28) & 1;
    if (!osxsave || !avx) return 0;
    uint64_t xcr0 = qqq_xgetbv0();
    int ymm_os = (xcr0 & 0x6) == 0x6;
    int zmm_os = (xcr0 & 0xE6) == 0xE6;
    if (__get_cpuid_max(0, 0) < 7) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    int avx2 = (b >> 5) & 1;
    int avx512f = (b >> 16) & 1, avx512bw = (b >> 30) & 1, avx512vl = (b >> 31) & 1;
    int avx512vnni = (c >> 11) & 1;
    uint32_t a1, b1, c1, d1;
    __cpuid_count(7, 1, a1, b1, c1, d1);
    int avxvnni = (a1 >> 4) & 1;
    if (ymm_os && avx2 && fma && f16c) {
        out |= QQQ_CPU_AVX2;
        if (avxvnni) out |= QQQ_CPU_AVXVNNI;
        if (zmm_os && avx512f && avx512bw && avx512vl) {
            out |= QQQ_CPU_AVX512;
            if (avx512vnni) out |= QQQ_CPU_AVX512VNNI;
        }
    }
    return out;
}

#elif defined(__aarch64__)
uint32_t qqq_cpu_features(void) { return QQQ_CPU_NEON; }
#else
uint32_t qqq_cpu_features(void) { return 0; }
#endif
