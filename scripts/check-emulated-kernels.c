// Emulation check of the VNNI / AVX-512 integer kernels (built by scripts/check-emulated-kernels with
// Sources/CQQQKernels/int8_kernels.c and peak.c under -DQQQ_EMULATE_SIMD, SIMDe standing in for the
// intrinsics). For every format and awkward shape it requires, bit for bit:
//   portable path == a scalar evaluation of the contract in qqq_int8.h (written here, independently),
//   AVX-VNNI and AVX-512 paths == portable path (int32 accumulators and float outputs),
//   qqq_int_weight_sums == sum_k w[n][k] of the contract's weights.
// Prints one summary line; exits 1 on any mismatch.
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
    return failures ? 1 : 0;
}
