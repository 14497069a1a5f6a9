// Register-resident loops that measure the FP32 FMA and int8 multiply-accumulate ceilings, and a
// streaming read for memory bandwidth.
#include "qqq_peak.h"
#include "qqq_gemm.h"

#if defined(__x86_64__)
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
#if defined(__x86_64__)
    if (path == QQQ_PATH_AVX2) return peak_fma_avx2(iters);
#endif
    (void)path;
    return peak_fma_portable(iters);
}

int32_t qqq_peak_int8(int path, int signed_pairs, int64_t iters) {
#if defined(__x86_64__)
    if (path == QQQ_PATH_AVX2) return peak_int8_avx2(signed_pairs, iters);
#endif
    (void)path;
    return peak_int8_portable(signed_pairs, iters);
}

float qqq_read_floats(int path, const float *x, int64_t count) {
#if defined(__x86_64__)
    if (path == QQQ_PATH_AVX2) return read_avx2(x, count);
#endif
    (void)path;
    return read_portable(x, count);
}
