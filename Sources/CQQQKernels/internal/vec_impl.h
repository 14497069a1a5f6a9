// Row-wise vector helpers, compiled once per CPU path (see gemm_f32.c). Reductions use
// `#pragma clang fp reassociate(on)` so they vectorise without -ffast-math.

static inline float FN(dot_f32)(const float *x, const float *y, int64_t n) {
#if QQQ_AVX2
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), s1);
        s2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 16), _mm256_loadu_ps(y + i + 16), s2);
        s3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 24), _mm256_loadu_ps(y + i + 24), s3);
    }
    for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), s0);
    __m256 s = _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3));
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_shuffle_ps(h, h, 1));
    float sum = _mm_cvtss_f32(h);
    for (; i < n; i++) sum += x[i] * y[i];
    return sum;
#else
#pragma clang fp reassociate(on)
    float sum = 0;
    for (int64_t i = 0; i < n; i++) sum += x[i] * y[i];
    return sum;
#endif
}

// exp(x) to ~1 ulp for |x| <= 88 (Cephes-style): n = round(x log2 e), r = x - n ln2 (two parts),
// a degree-6 polynomial, times 2^n through the exponent bits. Branch-free so loops vectorise.
static inline float FN(expf_approx)(float x) {
    x = x < -87.3f ? -87.3f : (x > 88.3f ? 88.3f : x);
    float n = __builtin_rintf(x * 1.44269504088896341f);
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t e = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &e, 4);
    return p * scale;
}

#if QQQ_AVX2
// The same exp on 8 lanes.
static inline __m256 FN(exp8)(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.3f)), _mm256_set1_ps(88.3f));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(_mm256_mul_ps(p, r), r, _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

static inline float FN(hsum8)(__m256 s) {
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_shuffle_ps(h, h, 1));
    return _mm_cvtss_f32(h);
}
#endif

// ln(x) for finite x > 0 (Cephes logf, ~2 ulp): x = m * 2^e with m in [sqrt(1/2), sqrt(2)), then
// ln(1 + f) by a degree-9 polynomial. Subnormal x gives a value near ln(2^-126): callers only feed it
// to exp, where that underflows as the exact value would.
static inline float FN(logf_approx)(float x) {
#pragma clang fp contract(off)
    uint32_t bits;
    memcpy(&bits, &x, 4);
    float e = (float)((int32_t)(bits >> 23) - 127);
    bits = (bits & 0x007FFFFFu) | 0x3F800000u;
    float m;
    memcpy(&m, &bits, 4);
    if (m > 1.41421356f) { m *= 0.5f; e += 1.0f; }
    float f = m - 1.0f, z = f * f;
    float y = 7.0376836292e-2f;
    y = y * f - 1.1514610310e-1f;
    y = y * f + 1.1676998740e-1f;
    y = y * f - 1.2420140846e-1f;
    y = y * f + 1.4249322787e-1f;
    y = y * f - 1.6668057665e-1f;
    y = y * f + 2.0000714765e-1f;
    y = y * f - 2.4999993993e-1f;
    y = y * f + 3.3333331174e-1f;
    y = y * f * z;
    y = y + e * -2.12194440e-4f;
    y = y - 0.5f * z;
    return (f + y) + e * 0.693359375f;
}

#if QQQ_AVX2
// The same ln on 8 lanes.
static inline __m256 FN(log8)(__m256 x) {
    __m256i bits = _mm256_castps_si256(x);
    __m256 e = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srli_epi32(bits, 23), _mm256_set1_epi32(127)));
    __m256 m = _mm256_castsi256_ps(_mm256_or_si256(_mm256_and_si256(bits, _mm256_set1_epi32(0x007FFFFF)),
                                                   _mm256_set1_epi32(0x3F800000)));
    __m256 big = _mm256_cmp_ps(m, _mm256_set1_ps(1.41421356f), _CMP_GT_OQ);
    m = _mm256_blendv_ps(m, _mm256_mul_ps(m, _mm256_set1_ps(0.5f)), big);
    e = _mm256_add_ps(e, _mm256_and_ps(big, _mm256_set1_ps(1.0f)));
    __m256 f = _mm256_sub_ps(m, _mm256_set1_ps(1.0f)), z = _mm256_mul_ps(f, f);
    __m256 y = _mm256_set1_ps(7.0376836292e-2f);
    y = _mm256_fmadd_ps(y, f, _mm256_set1_ps(-1.1514610310e-1f));
    y = _mm256_fmadd_ps(y, f, _mm256_set1_ps(1.1676998740e-1f));
    y = _mm256_fmadd_ps(y, f, _mm256_set1_ps(-1.2420140846e-1f));
    y = _mm256_fmadd_ps(y, f, _mm256_set1_ps(1.4249322787e-1f));
    y = _mm256_fmadd_ps(y, f, _mm256_set1_ps(-1.6668057665e-1f));
    y = _mm256_fmadd_ps(y, f, _mm256_set1_ps(2.0000714765e-1f));
    y = _mm256_fmadd_ps(y, f, _mm256_set1_ps(-2.4999993993e-1f));
    y = _mm256_fmadd_ps(y, f, _mm256_set1_ps(3.3333331174e-1f));
    y = _mm256_mul_ps(_mm256_mul_ps(y, f), z);
    y = _mm256_fmadd_ps(e, _mm256_set1_ps(-2.12194440e-4f), y);
    y = _mm256_fnmadd_ps(_mm256_set1_ps(0.5f), z, y);
    return _mm256_fmadd_ps(e, _mm256_set1_ps(0.693359375f), _mm256_add_ps(f, y));
}
#endif

// Rounding error of x on the symmetric integer grid of `scale`, to the power p: the sum over i of
// |scale * rne(clamp(x[i] / scale, lo, hi)) - x[i]|^p (exact zeros add 0), with |d|^p = exp(p ln |d|).
// Stops once the partial sum reaches `bound` (every 32 values), so a result >= bound means "not
// below bound". The clip search of GPTQ's scales calls this once per candidate scale.
static float FN(grid_error_pow)(const float *x, int64_t count, float scale, float lo, float hi, float p, float bound) {
#pragma clang fp contract(off)
    float sum = 0;
    int64_t i = 0;
#if QQQ_AVX2
    const __m256 vs = _mm256_set1_ps(scale), vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi), vp = _mm256_set1_ps(p);
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF)), zero = _mm256_setzero_ps();
#define QQQ_GRID_TERM(OFF)                                                                                      \
    ({                                                                                                          \
        __m256 v = _mm256_loadu_ps(x + i + (OFF));                                                              \
        __m256 c = _mm256_min_ps(_mm256_max_ps(_mm256_div_ps(v, vs), vlo), vhi);                                \
        c = _mm256_round_ps(c, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);                                  \
        __m256 d = _mm256_and_ps(_mm256_sub_ps(_mm256_mul_ps(vs, c), v), absmask);                              \
        _mm256_and_ps(FN(exp8)(_mm256_mul_ps(vp, FN(log8)(d))), _mm256_cmp_ps(d, zero, _CMP_GT_OQ));           \
    })
    while (i + 32 <= count) {
        __m256 t0 = QQQ_GRID_TERM(0), t1 = QQQ_GRID_TERM(8), t2 = QQQ_GRID_TERM(16), t3 = QQQ_GRID_TERM(24);
        sum += FN(hsum8)(_mm256_add_ps(_mm256_add_ps(t0, t1), _mm256_add_ps(t2, t3)));
        i += 32;
        if (!(sum < bound)) return sum;
    }
    if (i + 8 <= count) {
        __m256 t = zero;
        for (; i + 8 <= count; i += 8) t = _mm256_add_ps(t, QQQ_GRID_TERM(0));
        sum += FN(hsum8)(t);
    }
#undef QQQ_GRID_TERM
#endif
    for (; i < count; i++) {
        float v = x[i];
        float c = v / scale;
        c = c < lo ? lo : (c > hi ? hi : c);
        float d = fabsf(scale * __builtin_rintf(c) - v);
        if (d > 0) sum += FN(expf_approx)(p * FN(logf_approx)(d));
        if ((i & 31) == 31 && !(sum < bound)) return sum;
    }
    return sum;
}

static void FN(rms_norm)(const float *x, const float *w, float *out, int64_t count, float eps) {
    float ss;
    {
#pragma clang fp reassociate(on)
        ss = 0;
        for (int64_t i = 0; i < count; i++) ss += x[i] * x[i];
    }
    float inv = 1.0f / sqrtf(ss / (float)count + eps);
    for (int64_t i = 0; i < count; i++) out[i] = w[i] * (x[i] * inv);
}

static void FN(silu_mul)(const float *gate, const float *up, float *out, int64_t count) {
    int64_t i = 0;
#if QQQ_AVX2
    for (; i + 8 <= count; i += 8) {
        __m256 g = _mm256_loadu_ps(gate + i);
        __m256 e = FN(exp8)(_mm256_sub_ps(_mm256_setzero_ps(), g));
        __m256 s = _mm256_div_ps(g, _mm256_add_ps(_mm256_set1_ps(1.0f), e));
        _mm256_storeu_ps(out + i, _mm256_mul_ps(s, _mm256_loadu_ps(up + i)));
    }
#endif
    for (; i < count; i++) {
        float g = gate[i];
        out[i] = g / (1.0f + FN(expf_approx)(-g)) * up[i];
    }
}

// max_i x[i]; NaNs are skipped (the vector max keeps its second operand when the first is NaN).
static inline float FN(max_f32)(const float *x, int64_t count) {
    float m = -INFINITY;
    int64_t i = 0;
#if QQQ_AVX2
    __m256 vmax = _mm256_set1_ps(-INFINITY);
    for (; i + 8 <= count; i += 8) vmax = _mm256_max_ps(_mm256_loadu_ps(x + i), vmax);
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(vmax), _mm256_extractf128_ps(vmax, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_shuffle_ps(h, h, 1));
    m = _mm_cvtss_f32(h);
#endif
    for (; i < count; i++) m = x[i] > m ? x[i] : m;
    return m;
}

// x[i] = exp(x[i] - m); returns the sum (vector lanes first, then the scalar tail).
static inline float FN(exp_shifted_sum)(float *x, int64_t count, float m) {
    float sum = 0;
    int64_t i = 0;
#if QQQ_AVX2
    __m256 vm = _mm256_set1_ps(m), vs = _mm256_setzero_ps();
    for (; i + 8 <= count; i += 8) {
        __m256 e = FN(exp8)(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm));
        _mm256_storeu_ps(x + i, e);
        vs = _mm256_add_ps(vs, e);
    }
    sum = FN(hsum8)(vs);
#endif
    for (; i < count; i++) { float e = FN(expf_approx)(x[i] - m); x[i] = e; sum += e; }
    return sum;
}

static void FN(softmax)(float *x, int64_t count) {
    if (count <= 0) return;
    float m = FN(max_f32)(x, count);
    float sum = FN(exp_shifted_sum)(x, count, m);
    float inv = 1.0f / sum;
    for (int64_t i = 0; i < count; i++) x[i] *= inv;
}

// Causal softmax of attention scores, rows [r][0, width) with leading dimension ld: row r sees keys
// 0..i0+r (valid = i0 + r + 1, at most width). Each valid entry becomes softmax(x * scale) as FN(softmax)
// computes it (same operations in the same order, so the same bits), the masked tail 0. Three passes
// over a row (scale + max, exp + sum, normalise + zero) instead of five separate loops.
static void FN(softmax_causal)(float *s, int64_t ld, int64_t rows, int64_t i0, int64_t width, float scale) {
    for (int64_t r = 0; r < rows; r++) {
        float *x = s + r * ld;
        int64_t valid = i0 + r + 1 < width ? i0 + r + 1 : width, i = 0;
        float m = -INFINITY;
#if QQQ_AVX2
        __m256 vsc = _mm256_set1_ps(scale), vmax = _mm256_set1_ps(-INFINITY);
        for (; i + 8 <= valid; i += 8) {
            __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + i), vsc);
            _mm256_storeu_ps(x + i, v);
            vmax = _mm256_max_ps(vmax, v);
        }
        __m128 h = _mm_max_ps(_mm256_castps256_ps128(vmax), _mm256_extractf128_ps(vmax, 1));
        h = _mm_max_ps(h, _mm_movehl_ps(h, h));
        h = _mm_max_ss(h, _mm_shuffle_ps(h, h, 1));
        m = _mm_cvtss_f32(h);
#endif
        for (; i < valid; i++) { x[i] *= scale; m = x[i] > m ? x[i] : m; }
        float inv = 1.0f / FN(exp_shifted_sum)(x, valid, m);
        i = 0;
#if QQQ_AVX2
        __m256 vinv = _mm256_set1_ps(inv);
        for (; i + 8 <= valid; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), vinv));
#endif
        for (; i < valid; i++) x[i] *= inv;
        if (width > valid) memset(x + valid, 0, (size_t)(width - valid) * sizeof(float));
    }
}

static float FN(log_sum_exp)(const float *x, int64_t count) {
    if (count <= 0) return -INFINITY;
    float m = FN(max_f32)(x, count);
    float sum = 0;
    int64_t i = 0;
#if QQQ_AVX2
    __m256 vm = _mm256_set1_ps(m), s0 = _mm256_setzero_ps(), s1 = s0;
    for (; i + 16 <= count; i += 16) {
        s0 = _mm256_add_ps(s0, FN(exp8)(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm)));
        s1 = _mm256_add_ps(s1, FN(exp8)(_mm256_sub_ps(_mm256_loadu_ps(x + i + 8), vm)));
    }
    sum = FN(hsum8)(_mm256_add_ps(s0, s1));
#endif
    for (; i < count; i++) sum += FN(expf_approx)(x[i] - m);
    return m + logf(sum);
}

static void FN(f32_to_f16)(const float *src, uint16_t *dst, int64_t count) {
    int64_t i = 0;
#if QQQ_AVX2
    for (; i + 8 <= count; i += 8)
        _mm_storeu_si128((__m128i *)(dst + i), _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
#endif
    for (; i < count; i++) dst[i] = qqq_f2h(src[i]);
}
