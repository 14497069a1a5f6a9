// Integer kernels: per-token int8 activation quantization, W4A8 (QQQ per-channel and two-level
// per-group-128), W8A8, and the CPU weight layout they read.
//
// CPU weight layout ("pair-chunk"), produced once at load time from qqq's plain on-disk nibbles
// (row n: K signed int4 values, two per byte, even k in the low nibble):
//   outputs are taken in pairs p = (2p, 2p+1) (an odd N gets a zero output); K is cut into chunks
//   of 32. For pair p and chunk c, 32 bytes: bytes 0..15 hold output 2p, bytes 16..31 output 2p+1;
//   byte i holds k = 32c+i in its low nibble and k = 32c+16+i in its high nibble.
//   So one 32-byte load, masked, gives [out0 k0..15 | out1 k0..15] and, shifted, the k16..31 half:
//   each 128-bit lane belongs to one output, which lets one 16-entry table per (group, output)
//   expand nibbles to int8 with a byte shuffle. Bytes of pair p start at p * (K/32) * 32.
//   (The AVX-512 path puts the 32 bytes of two pairs in one vector: lanes p out0, p out1, p+1 out0, p+1 out1.)
//   W8A8 uses the same order with whole bytes: 64 bytes per pair and chunk,
//   [out0 k0..15 | out1 k0..15 | out0 k16..31 | out1 k16..31].
// Per-group scales are re-laid as fp16 [pair][group][2].
//
// Exact contract (the scalar references in Swift implement the same):
//   acc[t][n] = sum_k a[t][k] * w[n][k]   (int32, exact)
//     per-channel: w = q in [-8, 7] (QQQ uses [-7, 7])
//     per-group:   w = clamp(rne(float(q) * float(s_group[n][k/128])), -127, 127)
//     W8A8:        w = int8 weight in [-127, 127]
//   y[t][n] = (float(acc) * scale[n]) * sigma[t] (+ bias[n])
// K must be a multiple of 32 for every format here.
#ifndef QQQ_INT8_H
#define QQQ_INT8_H

#include <stddef.h>
#include <stdint.h>

/// Per-token quantization of rows of x: sigma = max|x| / 127, a = clamp(rne(x / sigma), -128, 127),
/// ua = a + 128 as u8 (for kernels that use unsigned activations). An all-zero row gives sigma 0
/// and zeros. Returns 0, or -1 (with *bad_row set) if a row holds NaN or Inf.
int qqq_quantize_rows(int path, const float *x, int64_t m, int64_t k, int64_t ldx,
                      int8_t *a, uint8_t *ua, int64_t lda, float *sigma, int64_t *bad_row);

/// Plain nibbles [N][K/2] -> pair-chunk layout (size pairs*K bytes, pairs = (N+1)/2).
void qqq_w4_pack(const uint8_t *plain, int64_t n, int64_t k, uint8_t *packed);
/// Inverse of qqq_w4_pack (for tests).
void qqq_w4_unpack(const uint8_t *packed, int64_t n, int64_t k, uint8_t *plain);
/// int8 [N][K] -> pair-chunk layout (size pairs*2*K bytes).
void qqq_w8_pack(const int8_t *w, int64_t n, int64_t k, int8_t *packed);

enum { QQQ_W4_PER_CHANNEL = 0, QQQ_W4_PER_GROUP = 1, QQQ_W8 = 2 };

/// qsum[n] = sum_k w[n][k] of the format's int8 weights (w as in the contract above; for per-group
/// after the table expansion), from the packed layout; computed once with the weights.
void qqq_int_weight_sums(int format, const void *packed, const uint16_t *gscales, int64_t n, int64_t k,
                         int32_t *sums);

/// Integer GEMM over output pairs [pair0, pair1) for m tokens (one thread's share).
/// path: QQQ_PATH_* (qqq_gemm.h); QQQ_PATH_AVXVNNI and QQQ_PATH_AVX512 (AVX-512 with VNNI) need those
/// instructions: the caller checks the CPU.
///   format QQQ_W4_PER_CHANNEL: reads ua (unsigned activations), qsum (qqq_int_weight_sums).
///   format QQQ_W4_PER_GROUP:   reads a, gscales fp16 [pairs][groups][2].
///   format QQQ_W8:             reads a.
///   The VNNI paths read ua and qsum for every format (u8 x s8 vpdpbusd, then -128 * qsum).
/// Writes y (float, ldy) and, if acc is not NULL, the exact int32 accumulators (ldacc).
void qqq_int_gemm(int path, int format, int64_t m, int64_t k,
                  const int8_t *a, const uint8_t *ua, int64_t lda, const float *sigma,
                  const void *packed, const int32_t *qsum, const uint16_t *gscales,
                  const float *scale, const float *bias, int64_t n, int64_t pair0, int64_t pair1,
                  float *y, int64_t ldy, int32_t *acc, int64_t ldacc);

#endif
