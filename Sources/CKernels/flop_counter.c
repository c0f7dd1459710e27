#include "winnow_kernels.h"

/* One count per thread: a measurement sees the products its own thread issued, not those of threads running
   beside it (tests run in parallel; ranks can be threads). OpenBLAS's worker threads never call in here. */
static _Thread_local long long winnow_flops = 0;

void winnow_flops_add(long long flops) { winnow_flops += flops; }

long long winnow_flops_total(void) { return winnow_flops; }
