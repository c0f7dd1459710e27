#ifndef WINNOW_CBLAS_SHIM_H
#define WINNOW_CBLAS_SHIM_H
#include <cblas.h>
/* OpenBLAS extras: thread control. Declared here so the module needs no OpenBLAS-specific header path. */
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
/* The build's configuration, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64". */
char *openblas_get_config(void);
#endif
