#ifndef WINNOW_KERNELS_H
#define WINNOW_KERNELS_H
/* Per-element optimizer loops in C: clang vectorises the square roots and divisions here (8 lanes, AVX2 when
   the CPU has it, chosen at load time), which Swift's SIMD8 squareRoot() does not (it lowers to eight scalar
   sqrtss with a branch each). */

/* One Adam update in place of p (θ), m and s. decay = 1 − γλ (AdamW) or 1; l2 = λ (Adam + L2) or 0. */
void winnow_adam_step(float *p, const float *g, float *m, float *s, long count, float b1, float b2, float eps,
                      float decay, float l2, float step_size, float inverse_root_c2);

/* ∂u/∂g of Adam's last step: k·[(1−β1)·(√s + ε') − m·(1−β2)·g/√s] / (√s + ε')², written to out. */
void winnow_adam_derivative(float *out, const float *g, const float *m, const float *s, long count, float k,
                            float b1, float b2, float eps_prime);

/* g ← (∂u/∂g)(g, m, s) ⊙ x in one pass, written over the last gradient it is computed from (SAMA's v = A ⊙ x in
   the buffer of Adam's last gradient, without materialising A or copying). */
void winnow_adam_adapt_over_gradient(float *g, const float *x, const float *m, const float *s, long count, float k,
                                     float b1, float b2, float eps_prime);

/* OpenBLAS's idle worker threads spin (yielding) for 2^28 cycles after each threaded call before they sleep, so
   between two matrix products they hold the other cores that the elementwise kernels split their work over. Sets
   the spin to 2^log2_cycles cycles (OPENBLAS_THREAD_TIMEOUT, 4 to 30) and restarts the workers; does nothing and
   returns 0 when the user set OPENBLAS_THREAD_TIMEOUT or this OpenBLAS lacks the calls, 1 otherwise. Call it
   before any threaded BLAS work. */
int winnow_blas_limit_idle_spin(int log2_cycles);

/* Convolution and pooling data movement (NCHW, row-major, no arithmetic beyond col2im's sums, which keep the
   reference order so results are bit-for-bit those of the naive loops). Output sizes follow Window2D:
   oh = (h + 2·ph − kh) / sh + 1, ow = (w + 2·pw − kw) / sw + 1. */

/* Unfolds windows of x [n, c, h, w] into cols [n·oh·ow, c·kh·kw] (row = output position, column = channel,
   then tap row, then tap column), zeros for taps in the padding. */
void winnow_im2col(const float *x, float *cols, long n, long c, long h, long w, long kh, long kw, long sh, long sw,
                   long ph, long pw);

/* The adjoint of winnow_im2col: x [n, c, h, w] = 0, then every in-image column entry of cols is added to its
   input element, in the order of the columns. */
void winnow_col2im(const float *cols, float *x, long n, long c, long h, long w, long kh, long kw, long sh, long sw,
                   long ph, long pw);

/* out [batch, cols, rows, inner] = in [batch, rows, cols, inner] with the middle two axes swapped (NHWC → NCHW is
   batch n, rows h·w, cols c, inner 1). in and out must not overlap. */
void winnow_swap_middle_axes(const float *in, float *out, long batch, long rows, long cols, long inner);

/* Max pooling without padding of `planes` planes h × w: y [planes, oh, ow] the window maxima (the first one of
   ties, scanning the window row by row), indices the flat position in x of each (plane offset included). */
void winnow_max_pool2d(const float *x, float *y, long *indices, long planes, long h, long w, long kh, long kw, long sh,
                       long sw);
/* The calling thread's count of floating-point operations in matrix products (Tensors' FLOPCounter). */
void winnow_flops_add(long long flops);
long long winnow_flops_total(void);

#endif
