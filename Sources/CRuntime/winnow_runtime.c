#include "winnow_runtime.h"
/* Any libc header first: glibc defines __GLIBC__ in <features.h>, which the test below needs. */
#include <stdlib.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

int winnow_keep_large_allocations(void) {
#if defined(__GLIBC__)
    return mallopt(M_MMAP_THRESHOLD, 1 << 30) == 1 && mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1;
#else
    return 0;
#endif
}

int winnow_release_free_memory(void) {
#if defined(__GLIBC__)
    return malloc_trim(0);
#else
    return 0;
#endif
}
