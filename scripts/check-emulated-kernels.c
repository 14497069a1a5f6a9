// Emulation check of the VNNI / AVX-512 kernels (built by scripts/check-emulated-kernels with
// Sources/CQQQKernels/int8_kernels.c, gemm_f32.c and peak.c under -DQQQ_EMULATE_SIMD, SIMDe standing in
// for the intrinsics). For every integer format and awkward shape it requires, bit for bit:
//   portable path == a scalar evaluation of the contract in qqq_int8.h (written here, independently),
//   AVX-VNNI and AVX-512 paths == portable path (int32 accumulators and float outputs),
//   qqq_int_weight_sums == sum_k w[n][k] of the contract's weights.
// For the FP32 GEMM's AVX-512 path (12 x 16 micro-kernel): every B type and layout, transposed A and the
// symmetric rank-k update, against a Double reference (|error| <= 2e-6 * sqrt(k), the tests' bound), the
// rank-k update's upper triangle bit for bit against the same path's full product; the vector helpers
// against the portable path.
// Prints one summary line per part; exits 1 on any mismatch.
#include "qqq_gemm.h"
#include "qqq_int8.h"
#include "qqq_peak.h"
#include "internal/half.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t next(void) {
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static int irange(int lo, int hi) { return lo + (int)(next() % (uint64_t)(hi - lo + 1)); }
static float frand(void) { return (float)(next() >> 40) / (float)(1 << 24); }

static long failures = 0, cases = 0;
static void fail(const char *what, int format, int path, int64_t m, int64_t n, int64_t k, int64_t t, int64_t o,
                 double got, double want) {
    if (failures++ < 10)
        fprintf(stderr, "MISMATCH %s: format %d path %d m%lld n%lld k%lld at [%lld][%lld]: got %.9g want %.9g\n", what,
                format, path, (long long)m, (long long)n, (long long)k, (long long)t, (long long)o, got, want);
}

// Group scales that hit the edges: |q * s| at 127 (and beyond, clamped), halves (RNE ties), subnormal-ish.
static uint16_t group_scale(void) {
    static const float edge[] = {127.0f / 7, 127.0f / 8, 16.0f, 18.0f, 0.5f, 1.5f, 2.5f, 0.25f, 15.875f, 1e-3f};
    if (next() % 3 == 0) return qqq_f2h(edge[next() % (sizeof edge / sizeof edge[0])]);
    return qqq_f2h(0.5f + frand() * 17.5f);
}

static void run_case(int format, int64_t m, int64_t n, int64_t k) {
    const int64_t groups = (k + 127) / 128, pairs = (n + 1) / 2;
    const int64_t lda = k + 32, ldy = n + 1, ldacc = n + 3;  // leading dimensions beyond the row
    int8_t *a = malloc((size_t)(m * lda));
    uint8_t *ua = malloc((size_t)(m * lda));
    float *sigma = malloc((size_t)m * sizeof(float));
    for (int64_t t = 0; t < m; t++) {
        int mode = (int)(t % 5);
        for (int64_t i = 0; i < k; i++) {
            int v;
            switch (mode) {
            case 1: v = 0; break;                                    // an all-zero row (sigma 0)
            case 2: v = (i & 1) ? 127 : -128; break;                 // the extremes
            case 3: v = (i % 3 == 0) ? -128 : irange(-128, 127); break;
            default: v = irange(-128, 127); break;
            }
            a[t * lda + i] = (int8_t)v;
            ua[t * lda + i] = (uint8_t)(v + 128);
        }
        sigma[t] = mode == 1 ? 0.0f : 1e-3f + frand();
    }
    // Weights: plain [N][K] ints per the contract, and their packed form.
    int32_t *w = malloc((size_t)(n * k) * sizeof(int32_t));
    uint8_t *plain = calloc((size_t)(n * k / 2), 1);
    int8_t *w8 = malloc((size_t)(n * k));
    uint16_t *sg = malloc((size_t)(n * groups) * sizeof(uint16_t));
    uint16_t *gs = calloc((size_t)(pairs * groups * 2), sizeof(uint16_t));
    for (int64_t r = 0; r < n; r++) {
        int rowmode = (int)(r % 7);
        for (int64_t g = 0; g < groups; g++) sg[r * groups + g] = group_scale();
        for (int64_t g = 0; g < groups; g++) gs[((r / 2) * groups + g) * 2 + r % 2] = sg[r * groups + g];
        for (int64_t i = 0; i < k; i++) {
            if (format == QQQ_W8) {
                int v = rowmode == 1 ? 127 : rowmode == 2 ? -127 : irange(-127, 127);
                w8[r * k + i] = (int8_t)v;
                w[r * k + i] = v;
            } else {
                int q = rowmode == 1 ? 7 : rowmode == 2 ? -8 : irange(-8, 7);
                plain[(r * k + i) / 2] |= (uint8_t)((q & 15) << ((i & 1) * 4));
                if (format == QQQ_W4_PER_GROUP) {  // the contract: clamp(rne(float(q) * s), -127, 127)
                    float v = rintf((float)q * qqq_h2f(sg[r * groups + i / 128]));
                    w[r * k + i] = (int32_t)(v < -127 ? -127 : v > 127 ? 127 : v);
                } else {
                    w[r * k + i] = q;
                }
            }
        }
    }
    void *packed;
    if (format == QQQ_W8) {
        packed = malloc((size_t)(pairs * 2 * k));
        qqq_w8_pack(w8, n, k, packed);
    } else {
        packed = malloc((size_t)(pairs * k));
        qqq_w4_pack(plain, n, k, packed);
    }
    int32_t *qsum = malloc((size_t)n * sizeof(int32_t));
    qqq_int_weight_sums(format, packed, gs, n, k, qsum);
    for (int64_t r = 0; r < n; r++) {
        int64_t s = 0;
        for (int64_t i = 0; i < k; i++) s += w[r * k + i];
        if (qsum[r] != s) fail("weight sum", format, -1, m, n, k, 0, r, qsum[r], (double)s);
    }
    float *scale = malloc((size_t)n * sizeof(float)), *bias = malloc((size_t)n * sizeof(float));
    for (int64_t r = 0; r < n; r++) { scale[r] = 1e-4f + frand() * 1e-2f; bias[r] = frand() - 0.5f; }
    const float *b = (n % 2) ? bias : NULL;

    // The contract, scalar.
    int32_t *want = malloc((size_t)(m * n) * sizeof(int32_t));
    for (int64_t t = 0; t < m; t++)
        for (int64_t r = 0; r < n; r++) {
            int64_t s = 0;
            for (int64_t i = 0; i < k; i++) s += (int64_t)a[t * lda + i] * w[r * k + i];
            want[t * n + r] = (int32_t)s;
        }

    float *yp = malloc((size_t)(m * ldy) * sizeof(float)), *y = malloc((size_t)(m * ldy) * sizeof(float));
    int32_t *accp = malloc((size_t)(m * ldacc) * sizeof(int32_t)), *acc = malloc((size_t)(m * ldacc) * sizeof(int32_t));
    const int paths[3] = {QQQ_PATH_PORTABLE, QQQ_PATH_AVXVNNI, QQQ_PATH_AVX512};
    for (int pi = 0; pi < 3; pi++) {
        float *yo = pi == 0 ? yp : y;
        int32_t *ao = pi == 0 ? accp : acc;
        memset(yo, 0xFF, (size_t)(m * ldy) * sizeof(float));
        memset(ao, 0xAB, (size_t)(m * ldacc) * sizeof(int32_t));
        // Split the pairs as threads do, with odd-sized shares (AVX-512's one-pair tile mid-matrix).
        int64_t cut1 = pairs / 3, cut2 = cut1 + (pairs - cut1) / 2;
        if (cut1 % 2 == 0 && cut1 + 1 <= cut2) cut1++;
        int64_t cuts[4] = {0, cut1, cut2, pairs};
        for (int s = 0; s < 3; s++)
            if (cuts[s] < cuts[s + 1])
                qqq_int_gemm(paths[pi], format, m, k, a, ua, lda, sigma, packed, qsum, gs, scale, b, n, cuts[s],
                             cuts[s + 1], yo, ldy, ao, ldacc);
        for (int64_t t = 0; t < m; t++)
            for (int64_t r = 0; r < n; r++) {
                int32_t ref = pi == 0 ? want[t * n + r] : accp[t * ldacc + r];
                if (ao[t * ldacc + r] != ref) fail(pi == 0 ? "portable vs contract" : "acc", format, paths[pi], m, n, k, t, r, ao[t * ldacc + r], ref);
                if (pi > 0 && memcmp(&y[t * ldy + r], &yp[t * ldy + r], sizeof(float)) != 0)
                    fail("y", format, paths[pi], m, n, k, t, r, y[t * ldy + r], yp[t * ldy + r]);
                if (pi == 0 && !(yp[t * ldy + r] == yp[t * ldy + r])) fail("y is NaN", format, 0, m, n, k, t, r, 0, 0);
            }
        cases++;
    }
    free(a); free(ua); free(sigma); free(w); free(plain); free(w8); free(sg); free(gs); free(packed); free(qsum);
    free(scale); free(bias); free(want); free(yp); free(y); free(accp); free(acc);
}

// Expected result of the VNNI peak loops (peak.c): lane 0 of the sum of the accumulators, accumulator i
// starting at i and adding 4 * u * s per round. Keep in step with the operands there.
static int32_t peak_expected(int accumulators, int64_t iters) {
    static const int u[4] = {3, 5, 7, 9}, s[3] = {-2, 4, -3};
    int64_t total = 0;
    for (int i = 0; i < accumulators; i++) total += i + iters * 4 * u[i % 4] * s[i / 4];
    return (int32_t)total;
}

// ---- FP32 GEMM, AVX-512 path ----
static long fp_failures = 0, fp_cases = 0;
static void fp_fail(const char *what, int64_t m, int64_t n, int64_t k, double err) {
    if (fp_failures++ < 10) fprintf(stderr, "MISMATCH fp32 %s: m%lld n%lld k%lld: error %.3g\n", what, (long long)m, (long long)n, (long long)k, err);
}

// C = (acc ? C0 : 0) + A B for one B form, AVX-512 path, against Double.
static void fp_case(int64_t m, int64_t n, int64_t k, int btype, int blayout, int a_trans, int acc, float *scratch) {
    const int64_t lda = a_trans ? m + 3 : k + 3, ldc = n + 5;
    const int64_t ldb = blayout == QQQ_B_KN ? n + 1 : k + 2, brows = blayout == QQQ_B_KN ? k : n;
    float *a = malloc((size_t)((a_trans ? k : m) * lda) * sizeof(float));
    float *bf = malloc((size_t)(brows * ldb) * sizeof(float));
    uint16_t *bh = malloc((size_t)(brows * ldb) * sizeof(uint16_t));
    for (int64_t i = 0; i < (a_trans ? k : m) * lda; i++) a[i] = frand() * 2 - 1;
    for (int64_t i = 0; i < brows * ldb; i++) {
        float v = frand() * 2 - 1;
        if (btype == QQQ_B_F16) { bh[i] = qqq_f2h(v); v = qqq_h2f(bh[i]); }
        if (btype == QQQ_B_BF16) { uint32_t u; memcpy(&u, &v, 4); bh[i] = (uint16_t)(u >> 16); v = qqq_bf2f(bh[i]); }
        bf[i] = v;
    }
    const void *b = btype == QQQ_B_F32 ? (const void *)bf : (const void *)bh;
    void *packed = NULL;
    if (blayout == QQQ_B_PACKED) {  // packed once from an NK source, as PackedWeights does
        packed = malloc((size_t)((n + 15) / 16 * 16 * k) * 4);
        qqq_sgemm_pack_b(QQQ_PATH_AVX512, b, btype, QQQ_B_NK, n, k, ldb, btype == QQQ_B_F16 ? QQQ_B_F16 : QQQ_B_F32, packed);
    }
    float *c = malloc((size_t)(m * ldc) * sizeof(float)), *c0 = malloc((size_t)(m * ldc) * sizeof(float));
    for (int64_t i = 0; i < m * ldc; i++) c0[i] = c[i] = frand() * 2 - 1;
    int ptype = blayout == QQQ_B_PACKED && btype != QQQ_B_F16 ? QQQ_B_F32 : btype;
    if (a_trans) qqq_sgemm_at(QQQ_PATH_AVX512, m, n, k, a, lda, packed ? packed : b, packed ? k : ldb, ptype, blayout, c, ldc, acc, scratch);
    else qqq_sgemm(QQQ_PATH_AVX512, m, n, k, a, lda, packed ? packed : b, packed ? k : ldb, ptype, blayout, c, ldc, acc, scratch);
    double worst = 0;
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < ldc; j++) {
            if (j >= n) { if (memcmp(&c[i * ldc + j], &c0[i * ldc + j], 4) != 0) worst = INFINITY; continue; }
            double sum = acc ? c0[i * ldc + j] : 0;
            for (int64_t p = 0; p < k; p++) {
                double av = a_trans ? a[p * lda + i] : a[i * lda + p];
                double bv = blayout == QQQ_B_KN ? bf[p * ldb + j] : bf[j * ldb + p];
                sum += av * bv;
            }
            double e = fabs(c[i * ldc + j] - sum) / sqrt((double)(k > 1 ? k : 1));
            if (!(e <= worst)) worst = e;
        }
    if (!(worst <= 2e-6)) fp_fail(blayout == QQQ_B_PACKED ? "packed" : blayout == QQQ_B_KN ? "kn" : a_trans ? "a_trans" : "nk", m, n, k, worst);
    fp_cases++;
    free(a); free(bf); free(bh); free(packed); free(c); free(c0);
}

// The rank-k update's upper triangle equals the same path's full XᵀX bit for bit (split in column ranges).
static void syrk_case(int64_t n, int64_t k, float *scratch) {
    const int64_t ldx = n + 3, ldc = n + 1;
    float *x = malloc((size_t)(k * ldx) * sizeof(float)), *full = malloc((size_t)(n * ldc) * sizeof(float));
    float *got = malloc((size_t)(n * ldc) * sizeof(float));
    for (int64_t i = 0; i < k * ldx; i++) x[i] = frand() * 2 - 1;
    for (int64_t i = 0; i < n * ldc; i++) full[i] = got[i] = frand();
    qqq_sgemm_at(QQQ_PATH_AVX512, n, n, k, x, ldx, x, ldx, QQQ_B_F32, QQQ_B_KN, full, ldc, 1, scratch);
    int64_t cut = (n / 3 + 15) / 16 * 16;
    qqq_ssyrk_upper(QQQ_PATH_AVX512, n, k, x, ldx, 0, cut, got, ldc, scratch);
    qqq_ssyrk_upper(QQQ_PATH_AVX512, n, k, x, ldx, cut, n, got, ldc, scratch);
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = i; j < n; j++)
            if (memcmp(&got[i * ldc + j], &full[i * ldc + j], 4) != 0) { fp_fail("syrk upper vs full", n, n, k, fabs(got[i * ldc + j] - full[i * ldc + j])); i = n; break; }
    fp_cases++;
    free(x); free(full); free(got);
}

// Vector helpers: the AVX-512 copies against the portable ones.
static void vec_checks(void) {
    const int64_t count = 1000;
    float x[1000], w[1000], y1[1000], y2[1000];
    uint16_t h1[1000], h2[1000];
    for (int64_t i = 0; i < count; i++) { x[i] = (frand() * 2 - 1) * 8; w[i] = frand() + 0.5f; }
    qqq_rms_norm(QQQ_PATH_PORTABLE, x, w, y1, count, 1e-5f);
    qqq_rms_norm(QQQ_PATH_AVX512, x, w, y2, count, 1e-5f);
    for (int64_t i = 0; i < count; i++) if (fabsf(y1[i] - y2[i]) > 1e-5f * (1 + fabsf(y1[i]))) { fp_fail("rms_norm", 1, count, 0, fabsf(y1[i] - y2[i])); break; }
    qqq_silu_mul(QQQ_PATH_PORTABLE, x, w, y1, count);
    qqq_silu_mul(QQQ_PATH_AVX512, x, w, y2, count);
    for (int64_t i = 0; i < count; i++) if (fabsf(y1[i] - y2[i]) > 1e-5f * (1 + fabsf(y1[i]))) { fp_fail("silu_mul", 1, count, 0, fabsf(y1[i] - y2[i])); break; }
    memcpy(y1, x, sizeof x); memcpy(y2, x, sizeof x);
    qqq_softmax(QQQ_PATH_PORTABLE, y1, count);
    qqq_softmax(QQQ_PATH_AVX512, y2, count);
    for (int64_t i = 0; i < count; i++) if (fabsf(y1[i] - y2[i]) > 1e-5f * (1e-3f + fabsf(y1[i]))) { fp_fail("softmax", 1, count, 0, fabsf(y1[i] - y2[i])); break; }
    float l1 = qqq_log_sum_exp(QQQ_PATH_PORTABLE, x, count), l2 = qqq_log_sum_exp(QQQ_PATH_AVX512, x, count);
    if (fabsf(l1 - l2) > 1e-5f * fabsf(l1)) fp_fail("log_sum_exp", 1, count, 0, fabsf(l1 - l2));
    float d1 = qqq_dot(QQQ_PATH_PORTABLE, x, w, count), d2 = qqq_dot(QQQ_PATH_AVX512, x, w, count);
    if (fabsf(d1 - d2) > 1e-4f * (1 + fabsf(d1))) fp_fail("dot", 1, count, 0, fabsf(d1 - d2));
    qqq_f32_to_f16(QQQ_PATH_PORTABLE, x, h1, count);
    qqq_f32_to_f16(QQQ_PATH_AVX512, x, h2, count);
    if (memcmp(h1, h2, sizeof h1) != 0) fp_fail("f32_to_f16", 1, count, 0, 1);
    qqq_f16_to_f32(QQQ_PATH_PORTABLE, h1, y1, count);
    qqq_f16_to_f32(QQQ_PATH_AVX512, h1, y2, count);
    if (memcmp(y1, y2, sizeof y1) != 0) fp_fail("f16_to_f32", 1, count, 0, 1);
    fp_cases++;
}

// Fused causal attention: the AVX-512 copy (12-row tiles) against the portable one (6-row tiles) on keys
// and values packed by the portable path; rows not a multiple of either tile, an offset block, d not a
// multiple of 16, key counts across the 64-key block.
static void attention_case(int64_t tokens, int64_t i0, int64_t rows, int64_t d) {
    const int64_t ld = d + 3, strips_k = (tokens + 15) / 16, strips_d = (d + 15) / 16;
    float *q = malloc(sizeof(float) * rows * ld), *k = malloc(sizeof(float) * tokens * ld), *v = malloc(sizeof(float) * tokens * ld);
    float *pk = malloc(sizeof(float) * strips_k * 16 * d), *pv = malloc(sizeof(float) * strips_d * 16 * tokens);
    float *o1 = malloc(sizeof(float) * rows * d), *o2 = malloc(sizeof(float) * rows * d);
    float *scratch = malloc(sizeof(float) * qqq_attention_scratch_floats(rows, d));
    for (int64_t i = 0; i < rows * ld; i++) q[i] = (frand() * 2 - 1) * 3;
    for (int64_t i = 0; i < tokens * ld; i++) { k[i] = (frand() * 2 - 1) * 3; v[i] = frand() * 2 - 1; }
    qqq_sgemm_pack_b(QQQ_PATH_PORTABLE, k, QQQ_B_F32, QQQ_B_NK, tokens, d, ld, QQQ_B_F32, pk);
    qqq_sgemm_pack_b(QQQ_PATH_PORTABLE, v, QQQ_B_F32, QQQ_B_KN, d, tokens, ld, QQQ_B_F32, pv);
    const float scale = 1.0f / sqrtf((float)d);
    qqq_attention_causal(QQQ_PATH_PORTABLE, rows, i0, d, q, ld, pk, pv, tokens, scale, o1, d, scratch);
    qqq_attention_causal(QQQ_PATH_AVX512, rows, i0, d, q, ld, pk, pv, tokens, scale, o2, d, scratch);
    float worst = 0;
    for (int64_t i = 0; i < rows * d; i++) { float e = fabsf(o1[i] - o2[i]); worst = e > worst || e != e ? e : worst; }
    if (!(worst <= 2e-6f)) fp_fail("attention", rows, d, tokens, worst);
    fp_cases++;
    free(q); free(k); free(v); free(pk); free(pv); free(o1); free(o2); free(scratch);
}

static void fp32_checks(void) {
    float *scratch = malloc(qqq_sgemm_scratch_floats() * sizeof(float));
    // M: the M <= 4 paths, partial 12-row tiles, fused (<= 192 rows) and blocked; N: partial strips, > 1024;
    // K: 1, odd, beyond one 256-deep block.
    static const int64_t ms[] = {1, 3, 13, 25, 197, 300}, ns[] = {1, 17, 33, 1041}, ks[] = {1, 7, 300};
    for (size_t mi = 0; mi < 6; mi++)
        for (size_t ni = 0; ni < 4; ni++)
            for (size_t ki = 0; ki < 3; ki++) {
                int64_t m = ms[mi], n = ns[ni], k = ks[ki];
                if (m * n * k > 20000000) continue;
                for (int t = 0; t < 3; t++) fp_case(m, n, k, t == 0 ? QQQ_B_F32 : t == 1 ? QQQ_B_F16 : QQQ_B_BF16, QQQ_B_NK, 0, (int)(mi & 1), scratch);
                fp_case(m, n, k, QQQ_B_F32, QQQ_B_KN, 0, 1, scratch);
                fp_case(m, n, k, QQQ_B_F32, QQQ_B_PACKED, 0, 0, scratch);
                fp_case(m, n, k, QQQ_B_F16, QQQ_B_PACKED, 0, 1, scratch);
                fp_case(m, n, k, QQQ_B_F32, QQQ_B_KN, 1, 1, scratch);
            }
    static const int64_t sn[] = {1, 17, 100, 577}, sk[] = {1, 40, 300};
    for (size_t ni = 0; ni < 4; ni++)
        for (size_t ki = 0; ki < 3; ki++) syrk_case(sn[ni], sk[ki], scratch);
    vec_checks();
    attention_case(1, 0, 1, 16);
    attention_case(70, 0, 70, 64);
    attention_case(300, 130, 170, 40);
    attention_case(200, 57, 13, 128);
    free(scratch);
    printf("emulated FP32 GEMM (SIMDe): %s: %ld AVX-512 cases (f32/f16/bf16 NK, KN, packed f32/f16, transposed A, "
           "symmetric rank-k bit for bit, vector helpers, fused attention), %ld mismatches\n", fp_failures ? "FAIL" : "OK", fp_cases, fp_failures);
}

int main(void) {
    // M: last tiles of 1 (1, 17), 3 (3) and 2 (130) tokens; several 64-token blocks (130, 300); N odd; K = 576 ends in a short group.
    static const int64_t ms[] = {1, 3, 17, 64, 130, 300}, ns[] = {1, 3, 37, 129}, ks[] = {32, 96, 576, 1536, 4096};
    for (int format = 0; format < 3; format++)
        for (size_t mi = 0; mi < 6; mi++)
            for (size_t ni = 0; ni < 4; ni++)
                for (size_t ki = 0; ki < 5; ki++) run_case(format, ms[mi], ns[ni], ks[ki]);
    int peak_ok = 1;
    const int64_t iters = 1000;
    if (qqq_peak_int8(QQQ_PATH_AVXVNNI, 0, iters) != peak_expected(8, iters)) peak_ok = 0;
    if (qqq_peak_int8(QQQ_PATH_AVXVNNI, 1, iters) != peak_expected(8, iters)) peak_ok = 0;
    if (qqq_peak_int8(QQQ_PATH_AVX512, 0, iters) != peak_expected(12, iters)) peak_ok = 0;
    if (qqq_peak_int8_macs(QQQ_PATH_AVXVNNI) != 8 * 32 || qqq_peak_int8_macs(QQQ_PATH_AVX512) != 12 * 64) peak_ok = 0;
    if (!peak_ok) { failures++; fprintf(stderr, "MISMATCH: VNNI peak loops\n"); }
    printf("emulated kernels (SIMDe): %s: %ld format x shape x path runs (W4 per-channel, W4 g128, W8; "
           "portable vs contract, AVX-VNNI and AVX-512 vs portable), %ld mismatches; peak loops %s\n",
           failures ? "FAIL" : "OK", cases, failures, peak_ok ? "OK" : "FAIL");
    fp32_checks();
    return failures || fp_failures ? 1 : 0;
}
