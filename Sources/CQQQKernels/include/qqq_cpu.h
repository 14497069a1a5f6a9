// CPU feature probe. The kernels choose their instruction set at run time from these bits, so
// one binary runs on any x86-64 (and builds on arm64, where only the portable path exists).
#ifndef QQQ_CPU_H
#define QQQ_CPU_H

#include <stdint.h>

enum {
    QQQ_CPU_AVX2 = 1u << 0,       // AVX2 + FMA + F16C (all three required)
    QQQ_CPU_AVXVNNI = 1u << 1,    // AVX-VNNI: vpdpbusd on 256-bit vectors (VEX encoded)
    QQQ_CPU_AVX512 = 1u << 2,     // AVX-512 F + BW + VL
    QQQ_CPU_AVX512VNNI = 1u << 3, // AVX-512 VNNI
    QQQ_CPU_NEON = 1u << 4,       // aarch64 Advanced SIMD
};

/// Bit set of QQQ_CPU_* features this CPU and OS support (OS support of the vector state checked).
uint32_t qqq_cpu_features(void);

#endif
