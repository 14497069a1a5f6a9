// Epilogue of one token and 8 whole outputs from n0 (all < n): y = (float(s) * scale) * sigma + bias with
// the scalar code's rounding (separate products, no FMA), and the int32 sums into acc when asked.
// Included once per 256-bit-or-wider path (FN names it); no include guard on purpose.
static inline __attribute__((always_inline)) void FN(store8_full)(__m256i s, int64_t t, int64_t n0, const float *sigma, const float *scale,
                                   const float *bias, float *y, int64_t ldy, int32_t *acc, int64_t ldacc) {
    __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(s), _mm256_loadu_ps(scale + n0));
    v = _mm256_mul_ps(v, _mm256_set1_ps(sigma[t]));
    v = _mm256_add_ps(v, bias ? _mm256_loadu_ps(bias + n0) : _mm256_setzero_ps());
    _mm256_storeu_ps(y + t * ldy + n0, v);
    if (acc) _mm256_storeu_si256((__m256i *)(acc + t * ldacc + n0), s);
}
