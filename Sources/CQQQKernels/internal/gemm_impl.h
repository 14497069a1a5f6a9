// The GEMM and vector helpers, written once and compiled once per CPU path by gemm_f32.c:
// FN(x) appends the path suffix; QQQ_AVX2 selects the intrinsics micro-kernel and F16C conversions;
// QQQ_AVX512 (with QQQ_AVX2) a 512-bit micro-kernel of 12 rows x 16 columns (one zmm per row). NR stays
// 16 on every path, so weights packed once (QQQ_B_PACKED) serve whichever path runs.
// Blocking (GotoBLAS/BLIS): B panels of KC x NC packed in NR-wide strips (the L2/L3-resident
// block), A blocks of MC x KC packed in MR-tall strips (L2), a register-resident MR x NR tile of C.

#if QQQ_AVX512
#define MR 12
#else
#define MR 6
#endif
#define NR 16
#define KC 256
#define MC 96
#define MC_FUSED 192
#define NC 1024

static inline float FN(load_q4)(const qqq_q4_matrix *q, int64_t idx) {
    int64_t row = idx / q->k, col = idx % q->k;
    uint8_t byte = q->nibbles[row * (q->k / 2) + col / 2];
    int v = (col & 1) ? byte >> 4 : byte & 15;
    float s = qqq_h2f(q->scales[row * ((q->k + 127) / 128) + col / 128]);
    return (float)(v < 8 ? v : v - 16) * s;
}

static inline float FN(load_b)(const void *b, int64_t idx, int btype) {
    switch (btype) {
    case QQQ_B_Q4G128: return FN(load_q4)((const qqq_q4_matrix *)b, idx);
    case QQQ_B_F16:
#if QQQ_AVX2
        return _cvtsh_ss(((const uint16_t *)b)[idx]);
#else
        return qqq_h2f(((const uint16_t *)b)[idx]);
#endif
    case QQQ_B_BF16: return qqq_bf2f(((const uint16_t *)b)[idx]);
    default: return ((const float *)b)[idx];
    }
}

// Converts `count` consecutive elements of b starting at idx to fp32.
static inline void FN(convert_run)(const void *b, int64_t idx, int btype, float *dst, int64_t count) {
    int64_t i = 0;
    if (btype == QQQ_B_F32) { memcpy(dst, (const float *)b + idx, (size_t)count * 4); return; }
#if QQQ_AVX2
    if (btype == QQQ_B_Q4G128) {
        // 16 weights at a time (a 16-aligned run never crosses a 128-group): nibbles -> int8 by a
        // table shuffle -> int32 -> float, times the group scale.
        const qqq_q4_matrix *q = (const qqq_q4_matrix *)b;
        int64_t row = idx / q->k, col = idx % q->k, groups = (q->k + 127) / 128;
        const uint8_t *src = q->nibbles + row * (q->k / 2);
        const __m128i table = _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, -8, -7, -6, -5, -4, -3, -2, -1), m4 = _mm_set1_epi8(15);
        for (; i < count && ((col + i) & 15); i++) dst[i] = FN(load_q4)(q, idx + i);
        for (; i + 16 <= count; i += 16) {
            int64_t c = col + i;
            __m128i bytes = _mm_loadl_epi64((const __m128i *)(src + c / 2));
            __m128i nib = _mm_unpacklo_epi8(_mm_and_si128(bytes, m4), _mm_and_si128(_mm_srli_epi16(bytes, 4), m4));
            __m128i v = _mm_shuffle_epi8(table, nib);
            __m256 s = _mm256_set1_ps(_cvtsh_ss(q->scales[row * groups + c / 128]));
            _mm256_storeu_ps(dst + i, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(v)), s));
            _mm256_storeu_ps(dst + i + 8, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(v, 8))), s));
        }
        for (; i < count; i++) dst[i] = FN(load_q4)(q, idx + i);
        return;
    }
    if (btype == QQQ_B_F16) {
        const uint16_t *s = (const uint16_t *)b + idx;
        for (; i + 8 <= count; i += 8)
            _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(s + i))));
    } else {
        const uint16_t *s = (const uint16_t *)b + idx;
        for (; i + 8 <= count; i += 8) {
            __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(s + i)));
            _mm256_storeu_ps(dst + i, _mm256_castsi256_ps(_mm256_slli_epi32(w, 16)));
        }
    }
#endif
    for (; i < count; i++) dst[i] = FN(load_b)(b, idx + i, btype);
}

#if QQQ_AVX2
// dst[p*NR + c] = row c element p, for 8 rows (r[c]) of 8 elements: one 8x8 transpose in registers.
static inline void FN(transpose8)(__m256 r0, __m256 r1, __m256 r2, __m256 r3, __m256 r4, __m256 r5,
                                  __m256 r6, __m256 r7, float *dst) {
    __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    _mm256_storeu_ps(dst + 0 * NR, _mm256_permute2f128_ps(u0, u4, 0x20));
    _mm256_storeu_ps(dst + 1 * NR, _mm256_permute2f128_ps(u1, u5, 0x20));
    _mm256_storeu_ps(dst + 2 * NR, _mm256_permute2f128_ps(u2, u6, 0x20));
    _mm256_storeu_ps(dst + 3 * NR, _mm256_permute2f128_ps(u3, u7, 0x20));
    _mm256_storeu_ps(dst + 4 * NR, _mm256_permute2f128_ps(u0, u4, 0x31));
    _mm256_storeu_ps(dst + 5 * NR, _mm256_permute2f128_ps(u1, u5, 0x31));
    _mm256_storeu_ps(dst + 6 * NR, _mm256_permute2f128_ps(u2, u6, 0x31));
    _mm256_storeu_ps(dst + 7 * NR, _mm256_permute2f128_ps(u3, u7, 0x31));
}

#endif

// Packs strip j of the block at column jc (nc wide) of B: columns col0 = jc + j .. col0 + NR clipped to
// the block and to n (zero-padded to NR), rows pc..pc+kc, as
// [kc][NR]. NK weights: the NR source rows are converted into an L1-resident [NR][KC] buffer (contiguous
// reads: source rows are 4-44 KB apart and would collide in the L1's sets), then transposed 8x8 (a scalar
// scatter here cost as much as the arithmetic at M = 128). The rows of the next strip (`next_rows` of
// them, from col0 + NR) are prefetched meanwhile: 16 short row streams are more than the hardware
// prefetcher follows.
static void FN(pack_b_strip)(const void *b, int64_t ldb, int btype, int blayout, int64_t n, int64_t jc, int64_t nc,
                             int64_t j, int64_t pc, int64_t kc, float *dst) {
    int64_t col0 = jc + j, width = nc - j < NR ? nc - j : NR, next_rows = nc - j - NR;
    if (col0 + width > n) width = n - col0;
    next_rows = next_rows < 0 ? 0 : next_rows > NR ? NR : next_rows;
    if (blayout == QQQ_B_KN) {
#if QQQ_AVX2
        if (btype == QQQ_B_F32 && width == NR) {  // whole fp32 strip rows: two vector copies each (no memcpy call)
            const float *src = (const float *)b + pc * ldb + col0;
            for (int64_t p = 0; p < kc; p++) {
                _mm256_storeu_ps(dst + p * NR, _mm256_loadu_ps(src + p * ldb));
                _mm256_storeu_ps(dst + p * NR + 8, _mm256_loadu_ps(src + p * ldb + 8));
            }
            return;
        }
#endif
        for (int64_t p = 0; p < kc; p++) {
            FN(convert_run)(b, (pc + p) * ldb + col0, btype, dst + p * NR, width);
            for (int64_t c = width; c < NR; c++) dst[p * NR + c] = 0;
        }
        return;
    }
    float tmp[NR * KC] __attribute__((aligned(64)));
    int esize = btype == QQQ_B_F32 ? 4 : 2;
    for (int c = 0; c < NR; c++) {
        if (c < next_rows && btype != QQQ_B_Q4G128) {
            const char *next = (const char *)b + ((col0 + NR + c) * ldb + pc) * esize;
            for (int64_t off = 0; off < kc * esize; off += 64) __builtin_prefetch(next + off, 0, 3);
        }
        if (c < width) FN(convert_run)(b, (col0 + c) * ldb + pc, btype, tmp + c * KC, kc);
        else memset(tmp + c * KC, 0, (size_t)kc * 4);
    }
    int64_t p = 0;
#if QQQ_AVX2
    for (; p + 8 <= kc; p += 8)
        for (int c = 0; c < NR; c += 8) {
            const float *t = tmp + c * KC + p;
            FN(transpose8)(_mm256_load_ps(t), _mm256_load_ps(t + KC), _mm256_load_ps(t + 2 * KC),
                           _mm256_load_ps(t + 3 * KC), _mm256_load_ps(t + 4 * KC), _mm256_load_ps(t + 5 * KC),
                           _mm256_load_ps(t + 6 * KC), _mm256_load_ps(t + 7 * KC), dst + p * NR + c);
        }
#endif
    for (; p < kc; p++)
        for (int c = 0; c < NR; c++) dst[p * NR + c] = tmp[c * KC + p];
}

// Packs B(pc..pc+kc, jc..jc+nc) into NR-wide strips: strip j holds [kc][NR], zero-padded past n.
static void FN(pack_b)(const void *b, int64_t ldb, int btype, int blayout, int64_t n,
                       int64_t pc, int64_t jc, int64_t kc, int64_t nc, float *pb) {
    for (int64_t j = 0; j < nc; j += NR) FN(pack_b_strip)(b, ldb, btype, blayout, n, jc, nc, j, pc, kc, pb + j * kc);
}

// Packs A(ic..ic+mc, pc..pc+kc) into MR-tall strips [kc][MR], zero-padded past mc. Full strips go
// through 8x8 transposes of MR rows (+2 ignored), each result stored as its first MR lanes.
// With a_trans, A(i, p) = a[p * lda + i] (e.g. Xᵀ of a row-major X): each k step is MR contiguous floats,
// of which `avail` columns from a exist in memory.
static void FN(pack_a)(const float *a, int64_t lda, int a_trans, int64_t avail, int64_t mc, int64_t kc, float *pa) {
    if (a_trans) {
        for (int64_t i = 0; i < mc; i += MR) {
            float *dst = pa + i * kc;
            int64_t rows = mc - i < MR ? mc - i : MR;
#if QQQ_AVX2 && MR <= 8
            // A full strip whose 8-float reads stay inside the source rows (avail: columns of A from a):
            // one 8-wide copy per k step; each store spills 8 - MR floats into the next step's slot,
            // rewritten next, and the last step is copied exactly.
            if (rows == MR && i + 8 <= avail) {
                const float *s = a + i;
                int64_t p = 0;
                for (; p + 1 < kc; p++) _mm256_storeu_ps(dst + p * MR, _mm256_loadu_ps(s + p * lda));
                memcpy(dst + p * MR, s + p * lda, MR * sizeof(float));
                continue;
            }
#endif
            for (int64_t p = 0; p < kc; p++) {
                const float *s = a + p * lda + i;
                int64_t r = 0;
                for (; r < rows; r++) dst[p * MR + r] = s[r];
                for (; r < MR; r++) dst[p * MR + r] = 0;
            }
        }
        return;
    }
    for (int64_t i = 0; i < mc; i += MR) {
        float *dst = pa + i * kc;
        int64_t rows = mc - i < MR ? mc - i : MR, p = 0;
#if QQQ_AVX2
        if (rows == MR) {
            const float *s = a + i * lda;
            float t[8 * NR] __attribute__((aligned(32)));
#if MR == 12
            float t2[8 * NR] __attribute__((aligned(32)));
            for (; p + 8 <= kc; p += 8) {
                FN(transpose8)(_mm256_loadu_ps(s + p), _mm256_loadu_ps(s + lda + p), _mm256_loadu_ps(s + 2 * lda + p),
                               _mm256_loadu_ps(s + 3 * lda + p), _mm256_loadu_ps(s + 4 * lda + p), _mm256_loadu_ps(s + 5 * lda + p),
                               _mm256_loadu_ps(s + 6 * lda + p), _mm256_loadu_ps(s + 7 * lda + p), t);
                __m256 r8 = _mm256_loadu_ps(s + 8 * lda + p), r9 = _mm256_loadu_ps(s + 9 * lda + p);
                __m256 r10 = _mm256_loadu_ps(s + 10 * lda + p), r11 = _mm256_loadu_ps(s + 11 * lda + p);
                FN(transpose8)(r8, r9, r10, r11, r11, r11, r11, r11, t2);
                for (int q = 0; q < 8; q++) {
                    memcpy(dst + (p + q) * MR, t + q * NR, 8 * sizeof(float));
                    memcpy(dst + (p + q) * MR + 8, t2 + q * NR, 4 * sizeof(float));
                }
            }
#else
            for (; p + 8 <= kc; p += 8) {
                __m256 r0 = _mm256_loadu_ps(s + p), r1 = _mm256_loadu_ps(s + lda + p);
                __m256 r2 = _mm256_loadu_ps(s + 2 * lda + p), r3 = _mm256_loadu_ps(s + 3 * lda + p);
                __m256 r4 = _mm256_loadu_ps(s + 4 * lda + p), r5 = _mm256_loadu_ps(s + 5 * lda + p);
                FN(transpose8)(r0, r1, r2, r3, r4, r5, r5, r5, t);
                for (int q = 0; q < 8; q++) memcpy(dst + (p + q) * MR, t + q * NR, MR * sizeof(float));
            }
#endif
        }
#endif
        for (; p < kc; p++) {
            int64_t r = 0;
            for (; r < rows; r++) dst[p * MR + r] = a[(i + r) * lda + p];
            for (; r < MR; r++) dst[p * MR + r] = 0;
        }
    }
}

// C tile (MR x NR, leading dimension ldc) = (acc ? C : 0) + Apanel x Bpanel.
static void FN(kernel)(int64_t kc, const float *pa, const float *pb, float *c, int64_t ldc, int acc) {
#if QQQ_AVX512
    // 12 accumulators of 16 floats; each A value is a broadcast operand of its FMA (no register spent).
    for (int r = 0; r < MR; r++) {
        _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + r * ldc + NR - 1), _MM_HINT_T0);
    }
    __m512 c0 = _mm512_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
    __m512 c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
    for (int64_t p = 0; p < kc; p++) {
        __m512 b = _mm512_loadu_ps(pb);
        c0 = _mm512_fmadd_ps(_mm512_set1_ps(pa[0]), b, c0);
        c1 = _mm512_fmadd_ps(_mm512_set1_ps(pa[1]), b, c1);
        c2 = _mm512_fmadd_ps(_mm512_set1_ps(pa[2]), b, c2);
        c3 = _mm512_fmadd_ps(_mm512_set1_ps(pa[3]), b, c3);
        c4 = _mm512_fmadd_ps(_mm512_set1_ps(pa[4]), b, c4);
        c5 = _mm512_fmadd_ps(_mm512_set1_ps(pa[5]), b, c5);
        c6 = _mm512_fmadd_ps(_mm512_set1_ps(pa[6]), b, c6);
        c7 = _mm512_fmadd_ps(_mm512_set1_ps(pa[7]), b, c7);
        c8 = _mm512_fmadd_ps(_mm512_set1_ps(pa[8]), b, c8);
        c9 = _mm512_fmadd_ps(_mm512_set1_ps(pa[9]), b, c9);
        c10 = _mm512_fmadd_ps(_mm512_set1_ps(pa[10]), b, c10);
        c11 = _mm512_fmadd_ps(_mm512_set1_ps(pa[11]), b, c11);
        pa += MR; pb += NR;
    }
#define QQQ_STORE_ROW(r, v)                                                             \
    if (acc) v = _mm512_add_ps(v, _mm512_loadu_ps(c + r * ldc));                         \
    _mm512_storeu_ps(c + r * ldc, v);
    QQQ_STORE_ROW(0, c0) QQQ_STORE_ROW(1, c1) QQQ_STORE_ROW(2, c2) QQQ_STORE_ROW(3, c3)
    QQQ_STORE_ROW(4, c4) QQQ_STORE_ROW(5, c5) QQQ_STORE_ROW(6, c6) QQQ_STORE_ROW(7, c7)
    QQQ_STORE_ROW(8, c8) QQQ_STORE_ROW(9, c9) QQQ_STORE_ROW(10, c10) QQQ_STORE_ROW(11, c11)
#undef QQQ_STORE_ROW
#elif QQQ_AVX2
    // Fetch the C tile now so its lines arrive while the k loop runs (a cold C row cost ~20%).
    for (int r = 0; r < MR; r++) {
        _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + r * ldc + NR - 1), _MM_HINT_T0);
    }
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (int64_t p = 0; p < kc; p++) {
        __m256 b0 = _mm256_loadu_ps(pb), b1 = _mm256_loadu_ps(pb + 8);
        __m256 a;
        a = _mm256_broadcast_ss(pa + 0); c00 = _mm256_fmadd_ps(a, b0, c00); c01 = _mm256_fmadd_ps(a, b1, c01);
        a = _mm256_broadcast_ss(pa + 1); c10 = _mm256_fmadd_ps(a, b0, c10); c11 = _mm256_fmadd_ps(a, b1, c11);
        a = _mm256_broadcast_ss(pa + 2); c20 = _mm256_fmadd_ps(a, b0, c20); c21 = _mm256_fmadd_ps(a, b1, c21);
        a = _mm256_broadcast_ss(pa + 3); c30 = _mm256_fmadd_ps(a, b0, c30); c31 = _mm256_fmadd_ps(a, b1, c31);
        a = _mm256_broadcast_ss(pa + 4); c40 = _mm256_fmadd_ps(a, b0, c40); c41 = _mm256_fmadd_ps(a, b1, c41);
        a = _mm256_broadcast_ss(pa + 5); c50 = _mm256_fmadd_ps(a, b0, c50); c51 = _mm256_fmadd_ps(a, b1, c51);
        pa += MR; pb += NR;
    }
#define QQQ_STORE_ROW(r, lo, hi)                                                        \
    if (acc) { lo = _mm256_add_ps(lo, _mm256_loadu_ps(c + r * ldc));                     \
               hi = _mm256_add_ps(hi, _mm256_loadu_ps(c + r * ldc + 8)); }               \
    _mm256_storeu_ps(c + r * ldc, lo); _mm256_storeu_ps(c + r * ldc + 8, hi);
    QQQ_STORE_ROW(0, c00, c01) QQQ_STORE_ROW(1, c10, c11) QQQ_STORE_ROW(2, c20, c21)
    QQQ_STORE_ROW(3, c30, c31) QQQ_STORE_ROW(4, c40, c41) QQQ_STORE_ROW(5, c50, c51)
#undef QQQ_STORE_ROW
#else
    float t[MR][NR];
    memset(t, 0, sizeof t);
    for (int64_t p = 0; p < kc; p++) {
        for (int r = 0; r < MR; r++) {
            float av = pa[r];
            for (int j = 0; j < NR; j++) t[r][j] += av * pb[j];
        }
        pa += MR; pb += NR;
    }
    for (int r = 0; r < MR; r++)
        for (int j = 0; j < NR; j++) c[r * ldc + j] = acc ? c[r * ldc + j] + t[r][j] : t[r][j];
#endif
}

// M <= 4 with NK weights: stream each weight row once (no packing), dot it with every A row.
static void FN(gemv_nk)(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const void *b,
                        int64_t ldb, int btype, float *c, int64_t ldc, int accumulate) {
    float row[512];
    for (int64_t j = 0; j < n; j++) {
        float sum[4] = {0, 0, 0, 0};
        for (int64_t p0 = 0; p0 < k; p0 += 512) {
            int64_t len = k - p0 < 512 ? k - p0 : 512;
            FN(convert_run)(b, j * ldb + p0, btype, row, len);
            for (int64_t i = 0; i < m; i++) sum[i] += FN(dot_f32)(a + i * lda + p0, row, len);
        }
        for (int64_t i = 0; i < m; i++) c[i * ldc + j] = accumulate ? c[i * ldc + j] + sum[i] : sum[i];
    }
}

// M <= 4 with pre-packed weights: each strip is streamed once, its 16 columns accumulated for every
// A row in registers (the MR = 6 tile would spend 6 rows of FMAs on 1-4 real ones).
static void FN(gemv_packed)(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const void *b, int64_t ldb, int btype,
                            float *c, int64_t ldc, int accumulate) {
    float row[NR * 64] __attribute__((aligned(32)));
    for (int64_t j0 = 0; j0 < n; j0 += NR) {
        float sum[4][NR];
        memset(sum, 0, sizeof sum);
        for (int64_t p0 = 0; p0 < k; p0 += 64) {
            int64_t len = k - p0 < 64 ? k - p0 : 64;
            const float *bs;
            if (btype == QQQ_B_F32) bs = (const float *)b + j0 * ldb + p0 * NR;
            else { FN(convert_run)(b, j0 * ldb + p0 * NR, btype, row, len * NR); bs = row; }
            // The next piece of the stream (strips are contiguous, so past this strip's end is the next strip).
            int64_t next = j0 * ldb + (p0 + 64) * NR, esize = btype == QQQ_B_F32 ? 4 : 2;
            if (next < ((n + NR - 1) / NR) * NR * ldb)
                for (int64_t q = 0; q < 64 * NR * esize; q += 64) __builtin_prefetch((const char *)b + next * esize + q, 0, 0);
            for (int64_t i = 0; i < m; i++) {
                const float *ar = a + i * lda + p0;
#if QQQ_AVX2
                __m256 s0 = _mm256_loadu_ps(sum[i]), s1 = _mm256_loadu_ps(sum[i] + 8);
                for (int64_t p = 0; p < len; p++) {
                    __m256 av = _mm256_broadcast_ss(ar + p);
                    s0 = _mm256_fmadd_ps(av, _mm256_loadu_ps(bs + p * NR), s0);
                    s1 = _mm256_fmadd_ps(av, _mm256_loadu_ps(bs + p * NR + 8), s1);
                }
                _mm256_storeu_ps(sum[i], s0); _mm256_storeu_ps(sum[i] + 8, s1);
#else
                for (int64_t p = 0; p < len; p++)
                    for (int j = 0; j < NR; j++) sum[i][j] += ar[p] * bs[p * NR + j];
#endif
            }
        }
        int64_t width = n - j0 < NR ? n - j0 : NR;
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < width; j++) c[i * ldc + j0 + j] = accumulate ? c[i * ldc + j0 + j] + sum[i][j] : sum[i][j];
    }
}

// tri >= 0: only C(i, j) with i <= j + tri is needed (a symmetric rank-k update's upper triangle, this
// call's column 0 being column `tri` of the whole): row blocks below the last column and micro-tiles
// wholly below the diagonal are skipped; tiles on it are computed whole. tri < 0: the full product.
static void FN(sgemm)(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, int a_trans, const void *b,
                      int64_t ldb, int btype, int blayout, float *c, int64_t ldc, int accumulate, float *scratch,
                      int64_t tri) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {
        if (!accumulate) for (int64_t i = 0; i < m; i++) memset(c + i * ldc, 0, (size_t)n * 4);
        return;
    }
    if (m <= 4 && blayout == QQQ_B_NK && !a_trans) { FN(gemv_nk)(m, n, k, a, lda, b, ldb, btype, c, ldc, accumulate); return; }
    // Pre-packed weights (QQQ_B_PACKED, see qqq_gemm.h): strip j of columns j..j+NR holds [K][NR], so the
    // block (pc, strip) the micro-kernel reads is already contiguous: fp32 strips are read in place,
    // fp16 strips only converted (no transpose), and nothing is gathered from K-strided rows.
    int prepacked = blayout == QQQ_B_PACKED;
    if (prepacked && m <= 4 && !a_trans) { FN(gemv_packed)(m, n, k, a, lda, b, ldb, btype, c, ldc, accumulate); return; }
    float *pa = scratch;
    float *pb = scratch + MC_FUSED * KC;
    // Up to MC_FUSED rows are one row block, and each B strip is packed into the L1 right before its
    // only use (no packed block round-trips through L2/L3). Taller M: row blocks of equal height (a
    // multiple of MR, at most MC) sweep a packed KC x NC block of B.
    int fused = m <= MC_FUSED;
    int64_t blocks = fused ? 1 : (m + MC - 1) / MC;
    int64_t mc_step = fused ? m : ((m + blocks - 1) / blocks + MR - 1) / MR * MR;
    int esize = btype == QQQ_B_F32 ? 4 : 2;
    float tile[MR * NR];
    for (int64_t jc = 0; jc < n; jc += NC) {
        int64_t nc = n - jc < NC ? n - jc : NC;
        for (int64_t pc = 0; pc < k; pc += KC) {
            int64_t kc = k - pc < KC ? k - pc : KC;
            if (!fused) {
                if (!prepacked) FN(pack_b)(b, ldb, btype, blayout, n, pc, jc, kc, nc, pb);
                else if (btype != QQQ_B_F32)
                    for (int64_t j = 0; j < nc; j += NR) FN(convert_run)(b, (jc + j) * ldb + pc * NR, btype, pb + j * kc, kc * NR);
            }
            int acc = accumulate || pc > 0;
            // The next B block, fetched towards the L2 strip by strip while this one is computed, so
            // its packing finds it in cache instead of waiting on memory (weights are read once per call).
            int64_t next_pc = pc + KC < k ? pc + KC : 0, next_jc = pc + KC < k ? jc : jc + NC;
            int64_t next_kc = k - next_pc < KC ? k - next_pc : KC;
            int prefetch_next = blayout == QQQ_B_NK && btype != QQQ_B_Q4G128 && next_jc < n;
            // Pre-packed: the strip read (or converted) next, as contiguous lines: the next strip of this
            // block when strips are consumed straight from the weights (fused, or fp32 in place), else
            // the same strip of the next block, whose conversion comes after this block's row blocks.
            int direct = fused || btype == QQQ_B_F32;
            for (int64_t ic = 0; ic < m; ic += mc_step) {
                if (tri >= 0 && ic > tri + jc + nc - 1) break;
                int64_t mc = m - ic < mc_step ? m - ic : mc_step;
                FN(pack_a)(a_trans ? a + pc * lda + ic : a + ic * lda + pc, lda, a_trans, m - ic, mc, kc, pa);
                for (int64_t jr = 0; jr < nc; jr += NR) {
                    int64_t nr = nc - jr < NR ? nc - jr : NR;
                    const float *bs = pb + jr * kc;
                    if (prepacked && btype == QQQ_B_F32) {
                        bs = (const float *)b + (jc + jr) * ldb + pc * NR;
                    } else if (fused && prepacked) {
                        FN(convert_run)(b, (jc + jr) * ldb + pc * NR, btype, pb, kc * NR);
                        bs = pb;
                    } else if (fused) {
                        FN(pack_b_strip)(b, ldb, btype, blayout, n, jc, nc, jr, pc, kc, pb);
                        bs = pb;
                    }
                    const char *pf = NULL;
                    int64_t pf_bytes = 0;
                    if (prepacked && ic == 0) {
                        int64_t idx = -1, len = 0;
                        if (direct && jr + NR < nc) { idx = (jc + jr + NR) * ldb + pc * NR; len = kc * NR; }
                        else if (direct && pc + KC < k) { idx = jc * ldb + (pc + KC) * NR; len = next_kc * NR; }
                        else if (!direct && next_jc < n && next_jc + jr < n) { idx = (next_jc + jr) * ldb + next_pc * NR; len = next_kc * NR; }
                        else if (direct && jc + NC < n) { idx = (jc + NC) * ldb; len = (k < KC ? k : KC) * NR; }
                        if (idx >= 0) { pf = (const char *)b + idx * esize; pf_bytes = len * esize; }
                    }
                    int64_t pf_calls = (mc + MR - 1) / MR, pf_per_call = ((pf_bytes + 63) / 64 + pf_calls - 1) / pf_calls * 64;
                    // Spread over the tile calls: a burst of 256 prefetches overflows the miss queue.
                    int64_t calls = (mc + MR - 1) / MR, per_call = (NR + calls - 1) / calls;
                    int64_t next_row = next_jc + jr, next_end = next_jc + jr + NR < n ? next_jc + jr + NR : n;
                    if (!(prefetch_next && ic == 0)) next_row = next_end;
                    for (int64_t ir = 0; ir < mc; ir += MR) {
                        int64_t mr = mc - ir < MR ? mc - ir : MR;
                        for (int64_t q = 0; q < pf_per_call && pf_bytes > 0; q += 64, pf += 64, pf_bytes -= 64) __builtin_prefetch(pf, 0, 3);
                        for (int64_t q = 0; q < per_call && next_row < next_end; q++, next_row++) {
                            const char *row = (const char *)b + (next_row * ldb + next_pc) * esize;
                            for (int64_t off = 0; off < next_kc * esize; off += 64) __builtin_prefetch(row + off, 0, 2);
                        }
                        if (tri >= 0 && ic + ir > tri + jc + jr + nr - 1) continue;
                        float *cp = c + (ic + ir) * ldc + jc + jr;
                        if (mr == MR && nr == NR) {
                            FN(kernel)(kc, pa + ir * kc, bs, cp, ldc, acc);
                        } else {
                            FN(kernel)(kc, pa + ir * kc, bs, tile, NR, 0);
                            for (int64_t r = 0; r < mr; r++)
                                for (int64_t j = 0; j < nr; j++)
                                    cp[r * ldc + j] = acc ? cp[r * ldc + j] + tile[r * NR + j] : tile[r * NR + j];
                        }
                    }
                }
            }
        }
    }
}

// B (NK: W[N][K], or KN: B[K][N]; fp32/fp16/bf16 at src_type) -> strips of NR columns, [K][NR] each,
// zero-padded past N, stored as dst_type (fp32, or fp16 from an fp16 source).
static void FN(pack_weights)(const void *w, int src_type, int src_layout, int64_t n, int64_t k, int64_t ldw, int dst_type,
                             void *dst) {
    float buf[NR * 256];
    for (int64_t j0 = 0; j0 < n; j0 += NR) {
        int64_t width = n - j0 < NR ? n - j0 : NR;
        if (src_layout == QQQ_B_KN && dst_type == QQQ_B_F32) {  // rows of B are already strip rows
            float *d = (float *)dst + j0 * k;
            for (int64_t p = 0; p < k; p++) {
                FN(convert_run)(w, p * ldw + j0, src_type, d + p * NR, width);
                for (int64_t c = width; c < NR; c++) d[p * NR + c] = 0;
            }
            continue;
        }
        for (int64_t p0 = 0; p0 < k; p0 += 256) {
            int64_t len = k - p0 < 256 ? k - p0 : 256;
            if (dst_type == QQQ_B_F16 && src_type == QQQ_B_F16) {
                const uint16_t *s = (const uint16_t *)w;
                uint16_t *d = (uint16_t *)dst + j0 * k + p0 * NR;
                for (int64_t c = 0; c < NR; c++)
                    for (int64_t p = 0; p < len; p++) d[p * NR + c] = c < width ? s[(j0 + c) * ldw + p0 + p] : 0;
                continue;
            }
            for (int64_t c = 0; c < NR; c++) {
                if (c < width) FN(convert_run)(w, (j0 + c) * ldw + p0, src_type, buf + c * 256, len);
                else memset(buf + c * 256, 0, (size_t)len * 4);
            }
            float *d = (float *)dst + j0 * k + p0 * NR;
            for (int64_t p = 0; p < len; p++)
                for (int64_t c = 0; c < NR; c++) d[p * NR + c] = buf[c * 256 + p];
        }
    }
}

// MR and NR stay defined: attention_impl.h tiles its queries like the GEMM (gemm_f32.c undefines them).
#undef KC
#undef MC
#undef MC_FUSED
#undef NC
