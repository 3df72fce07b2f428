/* kernel_path: which compiled copy of the SIMD kernels runs, chosen once
 * per process: AVX-512, AVX2 or the baseline x86-64 (SSE2).
 *
 * The hot functions (the variants' step functions over exact_kernels.h,
 * Adam) are compiled more than once from one source: KERNEL_PATH_AVX2 and
 * KERNEL_PATH_GENERIC copies (and KERNEL_PATH_AVX512 for Adam, whose loops
 * the compiler vectorizes to the widest registers), each `flatten`ed so
 * that every kernel inlined into it is compiled for its target. All copies
 * do the same IEEE operations in the same order, so they give the same
 * bits; the test kernel_paths checks it. The AVX2 and AVX-512 levels
 * include FMA, but no multiply and add is fused implicitly
 * (-ffp-contract=off): the only fused multiply-adds are the explicit ones of
 * exact_pow.h, which compute an exact residual that the baseline copies
 * compute another way. MICROGPT_GENERIC_KERNELS=1 in the
 * environment forces the baseline copies, as on a machine without AVX2. */
#ifndef MICROGPT_KERNEL_PATH_H
#define MICROGPT_KERNEL_PATH_H

#if defined(__x86_64__) || defined(__i386__)
#define KERNEL_PATH_AVX512 __attribute__((target("avx512f,fma"), flatten))
#define KERNEL_PATH_AVX2 __attribute__((target("avx2,fma"), flatten))
#else
#define KERNEL_PATH_AVX512 __attribute__((flatten))
#define KERNEL_PATH_AVX2 __attribute__((flatten))
#endif
#define KERNEL_PATH_GENERIC __attribute__((flatten))

typedef enum kernel_level { KERNEL_GENERIC, KERNEL_AVX2, KERNEL_AVX512 } kernel_level;

/* The level in use: the best the processor has, KERNEL_GENERIC if the
 * environment sets MICROGPT_GENERIC_KERNELS=1 (read once, at start-up). */
kernel_level kernel_path_level(void);
static inline int kernel_path_avx2(void) { return kernel_path_level() >= KERNEL_AVX2; }
static inline int kernel_path_avx512(void) { return kernel_path_level() >= KERNEL_AVX512; }
/* "avx512f", "avx2" or "generic". */
const char *kernel_path_name(kernel_level level);
/* The best level this processor can run. */
kernel_level kernel_path_supported(void);
/* For tests: use at most `level` (at most what the processor supports). */
void kernel_path_limit(kernel_level level);

#endif
