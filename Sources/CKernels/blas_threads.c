#include "winnow_kernels.h"
#include <stdio.h>
#include <stdlib.h>

/* Exported by OpenBLAS's threaded builds but not in its headers; weak, so a build without them links and the
   call below reports that it changed nothing. */
extern void openblas_read_env(void) __attribute__((weak));
extern int blas_thread_shutdown_(void) __attribute__((weak));

int winnow_blas_limit_idle_spin(int log2_cycles) {
    if (getenv("OPENBLAS_THREAD_TIMEOUT") != NULL) return 0; /* the user's setting stands */
    if (openblas_read_env == NULL || blas_thread_shutdown_ == NULL) return 0;
    char value[16];
    snprintf(value, sizeof value, "%d", log2_cycles);
    if (setenv("OPENBLAS_THREAD_TIMEOUT", value, 0) != 0) return 0;
    openblas_read_env();     /* OpenBLAS read its environment when it was loaded: read it again */
    blas_thread_shutdown_(); /* the workers start again, with the new timeout, at the next threaded call */
    return 1;
}
