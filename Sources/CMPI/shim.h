#ifndef WINNOW_CMPI_SHIM_H
#define WINNOW_CMPI_SHIM_H
#include <mpi.h>
/* Open MPI's handles are macros over global objects: expose them as functions. */
static inline MPI_Comm winnow_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype winnow_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype winnow_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Datatype winnow_mpi_int(void) { return MPI_INT; }
static inline MPI_Op winnow_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op winnow_mpi_max(void) { return MPI_MAX; }
static inline MPI_Request winnow_mpi_request_null(void) { return MPI_REQUEST_NULL; }
static inline MPI_Status *winnow_mpi_status_ignore(void) { return MPI_STATUS_IGNORE; }
static inline void *winnow_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline int winnow_mpi_success(void) { return MPI_SUCCESS; }
static inline int winnow_mpi_thread_funneled(void) { return MPI_THREAD_FUNNELED; }
#endif
