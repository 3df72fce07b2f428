/* kernel_path.h: which compiled copy of the SIMD code runs (AVX-512, AVX2 or
 * baseline x86-64), chosen once per process. Every copy does the same IEEE
 * operations in the same order (docs/exact-arithmetic.md); the test
 * kernel_paths checks they agree. MICROGPT_GENERIC_KERNELS=1 forces the
 * baseline copies, as on a machine without AVX2. */
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
