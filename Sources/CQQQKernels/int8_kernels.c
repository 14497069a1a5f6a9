// Instantiates the integer kernels once per CPU path (internal/int8_impl.h, internal/int8_vnni_impl.h)
// and dispatches; the weight packing is path-independent.
#include "qqq_int8.h"
#include <stdlib.h>
#include "qqq_gemm.h"
#include "internal/half.h"
#include <float.h>
#include <math.h>
#include <string.h>

// QQQ_INT_PANEL=0 in the environment runs the pair-chunk kernel at every M (for A/B timing).
// QQQ_INT_PANEL_S8=0 keeps it only for the s8 x s8 formats (per-group, W8) on AVX2.
static int qqq_int_panel_disabled = 0, qqq_int_panel_s8_enabled = 1;
__attribute__((constructor)) static void qqq_int_panel_init(void) {
    const char *e = getenv("QQQ_INT_PANEL"), *s8 = getenv("QQQ_INT_PANEL_S8");
    qqq_int_panel_disabled = e && e[0] == '0';
    qqq_int_panel_s8_enabled = !qqq_int_panel_disabled && !(s8 && s8[0] == '0');
}

// Per-thread scratch of the panel kernels: grown on demand and kept (no allocation once warm).
static void *qqq_int_scratch(void **buf, size_t *have, size_t need) {
    if (*have < need) {
        free(*buf);
        *buf = NULL;
        if (posix_memalign(buf, 64, need) != 0) { *buf = NULL; *have = 0; return NULL; }
        *have = need;
    }
    return *buf;
}

#define QQQ_CAT2(a, b) a##b
#define QQQ_CAT(a, b) QQQ_CAT2(a, b)

#define QQQ_AVX2 0
#define FN(x) QQQ_CAT(x, _portable)
#include "internal/int8_impl.h"
#undef FN
#undef QQQ_AVX2

#if defined(__x86_64__) && !defined(QQQ_EMULATE_SIMD)
#include <immintrin.h>
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
#define QQQ_AVX2 1
#define FN(x) QQQ_CAT(x, _avx2)
#include "internal/int8_impl.h"
#undef FN
#undef QQQ_AVX2
#pragma clang attribute pop
#define QQQ_INT_AVX2 1
#else
#define QQQ_INT_AVX2 0
#endif

// The VNNI paths. With QQQ_EMULATE_SIMD (scripts/check-emulated-kernels) the same source is built on
// SIMDe without target attributes, on any CPU, and checked against the portable path.
#if defined(__x86_64__) || defined(QQQ_EMULATE_SIMD)
#include "internal/simd.h"
#if !defined(QQQ_EMULATE_SIMD)
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c,avxvnni"))), apply_to = function)
#endif
#define QQQ_VNNI_BITS 256
#define FN(x) QQQ_CAT(x, _avxvnni)
#include "internal/int8_vnni_impl.h"
#undef FN
#undef QQQ_VNNI_BITS
#if !defined(QQQ_EMULATE_SIMD)
#pragma clang attribute pop
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,fma,f16c"))), apply_to = function)
#endif
#define QQQ_VNNI_BITS 512
#define FN(x) QQQ_CAT(x, _avx512)
#include "internal/int8_vnni_impl.h"
#undef FN
#undef QQQ_VNNI_BITS
#if !defined(QQQ_EMULATE_SIMD)
#pragma clang attribute pop
#endif
#define QQQ_INT_VNNI 1
#else
#define QQQ_INT_VNNI 0
#endif

int qqq_quantize_rows(int path, const float *x, int64_t m, int64_t k, int64_t ldx, int8_t *a, uint8_t *ua,
                      int64_t lda, float *sigma, int64_t *bad_row) {
#if QQQ_INT_AVX2
    // The VNNI paths quantize with the AVX2 code (VNNI adds nothing there).
    if (path == QQQ_PATH_AVX2 || path == QQQ_PATH_AVXVNNI || path == QQQ_PATH_AVX512)
        return quantize_rows_avx2(x, m, k, ldx, a, ua, lda, sigma, bad_row);
#endif
    (void)path;
    return quantize_rows_portable(x, m, k, ldx, a, ua, lda, sigma, bad_row);
}

void qqq_int_gemm(int path, int format, int64_t m, int64_t k, const int8_t *a, const uint8_t *ua, int64_t lda,
                  const float *sigma, const void *packed, const int32_t *qsum, const uint16_t *gscales,
                  const float *scale, const float *bias, int64_t n, int64_t pair0, int64_t pair1,
                  float *y, int64_t ldy, int32_t *acc, int64_t ldacc) {
#if QQQ_INT_AVX2
    if (path == QQQ_PATH_AVX2) {
        int_gemm_avx2(format, m, k, a, ua, lda, sigma, packed, qsum, gscales, scale, bias, n, pair0, pair1, y, ldy, acc, ldacc);
        return;
    }
#endif
#if QQQ_INT_VNNI
    if (path == QQQ_PATH_AVXVNNI) {
        int_gemm_avxvnni(format, m, k, a, ua, lda, sigma, packed, qsum, gscales, scale, bias, n, pair0, pair1, y, ldy, acc, ldacc);
        return;
    }
    if (path == QQQ_PATH_AVX512) {
        int_gemm_avx512(format, m, k, a, ua, lda, sigma, packed, qsum, gscales, scale, bias, n, pair0, pair1, y, ldy, acc, ldacc);
        return;
    }
#endif
    (void)path;
    int_gemm_portable(format, m, k, a, ua, lda, sigma, packed, qsum, gscales, scale, bias, n, pair0, pair1, y, ldy, acc, ldacc);
}

void qqq_w4_pack(const uint8_t *plain, int64_t n, int64_t k, uint8_t *packed) {
    const int64_t chunks = k / 32, pairs = (n + 1) / 2;
    memset(packed, 0, (size_t)(pairs * k));
    for (int64_t row = 0; row < n; row++) {
        const uint8_t *src = plain + row * (k / 2);
        for (int64_t c = 0; c < chunks; c++) {
            uint8_t *dst = packed + ((row / 2) * chunks + c) * 32 + (row % 2) * 16;
            for (int i = 0; i < 16; i++) {
                int64_t klo = 32 * c + i, khi = klo + 16;
                uint8_t lo = (src[klo / 2] >> ((klo & 1) * 4)) & 15;
                uint8_t hi = (src[khi / 2] >> ((khi & 1) * 4)) & 15;
                dst[i] = (uint8_t)(lo | (hi << 4));
            }
        }
    }
}

void qqq_w4_unpack(const uint8_t *packed, int64_t n, int64_t k, uint8_t *plain) {
    const int64_t chunks = k / 32;
    memset(plain, 0, (size_t)(n * (k / 2)));
    for (int64_t row = 0; row < n; row++) {
        uint8_t *dst = plain + row * (k / 2);
        for (int64_t c = 0; c < chunks; c++) {
            const uint8_t *src = packed + ((row / 2) * chunks + c) * 32 + (row % 2) * 16;
            for (int i = 0; i < 16; i++) {
                int64_t klo = 32 * c + i, khi = klo + 16;
                dst[klo / 2] |= (uint8_t)((src[i] & 15) << ((klo & 1) * 4));
                dst[khi / 2] |= (uint8_t)((src[i] >> 4) << ((khi & 1) * 4));
            }
        }
    }
}

void qqq_w8_pack(const int8_t *w, int64_t n, int64_t k, int8_t *packed) {
    const int64_t chunks = k / 32, pairs = (n + 1) / 2;
    memset(packed, 0, (size_t)(pairs * 2 * k));
    for (int64_t row = 0; row < n; row++) {
        for (int64_t c = 0; c < chunks; c++) {
            int8_t *dst = packed + ((row / 2) * chunks + c) * 64 + (row % 2) * 16;
            for (int i = 0; i < 16; i++) {
                dst[i] = w[row * k + 32 * c + i];
                dst[32 + i] = w[row * k + 32 * c + 16 + i];
            }
        }
    }
}

void qqq_int_weight_sums(int format, const void *packed, const uint16_t *gscales, int64_t n, int64_t k, int32_t *sums) {
    const int64_t chunks = k / 32, groups = (k + 127) / 128;
    for (int64_t row = 0; row < n; row++) {
        const int64_t p = row / 2, o = row % 2;
        int32_t s = 0;
        if (format == QQQ_W8) {
            for (int64_t c = 0; c < chunks; c++) {
                const int8_t *blk = (const int8_t *)packed + (p * chunks + c) * 64 + o * 16;
                for (int i = 0; i < 16; i++) s += blk[i] + blk[32 + i];
            }
        } else {
            // Count each nibble value per group, then weigh the counts with the group's table.
            for (int64_t g = 0; g < groups; g++) {
                int32_t count[16] = {0};
                for (int64_t c = 4 * g; c < chunks && c < 4 * g + 4; c++) {
                    const uint8_t *blk = (const uint8_t *)packed + (p * chunks + c) * 32 + o * 16;
                    for (int i = 0; i < 16; i++) { count[blk[i] & 15]++; count[blk[i] >> 4]++; }
                }
                int8_t table[16];
                if (format == QQQ_W4_PER_GROUP) group_table_portable(qqq_h2f(gscales[(p * groups + g) * 2 + o]), table);
                else for (int v = 0; v < 16; v++) table[v] = (int8_t)(v < 8 ? v : v - 16);
                for (int v = 0; v < 16; v++) s += count[v] * table[v];
            }
        }
        sums[row] = s;
    }
}
