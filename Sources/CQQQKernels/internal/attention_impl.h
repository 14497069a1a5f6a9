// Causal attention of one head over a block of query rows, flash-style, compiled once per CPU path by
// gemm_f32.c (FN suffixes the names; vec_impl.h provides exp8 and the shifted-exp sums).
// The keys 0..(last query) are walked in blocks of ATT_BK; against each block every tile of ATT_MR queries
// takes its scores (ATT_MR x ATT_BK, in L1), an online softmax (running max m, running sum l, the
// accumulated output rescaled by exp(m_old - m_new)), then O += P V. Nothing T-sized is ever written:
// the unfused q·kᵀ / softmax / p·v sequence stored and re-read a rows x T score matrix (1 MB for 128
// rows at T = 2048, beyond a Zen 3 L2) three times.
// Keys and values are read in the FP32 GEMM's packed strip layout (qqq_gemm.h), packed once per KV head.

#define ATT_BK 64
// Query tiles are the GEMM's micro-tiles (gemm_impl.h): 12 rows with AVX-512, 6 otherwise. The scores of
// a tile against a 16-key strip are one FN(kernel) call on the Q rows packed by FN(pack_a).
#define ATT_MR MR

// o[r][0..16) = alpha[r] * o[r][0..16) + sum_{c < kb} p[r][c] * vs[c][0..16) for one packed value strip
// (vs: the strip's rows of the block's keys, [kb][16]); o has row stride ldo_.
static inline void FN(att_pv)(const float *p, const float *alpha, const float *vs, int64_t kb, float *o, int64_t ldo_) {
#if QQQ_AVX512
    __m512 c[ATT_MR];
    for (int r = 0; r < ATT_MR; r++) c[r] = _mm512_mul_ps(_mm512_loadu_ps(o + r * ldo_), _mm512_set1_ps(alpha[r]));
    for (int64_t j = 0; j < kb; j++) {
        const __m512 b = _mm512_loadu_ps(vs + j * 16);
        c[0] = _mm512_fmadd_ps(_mm512_set1_ps(p[0 * ATT_BK + j]), b, c[0]);
        c[1] = _mm512_fmadd_ps(_mm512_set1_ps(p[1 * ATT_BK + j]), b, c[1]);
        c[2] = _mm512_fmadd_ps(_mm512_set1_ps(p[2 * ATT_BK + j]), b, c[2]);
        c[3] = _mm512_fmadd_ps(_mm512_set1_ps(p[3 * ATT_BK + j]), b, c[3]);
        c[4] = _mm512_fmadd_ps(_mm512_set1_ps(p[4 * ATT_BK + j]), b, c[4]);
        c[5] = _mm512_fmadd_ps(_mm512_set1_ps(p[5 * ATT_BK + j]), b, c[5]);
        c[6] = _mm512_fmadd_ps(_mm512_set1_ps(p[6 * ATT_BK + j]), b, c[6]);
        c[7] = _mm512_fmadd_ps(_mm512_set1_ps(p[7 * ATT_BK + j]), b, c[7]);
        c[8] = _mm512_fmadd_ps(_mm512_set1_ps(p[8 * ATT_BK + j]), b, c[8]);
        c[9] = _mm512_fmadd_ps(_mm512_set1_ps(p[9 * ATT_BK + j]), b, c[9]);
        c[10] = _mm512_fmadd_ps(_mm512_set1_ps(p[10 * ATT_BK + j]), b, c[10]);
        c[11] = _mm512_fmadd_ps(_mm512_set1_ps(p[11 * ATT_BK + j]), b, c[11]);
    }
    for (int r = 0; r < ATT_MR; r++) _mm512_storeu_ps(o + r * ldo_, c[r]);
#elif QQQ_AVX2
    __m256 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
#define QQQ_ATT_LOAD(r, lo, hi)                                  \
    {                                                            \
        const __m256 al = _mm256_broadcast_ss(alpha + r);        \
        lo = _mm256_mul_ps(_mm256_loadu_ps(o + r * ldo_), al);   \
        hi = _mm256_mul_ps(_mm256_loadu_ps(o + r * ldo_ + 8), al); \
    }
    QQQ_ATT_LOAD(0, c00, c01) QQQ_ATT_LOAD(1, c10, c11) QQQ_ATT_LOAD(2, c20, c21)
    QQQ_ATT_LOAD(3, c30, c31) QQQ_ATT_LOAD(4, c40, c41) QQQ_ATT_LOAD(5, c50, c51)
#undef QQQ_ATT_LOAD
    for (int64_t j = 0; j < kb; j++) {
        const __m256 b0 = _mm256_loadu_ps(vs + j * 16), b1 = _mm256_loadu_ps(vs + j * 16 + 8);
        __m256 a;
        a = _mm256_broadcast_ss(p + 0 * ATT_BK + j); c00 = _mm256_fmadd_ps(a, b0, c00); c01 = _mm256_fmadd_ps(a, b1, c01);
        a = _mm256_broadcast_ss(p + 1 * ATT_BK + j); c10 = _mm256_fmadd_ps(a, b0, c10); c11 = _mm256_fmadd_ps(a, b1, c11);
        a = _mm256_broadcast_ss(p + 2 * ATT_BK + j); c20 = _mm256_fmadd_ps(a, b0, c20); c21 = _mm256_fmadd_ps(a, b1, c21);
        a = _mm256_broadcast_ss(p + 3 * ATT_BK + j); c30 = _mm256_fmadd_ps(a, b0, c30); c31 = _mm256_fmadd_ps(a, b1, c31);
        a = _mm256_broadcast_ss(p + 4 * ATT_BK + j); c40 = _mm256_fmadd_ps(a, b0, c40); c41 = _mm256_fmadd_ps(a, b1, c41);
        a = _mm256_broadcast_ss(p + 5 * ATT_BK + j); c50 = _mm256_fmadd_ps(a, b0, c50); c51 = _mm256_fmadd_ps(a, b1, c51);
    }
#define QQQ_ATT_STORE(r, lo, hi) _mm256_storeu_ps(o + r * ldo_, lo); _mm256_storeu_ps(o + r * ldo_ + 8, hi);
    QQQ_ATT_STORE(0, c00, c01) QQQ_ATT_STORE(1, c10, c11) QQQ_ATT_STORE(2, c20, c21)
    QQQ_ATT_STORE(3, c30, c31) QQQ_ATT_STORE(4, c40, c41) QQQ_ATT_STORE(5, c50, c51)
#undef QQQ_ATT_STORE
#else
    float t[ATT_MR][16];
    for (int r = 0; r < ATT_MR; r++)
        for (int j = 0; j < 16; j++) t[r][j] = o[r * ldo_ + j] * alpha[r];
    for (int64_t c = 0; c < kb; c++)
        for (int r = 0; r < ATT_MR; r++)
            for (int j = 0; j < 16; j++) t[r][j] += p[r * ATT_BK + c] * vs[c * 16 + j];
    for (int r = 0; r < ATT_MR; r++) memcpy(o + r * ldo_, t[r], sizeof t[r]);
#endif
}

static size_t FN(attention_scratch_floats)(int64_t rows, int64_t d) {
    const int64_t dpad = (d + 15) / 16 * 16, rpad = (rows + ATT_MR - 1) / ATT_MR * ATT_MR;
    return (size_t)(rpad * d + ATT_MR * ATT_BK + rpad * dpad + 2 * rpad + ATT_MR + 64);
}

// Key blocks outside, query tiles inside: each 64-key block of K and V (2 x 16 KB at d = 64) is read once
// per call and used by every tile of the rows, whose running state (m, l, accumulated output) stays in the
// scratch; tile-outside order streamed all keys once per tile, 1 MB per KV head at T = 2048, from L3.
static void FN(attention_causal)(int64_t rows, int64_t i0, int64_t d, const float *q, int64_t ldq, const float *pk,
                                 const float *pv, int64_t ldv, float scale, float *out, int64_t ldo, float *scratch) {
    const int64_t dstrips = (d + 15) / 16, dpad = dstrips * 16, rpad = (rows + ATT_MR - 1) / ATT_MR * ATT_MR;
    float *qp = (float *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    float *s = qp + rpad * d, *o = s + ATT_MR * ATT_BK, *m = o + rpad * dpad, *l = m + rpad, *alpha = l + rpad;
    FN(pack_a)(q, ldq, 0, 0, rows, d, qp);  // tile t0 at qp + t0 * d, [d][ATT_MR], zero rows past `rows`
    for (int64_t i = 0; i < rpad * d; i++) qp[i] *= scale;
    memset(o, 0, (size_t)(rpad * dpad) * sizeof(float));
    for (int64_t r = 0; r < rpad; r++) { m[r] = -INFINITY; l[r] = 0; }
    const int64_t last_all = i0 + rows - 1;
    for (int64_t j0 = 0; j0 <= last_all; j0 += ATT_BK) {
        for (int64_t t0 = 0; t0 < rows; t0 += ATT_MR) {
            const int64_t tr = rows - t0 < ATT_MR ? rows - t0 : ATT_MR, first = i0 + t0, last = first + tr - 1;
            if (j0 > last) continue;  // the tile's queries precede this key block
            const int64_t kb = last + 1 - j0 < ATT_BK ? last + 1 - j0 : ATT_BK, kpad = (kb + 15) / 16 * 16;
            const float *qt = qp + t0 * d;
            float *mt = m + t0, *lt = l + t0;
            for (int64_t st = 0; st < kpad / 16; st++) FN(kernel)(d, qt, pk + (j0 / 16 + st) * 16 * d, s + st * 16, ATT_BK, 0);
            for (int r = 0; r < ATT_MR; r++) {
                float *x = s + r * ATT_BK;
                int64_t valid = r < tr ? first + r - j0 + 1 : 0;  // keys j0..first+r of this block
                valid = valid < 0 ? 0 : valid > kb ? kb : valid;
                if (valid == 0) {  // a padded row, or a query before the whole block: nothing changes
                    memset(x, 0, (size_t)kpad * sizeof(float));
                    alpha[r] = 1;
                    continue;
                }
                const float bm = FN(max_f32)(x, valid), mn = bm > mt[r] ? bm : mt[r];
                alpha[r] = mt[r] == -INFINITY ? 0.0f : FN(expf_approx)(mt[r] - mn);
                mt[r] = mn;
                const float sum = FN(exp_shifted_sum)(x, valid, mn);
                if (valid < kpad) memset(x + valid, 0, (size_t)(kpad - valid) * sizeof(float));
                lt[r] = lt[r] * alpha[r] + sum;
            }
            for (int64_t st = 0; st < dstrips; st++)
                FN(att_pv)(s, alpha, pv + st * 16 * ldv + j0 * 16, kb, o + t0 * dpad + st * 16, dpad);
        }
    }
    for (int64_t r = 0; r < rows; r++) {
        const float inv = 1.0f / l[r];
        float *dst = out + r * ldo;
        for (int64_t c = 0; c < d; c++) dst[c] = o[r * dpad + c] * inv;
    }
}

#undef ATT_MR
#undef ATT_BK
