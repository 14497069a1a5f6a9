// Register-resident loops that measure the FP32 FMA and int8 multiply-accumulate ceilings, and a
// streaming read for memory bandwidth.
#include "qqq_peak.h"
#include "qqq_gemm.h"

// The AVX2 loops are not built under QQQ_EMULATE_SIMD (scripts/check-emulated-kernels), the VNNI ones are.
#if defined(__x86_64__) && !defined(QQQ_EMULATE_SIMD)
#define QQQ_PEAK_AVX2 1
#else
#define QQQ_PEAK_AVX2 0
#endif
#if defined(__x86_64__) || defined(QQQ_EMULATE_SIMD)
#define QQQ_PEAK_VNNI 1
#else
#define QQQ_PEAK_VNNI 0
#endif

#if QQQ_PEAK_AVX2
#include <immintrin.h>

__attribute__((target("avx2,fma"))) static float peak_fma_avx2(int64_t iters) {
    __m256 a[12];
    const __m256 x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < 12; i++) a[i] = _mm256_set1_ps((float)i);
    for (int64_t it = 0; it < iters; it++) {
        for (int i = 0; i < 12; i++) a[i] = _mm256_fmadd_ps(a[i], x, y);
        __asm__ volatile("" : "+x"(a[0]), "+x"(a[1]), "+x"(a[2]), "+x"(a[3]), "+x"(a[4]), "+x"(a[5]));
    }
    __m256 s = a[0];
    for (int i = 1; i < 12; i++) s = _mm256_add_ps(s, a[i]);
    float out[8];
    _mm256_storeu_ps(out, s);
    return out[0];
}

// The FP32 GEMM's AVX-512 path multiplies on 512-bit vectors; its ceiling is this loop's, not the
// 256-bit one's (half the FLOP per instruction on the same ports).
__attribute__((target("avx512f,fma"))) static float peak_fma_avx512(int64_t iters) {
    __m512 a[12];
    const __m512 x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < 12; i++) a[i] = _mm512_set1_ps((float)i);
    for (int64_t it = 0; it < iters; it++) {
        for (int i = 0; i < 12; i++) a[i] = _mm512_fmadd_ps(a[i], x, y);
        __asm__ volatile("" : "+v"(a[0]), "+v"(a[1]), "+v"(a[2]), "+v"(a[3]), "+v"(a[4]), "+v"(a[5]));
    }
    __m512 s = a[0];
    for (int i = 1; i < 12; i++) s = _mm512_add_ps(s, a[i]);
    return _mm512_reduce_add_ps(s);
}

// Each accumulator gets its own operand pair (4 u x 2 s vectors), made opaque every round, so the
// compiler can neither hoist the multiplies nor share one product among accumulators.
// signed_pairs: the s8 x s8 form, |w| in the unsigned slot and vpsignb moving w's sign onto a. Forced
// inline so each form is its own loop with no test inside.
static inline __attribute__((always_inline, target("avx2"))) int32_t peak_int8_loop(const int signed_pairs, int64_t iters) {
    __m256i acc[8];
    __m256i u0 = _mm256_set1_epi8(3), u1 = _mm256_set1_epi8(5), u2 = _mm256_set1_epi8(7), u3 = _mm256_set1_epi8(9);
    __m256i s0 = _mm256_set1_epi8(-2), s1 = _mm256_set1_epi8(4);
    const __m256i ones = _mm256_set1_epi16(1);
    for (int i = 0; i < 8; i++) acc[i] = _mm256_set1_epi32(i);
#define QQQ_PEAK_STEP(I, U, S)                                                                              \
    acc[I] = _mm256_add_epi32(acc[I], _mm256_madd_epi16(                                                    \
        signed_pairs ? _mm256_maddubs_epi16(U, _mm256_sign_epi8(S, U)) : _mm256_maddubs_epi16(U, S), ones));
    for (int64_t it = 0; it < iters; it++) {
        __asm__ volatile("" : "+x"(u0), "+x"(u1), "+x"(u2), "+x"(u3), "+x"(s0), "+x"(s1));
        QQQ_PEAK_STEP(0, u0, s0) QQQ_PEAK_STEP(1, u1, s0) QQQ_PEAK_STEP(2, u2, s0) QQQ_PEAK_STEP(3, u3, s0)
        QQQ_PEAK_STEP(4, u0, s1) QQQ_PEAK_STEP(5, u1, s1) QQQ_PEAK_STEP(6, u2, s1) QQQ_PEAK_STEP(7, u3, s1)
    }
#undef QQQ_PEAK_STEP
    __m256i t = acc[0];
    for (int i = 1; i < 8; i++) t = _mm256_add_epi32(t, acc[i]);
    return _mm256_extract_epi32(t, 0);
}

__attribute__((target("avx2"))) static int32_t peak_int8_avx2(int signed_pairs, int64_t iters) {
    return signed_pairs ? peak_int8_loop(1, iters) : peak_int8_loop(0, iters);
}

__attribute__((target("avx2"))) static float read_avx2(const float *x, int64_t count) {
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 32 <= count; i += 32) {
        s0 = _mm256_add_ps(s0, _mm256_loadu_ps(x + i));
        s1 = _mm256_add_ps(s1, _mm256_loadu_ps(x + i + 8));
        s2 = _mm256_add_ps(s2, _mm256_loadu_ps(x + i + 16));
        s3 = _mm256_add_ps(s3, _mm256_loadu_ps(x + i + 24));
    }
    float out[8];
    _mm256_storeu_ps(out, _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    float sum = out[0] + out[1] + out[2] + out[3] + out[4] + out[5] + out[6] + out[7];
    for (; i < count; i++) sum += x[i];
    return sum;
}
#endif

#if QQQ_PEAK_VNNI
#include "internal/simd.h"
#if defined(QQQ_EMULATE_SIMD)
#define QQQ_TARGET(x)
#else
#define QQQ_TARGET(x) __attribute__((target(x)))
#endif

// The VNNI kernels' sequence: one vpdpbusd per 32 (256-bit) or 64 (512-bit) MACs, for both int8 forms
// (u8 x s8 into int32 without saturation, so no s8 x s8 variant). As in the AVX2 loop, each accumulator
// has its own operand pair, made opaque every round. 8 accumulators at 256 bits (16 YMM registers
// under VEX), 12 at 512 bits to cover vpdpbusd's latency at two per cycle.
// scripts/check-emulated-kernels checks the results; keep its peak_expected in step with the operands.
QQQ_TARGET("avx2,avxvnni") static int32_t peak_int8_avxvnni(int64_t iters) {
    __m256i acc[8];
    __m256i u0 = _mm256_set1_epi8(3), u1 = _mm256_set1_epi8(5), u2 = _mm256_set1_epi8(7), u3 = _mm256_set1_epi8(9);
    __m256i s0 = _mm256_set1_epi8(-2), s1 = _mm256_set1_epi8(4);
    for (int i = 0; i < 8; i++) acc[i] = _mm256_set1_epi32(i);
    for (int64_t it = 0; it < iters; it++) {
        QQQ_OPAQUE(u0); QQQ_OPAQUE(u1); QQQ_OPAQUE(u2); QQQ_OPAQUE(u3); QQQ_OPAQUE(s0); QQQ_OPAQUE(s1);
        acc[0] = _mm256_dpbusd_avx_epi32(acc[0], u0, s0); acc[1] = _mm256_dpbusd_avx_epi32(acc[1], u1, s0);
        acc[2] = _mm256_dpbusd_avx_epi32(acc[2], u2, s0); acc[3] = _mm256_dpbusd_avx_epi32(acc[3], u3, s0);
        acc[4] = _mm256_dpbusd_avx_epi32(acc[4], u0, s1); acc[5] = _mm256_dpbusd_avx_epi32(acc[5], u1, s1);
        acc[6] = _mm256_dpbusd_avx_epi32(acc[6], u2, s1); acc[7] = _mm256_dpbusd_avx_epi32(acc[7], u3, s1);
    }
    __m256i t = acc[0];
    for (int i = 1; i < 8; i++) t = _mm256_add_epi32(t, acc[i]);
    return _mm_cvtsi128_si32(_mm256_castsi256_si128(t));
}

QQQ_TARGET("avx512f,avx512bw,avx512vl,avx512vnni") static int32_t peak_int8_avx512(int64_t iters) {
    __m512i acc[12];
    __m512i u0 = _mm512_set1_epi8(3), u1 = _mm512_set1_epi8(5), u2 = _mm512_set1_epi8(7), u3 = _mm512_set1_epi8(9);
    __m512i s0 = _mm512_set1_epi8(-2), s1 = _mm512_set1_epi8(4), s2 = _mm512_set1_epi8(-3);
    for (int i = 0; i < 12; i++) acc[i] = _mm512_set1_epi32(i);
    for (int64_t it = 0; it < iters; it++) {
        QQQ_OPAQUE512(u0); QQQ_OPAQUE512(u1); QQQ_OPAQUE512(u2); QQQ_OPAQUE512(u3);
        QQQ_OPAQUE512(s0); QQQ_OPAQUE512(s1); QQQ_OPAQUE512(s2);
        acc[0] = _mm512_dpbusd_epi32(acc[0], u0, s0); acc[1] = _mm512_dpbusd_epi32(acc[1], u1, s0);
        acc[2] = _mm512_dpbusd_epi32(acc[2], u2, s0); acc[3] = _mm512_dpbusd_epi32(acc[3], u3, s0);
        acc[4] = _mm512_dpbusd_epi32(acc[4], u0, s1); acc[5] = _mm512_dpbusd_epi32(acc[5], u1, s1);
        acc[6] = _mm512_dpbusd_epi32(acc[6], u2, s1); acc[7] = _mm512_dpbusd_epi32(acc[7], u3, s1);
        acc[8] = _mm512_dpbusd_epi32(acc[8], u0, s2); acc[9] = _mm512_dpbusd_epi32(acc[9], u1, s2);
        acc[10] = _mm512_dpbusd_epi32(acc[10], u2, s2); acc[11] = _mm512_dpbusd_epi32(acc[11], u3, s2);
    }
    __m512i t = acc[0];
    for (int i = 1; i < 12; i++) t = _mm512_add_epi32(t, acc[i]);
    return _mm_cvtsi128_si32(_mm512_castsi512_si128(t));
}
#endif

static float peak_fma_portable(int64_t iters) {
    float a[12][8];
    for (int i = 0; i < 12; i++) for (int j = 0; j < 8; j++) a[i][j] = (float)i;
    for (int64_t it = 0; it < iters; it++)
        for (int i = 0; i < 12; i++) for (int j = 0; j < 8; j++) a[i][j] = a[i][j] * 0.999999f + 1e-7f;
    float s = 0;
    for (int i = 0; i < 12; i++) s += a[i][0];
    return s;
}

static int32_t peak_int8_portable(int signed_pairs, int64_t iters) {
    (void)signed_pairs;
    int32_t acc[8][8] = {{0}};
    for (int64_t it = 0; it < iters; it++)
        for (int i = 0; i < 8; i++) for (int j = 0; j < 8; j++) acc[i][j] += 4 * (3 * -2);
    return acc[0][0];
}

static float read_portable(const float *x, int64_t count) {
#pragma clang fp reassociate(on)
    float s = 0;
    for (int64_t i = 0; i < count; i++) s += x[i];
    return s;
}

float qqq_peak_fma(int path, int64_t iters) {
#if QQQ_PEAK_AVX2
    if (path == QQQ_PATH_AVX512) return peak_fma_avx512(iters);
    if (path == QQQ_PATH_AVX2 || path == QQQ_PATH_AVXVNNI) return peak_fma_avx2(iters);
#endif
    (void)path;
    return peak_fma_portable(iters);
}

int64_t qqq_peak_fma_flops(int path) {
#if QQQ_PEAK_AVX2
    if (path == QQQ_PATH_AVX512) return 12 * 16 * 2;
#endif
    (void)path;
    return 12 * 8 * 2;
}

int32_t qqq_peak_int8(int path, int signed_pairs, int64_t iters) {
#if QQQ_PEAK_AVX2
    if (path == QQQ_PATH_AVX2) return peak_int8_avx2(signed_pairs, iters);
#endif
#if QQQ_PEAK_VNNI
    if (path == QQQ_PATH_AVXVNNI) return peak_int8_avxvnni(iters);
    if (path == QQQ_PATH_AVX512) return peak_int8_avx512(iters);
#endif
    (void)path;
    return peak_int8_portable(signed_pairs, iters);
}

int64_t qqq_peak_int8_macs(int path) { return path == QQQ_PATH_AVX512 ? 12 * 64 : 8 * 32; }

float qqq_read_floats(int path, const float *x, int64_t count) {
#if QQQ_PEAK_AVX2
    if (path == QQQ_PATH_AVX2 || path == QQQ_PATH_AVXVNNI || path == QQQ_PATH_AVX512) return read_avx2(x, count);
#endif
    (void)path;
    return read_portable(x, count);
}
