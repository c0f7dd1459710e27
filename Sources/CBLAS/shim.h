#ifndef WINNOW_CBLAS_SHIM_H
#define WINNOW_CBLAS_SHIM_H
#include <cblas.h>
/* OpenBLAS extras: thread control. Declared here so the module needs no OpenBLAS-specific header path. */
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
#endif
