// The 16-entry tables of one output pair and group, lanes [out0 | out1]: w8[v] = clamp(rne(q(v) * s), -127, 127),
// q(v) the two's complement nibble, s the output's fp16 ratio (converted exactly, as F16C does). One
// float product and an RNE conversion per entry, as the contract, eight entries at a time: the M = 1
// per-group GEMV builds a table per output and group, and scalar code there halved its speed.
// Included once per 256-bit-or-wider path (FN names it); no include guard on purpose.
static inline __m256i FN(pair_table)(const uint16_t gs[2]) {
    uint32_t h;
    memcpy(&h, gs, 4);
    // [s0 s0 s0 s0 | s1 s1 s1 s1]: both ratios in one conversion, spread by one permute.
    const __m256 s = _mm256_permutevar8x32_ps(_mm256_castps128_ps256(_mm_cvtph_ps(_mm_cvtsi32_si128((int)h))),
                                              _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1));
    // The packs work per 128-bit lane and saturate to [-128, 127]: lane L comes out as dwords 4L..4L+3
    // of a, b, c, d in turn, so with the nibble values laid out four per lane the bytes land in table
    // order, [v 0..15 of out0 | v 0..15 of out1], and the max completes the clamp to [-127, 127].
    const __m256i a = _mm256_cvtps_epi32(_mm256_mul_ps(s, _mm256_setr_ps(0, 1, 2, 3, 0, 1, 2, 3)));
    const __m256i b = _mm256_cvtps_epi32(_mm256_mul_ps(s, _mm256_setr_ps(4, 5, 6, 7, 4, 5, 6, 7)));
    const __m256i c = _mm256_cvtps_epi32(_mm256_mul_ps(s, _mm256_setr_ps(-8, -7, -6, -5, -8, -7, -6, -5)));
    const __m256i d = _mm256_cvtps_epi32(_mm256_mul_ps(s, _mm256_setr_ps(-4, -3, -2, -1, -4, -3, -2, -1)));
    const __m256i packed = _mm256_packs_epi16(_mm256_packs_epi32(a, b), _mm256_packs_epi32(c, d));
    return _mm256_max_epi8(packed, _mm256_set1_epi8(-127));
}
