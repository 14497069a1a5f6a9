// AVX2 panel kernel of the s8 x s8 formats (per-group W4A8 and W8A8) for many tokens, included by
// int8_panel_impl.h after the per-channel panel (whose helpers it shares).
//
// Same sweep as the per-channel panel: a strip of 8 outputs is expanded once per block of tokens into
// an L1-resident panel [k/4][8 outputs][4 k] of int8 weights (per-group: nibbles through the 16-entry
// table of each (group, output pair); W8: the weights as stored), and a 6-token x 8-output tile reads it
// as an outer product, one 4-byte activation broadcast per 4 k serving 8 outputs. The product is the
// pair-chunk kernel's |w| x sign(a, w) form (pair sums within 2 * 127 * 128, so vpmaddubsw cannot
// saturate), widened by vpmaddwd for every 4 k: the same operation count per product as that tile, but
// the weights are expanded once per 96 tokens instead of once per 4 and no horizontal sums are left
// for the epilogue. Sums are exact int32: bit-identical to the pair-chunk kernel and the reference.

// W8 weights need no expansion in the pair-chunk kernel, so the panel's copy pays off later for them
// (2 threads, Zen 3: per-group gains 1.05-1.12x at M = 16, W8 loses 3-13%; both gain 1.1-1.25x at M >= 128).
#define QQQ_PANEL_S8_MIN_M_W8 64

// Expands the int8 weights of pairs [p0, p0 + 4) (pairs at or past `pair_end` zero) into the panel.
static void FN(expand_panel_s8)(int format, const void *packed, int64_t k, const uint16_t *gscales, int64_t p0,
                                int64_t pair_end, char *panel) {
    const int64_t chunks = k / 32, groups = (k + 127) / 128;
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    __m256i tables[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256()};
    for (int64_t c = 0; c < chunks; c++) {
        __m256i r[8];
        for (int j = 0; j < 4; j++) {
            __m256i lo = _mm256_setzero_si256(), hi = lo;
            if (p0 + j < pair_end) {
                if (format == QQQ_W8) {
                    const int8_t *blk = (const int8_t *)packed + ((p0 + j) * chunks + c) * 64;
                    lo = _mm256_loadu_si256((const __m256i *)blk);
                    hi = _mm256_loadu_si256((const __m256i *)(blk + 32));
                } else {
                    if (c % 4 == 0) tables[j] = FN(pair_table)(gscales + ((p0 + j) * groups + c / 4) * 2);
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

// ROWS (<= 6) tokens from t0 x 8 outputs from n0 over the int8 panel (signed activations a).
static inline __attribute__((always_inline)) void FN(panel_tile_s8)(const int ROWS, int64_t k, const int8_t *a,
        int64_t lda, int64_t t0, const char *panel, int64_t n0, int64_t n, const float *sigma, const float *scale,
        const float *bias, float *y, int64_t ldy, int32_t *acc, int64_t ldacc) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
    const int8_t *r0 = a + t0 * lda, *r1 = r0 + lda, *r2 = r1 + lda, *r3 = r2 + lda, *r4 = r3 + lda, *r5 = r4 + lda;
#pragma clang loop unroll_count(2)
    for (int64_t q = 0; q < k; q += 4) {
        __m256i w = _mm256_load_si256((const __m256i *)(panel + q * 8));
        __m256i u = _mm256_abs_epi8(w);
#define QQQ_S8(R, ACC, A)                                                                                  \
    if (ROWS > R) ACC = _mm256_add_epi32(ACC, _mm256_madd_epi16(_mm256_maddubs_epi16(u,                    \
                          _mm256_sign_epi8(_mm256_set1_epi32(FN(load_u32)(A + q)), w)), ones));
        QQQ_S8(0, a0, r0) QQQ_S8(1, a1, r1) QQQ_S8(2, a2, r2) QQQ_S8(3, a3, r3) QQQ_S8(4, a4, r4) QQQ_S8(5, a5, r5)
#undef QQQ_S8
    }
    __m256i as[6] = {a0, a1, a2, a3, a4, a5};
    for (int r = 0; r < ROWS; r++) FN(store8)(as[r], t0 + r, n0, n, sigma, scale, bias, y, ldy, acc, ldacc);
}

// Per-group W4A8 or W8A8. Returns 0, or -1 if scratch could not be allocated (the caller then runs
// the pair-chunk kernel).
static int FN(int_gemm_panel_s8)(int format, int64_t m, int64_t k, const int8_t *a, int64_t lda, const float *sigma,
                                 const void *packed, const uint16_t *gscales, const float *scale, const float *bias,
                                 int64_t n, int64_t pair0, int64_t pair1, float *y, int64_t ldy, int32_t *acc,
                                 int64_t ldacc) {
    char *panel = (char *)qqq_int_scratch(&FN(tl_panel), &FN(tl_panel_bytes), (size_t)(QQQ_PANEL_NS * k));
    if (!panel) return -1;
    const int64_t nend = 2 * pair1 < n ? 2 * pair1 : n;
    for (int64_t mb = 0; mb < m; mb += QQQ_PANEL_MB) {
        int64_t rows = m - mb < QQQ_PANEL_MB ? m - mb : QQQ_PANEL_MB;
        for (int64_t p0 = pair0; p0 < pair1; p0 += QQQ_PANEL_NS / 2) {
            FN(expand_panel_s8)(format, packed, k, gscales, p0, pair1, panel);
            const int64_t n0 = 2 * p0;
            for (int64_t t0 = mb; t0 < mb + rows; t0 += 6) {
                int64_t tr = mb + rows - t0 < 6 ? mb + rows - t0 : 6;
#define QQQ_T(R) FN(panel_tile_s8)(R, k, a, lda, t0, panel, n0, nend, sigma, scale, bias, y, ldy, acc, ldacc)
                QQQ_TILE_ROWS_6(tr, QQQ_T)
#undef QQQ_T
            }
        }
    }
    return 0;
}
