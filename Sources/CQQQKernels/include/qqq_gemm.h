// FP32 GEMM with fp32/fp16/bf16 weights converted on the fly, and the vector helpers of the model.
//
// C[m][n] = (accumulate ? C[m][n] : 0) + sum_k A[m][k] * B(k, n)
//   A: fp32, row-major [M][K] with leading dimension lda.
//   B: layout NK -> B(k,n) = B[n*ldb + k]  (a Hugging Face weight W[n][k]: y = x W^T)
//      layout KN -> B(k,n) = B[k*ldb + n]  (e.g. attention P V)
//   C: fp32 [M][N], leading dimension ldc.
// One call is single-threaded; the Swift side splits N across threads. Scratch buffers are passed in
// (sizes from qqq_sgemm_scratch_floats) so the kernel never allocates.
#ifndef QQQ_GEMM_H
#define QQQ_GEMM_H

#include <stddef.h>
#include <stdint.h>

enum { QQQ_B_F32 = 0, QQQ_B_F16 = 1, QQQ_B_BF16 = 2, QQQ_B_Q4G128 = 3 };

/// B of type QQQ_B_Q4G128 (W4A16: int4 weights, fp16 scale per 128 inputs, dequantized on the fly;
/// NK layout only, ldb must equal k): b points to this descriptor.
typedef struct {
    const uint8_t *nibbles;  // [N][K/2], signed int4, even k in the low nibble
    const uint16_t *scales;  // [N][ceil(K/128)] fp16
    int64_t k;
} qqq_q4_matrix;
//   layout PACKED -> B pre-packed once by qqq_sgemm_pack_b (type F32 or F16) for a depth of ldb >= k:
//      strips of NR = qqq_sgemm_nr() outputs, B(k,n) = B[(n / NR) * NR * ldb + k * NR + n % NR], zero-padded
//      past N; the micro-kernel reads them in place (fp32) or converts them linearly (fp16). A call may
//      use the first k <= ldb rows and the first n columns (e.g. a causal attention block's keys).
enum { QQQ_B_NK = 0, QQQ_B_KN = 1, QQQ_B_PACKED = 2 };
enum { QQQ_PATH_PORTABLE = 0, QQQ_PATH_AVX2 = 1 };
// AVX-VNNI (integer kernels only; the FP32 functions run their AVX2 copy on it) and AVX-512: F/BW/VL for
// the FP32 functions (a 512-bit micro-kernel), with AVX512-VNNI for the integer kernels (qqq_int8.h).
enum { QQQ_PATH_AVXVNNI = 2, QQQ_PATH_AVX512 = 3 };

/// Floats of scratch one call needs (packed A block + packed B block).
size_t qqq_sgemm_scratch_floats(void);

/// Column-block width the threads should split N on (a multiple of the micro-kernel's NR).
int qqq_sgemm_nr(void);

void qqq_sgemm(int path, int64_t m, int64_t n, int64_t k,
               const float *a, int64_t lda,
               const void *b, int64_t ldb, int btype, int blayout,
               float *c, int64_t ldc, int accumulate, float *scratch);

/// The same with A transposed: A(i, p) = a[p * lda + i] (A is stored [K][M], e.g. Xᵀ X from a row-major X).
void qqq_sgemm_at(int path, int64_t m, int64_t n, int64_t k,
                  const float *a, int64_t lda,
                  const void *b, int64_t ldb, int btype, int blayout,
                  float *c, int64_t ldc, int accumulate, float *scratch);

/// Symmetric rank-k update, upper triangle: C(i, j) += sum_p x[p][i] * x[p][j] for i <= j and
/// col0 <= j < col1 (x is [k][n] with row stride ldx, C is [n][n] with ldc). Each such C(i, j) gets the
/// same bits as the full product qqq_sgemm_at(Xᵀ, X) would add; entries below the diagonal in the
/// micro-tiles that cross it may be written too and are to be ignored. Column ranges split the work
/// across threads (column j costs j + 1 entries).
void qqq_ssyrk_upper(int path, int64_t n, int64_t k, const float *x, int64_t ldx, int64_t col0, int64_t col1,
                     float *c, int64_t ldc, float *scratch);

/// Packs B (src_layout NK: W[N][K], or KN: B[K][N]; row stride ldw; src_type F32/F16/BF16) into the
/// PACKED layout of depth K as dst_type (F32, or F16 from an F16 NK source): ceil(N/NR)*NR*K elements.
void qqq_sgemm_pack_b(int path, const void *w, int src_type, int src_layout, int64_t n, int64_t k, int64_t ldw,
                      int dst_type, void *dst);

// Vector helpers (one row each).
void qqq_f16_to_f32(int path, const void *src, float *dst, int64_t count);
void qqq_bf16_to_f32(int path, const void *src, float *dst, int64_t count);
void qqq_f32_to_f16(int path, const float *src, void *dst, int64_t count);
/// out = x / sqrt(mean(x^2) + eps) * w   (w fp32)
void qqq_rms_norm(int path, const float *x, const float *w, float *out, int64_t count, float eps);
/// out = silu(gate) * up, silu(x) = x / (1 + exp(-x)); out may alias gate.
void qqq_silu_mul(int path, const float *gate, const float *up, float *out, int64_t count);
/// x = softmax(x) in place (max-subtracted).
void qqq_softmax(int path, float *x, int64_t count);
/// Causal attention rows: row r of s (leading dimension ld) holds the scores of query i0 + r against
/// keys 0..width-1; keys 0..i0+r become softmax(x * scale) (as qqq_softmax of the scaled row), the rest 0.
void qqq_softmax_causal(int path, float *s, int64_t ld, int64_t rows, int64_t i0, int64_t width, float scale);
/// log(sum(exp(x))) computed stably.
float qqq_log_sum_exp(int path, const float *x, int64_t count);
/// sum_i |scale * rne(clamp(x[i] / scale, lo, hi)) - x[i]|^p (zero differences add 0), stopped early
/// once the partial sum reaches bound (then the result is >= bound). ~1e-6 relative to the exact sum.
float qqq_grid_error_pow(int path, const float *x, int64_t count, float scale, float lo, float hi, float p, float bound);
/// Causal attention of one head over the query rows i0..i0+rows-1 (flash-style: key blocks of 64 with an
/// online softmax; never more than a tile x 64 scores exist):
///   out[r][c] = sum_{j <= i0+r} softmax_j(scale * q[r]·k_j) * v_j[c],  c < d.
/// q: [rows][d], row stride ldq. pk: the keys packed by qqq_sgemm_pack_b as B = K (NK, [tokens][d]) with
/// depth d, i.e. pk[(j/16)*16*d + p*16 + j%16]; pv: the values packed as B = V (KN, [tokens][d]) with depth
/// ldv >= i0 + rows, i.e. pv[(c/16)*16*ldv + j*16 + c%16]. out: [rows][d], row stride ldo. scratch: at
/// least qqq_attention_scratch_floats(rows, d) floats (any alignment).
size_t qqq_attention_scratch_floats(int64_t rows, int64_t d);
void qqq_attention_causal(int path, int64_t rows, int64_t i0, int64_t d, const float *q, int64_t ldq, const float *pk,
                          const float *pv, int64_t ldv, float scale, float *out, int64_t ldo, float *scratch);
/// sum_i x[i]*y[i]
float qqq_dot(int path, const float *x, const float *y, int64_t count);

#endif
