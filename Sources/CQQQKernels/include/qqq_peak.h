// Machine ceilings, measured with the instruction sequences the kernels use (`qqq bench --peak`).
#ifndef QQQ_PEAK_H
#define QQQ_PEAK_H
#include <stdint.h>

/// Runs `iters` rounds of 12 independent FMA chains on the path's vector width (8 floats; 16 on
/// QQQ_PATH_AVX512); returns a value to keep it alive. FLOP done = iters * qqq_peak_fma_flops(path).
float qqq_peak_fma(int path, int64_t iters);
/// FP32 FLOP one round of qqq_peak_fma does on `path` (12 * 8 * 2, or 12 * 16 * 2 for AVX-512).
int64_t qqq_peak_fma_flops(int path);
/// Runs `iters` rounds of the AVX2 int8 sequence (vpmaddubsw + vpmaddwd + vpaddd; with `signed_pairs`
/// also the vpsignb of the s8 x s8 form) on 8 independent accumulators; MACs done = iters * 8 * 32.
/// With QQQ_PATH_AVXVNNI / QQQ_PATH_AVX512 (qqq_gemm.h): rounds of vpdpbusd (the VNNI kernels' only
/// multiply-accumulate, for both forms; `signed_pairs` is ignored) on 8 x 256-bit / 12 x 512-bit accumulators.
int32_t qqq_peak_int8(int path, int signed_pairs, int64_t iters);
/// int8 MACs one round of qqq_peak_int8 does on `path` (8 * 32, or 12 * 64 for AVX-512).
int64_t qqq_peak_int8_macs(int path);
/// Sums `count` floats (read bandwidth); returns the sum.
float qqq_read_floats(int path, const float *x, int64_t count);
#endif
