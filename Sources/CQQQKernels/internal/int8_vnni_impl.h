// VNNI integer kernels, compiled by int8_kernels.c once per width (FN suffixes the names):
//   QQQ_VNNI_BITS 256: AVX-VNNI, a tile is up to 4 tokens x 1 output pair, lanes [out0 | out1];
//   QQQ_VNNI_BITS 512: AVX-512 VNNI, up to 4 tokens x 2 output pairs,
//                      lanes [p0 out0 | p0 out1 | p1 out0 | p1 out1].
// vpdpbusd sums four u8 x s8 products into int32 with no intermediate saturation, so every format
// multiplies the unsigned activations ua = a + 128 by its signed int8 weights (nibbles expanded by a
// byte shuffle of a 16-entry table per lane, or W8 bytes as stored) and subtracts 128 * qsum[n]
// (qsum = sum_k w[n][k], prepared once with the weights) per output. Same pair-chunk layout as AVX2:
// each 128-bit lane holds one output, the activations are broadcast to every lane.
// Intrinsics come from internal/simd.h (SIMDe under QQQ_EMULATE_SIMD).

#if QQQ_VNNI_BITS == 512
typedef __m512i FN(vec);
#define QQQ_TILE_PAIRS 2
#else
typedef __m256i FN(vec);
#define QQQ_TILE_PAIRS 1
#endif
#define VEC FN(vec)

static inline int32_t FN(hsum128)(__m128i v) {
    v = _mm_add_epi32(v, _mm_shuffle_epi32(v, 0x4E));
    v = _mm_add_epi32(v, _mm_shuffle_epi32(v, 0xB1));
    return _mm_cvtsi128_si32(v);
}

#include "pair_table_impl.h"
#include "tile_rows.h"

static inline __m128i FN(q_table)(void) {  // per-channel: w = q(v)
    return _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, -8, -7, -6, -5, -4, -3, -2, -1);
}

#if QQQ_VNNI_BITS == 512
static inline VEC FN(zero)(void) { return _mm512_setzero_si512(); }
static inline VEC FN(add)(VEC x, VEC y) { return _mm512_add_epi32(x, y); }
static inline VEC FN(dp)(VEC acc, VEC u, VEC w) { return _mm512_dpbusd_epi32(acc, u, w); }
// 16 activation bytes in every lane (a load-port broadcast, no shuffle).
static inline VEC FN(bcast)(const uint8_t *p) { return _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)p)); }
// 32 weight bytes of pair 0 (lanes 0-1) and of pair 1 (lanes 2-3).
static inline VEC FN(load2)(const uint8_t *p0, const uint8_t *p1) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)p0)),
                              _mm256_loadu_si256((const __m256i *)p1), 1);
}
static inline VEC FN(lut)(VEC table, VEC idx) { return _mm512_shuffle_epi8(table, idx); }
static inline VEC FN(low_nibbles)(VEC b) { return _mm512_and_si512(b, _mm512_set1_epi8(0x0F)); }
static inline VEC FN(high_nibbles)(VEC b) { return _mm512_and_si512(_mm512_srli_epi16(b, 4), _mm512_set1_epi8(0x0F)); }
static inline VEC FN(lanes4)(__m128i t0, __m128i t1, __m128i t2, __m128i t3) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set_m128i(t1, t0)), _mm256_set_m128i(t3, t2), 1);
}
static inline VEC FN(per_channel_table)(void) { __m128i t = FN(q_table)(); return FN(lanes4)(t, t, t, t); }
// Group tables of pairs p0 and p1 (gs0, gs1: their two fp16 scales of the group), all four in one pass
// over 512-bit vectors (half the operations of two pair_table calls, which the M = 1 GEMV pays per
// output and group): the same float products and RNE conversions.
static inline VEC FN(pair_tables)(const uint16_t *gs0, const uint16_t *gs1) {
    uint32_t h0, h1;
    memcpy(&h0, gs0, 4);
    memcpy(&h1, gs1, 4);
    const __m512 s4 = _mm512_castps128_ps512(_mm_cvtph_ps(_mm_set_epi32(0, 0, (int)h1, (int)h0)));
    const __m512 q = _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, -8, -7, -6, -5, -4, -3, -2, -1);
    // z_o: output o's 16 entries as int32 (o = pair 0 out0, out1, pair 1 out0, out1).
    const __m512i z0 = _mm512_cvtps_epi32(_mm512_mul_ps(q, _mm512_permutexvar_ps(_mm512_set1_epi32(0), s4)));
    const __m512i z1 = _mm512_cvtps_epi32(_mm512_mul_ps(q, _mm512_permutexvar_ps(_mm512_set1_epi32(1), s4)));
    const __m512i z2 = _mm512_cvtps_epi32(_mm512_mul_ps(q, _mm512_permutexvar_ps(_mm512_set1_epi32(2), s4)));
    const __m512i z3 = _mm512_cvtps_epi32(_mm512_mul_ps(q, _mm512_permutexvar_ps(_mm512_set1_epi32(3), s4)));
    // The saturating packs work per 128-bit lane L: dword 4L + o comes out as entries 4L..4L+3 of z_o;
    // the permute gathers lane o = z_o, and the max completes the clamp to [-127, 127].
    const __m512i b = _mm512_packs_epi16(_mm512_packs_epi32(z0, z1), _mm512_packs_epi32(z2, z3));
    const __m512i idx = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    return _mm512_max_epi8(_mm512_permutexvar_epi32(idx, b), _mm512_set1_epi8(-127));
}
static inline void FN(lane_sums)(VEC v, int32_t s[4]) {
    s[0] = FN(hsum128)(_mm512_castsi512_si128(v));
    s[1] = FN(hsum128)(_mm512_extracti32x4_epi32(v, 1));
    s[2] = FN(hsum128)(_mm512_extracti32x4_epi32(v, 2));
    s[3] = FN(hsum128)(_mm512_extracti32x4_epi32(v, 3));
}
#else
static inline VEC FN(zero)(void) { return _mm256_setzero_si256(); }
static inline VEC FN(add)(VEC x, VEC y) { return _mm256_add_epi32(x, y); }
static inline VEC FN(dp)(VEC acc, VEC u, VEC w) { return _mm256_dpbusd_avx_epi32(acc, u, w); }
static inline VEC FN(bcast)(const uint8_t *p) { return _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)p)); }
static inline VEC FN(load2)(const uint8_t *p0, const uint8_t *p1) { (void)p1; return _mm256_loadu_si256((const __m256i *)p0); }
static inline VEC FN(lut)(VEC table, VEC idx) { return _mm256_shuffle_epi8(table, idx); }
static inline VEC FN(low_nibbles)(VEC b) { return _mm256_and_si256(b, _mm256_set1_epi8(0x0F)); }
static inline VEC FN(high_nibbles)(VEC b) { return _mm256_and_si256(_mm256_srli_epi16(b, 4), _mm256_set1_epi8(0x0F)); }
static inline VEC FN(per_channel_table)(void) { __m128i t = FN(q_table)(); return _mm256_set_m128i(t, t); }
static inline VEC FN(pair_tables)(const uint16_t *gs0, const uint16_t *gs1) {
    (void)gs1;
    return FN(pair_table)(gs0);
}
static inline void FN(lane_sums)(VEC v, int32_t s[2]) {
    s[0] = FN(hsum128)(_mm256_castsi256_si128(v));
    s[1] = FN(hsum128)(_mm256_extracti128_si256(v, 1));
}
#endif

#define QQQ_MB 64  // tokens per block: their activations stay in L2 while the weights stream
#define QQQ_MAX_GROUPS 1024

// One tile: ROWS (1..4) tokens x QQQ_TILE_PAIRS output pairs (w0, w1: the pairs' bytes; w1 == w0 when
// the tile has one pair). Forced inline so each (ROWS, FORMAT) is its own loop with no test inside.
// Two accumulators per token (low and high 16 k of each chunk) give eight independent vpdpbusd chains.
static inline __attribute__((always_inline)) void FN(tile)(const int ROWS, const int FORMAT, int64_t chunks,
        const uint8_t *ua, int64_t lda, int64_t t0, const uint8_t *w0, const uint8_t *w1, int64_t next,
        const VEC *tables, VEC out[4]) {
    const VEC tq = FN(per_channel_table)();
    const uint8_t *u0 = ua + t0 * lda, *u1 = u0 + lda, *u2 = u1 + lda, *u3 = u2 + lda;
    VEC lo0 = FN(zero)(), lo1 = lo0, lo2 = lo0, lo3 = lo0, hi0 = lo0, hi1 = lo0, hi2 = lo0, hi3 = lo0;
    for (int64_t c = 0; c < chunks; c++) {
        VEC wlo, whi;
        // 4-bit formats: fetch the next tile's weights at the same position into L1 and the one after it
        // into L2, one line per two chunks. A lone GEMV row spends ~10 instructions per 64 weight bytes,
        // so the out-of-order window alone keeps too few lines in flight: 4096x11008 at M = 1, 2 threads,
        // 0.84-0.86 ms without, 0.63-0.65 ms with (W8A8 moves twice the bytes per instruction and reads
        // at its ceiling without).
        if (FORMAT != QQQ_W8 && !(c & 1)) {
            _mm_prefetch((const char *)(w0 + c * 32 + next), _MM_HINT_T0);
            _mm_prefetch((const char *)(w1 + c * 32 + next), _MM_HINT_T0);
            _mm_prefetch((const char *)(w0 + c * 32 + 2 * next), _MM_HINT_T1);
            _mm_prefetch((const char *)(w1 + c * 32 + 2 * next), _MM_HINT_T1);
        }
        if (FORMAT == QQQ_W8) {  // [out0 k0..15 | out1 k0..15] then the k16..31 half, 64 bytes per pair
            wlo = FN(load2)(w0 + c * 64, w1 + c * 64);
            whi = FN(load2)(w0 + c * 64 + 32, w1 + c * 64 + 32);
        } else {
            const VEC table = FORMAT == QQQ_W4_PER_GROUP ? tables[c >> 2] : tq;
            const VEC nib = FN(load2)(w0 + c * 32, w1 + c * 32);
            wlo = FN(lut)(table, FN(low_nibbles)(nib));
            whi = FN(lut)(table, FN(high_nibbles)(nib));
        }
#define QQQ_VNNI_ROW(LO, HI, U)                               \
    {                                                         \
        LO = FN(dp)(LO, FN(bcast)(U + 32 * c), wlo);          \
        HI = FN(dp)(HI, FN(bcast)(U + 32 * c + 16), whi);     \
    }
        QQQ_VNNI_ROW(lo0, hi0, u0)
        if (ROWS > 1) QQQ_VNNI_ROW(lo1, hi1, u1)
        if (ROWS > 2) QQQ_VNNI_ROW(lo2, hi2, u2)
        if (ROWS > 3) QQQ_VNNI_ROW(lo3, hi3, u3)
#undef QQQ_VNNI_ROW
    }
    out[0] = FN(add)(lo0, hi0);
    out[1] = FN(add)(lo1, hi1);
    out[2] = FN(add)(lo2, hi2);
    out[3] = FN(add)(lo3, hi3);
}

static inline __attribute__((always_inline)) void FN(tile_rows)(const int FORMAT, int64_t rows, int64_t chunks,
        const uint8_t *ua, int64_t lda, int64_t t0, const uint8_t *w0, const uint8_t *w1, int64_t next,
        const VEC *tables, VEC out[4]) {
#define QQQ_T(R) FN(tile)(R, FORMAT, chunks, ua, lda, t0, w0, w1, next, tables, out)
    QQQ_TILE_ROWS_4(rows, QQQ_T)
#undef QQQ_T
}

// sum_k ua*w - 128 * sum_k w = sum_k a*w, in wrapping arithmetic (exact whenever the result fits in
// int32, which the contract guarantees).
static inline int32_t FN(unoffset)(int32_t s, int32_t wsum) {
    return (int32_t)((uint32_t)s - 128u * (uint32_t)wsum);
}

#include "int8_vnni_panel_impl.h"

// Reads ua and qsum (sum_k w[n][k] of the format's int8 weights) for every format; a is unused.
// M >= QQQ_VP_MIN_M runs the panel kernel (QQQ_INT_PANEL=0 in the environment keeps this tile).
static void FN(int_gemm)(int format, int64_t m, int64_t k, const int8_t *a, const uint8_t *ua, int64_t lda,
                         const float *sigma, const void *packed, const int32_t *qsum, const uint16_t *gscales,
                         const float *scale, const float *bias, int64_t n, int64_t pair0, int64_t pair1,
                         float *y, int64_t ldy, int32_t *acc, int64_t ldacc) {
    (void)a;
    if (m >= QQQ_VP_MIN_M && !qqq_int_panel_disabled &&
        FN(int_gemm_vpanel)(format, m, k, ua, lda, sigma, packed, qsum, gscales, scale, bias, n, pair0, pair1, y, ldy,
                            acc, ldacc) == 0)
        return;
    const int64_t chunks = k / 32, groups = (k + 127) / 128;
    const int64_t pair_bytes = format == QQQ_W8 ? chunks * 64 : chunks * 32;
    VEC tables[QQQ_MAX_GROUPS];
    for (int64_t mb = 0; mb < m; mb += QQQ_MB) {
        int64_t mend = m - mb < QQQ_MB ? m : mb + QQQ_MB;
        for (int64_t p = pair0; p < pair1; p += QQQ_TILE_PAIRS) {
            // A last tile with one pair reads that pair twice and stores it once.
            const int64_t pb = QQQ_TILE_PAIRS > 1 && p + 1 < pair1 ? p + 1 : p;
            const int tile_pairs = pb > p ? 2 : 1;
            const uint8_t *w0 = (const uint8_t *)packed + p * pair_bytes, *w1 = (const uint8_t *)packed + pb * pair_bytes;
            // Byte offset of the next tile's pairs (prefetched by the 4-bit tiles; 0 on the last tile).
            const int64_t next = p + QQQ_TILE_PAIRS < pair1 ? QQQ_TILE_PAIRS * pair_bytes : 0;
            // Group tables of the tile's pairs, built once and shared by every token of the block.
            if (format == QQQ_W4_PER_GROUP)
                for (int64_t g = 0; g < groups; g++)
                    tables[g] = FN(pair_tables)(gscales + (p * groups + g) * 2, gscales + (pb * groups + g) * 2);
            for (int64_t t0 = mb; t0 < mend; t0 += 4) {
                int64_t rows = mend - t0 < 4 ? mend - t0 : 4;
                VEC accs[4];
                switch (format) {
                case QQQ_W4_PER_CHANNEL: FN(tile_rows)(QQQ_W4_PER_CHANNEL, rows, chunks, ua, lda, t0, w0, w1, next, tables, accs); break;
                case QQQ_W4_PER_GROUP: FN(tile_rows)(QQQ_W4_PER_GROUP, rows, chunks, ua, lda, t0, w0, w1, next, tables, accs); break;
                default: FN(tile_rows)(QQQ_W8, rows, chunks, ua, lda, t0, w0, w1, next, tables, accs); break;
                }
                for (int64_t r = 0; r < rows; r++) {
                    int32_t s[2 * QQQ_TILE_PAIRS];
                    FN(lane_sums)(accs[r], s);
                    for (int j = 0; j < tile_pairs; j++) {
                        const int64_t n0 = 2 * (p + j);
                        int32_t s0 = FN(unoffset)(s[2 * j], qsum[n0]);
                        int32_t s1 = n0 + 1 < n ? FN(unoffset)(s[2 * j + 1], qsum[n0 + 1]) : 0;
                        // The portable epilogue: the contract's float operations, no contraction.
                        store_outputs_portable(t0 + r, n0, n, s0, s1, sigma, scale, bias, y, ldy, acc, ldacc);
                    }
                }
            }
        }
    }
}

#undef QQQ_MAX_GROUPS
#undef QQQ_MB
#undef QQQ_VP_ROWS
#undef QQQ_VP_NS
#undef QQQ_VP_VW
#undef QQQ_VP_KC
#undef QQQ_VP_MB
#undef QQQ_VP_MIN_M
#undef VEC
#undef QQQ_TILE_PAIRS
