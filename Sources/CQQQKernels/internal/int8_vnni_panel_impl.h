// VNNI GEMM for many tokens (M >= QQQ_VP_MIN_M), every format; included by int8_vnni_impl.h.
//
// The pair-chunk tile re-expands nibbles for every 4 tokens and spends a shuffle-port op per two
// vpdpbusd. Here a strip of NS outputs is expanded once per block of tokens and k into a panel of
// signed int8 weights, [k/4][NS outputs][4 k] (NS * KC bytes, L1-resident), and a ROWS-token x NS-output
// register tile sweeps it as an outer product: per 4 k, two vector loads of weights and one 4-byte
// broadcast of unsigned activations (ua = a + 128) per token feed 2 * ROWS vpdpbusd, with nothing on
// the shuffle port. The expansion is the only format-specific step (group tables, signed nibbles, or
// W8 bytes as stored), so per-group runs at the per-channel rate. K is cut into blocks of KC so panel
// and activation block stay in L1/L2; int32 partial sums of the token block carry between k blocks.
// Sums are exact int32: bit-identical to the pair-chunk kernel and the reference.

#if QQQ_VNNI_BITS == 512
#define QQQ_VP_ROWS 10  // 20 accumulators of the 32 zmm: at 12 rows clang spilled two (measured 62% vs 65-82%)
#define QQQ_VP_NS 32    // outputs per strip: two vectors of 16
static inline VEC FN(vp_load)(const void *p) { return _mm512_load_si512(p); }
static inline void FN(vp_store)(void *p, VEC v) { _mm512_store_si512(p, v); }
static inline VEC FN(vp_bcast4)(int32_t v) { return _mm512_set1_epi32(v); }
static inline VEC FN(vp_sub)(VEC x, VEC y) { return _mm512_sub_epi32(x, y); }
#else
#define QQQ_VP_ROWS 6   // 12 accumulators + 2 weights + 1 broadcast of the 16 ymm
#define QQQ_VP_NS 16
static inline VEC FN(vp_load)(const void *p) { return _mm256_load_si256((const __m256i *)p); }
static inline void FN(vp_store)(void *p, VEC v) { _mm256_store_si256((__m256i *)p, v); }
static inline VEC FN(vp_bcast4)(int32_t v) { return _mm256_set1_epi32(v); }
static inline VEC FN(vp_sub)(VEC x, VEC y) { return _mm256_sub_epi32(x, y); }
#endif
#define QQQ_VP_VW ((int)(sizeof(VEC) / 4))  // outputs per vector
#define QQQ_VP_KC 1024                     // k per panel block: NS * KC bytes (32 KiB at 512 bits)
#define QQQ_VP_MB 240                      // most tokens per block (a multiple of both ROWS: 10 and 6)
#define QQQ_VP_MIN_M 16

static __thread void *FN(tl_vp_panel);
static __thread size_t FN(tl_vp_panel_bytes);
static __thread void *FN(tl_vp_part);
static __thread size_t FN(tl_vp_part_bytes);

#include "transpose8_impl.h"
#include "tile_rows.h"
#include "store8_impl.h"

// The line of pair b (its bytes from b, cb per chunk) that the expansion `span` chunks after chunk c reads:
// the same pair's next k block, or past the last chunk the next strip's first block. Both expansions
// prefetch it into L2: a strip reads NS/2 streams a pair apart, more than the hardware prefetcher follows,
// and at M = 16 the tile sweep is too short to hide them.
static inline const uint8_t *FN(vp_next_line)(const uint8_t *b, int64_t c, int64_t span, int64_t chunks, int64_t cb,
                                              int64_t pair_bytes) {
    const int64_t cn = c + span;
    return cn < chunks ? b + cn * cb : b + (QQQ_VP_NS / 2) * pair_bytes + (cn - chunks) * cb;
}

#if QQQ_VNNI_BITS == 512
// The 512-bit expansion, 16 outputs (8 pairs) x 32 k at a time: four two-pair vectors expand with the
// pair-chunk kernel's lane tables ([pair a out0 | out1 | pair b out0 | out1], k0..15 from the low nibbles,
// k16..31 from the high), then a 16 x 4 transpose of 4-byte units (two-source dword permutes, then 128-bit
// lane shuffles) writes each k-quad's 16 outputs as one 64-byte row: about 2.5x fewer operations than the
// 256-bit expansion with its 8 x 8 transposes. Not inlined, so the tile sweep keeps its registers.
static const uint8_t FN(vp_zeros)[64] __attribute__((aligned(64)));
static __attribute__((noinline)) void FN(vp_expand)(int format, const void *packed, const uint16_t *gscales,
        int64_t chunks, int64_t groups, int64_t p0, int64_t pair_end, int64_t c0, int64_t c1, char *panel) {
    static const uint16_t no_scales[2] = {0, 0};
    const int64_t cb = format == QQQ_W8 ? 64 : 32, pair_bytes = chunks * cb;
    const __m512i ia = _mm512_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28, 1, 5, 9, 13, 17, 21, 25, 29);
    const __m512i ib = _mm512_setr_epi32(2, 6, 10, 14, 18, 22, 26, 30, 3, 7, 11, 15, 19, 23, 27, 31);
    const VEC pct = FN(per_channel_table)();
    for (int g16 = 0; g16 < QQQ_VP_NS / 16; g16++) {
        // Pairs at or past pair_end read 64 zero bytes (step 0); a zero nibble maps to 0 in every table.
        const uint8_t *base[8];
        int64_t step[8];
        for (int j = 0; j < 8; j++) {
            const int64_t p = p0 + 8 * g16 + j;
            base[j] = p < pair_end ? (const uint8_t *)packed + p * pair_bytes : FN(vp_zeros);
            step[j] = p < pair_end ? cb : 0;
        }
        VEC t0 = pct, t1 = pct, t2 = pct, t3 = pct;
        for (int64_t c = c0; c < c1; c++) {
            if (((c * cb) & 63) == 0)  // the next expansion's lines into L2
                for (int j = 0; j < 8; j++)
                    if (step[j]) _mm_prefetch((const char *)FN(vp_next_line)(base[j], c, c1 - c0, chunks, cb, pair_bytes), _MM_HINT_T1);
#define QQQ_VX_PTR(j) (base[j] + c * step[j])
#define QQQ_VX_HALF(j, off) _mm256_loadu_si256((const __m256i *)(QQQ_VX_PTR(j) + (off)))
#define QQQ_VX_TWO(ja, jb, off) _mm512_inserti64x4(_mm512_castsi256_si512(QQQ_VX_HALF(ja, off)), QQQ_VX_HALF(jb, off), 1)
            VEC lo0, lo1, lo2, lo3, hi0, hi1, hi2, hi3;
            if (format == QQQ_W8) {  // per pair [out0 k0..15 | out1 k0..15], then k16..31
                lo0 = QQQ_VX_TWO(0, 1, 0), hi0 = QQQ_VX_TWO(0, 1, 32);
                lo1 = QQQ_VX_TWO(2, 3, 0), hi1 = QQQ_VX_TWO(2, 3, 32);
                lo2 = QQQ_VX_TWO(4, 5, 0), hi2 = QQQ_VX_TWO(4, 5, 32);
                lo3 = QQQ_VX_TWO(6, 7, 0), hi3 = QQQ_VX_TWO(6, 7, 32);
            } else {
                if (format == QQQ_W4_PER_GROUP && (c == c0 || (c & 3) == 0)) {
#define QQQ_VX_GS(j) (step[j] ? gscales + ((p0 + 8 * g16 + (j)) * groups + (c >> 2)) * 2 : no_scales)
                    t0 = FN(pair_tables)(QQQ_VX_GS(0), QQQ_VX_GS(1));
                    t1 = FN(pair_tables)(QQQ_VX_GS(2), QQQ_VX_GS(3));
                    t2 = FN(pair_tables)(QQQ_VX_GS(4), QQQ_VX_GS(5));
                    t3 = FN(pair_tables)(QQQ_VX_GS(6), QQQ_VX_GS(7));
#undef QQQ_VX_GS
                }
                const VEC n0 = QQQ_VX_TWO(0, 1, 0), n1 = QQQ_VX_TWO(2, 3, 0);
                const VEC n2 = QQQ_VX_TWO(4, 5, 0), n3 = QQQ_VX_TWO(6, 7, 0);
                lo0 = FN(lut)(t0, FN(low_nibbles)(n0)), hi0 = FN(lut)(t0, FN(high_nibbles)(n0));
                lo1 = FN(lut)(t1, FN(low_nibbles)(n1)), hi1 = FN(lut)(t1, FN(high_nibbles)(n1));
                lo2 = FN(lut)(t2, FN(low_nibbles)(n2)), hi2 = FN(lut)(t2, FN(high_nibbles)(n2));
                lo3 = FN(lut)(t3, FN(low_nibbles)(n3)), hi3 = FN(lut)(t3, FN(high_nibbles)(n3));
            }
#undef QQQ_VX_TWO
#undef QQQ_VX_HALF
#undef QQQ_VX_PTR
            char *d = panel + (c - c0) * 8 * (QQQ_VP_NS * 4) + g16 * 64;
            // a01 = [outputs 0..7 quad 0 | quad 1] of lo0, lo1 (a lane per output); a23 outputs 8..15.
#define QQQ_VX_QUADS(x0, x1, x2, x3, dq)                                                          \
    {                                                                                            \
        const VEC a01 = _mm512_permutex2var_epi32(x0, ia, x1), b01 = _mm512_permutex2var_epi32(x0, ib, x1); \
        const VEC a23 = _mm512_permutex2var_epi32(x2, ia, x3), b23 = _mm512_permutex2var_epi32(x2, ib, x3); \
        FN(vp_store)(d + (dq + 0) * (QQQ_VP_NS * 4), _mm512_shuffle_i32x4(a01, a23, 0x44));       \
        FN(vp_store)(d + (dq + 1) * (QQQ_VP_NS * 4), _mm512_shuffle_i32x4(a01, a23, 0xEE));       \
        FN(vp_store)(d + (dq + 2) * (QQQ_VP_NS * 4), _mm512_shuffle_i32x4(b01, b23, 0x44));       \
        FN(vp_store)(d + (dq + 3) * (QQQ_VP_NS * 4), _mm512_shuffle_i32x4(b01, b23, 0xEE));       \
    }
            QQQ_VX_QUADS(lo0, lo1, lo2, lo3, 0)
            QQQ_VX_QUADS(hi0, hi1, hi2, hi3, 4)
#undef QQQ_VX_QUADS
        }
    }
}
#else
// Expands chunks [c0, c1) of the NS outputs of pairs [p0, p0 + NS/2) (pairs at or past pair_end zero)
// into panel[(c - c0) * 8 + quad][NS][4].
static void FN(vp_expand)(int format, const void *packed, const uint16_t *gscales, int64_t chunks, int64_t groups,
                          int64_t p0, int64_t pair_end, int64_t c0, int64_t c1, char *panel) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const __m256i tq = _mm256_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, -8, -7, -6, -5, -4, -3, -2, -1,
                                        0, 1, 2, 3, 4, 5, 6, 7, -8, -7, -6, -5, -4, -3, -2, -1);
    const int64_t cb = format == QQQ_W8 ? 64 : 32, pair_bytes = chunks * cb;
    for (int g8 = 0; g8 < QQQ_VP_NS / 8; g8++) {  // 8 outputs (4 pairs) per transpose
        __m256i tables[4] = {tq, tq, tq, tq};
        for (int64_t c = c0; c < c1; c++) {
            __m256i r[8];
            for (int j = 0; j < 4; j++) {
                const int64_t p = p0 + 4 * g8 + j;
                __m256i lo = _mm256_setzero_si256(), hi = lo;
                if (p < pair_end) {
                    const uint8_t *b = (const uint8_t *)packed + p * pair_bytes;
                    if (((c * cb) & 63) == 0)  // the next expansion's lines into L2
                        _mm_prefetch((const char *)FN(vp_next_line)(b, c, c1 - c0, chunks, cb, pair_bytes), _MM_HINT_T1);
                    if (format == QQQ_W8) {  // [out0 k0..15 | out1 k0..15], then k16..31
                        lo = _mm256_loadu_si256((const __m256i *)(b + c * 64));
                        hi = _mm256_loadu_si256((const __m256i *)(b + c * 64 + 32));
                    } else {
                        if (format == QQQ_W4_PER_GROUP && (c == c0 || (c & 3) == 0)) {
                            const uint16_t *gs = gscales + (p * groups + (c >> 2)) * 2;
                            tables[j] = FN(pair_table)(gs);
                        }
                        __m256i nib = _mm256_loadu_si256((const __m256i *)(b + c * 32));
                        lo = _mm256_shuffle_epi8(tables[j], _mm256_and_si256(nib, m4));
                        hi = _mm256_shuffle_epi8(tables[j], _mm256_and_si256(_mm256_srli_epi16(nib, 4), m4));
                    }
                }
                r[2 * j] = _mm256_permute2x128_si256(lo, hi, 0x20);      // out0 k0..31
                r[2 * j + 1] = _mm256_permute2x128_si256(lo, hi, 0x31);  // out1 k0..31
            }
            FN(transpose8_u32)(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7],
                               panel + (c - c0) * 8 * (QQQ_VP_NS * 4) + g8 * 32, QQQ_VP_NS * 4);
        }
    }
}
#endif

// Epilogue of one token and QQQ_VP_VW outputs from n0 (even): y = (float(s) * scale) * sigma + bias with
// the scalar code's rounding (no FMA); outputs at or past n are not written.
static inline void FN(vp_store_out)(VEC s, int64_t t, int64_t n0, int64_t n, const float *sigma, const float *scale,
                                    const float *bias, float *y, int64_t ldy, int32_t *acc, int64_t ldacc) {
    if (n0 + QQQ_VP_VW <= n) {
#if QQQ_VNNI_BITS == 512
        __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(s), _mm512_loadu_ps(scale + n0));
        v = _mm512_mul_ps(v, _mm512_set1_ps(sigma[t]));
        v = _mm512_add_ps(v, bias ? _mm512_loadu_ps(bias + n0) : _mm512_setzero_ps());
        _mm512_storeu_ps(y + t * ldy + n0, v);
        if (acc) _mm512_storeu_si512(acc + t * ldacc + n0, s);
#else
        FN(store8_full)(s, t, n0, sigma, scale, bias, y, ldy, acc, ldacc);
#endif
        return;
    }
    int32_t v[QQQ_VP_VW] __attribute__((aligned(64)));
    FN(vp_store)(v, s);
    for (int64_t j = 0; j < QQQ_VP_VW && n0 + j < n; j += 2)
        store_outputs_portable(t, n0 + j, n, v[j], v[j + 1], sigma, scale, bias, y, ldy, acc, ldacc);
}

static inline int32_t FN(vp_u32)(const uint8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

// ROWS tokens from t0 x NS outputs over `quads` k-quads of the panel. The sums start at zero (first
// k block) or from part[ROWS][NS], and go back to part, or (last k block) through the epilogue.
// Named accumulators, not arrays: with arrays clang kept memory copies and stored them every k-quad.
#define QQQ_VP_EACH(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9)
static inline __attribute__((always_inline)) void FN(vp_tile)(const int ROWS, int64_t quads, const uint8_t *u,
        int64_t lda, const char *panel, int first, int last, int32_t *part, const int32_t *qoff, int64_t t0,
        int64_t n0, int64_t n, const float *sigma, const float *scale, const float *bias, float *y, int64_t ldy,
        int32_t *acc, int64_t ldacc) {
#define QQQ_VP_DECL(R) VEC a##R = FN(zero)(), b##R = a##R;
    QQQ_VP_EACH(QQQ_VP_DECL)
#undef QQQ_VP_DECL
    if (!first) {
#define QQQ_VP_LOAD(R)                                                \
    if (R < ROWS) {                                                   \
        a##R = FN(vp_load)(part + R * QQQ_VP_NS);                     \
        b##R = FN(vp_load)(part + R * QQQ_VP_NS + QQQ_VP_VW);         \
    }
        QQQ_VP_EACH(QQQ_VP_LOAD)
#undef QQQ_VP_LOAD
    }
    const uint8_t *u0 = u, *u4 = u + 4 * lda, *u8 = u + 8 * lda;
    for (int64_t q = 0; q < quads; q++) {
        const VEC w0 = FN(vp_load)(panel + q * (QQQ_VP_NS * 4));
        const VEC w1 = FN(vp_load)(panel + q * (QQQ_VP_NS * 4) + sizeof(VEC));
        // Rows addressed from three bases (r mod 4 times lda), so no chain of address adds.
#define QQQ_VP_ROW(R)                                                                                  \
    if (R < ROWS) {                                                                                    \
        const uint8_t *ur = (R < 4 ? u0 : R < 8 ? u4 : u8) + (R % 4) * lda + 4 * q;                      \
        const VEC x = FN(vp_bcast4)(FN(vp_u32)(ur));                                                   \
        a##R = FN(dp)(a##R, x, w0);                                                                    \
        b##R = FN(dp)(b##R, x, w1);                                                                    \
    }
        QQQ_VP_EACH(QQQ_VP_ROW)
#undef QQQ_VP_ROW
    }
    if (!last) {
#define QQQ_VP_SAVE(R)                                                \
    if (R < ROWS) {                                                   \
        FN(vp_store)(part + R * QQQ_VP_NS, a##R);                     \
        FN(vp_store)(part + R * QQQ_VP_NS + QQQ_VP_VW, b##R);         \
    }
        QQQ_VP_EACH(QQQ_VP_SAVE)
#undef QQQ_VP_SAVE
        return;
    }
    const VEC off0 = FN(vp_load)(qoff), off1 = FN(vp_load)(qoff + QQQ_VP_VW);
#define QQQ_VP_OUT(R)                                                                                           \
    if (R < ROWS) {                                                                                             \
        FN(vp_store_out)(FN(vp_sub)(a##R, off0), t0 + R, n0, n, sigma, scale, bias, y, ldy, acc, ldacc);        \
        FN(vp_store_out)(FN(vp_sub)(b##R, off1), t0 + R, n0 + QQQ_VP_VW, n, sigma, scale, bias, y, ldy, acc,    \
                         ldacc);                                                                                \
    }
    QQQ_VP_EACH(QQQ_VP_OUT)
#undef QQQ_VP_OUT
}
#undef QQQ_VP_EACH

// Returns 0, or -1 if scratch could not be allocated (the caller then runs the pair-chunk kernel).
static int FN(int_gemm_vpanel)(int format, int64_t m, int64_t k, const uint8_t *ua, int64_t lda, const float *sigma,
                               const void *packed, const int32_t *qsum, const uint16_t *gscales, const float *scale,
                               const float *bias, int64_t n, int64_t pair0, int64_t pair1, float *y, int64_t ldy,
                               int32_t *acc, int64_t ldacc) {
    const int64_t chunks = k / 32, groups = (k + 127) / 128, kc_chunks = QQQ_VP_KC / 32;
    const int64_t kc = k < QQQ_VP_KC ? k : QQQ_VP_KC;
    char *panel = (char *)qqq_int_scratch(&FN(tl_vp_panel), &FN(tl_vp_panel_bytes), (size_t)(QQQ_VP_NS * kc));
    int32_t *part = (int32_t *)qqq_int_scratch(&FN(tl_vp_part), &FN(tl_vp_part_bytes),
                                               sizeof(int32_t) * QQQ_VP_MB * QQQ_VP_NS);
    if (!panel || !part) return -1;
    const int64_t nend = 2 * pair1 < n ? 2 * pair1 : n;
    int32_t qoff[QQQ_VP_NS] __attribute__((aligned(64)));
    // Blocks of equal size (a multiple of ROWS), so no short last block pays a whole expansion.
    const int64_t nblocks = (m + QQQ_VP_MB - 1) / QQQ_VP_MB;
    const int64_t mbsize = ((m + nblocks - 1) / nblocks + QQQ_VP_ROWS - 1) / QQQ_VP_ROWS * QQQ_VP_ROWS;
    for (int64_t mb = 0; mb < m; mb += mbsize) {
        const int64_t rows = m - mb < mbsize ? m - mb : mbsize;
        for (int64_t p0 = pair0; p0 < pair1; p0 += QQQ_VP_NS / 2) {
            const int64_t n0 = 2 * p0;
            // 128 * qsum: the offset of the unsigned activations (0 past the strip's end).
            for (int j = 0; j < QQQ_VP_NS; j++)
                qoff[j] = n0 + j < nend ? (int32_t)(128u * (uint32_t)qsum[n0 + j]) : 0;
            for (int64_t c0 = 0; c0 < chunks; c0 += kc_chunks) {
                const int64_t c1 = chunks - c0 < kc_chunks ? chunks : c0 + kc_chunks;
                FN(vp_expand)(format, packed, gscales, chunks, groups, p0, pair1, c0, c1, panel);
                const int first = c0 == 0, last = c1 == chunks;
                const int64_t quads = (c1 - c0) * 8;
                for (int64_t t0 = mb; t0 < mb + rows; t0 += QQQ_VP_ROWS) {
                    const int64_t tr = mb + rows - t0 < QQQ_VP_ROWS ? mb + rows - t0 : QQQ_VP_ROWS;
                    const uint8_t *u = ua + t0 * lda + 32 * c0;
                    int32_t *pt = part + (t0 - mb) * QQQ_VP_NS;
#define QQQ_T(R) FN(vp_tile)(R, quads, u, lda, panel, first, last, pt, qoff, t0, n0, nend, sigma, scale, bias, y, ldy, acc, ldacc)
#if QQQ_VP_ROWS > 6
                    QQQ_TILE_ROWS_10(tr, QQQ_T)
#else
                    QQQ_TILE_ROWS_6(tr, QQQ_T)
#endif
#undef QQQ_T
                }
            }
        }
    }
    return 0;
}
