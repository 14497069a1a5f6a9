// Integer kernels, compiled once per CPU path by int8_kernels.c (FN suffixes the names).
// The AVX2 path works on 4 tokens x 1 output pair at a time: a 32-byte weight load gives
// [out0 | out1] lanes, activations are broadcast to both lanes, and vpmaddubsw/vpmaddwd reduce.
// Per-channel with M >= 16 runs the panel kernel of int8_panel_impl.h instead (QQQ_INT_PANEL=0 in the
// environment keeps this tile, for A/B timing).

static int FN(quantize_rows)(const float *x, int64_t m, int64_t k, int64_t ldx, int8_t *a, uint8_t *ua,
                             int64_t lda, float *sigma, int64_t *bad_row) {
    for (int64_t t = 0; t < m; t++) {
        const float *row = x + t * ldx;
        int8_t *out = a + t * lda;
        uint8_t *uout = ua + t * lda;
        float amax = 0;
        int bad = 0;
        int64_t i = 0;
#if QQQ_AVX2
        __m256 vmax = _mm256_setzero_ps(), vbad = _mm256_setzero_ps();
        const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF)), big = _mm256_set1_ps(FLT_MAX);
        for (; i + 8 <= k; i += 8) {
            __m256 v = _mm256_and_ps(_mm256_loadu_ps(row + i), absmask);
            vbad = _mm256_or_ps(vbad, _mm256_cmp_ps(v, big, _CMP_NLE_UQ));
            vmax = _mm256_max_ps(vmax, v);
        }
        bad = _mm256_movemask_ps(vbad) != 0;
        __m128 h = _mm_max_ps(_mm256_castps256_ps128(vmax), _mm256_extractf128_ps(vmax, 1));
        h = _mm_max_ps(h, _mm_movehl_ps(h, h));
        h = _mm_max_ss(h, _mm_shuffle_ps(h, h, 1));
        amax = _mm_cvtss_f32(h);
#endif
        for (; i < k; i++) {
            float v = fabsf(row[i]);
            if (!(v <= FLT_MAX)) bad = 1;
            if (v > amax) amax = v;
        }
        if (bad) { *bad_row = t; return -1; }
        float s = amax / 127.0f;
        sigma[t] = s;
        if (s == 0) {
            memset(out, 0, (size_t)k);
            memset(uout, 128, (size_t)k);
            continue;
        }
        i = 0;
#if QQQ_AVX2
        const __m256 vs = _mm256_set1_ps(s);
        const __m256i perm = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7), flip = _mm256_set1_epi8((char)0x80);
        for (; i + 32 <= k; i += 32) {
            __m256i q0 = _mm256_cvtps_epi32(_mm256_div_ps(_mm256_loadu_ps(row + i), vs));
            __m256i q1 = _mm256_cvtps_epi32(_mm256_div_ps(_mm256_loadu_ps(row + i + 8), vs));
            __m256i q2 = _mm256_cvtps_epi32(_mm256_div_ps(_mm256_loadu_ps(row + i + 16), vs));
            __m256i q3 = _mm256_cvtps_epi32(_mm256_div_ps(_mm256_loadu_ps(row + i + 24), vs));
            __m256i b = _mm256_packs_epi16(_mm256_packs_epi32(q0, q1), _mm256_packs_epi32(q2, q3));
            b = _mm256_permutevar8x32_epi32(b, perm);
            _mm256_storeu_si256((__m256i *)(out + i), b);
            _mm256_storeu_si256((__m256i *)(uout + i), _mm256_xor_si256(b, flip));
        }
#endif
        for (; i < k; i++) {
            float q = __builtin_rintf(row[i] / s);
            q = q < -128 ? -128 : (q > 127 ? 127 : q);
            out[i] = (int8_t)q;
            uout[i] = (uint8_t)((int)q + 128);
        }
    }
    return 0;
}

// w8 = clamp(rne(q * s), -127, 127) for the 16 nibble values (two's complement q).
static inline void FN(group_table)(float s, int8_t table[16]) {
    for (int v = 0; v < 16; v++) {
        float w = __builtin_rintf((float)(v < 8 ? v : v - 16) * s);
        table[v] = (int8_t)(w < -127 ? -127 : (w > 127 ? 127 : w));
    }
}

static inline void FN(store_outputs)(int64_t t, int64_t n0, int64_t n, int32_t s0, int32_t s1, const float *sigma,
                                     const float *scale, const float *bias, float *y, int64_t ldy, int32_t *acc,
                                     int64_t ldacc) {
#pragma clang fp contract(off)
    // No FMA contraction: the scalar reference rounds the product and the sum separately.
    float sg = sigma[t];
    y[t * ldy + n0] = ((float)s0 * scale[n0]) * sg + (bias ? bias[n0] : 0.0f);
    if (acc) acc[t * ldacc + n0] = s0;
    if (n0 + 1 < n) {
        y[t * ldy + n0 + 1] = ((float)s1 * scale[n0 + 1]) * sg + (bias ? bias[n0 + 1] : 0.0f);
        if (acc) acc[t * ldacc + n0 + 1] = s1;
    }
}

#if !QQQ_AVX2
// Portable: the contract, loop by loop, over the same layout.
static void FN(int_gemm)(int format, int64_t m, int64_t k, const int8_t *a, const uint8_t *ua, int64_t lda,
                         const float *sigma, const void *packed, const int32_t *qsum, const uint16_t *gscales,
                         const float *scale, const float *bias, int64_t n, int64_t pair0, int64_t pair1,
                         float *y, int64_t ldy, int32_t *acc, int64_t ldacc) {
    (void)ua; (void)qsum;
    const int64_t chunks = k / 32, groups = (k + 127) / 128;
    const uint8_t *w4 = (const uint8_t *)packed;
    const int8_t *w8 = (const int8_t *)packed;
    for (int64_t p = pair0; p < pair1; p++) {
        for (int64_t t = 0; t < m; t++) {
            int32_t sums[2] = {0, 0};
            for (int o = 0; o < 2; o++) {
                int32_t s = 0;
                int8_t table[16];
                for (int64_t c = 0; c < chunks; c++) {
                    if (format == QQQ_W4_PER_GROUP && c % 4 == 0)
                        FN(group_table)(qqq_h2f(gscales[(p * groups + c / 4) * 2 + o]), table);
                    const int8_t *at = a + t * lda + 32 * c;
                    for (int i = 0; i < 16; i++) {
                        int wlo, whi;
                        if (format == QQQ_W8) {
                            const int8_t *blk = w8 + (p * chunks + c) * 64;
                            wlo = blk[o * 16 + i];
                            whi = blk[32 + o * 16 + i];
                        } else {
                            uint8_t byte = w4[(p * chunks + c) * 32 + o * 16 + i];
                            int lo = byte & 15, hi = byte >> 4;
                            if (format == QQQ_W4_PER_GROUP) { wlo = table[lo]; whi = table[hi]; }
                            else { wlo = lo < 8 ? lo : lo - 16; whi = hi < 8 ? hi : hi - 16; }
                        }
                        s += (int32_t)at[i] * wlo + (int32_t)at[16 + i] * whi;
                    }
                }
                sums[o] = s;
            }
            FN(store_outputs)(t, 2 * p, n, sums[0], sums[1], sigma, scale, bias, y, ldy, acc, ldacc);
        }
    }
}
#else

static inline int32_t FN(hsum128)(__m128i v) {
    v = _mm_add_epi32(v, _mm_shuffle_epi32(v, 0x4E));
    v = _mm_add_epi32(v, _mm_shuffle_epi32(v, 0xB1));
    return _mm_cvtsi128_si32(v);
}

#include "pair_table_impl.h"
#include "tile_rows.h"
#include "int8_panel_impl.h"

#define QQQ_MB 64         // tokens per block: their activations stay in L2 while the weights stream
#define QQQ_MAX_GROUPS 1024
#define QQQ_ABS_MAX_K 16384

// 4-bit formats, first token tile of a pair only (next != 0): fetch the next pair's weights at the same
// position into L1 and the one after it into L2, one line per two chunks. A lone token spends only
// 10-15 vector instructions per 32 weight bytes, so the out-of-order window alone keeps too few lines
// in flight (Zen 3, 4096x11008 at M = 1, 2 threads: per-channel 1.39-1.67 -> 1.22-1.27 ms; the VNNI
// tile measured the same, int8_vnni_impl.h).
#define QQQ_PREFETCH_NEXT(C)                                                        \
    if (next && !((C) & 1)) {                                                       \
        _mm_prefetch((const char *)(wp + (C) * 32 + next), _MM_HINT_T0);            \
        _mm_prefetch((const char *)(wp + (C) * 32 + 2 * next), _MM_HINT_T1);        \
    }

// The 32 bytes of one pair's chunk through a 16-entry table: lo = table[low nibbles], hi = table[high
// nibbles], both [out0 16 k | out1 16 k].
static inline __attribute__((always_inline)) void FN(lookup_nibbles)(__m256i table, const uint8_t *p, __m256i *lo,
                                                                     __m256i *hi) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const __m256i nib = _mm256_loadu_si256((const __m256i *)p);
    *lo = _mm256_shuffle_epi8(table, _mm256_and_si256(nib, m4));
    *hi = _mm256_shuffle_epi8(table, _mm256_and_si256(_mm256_srli_epi16(nib, 4), m4));
}

// 16 activation bytes in both 128-bit lanes (one token's k-half of a chunk, for both outputs of a pair).
static inline __attribute__((always_inline)) __m256i FN(bcast16)(const void *p) {
    return _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)p));
}

// One tile: ROWS (1..4) tokens x one output pair. Forced inline so each ROWS is its own copy with
// no work for absent rows.
static inline __attribute__((always_inline)) void FN(tile)(const int ROWS, int format, int64_t chunks,
        const int8_t *a, const uint8_t *ua, int64_t lda, int64_t t0, const uint8_t *wp, const __m256i *tables,
        int64_t next, const uint8_t *absa, __m256i out[4]) {
    const __m256i ones = _mm256_set1_epi16(1);
    const __m256i tq = _mm256_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, -8, -7, -6, -5, -4, -3, -2, -1,
                                        0, 1, 2, 3, 4, 5, 6, 7, -8, -7, -6, -5, -4, -3, -2, -1);
    __m256i acc0 = _mm256_setzero_si256(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    if (format == QQQ_W4_PER_CHANNEL) {
        const uint8_t *u0 = ua + t0 * lda, *u1 = u0 + lda, *u2 = u1 + lda, *u3 = u2 + lda;
        for (int64_t c0 = 0; c0 < chunks; c0 += 4) {
            // int16 partial sums are exact for 4 chunks: |4 * 2 * 2 * 255 * 8| < 32768.
            __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
            int64_t cend = chunks - c0 < 4 ? chunks : c0 + 4;
            for (int64_t c = c0; c < cend; c++) {
                QQQ_PREFETCH_NEXT(c)
                __m256i wlo, whi;
                FN(lookup_nibbles)(tq, wp + c * 32, &wlo, &whi);
#define QQQ_PC_ROW(S, U)                                                                                   \
    S = _mm256_add_epi16(S, _mm256_add_epi16(_mm256_maddubs_epi16(FN(bcast16)(U + 32 * c), wlo),           \
                                             _mm256_maddubs_epi16(FN(bcast16)(U + 32 * c + 16), whi)));
                QQQ_PC_ROW(s0, u0)
                if (ROWS > 1) QQQ_PC_ROW(s1, u1)
                if (ROWS > 2) QQQ_PC_ROW(s2, u2)
                if (ROWS > 3) QQQ_PC_ROW(s3, u3)
#undef QQQ_PC_ROW
            }
            acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(s0, ones));
            if (ROWS > 1) acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(s1, ones));
            if (ROWS > 2) acc2 = _mm256_add_epi32(acc2, _mm256_madd_epi16(s2, ones));
            if (ROWS > 3) acc3 = _mm256_add_epi32(acc3, _mm256_madd_epi16(s3, ones));
        }
    } else if (ROWS == 1 && absa) {
        // One token (the per-group GEMV): its |a| is taken once per call, so w's sign per product is
        // the only extra step over the u8 x s8 product (|a| <= 128, |sign(w, a)| <= 127: the pair sums
        // stay within 2*128*127). Two fewer operations per chunk than the shared-|w| form below.
        const int8_t *a0 = a + t0 * lda;
        for (int64_t c = 0; c < chunks; c++) {
            QQQ_PREFETCH_NEXT(c)
            __m256i wlo, whi;
            FN(lookup_nibbles)(tables[c >> 2], wp + c * 32, &wlo, &whi);
            __m256i plo = _mm256_maddubs_epi16(FN(bcast16)(absa + 32 * c), _mm256_sign_epi8(wlo, FN(bcast16)(a0 + 32 * c)));
            __m256i phi = _mm256_maddubs_epi16(FN(bcast16)(absa + 32 * c + 16), _mm256_sign_epi8(whi, FN(bcast16)(a0 + 32 * c + 16)));
            acc0 = _mm256_add_epi32(acc0, _mm256_add_epi32(_mm256_madd_epi16(plo, ones), _mm256_madd_epi16(phi, ones)));
        }
    } else {
        const int8_t *a0 = a + t0 * lda, *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda;
        for (int64_t c = 0; c < chunks; c++) {
            __m256i wlo, whi;
            if (format == QQQ_W8) {
                wlo = _mm256_loadu_si256((const __m256i *)(wp + c * 64));
                whi = _mm256_loadu_si256((const __m256i *)(wp + c * 64 + 32));
            } else {
                QQQ_PREFETCH_NEXT(c)
                FN(lookup_nibbles)(tables[c >> 2], wp + c * 32, &wlo, &whi);
            }
            // |w| in the unsigned slot, w's sign moved onto the activation: pair sums stay within
            // 2*127*127, so vpmaddubsw cannot saturate.
            __m256i ulo = _mm256_abs_epi8(wlo), uhi = _mm256_abs_epi8(whi);
#define QQQ_SG_ROW(ACC, A)                                                                                 \
    {                                                                                                      \
        __m256i plo = _mm256_maddubs_epi16(ulo, _mm256_sign_epi8(FN(bcast16)(A + 32 * c), wlo));           \
        __m256i phi = _mm256_maddubs_epi16(uhi, _mm256_sign_epi8(FN(bcast16)(A + 32 * c + 16), whi));      \
        ACC = _mm256_add_epi32(ACC, _mm256_add_epi32(_mm256_madd_epi16(plo, ones), _mm256_madd_epi16(phi, ones))); \
    }
            QQQ_SG_ROW(acc0, a0)
            if (ROWS > 1) QQQ_SG_ROW(acc1, a1)
            if (ROWS > 2) QQQ_SG_ROW(acc2, a2)
            if (ROWS > 3) QQQ_SG_ROW(acc3, a3)
#undef QQQ_SG_ROW
        }
    }
    out[0] = acc0; out[1] = acc1; out[2] = acc2; out[3] = acc3;
}

static void FN(int_gemm)(int format, int64_t m, int64_t k, const int8_t *a, const uint8_t *ua, int64_t lda,
                         const float *sigma, const void *packed, const int32_t *qsum, const uint16_t *gscales,
                         const float *scale, const float *bias, int64_t n, int64_t pair0, int64_t pair1,
                         float *y, int64_t ldy, int32_t *acc, int64_t ldacc) {
    const int64_t chunks = k / 32, groups = (k + 127) / 128;
    const int64_t pair_bytes = format == QQQ_W8 ? chunks * 64 : chunks * 32;
    // W8 weights need no expansion in the pair-chunk tile, so the panel's copy pays off later for them
    // (2 threads, Zen 3: per-group gains 1.05-1.12x at M = 16, W8 loses 3-13%; both 1.1-1.25x at M >= 128).
    const int panel = format == QQQ_W4_PER_CHANNEL ? !qqq_int_panel_disabled : qqq_int_panel_s8_enabled;
    if (panel && m >= (format == QQQ_W8 ? 64 : QQQ_PANEL_MIN_M) &&
        FN(int_gemm_panel)(format, m, k, a, ua, lda, sigma, packed, qsum, gscales, scale, bias, n, pair0, pair1,
                           y, ldy, acc, ldacc) == 0)
        return;
    __m256i tables[QQQ_MAX_GROUPS];
    // |a| of a lone token for the per-group GEMV (16 KiB of stack; longer K takes the general tile).
    _Alignas(32) uint8_t absa_buf[QQQ_ABS_MAX_K];
    const uint8_t *absa = NULL;
    if (format == QQQ_W4_PER_GROUP && m == 1 && k <= QQQ_ABS_MAX_K) {
        int64_t i = 0;
        for (; i + 32 <= k; i += 32)
            _mm256_store_si256((__m256i *)(absa_buf + i), _mm256_abs_epi8(_mm256_loadu_si256((const __m256i *)(a + i))));
        for (; i < k; i++) absa_buf[i] = (uint8_t)(a[i] < 0 ? -(int)a[i] : a[i]);
        absa = absa_buf;
    }
    for (int64_t mb = 0; mb < m; mb += QQQ_MB) {
        int64_t mend = m - mb < QQQ_MB ? m : mb + QQQ_MB;
        for (int64_t p = pair0; p < pair1; p++) {
            const uint8_t *wp = (const uint8_t *)packed + p * pair_bytes;
            // Group tables of this pair, built once and shared by every token of the block.
            if (format == QQQ_W4_PER_GROUP)
                for (int64_t g = 0; g < groups; g++) tables[g] = FN(pair_table)(gscales + (p * groups + g) * 2);
            for (int64_t t0 = mb; t0 < mend; t0 += 4) {
                int64_t rows = mend - t0 < 4 ? mend - t0 : 4;
                __m256i accs[4];
                int64_t next = format != QQQ_W8 && t0 == mb && p + 2 < pair1 ? pair_bytes : 0;
#define QQQ_T(R) FN(tile)(R, format, chunks, a, ua, lda, t0, wp, tables, next, absa, accs)
                QQQ_TILE_ROWS_4(rows, QQQ_T)
#undef QQQ_T
                for (int64_t r = 0; r < rows; r++) {
                    int32_t s0 = FN(hsum128)(_mm256_castsi256_si128(accs[r]));
                    int32_t s1 = FN(hsum128)(_mm256_extracti128_si256(accs[r], 1));
                    if (format == QQQ_W4_PER_CHANNEL) {  // undo the +128 offset of the activations
                        s0 -= 128 * qsum[2 * p];
                        s1 -= 128 * (2 * p + 1 < n ? qsum[2 * p + 1] : 0);
                    }
                    FN(store_outputs)(t0 + r, 2 * p, n, s0, s1, sigma, scale, bias, y, ldy, acc, ldacc);
                }
            }
        }
    }
}
#undef QQQ_MAX_GROUPS
#undef QQQ_ABS_MAX_K
#undef QQQ_MB
#undef QQQ_PREFETCH_NEXT
#endif
