// The 16-entry tables of one output pair and group, lanes [out0 | out1]: w8[v] = clamp(rne(q(v) * s), -127, 127),
// q(v) the two's complement nibble, s the output's fp16 ratio (converted exactly, as F16C does). One
// float product and an RNE conversion per entry, as the contract, eight entries at a time: the M = 1
// per-group GEMV builds a table per output and group, and scalar code there halved its speed.
// Included once per 256-bit-or-wider path (FN names it); no include guard on purpose.
static inline __m256i FN(pair_table)(const uint16_t gs[2]) {
    const __m256 qlo = _mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7), qhi = _mm256_setr_ps(-8, -7, -6, -5, -4, -3, -2, -1);
    const __m256 s0 = _mm256_set1_ps(_cvtsh_ss(gs[0])), s1 = _mm256_set1_ps(_cvtsh_ss(gs[1]));
    const __m256i a = _mm256_cvtps_epi32(_mm256_mul_ps(qlo, s0)), b = _mm256_cvtps_epi32(_mm256_mul_ps(qhi, s0));
    const __m256i c = _mm256_cvtps_epi32(_mm256_mul_ps(qlo, s1)), d = _mm256_cvtps_epi32(_mm256_mul_ps(qhi, s1));
    // The packs work per 128-bit lane and saturate to [-128, 127]: dwords come out as
    // [a0-3 b0-3 c0-3 d0-3 | a4-7 b4-7 c4-7 d4-7]; one dword permute restores [a b | c d], and the max
    // completes the clamp to [-127, 127].
    const __m256i packed = _mm256_packs_epi16(_mm256_packs_epi32(a, b), _mm256_packs_epi32(c, d));
    const __m256i ordered = _mm256_permutevar8x32_epi32(packed, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    return _mm256_max_epi8(ordered, _mm256_set1_epi8(-127));
}
