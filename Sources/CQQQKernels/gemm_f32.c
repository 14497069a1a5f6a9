// Instantiates the GEMM and vector helpers once per CPU path (internal/*_impl.h) and dispatches.
// The AVX2 copy is compiled under a clang target attribute, so the binary runs on any x86-64 and the
// caller chooses the path after a CPU check (qqq_cpu_features).
#include "qqq_gemm.h"
#include "internal/half.h"
#include <math.h>
#include <string.h>

#define QQQ_CAT2(a, b) a##b
#define QQQ_CAT(a, b) QQQ_CAT2(a, b)

#define QQQ_AVX2 0
#define FN(x) QQQ_CAT(x, _portable)
#include "internal/vec_impl.h"
#include "internal/gemm_impl.h"
#include "internal/attention_impl.h"
#undef MR
#undef NR
#undef FN
#undef QQQ_AVX2

#if defined(__x86_64__) && !defined(QQQ_EMULATE_SIMD)
#include <immintrin.h>
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
#define QQQ_AVX2 1
#define FN(x) QQQ_CAT(x, _avx2)
#include "internal/vec_impl.h"
#include "internal/gemm_impl.h"
#include "internal/attention_impl.h"
#undef MR
#undef NR
#undef FN
#undef QQQ_AVX2
#pragma clang attribute pop
#define QQQ_HAS_AVX2_PATH 1
#else
#define QQQ_HAS_AVX2_PATH 0
#endif

// AVX-512: the same code with the 512-bit micro-kernel. With QQQ_EMULATE_SIMD
// (scripts/check-emulated-kernels) it is built on SIMDe, on any CPU, and checked against the portable path.
#if defined(__x86_64__) || defined(QQQ_EMULATE_SIMD)
#include "internal/simd.h"
#if !defined(QQQ_EMULATE_SIMD)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c"))), apply_to = function)
#endif
#define QQQ_AVX2 1
#define QQQ_AVX512 1
#define FN(x) QQQ_CAT(x, _avx512)
#include "internal/vec_impl.h"
#include "internal/gemm_impl.h"
#include "internal/attention_impl.h"
#undef MR
#undef NR
#undef FN
#undef QQQ_AVX512
#undef QQQ_AVX2
#if !defined(QQQ_EMULATE_SIMD)
#pragma clang attribute pop
#endif
#define QQQ_HAS_AVX512_PATH 1
#else
#define QQQ_HAS_AVX512_PATH 0
#endif

size_t qqq_sgemm_scratch_floats(void) { return 192 * 256 + 256 * 1024 + 64; }
int qqq_sgemm_nr(void) { return 16; }

// Each entry point runs the path's copy; a path not built here (AVX2 under emulation, the x86 paths on
// arm64) falls back to portable. The FP32 code has no AVX-VNNI flavour: that path runs the AVX2 copy.
#if QQQ_HAS_AVX512_PATH
#define QQQ_IF_AVX512(x) x
#else
#define QQQ_IF_AVX512(x) (void)0
#endif
#if QQQ_HAS_AVX2_PATH
#define QQQ_IF_AVX2(x) x
#else
#define QQQ_IF_AVX2(x) (void)0
#endif
#define DISPATCH(path, name, args)                                                                   \
    do {                                                                                             \
        if (QQQ_HAS_AVX512_PATH && (path) == QQQ_PATH_AVX512) { QQQ_IF_AVX512(QQQ_CAT(name, _avx512) args); } \
        else if (QQQ_HAS_AVX2_PATH && (path) != QQQ_PATH_PORTABLE) { QQQ_IF_AVX2(QQQ_CAT(name, _avx2) args); } \
        else { QQQ_CAT(name, _portable) args; }                                                      \
    } while (0)
#define DISPATCH_RET(r, path, name, args)                                                            \
    do {                                                                                             \
        if (QQQ_HAS_AVX512_PATH && (path) == QQQ_PATH_AVX512) { QQQ_IF_AVX512(r = QQQ_CAT(name, _avx512) args); } \
        else if (QQQ_HAS_AVX2_PATH && (path) != QQQ_PATH_PORTABLE) { QQQ_IF_AVX2(r = QQQ_CAT(name, _avx2) args); } \
        else { r = QQQ_CAT(name, _portable) args; }                                                  \
    } while (0)

void qqq_sgemm(int path, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const void *b, int64_t ldb,
               int btype, int blayout, float *c, int64_t ldc, int accumulate, float *scratch) {
    DISPATCH(path, sgemm, (m, n, k, a, lda, 0, b, ldb, btype, blayout, c, ldc, accumulate, scratch, -1));
}

void qqq_sgemm_at(int path, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const void *b, int64_t ldb,
                  int btype, int blayout, float *c, int64_t ldc, int accumulate, float *scratch) {
    DISPATCH(path, sgemm, (m, n, k, a, lda, 1, b, ldb, btype, blayout, c, ldc, accumulate, scratch, -1));
}

void qqq_ssyrk_upper(int path, int64_t n, int64_t k, const float *x, int64_t ldx, int64_t col0, int64_t col1,
                     float *c, int64_t ldc, float *scratch) {
    if (col0 < 0) col0 = 0;
    if (col1 > n) col1 = n;
    if (col0 >= col1) return;
    // Rows 0..col1 of Xᵀ against columns col0..col1 of X, the tiles below the diagonal skipped.
    DISPATCH(path, sgemm, (col1, col1 - col0, k, x, ldx, 1, x + col0, ldx, QQQ_B_F32, QQQ_B_KN, c + col0, ldc, 1, scratch, col0));
}

void qqq_sgemm_pack_b(int path, const void *w, int src_type, int src_layout, int64_t n, int64_t k, int64_t ldw, int dst_type,
                      void *dst) {
    if (src_layout == QQQ_B_KN && dst_type != QQQ_B_F32) return;  // not offered (see qqq_gemm.h)
    DISPATCH(path, pack_weights, (w, src_type, src_layout, n, k, ldw, dst_type, dst));
}

void qqq_f16_to_f32(int path, const void *src, float *dst, int64_t count) {
    DISPATCH(path, convert_run, (src, 0, QQQ_B_F16, dst, count));
}
void qqq_bf16_to_f32(int path, const void *src, float *dst, int64_t count) {
    DISPATCH(path, convert_run, (src, 0, QQQ_B_BF16, dst, count));
}
void qqq_f32_to_f16(int path, const float *src, void *dst, int64_t count) {
    DISPATCH(path, f32_to_f16, (src, (uint16_t *)dst, count));
}
void qqq_rms_norm(int path, const float *x, const float *w, float *out, int64_t count, float eps) {
    DISPATCH(path, rms_norm, (x, w, out, count, eps));
}
void qqq_silu_mul(int path, const float *gate, const float *up, float *out, int64_t count) {
    DISPATCH(path, silu_mul, (gate, up, out, count));
}
void qqq_softmax(int path, float *x, int64_t count) {
    DISPATCH(path, softmax, (x, count));
}
void qqq_softmax_causal(int path, float *s, int64_t ld, int64_t rows, int64_t i0, int64_t width, float scale) {
    DISPATCH(path, softmax_causal, (s, ld, rows, i0, width, scale));
}
float qqq_log_sum_exp(int path, const float *x, int64_t count) {
    float r = 0;
    DISPATCH_RET(r, path, log_sum_exp, (x, count));
    return r;
}
float qqq_grid_error_pow(int path, const float *x, int64_t count, float scale, float lo, float hi, float p, float bound) {
    float r = 0;
    DISPATCH_RET(r, path, grid_error_pow, (x, count, scale, lo, hi, p, bound));
    return r;
}
size_t qqq_attention_scratch_floats(int64_t rows, int64_t d) {
    // The largest of the paths' needs (their tiles differ in height).
    size_t r = attention_scratch_floats_portable(rows, d);
#if QQQ_HAS_AVX512_PATH
    size_t r512 = attention_scratch_floats_avx512(rows, d);
    r = r512 > r ? r512 : r;
#endif
    return r;
}
void qqq_attention_causal(int path, int64_t rows, int64_t i0, int64_t d, const float *q, int64_t ldq, const float *pk,
                          const float *pv, int64_t ldv, float scale, float *out, int64_t ldo, float *scratch) {
    DISPATCH(path, attention_causal, (rows, i0, d, q, ldq, pk, pv, ldv, scale, out, ldo, scratch));
}
float qqq_dot(int path, const float *x, const float *y, int64_t count) {
    float r = 0;
    DISPATCH_RET(r, path, dot_f32, (x, y, count));
    return r;
}
