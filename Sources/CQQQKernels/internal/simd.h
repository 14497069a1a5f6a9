// Intrinsics of the VNNI / AVX-512 kernels (integer and FP32): the compiler's own, or, for the emulation check on CPUs
// without those instruction sets (scripts/check-emulated-kernels, -DQQQ_EMULATE_SIMD), SIMDe's portable
// versions under the same names, so the check compiles exactly the kernel source the product builds.
#ifndef QQQ_SIMD_H
#define QQQ_SIMD_H

#if defined(QQQ_EMULATE_SIMD)
#define SIMDE_ENABLE_NATIVE_ALIASES
// Never the compiler's intrinsic headers: their types (e.g. clang's __m128bh) clash with SIMDe's aliases.
#define SIMDE_NO_NATIVE
#include <simde/x86/avx512.h>
#include <simde/x86/f16c.h>
// F16C's scalar conversion (the FP32 GEMM's fp16 paths) has no SIMDe form; the scalar one rounds the same.
#define _cvtsh_ss(h) qqq_h2f(h)
#ifndef _MM_FROUND_NO_EXC
#define _MM_FROUND_NO_EXC SIMDE_MM_FROUND_NO_EXC
#endif
// This SIMDe lacks AVX-512F's int32 -> float conversion; element by element it rounds the same (RNE).
#include <string.h>
static inline simde__m512 qqq_emu_cvtepi32_ps(simde__m512i a) {
    int32_t v[16];
    float f[16];
    memcpy(v, &a, sizeof v);
    for (int i = 0; i < 16; i++) f[i] = (float)v[i];
    return simde_mm512_loadu_ps(f);
}
#define _mm512_cvtepi32_ps(a) qqq_emu_cvtepi32_ps(a)
// Nor its float -> int32 conversion: RNE (the default rounding mode), INT_MIN out of range or NaN, as
// the instruction.
#include <math.h>
static inline simde__m512i qqq_emu_cvtps_epi32(simde__m512 a) {
    float f[16];
    int32_t v[16];
    memcpy(f, &a, sizeof f);
    for (int i = 0; i < 16; i++)
        v[i] = (f[i] >= -2147483648.0f && f[i] < 2147483648.0f) ? (int32_t)nearbyintf(f[i]) : INT32_MIN;
    return simde_mm512_loadu_si512(v);
}
#define _mm512_cvtps_epi32(a) qqq_emu_cvtps_epi32(a)
// AVX-VNNI's VEX form has the semantics of the AVX512-VL form SIMDe implements.
#define _mm256_dpbusd_avx_epi32(src, a, b) simde_mm256_dpbusd_epi32(src, a, b)
// Keeps a vector opaque to the optimiser (peak loops). SIMDe vectors live in memory, not registers.
#define QQQ_OPAQUE(v) __asm__ volatile("" : "+m"(v))
#define QQQ_OPAQUE512(v) __asm__ volatile("" : "+m"(v))
#else
#include <immintrin.h>
#define QQQ_OPAQUE(v) __asm__ volatile("" : "+x"(v))
#define QQQ_OPAQUE512(v) __asm__ volatile("" : "+v"(v))
#endif

#endif
