// AVX2 panel tile of the s8 x s8 formats (per-group W4A8 and W8A8) for many tokens, included by
// int8_panel_impl.h, whose panel expansion and driver it shares with the per-channel tile.
//
// Same sweep as the per-channel panel: a strip of 8 outputs is expanded once per block of tokens into
// an L1-resident panel [k/4][8 outputs][4 k] of int8 weights (per-group: nibbles through the 16-entry
// table of each (group, output pair); W8: the weights as stored), and a 6-token x 8-output tile reads it
// as an outer product, one 4-byte activation broadcast per 4 k serving 8 outputs. The product is the
// pair-chunk kernel's |w| x sign(a, w) form (pair sums within 2 * 127 * 128, so vpmaddubsw cannot
// saturate), widened by vpmaddwd for every 4 k: the same operation count per product as that tile, but
// the weights are expanded once per 96 tokens instead of once per 4 and no horizontal sums are left
// for the epilogue. Sums are exact int32: bit-identical to the pair-chunk kernel and the reference.

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
