/* kernel_path.c: see kernel_path.h. */
#include "kernels/kernel_path.h"

#include <stdlib.h>
#include <string.h>

static kernel_level supported, selected;

__attribute__((constructor)) static void kernel_path_select(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    const int fma = __builtin_cpu_supports("fma");
    supported = fma && __builtin_cpu_supports("avx512f") ? KERNEL_AVX512
                : fma && __builtin_cpu_supports("avx2")  ? KERNEL_AVX2
                                                         : KERNEL_GENERIC;
#endif
    const char *generic = getenv("MICROGPT_GENERIC_KERNELS");
    selected = generic && strcmp(generic, "1") == 0 ? KERNEL_GENERIC : supported;
}

kernel_level kernel_path_level(void) { return selected; }

const char *kernel_path_name(kernel_level level)
{
    return level == KERNEL_AVX512 ? "avx512f" : level == KERNEL_AVX2 ? "avx2" : "generic";
}

kernel_level kernel_path_supported(void) { return supported; }

void kernel_path_limit(kernel_level level) { selected = level < supported ? level : supported; }
