// AVX2 per-channel W4A8 GEMM for many tokens (M >= QQQ_PANEL_MIN_M), included by int8_impl.h.
//
// The pair-chunk tile (int8_impl.h) expands nibbles for 4 tokens at a time and needs two activation
// broadcasts per 16 k and token. Here a strip of 8 outputs is expanded once per block of up to 96 tokens
// into an L1-resident panel of 4-k units ([k/4][8 outputs][4 k] int8 q), and a 6-token x 8-output
// register tile sweeps it as an outer product: one 4-byte broadcast of unsigned activations (a + 128)
// serves 8 outputs, vpmaddubsw accumulates in int16 for 32 k (|8 * 2 * 255 * 8| < 32768), then one
// vpmaddwd widens to int32, and 128 * qsum is subtracted at the end. About 1.2-1.7x the pair-chunk tile
// on Zen 3 at M = 2048. The s8 x s8 formats (per-group, W8) have their own panel tile in
// int8_panel_s8_impl.h (the |w| x sign(a, w) product; the split w = 16 h + l with two vpmaddubsw, and
// vpmaddwd on int16, were measured earlier and ran no faster than the pair-chunk kernel).
// Sums are exact int32, so the results are bit-identical to the pair-chunk kernel and the reference.

#define QQQ_PANEL_MIN_M 16
#define QQQ_PANEL_MB 96   // tokens per block (a multiple of the 6-token tile)
#define QQQ_PANEL_NS 8    // outputs per strip (4 pairs)
#define QQQ_PANEL_GROUP 8       // strips expanded together
#define QQQ_PANEL_BYTES 65536   // ... within this many bytes of panel

// Per-thread scratch, grown on demand and kept (no allocation once warm).
static __thread void *FN(tl_panel);
static __thread size_t FN(tl_panel_bytes);

#include "transpose8_impl.h"
#include "tile_rows.h"
#include "store8_impl.h"

// Expands the 8 outputs of pairs [p0, p0 + 4) (pairs at or past `pair_end` zero) into the panel
// [k/4][8 outputs][4 k] of int8 weights (32 bytes per k-quad): per-channel the signed nibbles q,
// per-group the nibbles through the 16-entry table of each (group, output pair), W8 the stored bytes.
static void FN(expand_panel)(int format, const void *packed, int64_t k, const uint16_t *gscales, int64_t p0,
                             int64_t pair_end, char *panel) {
    const int64_t chunks = k / 32, groups = (k + 127) / 128;
    const __m256i signed_nibbles = _mm256_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, -8, -7, -6, -5, -4, -3, -2, -1,
                                                    0, 1, 2, 3, 4, 5, 6, 7, -8, -7, -6, -5, -4, -3, -2, -1);
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    __m256i tables[4] = {signed_nibbles, signed_nibbles, signed_nibbles, signed_nibbles};
    for (int64_t c = 0; c < chunks; c++) {
        __m256i r[8];  // per output: its 32 k of this chunk
        for (int j = 0; j < 4; j++) {
            __m256i lo = _mm256_setzero_si256(), hi = lo;
            if (p0 + j < pair_end) {
                // [out0 k0..15 | out1 k0..15], then the k16..31 half (W8: stored so; W4: the high nibbles).
                if (format == QQQ_W8) {
                    const int8_t *blk = (const int8_t *)packed + ((p0 + j) * chunks + c) * 64;
                    lo = _mm256_loadu_si256((const __m256i *)blk);
                    hi = _mm256_loadu_si256((const __m256i *)(blk + 32));
                } else {
                    if (format == QQQ_W4_PER_GROUP && c % 4 == 0)
                        tables[j] = FN(pair_table)(gscales + ((p0 + j) * groups + c / 4) * 2);
                    __m256i nib = _mm256_loadu_si256((const __m256i *)((const uint8_t *)packed + ((p0 + j) * chunks + c) * 32));
                    lo = _mm256_shuffle_epi8(tables[j], _mm256_and_si256(nib, m4));
                    hi = _mm256_shuffle_epi8(tables[j], _mm256_and_si256(_mm256_srli_epi16(nib, 4), m4));
                }
            }
            r[2 * j] = _mm256_permute2x128_si256(lo, hi, 0x20);
            r[2 * j + 1] = _mm256_permute2x128_si256(lo, hi, 0x31);
        }
        FN(transpose8_u32)(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], panel + 8 * c * 32, 32);
    }
}

// Epilogue of one token and 8 outputs from n0 (even): y = (float(s) * scale) * sigma + bias, rounded as the
// scalar code rounds it (no FMA); outputs at or past n are not written.
static inline __attribute__((always_inline)) void FN(store8)(__m256i s, int64_t t, int64_t n0, int64_t n, const float *sigma, const float *scale,
                              const float *bias, float *y, int64_t ldy, int32_t *acc, int64_t ldacc) {
    if (n0 + 8 <= n) {
        FN(store8_full)(s, t, n0, sigma, scale, bias, y, ldy, acc, ldacc);
        return;
    }
    int32_t v[8];
    _mm256_storeu_si256((__m256i *)v, s);
    for (int64_t j = 0; j < 8 && n0 + j < n; j += 2)  // the pair-chunk kernel's scalar epilogue
        FN(store_outputs)(t, n0 + j, n, v[j], v[j + 1], sigma, scale, bias, y, ldy, acc, ldacc);
}

static inline int32_t FN(load_u32)(const void *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

// 128 * qsum of outputs n0..n0+8 (0 at or past n): the offset of the unsigned activations.
static inline __m256i FN(qsum_offset)(const int32_t *qsum, int64_t n0, int64_t n) {
    int32_t q[8];
    for (int j = 0; j < 8; j++) q[j] = n0 + j < n ? qsum[n0 + j] : 0;
    return _mm256_slli_epi32(_mm256_loadu_si256((const __m256i *)q), 7);
}

// Per-channel: ROWS (<= 6) tokens from t0 x 8 outputs from n0 over the q panel.
static inline __attribute__((always_inline)) void FN(panel_tile_pc)(const int ROWS, int64_t k, const uint8_t *ua,
        int64_t lda, int64_t t0, const char *panel, int64_t n0, int64_t n, const int32_t *qsum, const float *sigma,
        const float *scale, const float *bias, float *y, int64_t ldy, int32_t *acc, int64_t ldacc) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
    const uint8_t *u0 = ua + t0 * lda, *u1 = u0 + lda, *u2 = u1 + lda, *u3 = u2 + lda, *u4 = u3 + lda, *u5 = u4 + lda;
    for (int64_t k0 = 0; k0 < k; k0 += 32) {
        __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0;
        const char *pp = panel + k0 * 8;
#pragma clang loop unroll(disable)
        for (int j = 0; j < 8; j++) {
            __m256i w = _mm256_load_si256((const __m256i *)(pp + j * 32));
#define QQQ_PC(R, S, U) \
    if (ROWS > R) S = _mm256_add_epi16(S, _mm256_maddubs_epi16(_mm256_set1_epi32(FN(load_u32)(U + k0 + 4 * j)), w));
            QQQ_PC(0, s0, u0) QQQ_PC(1, s1, u1) QQQ_PC(2, s2, u2) QQQ_PC(3, s3, u3) QQQ_PC(4, s4, u4) QQQ_PC(5, s5, u5)
#undef QQQ_PC
        }
        a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(s0, ones));
        if (ROWS > 1) a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(s1, ones));
        if (ROWS > 2) a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(s2, ones));
        if (ROWS > 3) a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(s3, ones));
        if (ROWS > 4) a4 = _mm256_add_epi32(a4, _mm256_madd_epi16(s4, ones));
        if (ROWS > 5) a5 = _mm256_add_epi32(a5, _mm256_madd_epi16(s5, ones));
    }
    __m256i off = FN(qsum_offset)(qsum, n0, n);
    __m256i as[6] = {a0, a1, a2, a3, a4, a5};
    for (int r = 0; r < ROWS; r++)
        FN(store8)(_mm256_sub_epi32(as[r], off), t0 + r, n0, n, sigma, scale, bias, y, ldy, acc, ldacc);
}

#include "int8_panel_s8_impl.h"

// Every format (the per-channel tile above, the s8 x s8 tile of int8_panel_s8_impl.h). Returns 0, or -1
// if scratch could not be allocated (the caller then runs the pair-chunk kernel).
// Up to QQQ_PANEL_GROUP strips are expanded together (their panels within QQQ_PANEL_BYTES, L2-resident)
// and each 6-token tile sweeps all of them before the next tile: a token's outputs are then written as
// one contiguous run instead of 32 bytes per strip pass. With one strip at a time, rows whose stride is a
// multiple of 2-4 KB (N = 1536, 3072) fell into one or two L1 sets, and the output stores took ~14% of
// the time at K = 576.
static int FN(int_gemm_panel)(int format, int64_t m, int64_t k, const int8_t *a, const uint8_t *ua, int64_t lda,
                              const float *sigma, const void *packed, const int32_t *qsum, const uint16_t *gscales,
                              const float *scale, const float *bias, int64_t n, int64_t pair0, int64_t pair1,
                              float *y, int64_t ldy, int32_t *acc, int64_t ldacc) {
    const int64_t strip_bytes = QQQ_PANEL_NS * k;
    int64_t group = QQQ_PANEL_BYTES / strip_bytes;
    group = group < 1 ? 1 : group > QQQ_PANEL_GROUP ? QQQ_PANEL_GROUP : group;
    char *panel = (char *)qqq_int_scratch(&FN(tl_panel), &FN(tl_panel_bytes), (size_t)(group * strip_bytes));
    if (!panel) return -1;
    const int64_t nend = 2 * pair1 < n ? 2 * pair1 : n, pairs_per_strip = QQQ_PANEL_NS / 2;
    for (int64_t mb = 0; mb < m; mb += QQQ_PANEL_MB) {
        int64_t rows = m - mb < QQQ_PANEL_MB ? m - mb : QQQ_PANEL_MB;
        for (int64_t g0 = pair0; g0 < pair1; g0 += group * pairs_per_strip) {
            int64_t strips = (pair1 - g0 + pairs_per_strip - 1) / pairs_per_strip;
            strips = strips > group ? group : strips;
            for (int64_t s = 0; s < strips; s++)
                FN(expand_panel)(format, packed, k, gscales, g0 + s * pairs_per_strip, pair1, panel + s * strip_bytes);
            for (int64_t t0 = mb; t0 < mb + rows; t0 += 6) {
                int64_t tr = mb + rows - t0 < 6 ? mb + rows - t0 : 6;
                for (int64_t s = 0; s < strips; s++) {
                    const char *sp = panel + s * strip_bytes;
                    const int64_t n0 = 2 * (g0 + s * pairs_per_strip);
                    if (format == QQQ_W4_PER_CHANNEL) {
#define QQQ_T(R) FN(panel_tile_pc)(R, k, ua, lda, t0, sp, n0, nend, qsum, sigma, scale, bias, y, ldy, acc, ldacc)
                        QQQ_TILE_ROWS_6(tr, QQQ_T)
#undef QQQ_T
                    } else {
#define QQQ_T(R) FN(panel_tile_s8)(R, k, a, lda, t0, sp, n0, nend, sigma, scale, bias, y, ldy, acc, ldacc)
                        QQQ_TILE_ROWS_6(tr, QQQ_T)
#undef QQQ_T
                    }
                }
            }
        }
    }
    return 0;
}
